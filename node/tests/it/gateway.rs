//! The record gateway end to end (docs/PRIVACY.md §5.6): a `salus dev` node mining every 50 ms,
//! a real `salus gateway` process on loopback serving a hospital's store, records put with
//! `salus record put` and fetched with `salus record get` (or raw signed requests, where a test
//! needs a request the CLI would never send).
//!
//! Decided here and tested: a dry-run deny is refused with the consent's reason and provision
//! and is *not* recorded on chain (the gateway submits nothing, so a requester cannot fill a
//! patient's trail with refusals at the custodian's expense); a deny by the contract at the
//! including block (consent revoked between the dry run and inclusion) *is* on the trail, with
//! the request hash, and releases nothing. That race cannot be forced through the process, so
//! its test runs the gateway's handler in this process against the same node with a ledger
//! whose dry run answers as it would have before the revocation.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::SalusApiClient;
use salus_client::{ContractAbi, DryRun, TransactionBuilder};
use salus_node::commands::record;
use salus_node::gateway::{
    AccessDecision, Decision, Disclosure, Gateway, GatewayRequest, Ledger, LedgerError,
    PeriodAnswer, RecordStore, ReplyKey, RpcLedger, reply_public_key, reply_secret,
};
use salus_node::genesis::{DEV_CHAIN_ID, DEV_CONSENT_ADDRESS, DEV_REGISTRY_ADDRESS};
use salus_primitives::{Address, Hash, SecretKey, SignedTransaction};
use serde_json::{Value, json};

use crate::support::{DevProcess, dev_key};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const DEADLINE: Duration = Duration::from_secs(60);

const LAB: &str = r#"{"resourceType":"Observation","status":"final","code":{"text":"HbA1c"},"valueQuantity":{"value":6.1,"unit":"%"}}"#;

/// The registry's authority, the hospital (custodian), a doctor, the patient, a stranger.
const AUTHORITY: u32 = 0;
const HOSPITAL: u32 = 5;
const DOCTOR: u32 = 6;
const PATIENT: u32 = 7;
const STRANGER: u32 = 8;

/// `salus gateway` as a child process, killed when dropped.
struct GatewayProcess {
    child: Child,
    url: String,
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A dev node, its contracts' ABIs, the hospital's store and its running gateway.
struct World {
    node: DevProcess,
    http: HttpClient,
    registry: ContractAbi,
    consent: ContractAbi,
    gateway: GatewayProcess,
    /// The chain's genesis hash (reply keys are per chain).
    chain: Hash,
}

/// Runs the `salus` binary with `arguments` against `node`; its stdout, or its stderr as the
/// error.
fn salus(node: &DevProcess, arguments: &[&str]) -> Result<String, String> {
    let url = node.http_url();
    let mut with_rpc = arguments.to_vec();
    with_rpc.extend(["--rpc", &url]);
    let output = node.salus(&with_rpc);
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).unwrap())
    } else {
        Err(String::from_utf8(output.stderr).unwrap())
    }
}

/// Submits `transaction` and polls for its receipt (the node mines every 50 ms); the decoded
/// result of `message`.
async fn include(
    http: &HttpClient,
    abi: &ContractAbi,
    message: &str,
    transaction: SignedTransaction,
) -> Value {
    let hash = http
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    let receipt = loop {
        if let Some(receipt) = http.tx_receipt(hash.clone()).await.unwrap() {
            break receipt;
        }
        assert!(Instant::now() < deadline, "{message} was not included");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        receipt.status, "success",
        "{message}: {:?}",
        receipt.failure
    );
    abi.decode_result(message, &hex::decode(&receipt.return_data[2..]).unwrap())
        .unwrap()
}

async fn call(
    w: &World,
    from: u32,
    contract: Address,
    abi: &ContractAbi,
    message: &str,
    arguments: Value,
) -> Value {
    let nonce = w
        .http
        .state_get_account(dev_key(from).address().to_string(), None)
        .await
        .unwrap()
        .nonce;
    let transaction = TransactionBuilder::new(DEV_CHAIN_ID, dev_key(from), nonce)
        .fuel(20_000_000, 1)
        .call(contract, abi.encode_call(message, &arguments).unwrap());
    include(&w.http, abi, message, transaction).await
}

async fn abi(http: &HttpClient, contract: Address) -> ContractAbi {
    serde_json::from_value(
        http.contract_abi(contract.to_string())
            .await
            .unwrap()
            .expect("the dev genesis deploys it"),
    )
    .unwrap()
}

/// Starts `salus gateway` for the hospital, serving `store`; waits for its address.
fn start_gateway(node: &DevProcess, store: &Path) -> GatewayProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["gateway", "--listen", "127.0.0.1:0", "--key"])
        .arg(format!("dev:{HOSPITAL}"))
        .arg("--data-dir")
        .arg(node.dir.path().join("gateway"))
        .arg("--store")
        .arg(store)
        .args(["--rpc", &node.http_url()])
        .env("SALUS_DATA_DIR", node.dir.path().join("dev"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("gateway listening on ") {
                let url = rest.split_whitespace().next().unwrap_or_default();
                let _ = sender.send(url.to_string());
            }
        }
    });
    let url = receiver
        .recv_timeout(DEADLINE)
        .expect("salus gateway printed its address");
    GatewayProcess { child, url }
}

/// The node, the hospital and the doctor registered (the doctor with its reply key, through
/// `salus record reply-key --register`), the gateway running.
async fn world() -> World {
    let node = DevProcess::start(50);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let registry = abi(&http, DEV_REGISTRY_ADDRESS).await;
    let consent = abi(&http, DEV_CONSENT_ADDRESS).await;
    let chain: Hash = http.node_info().await.unwrap().genesis.parse().unwrap();
    let store = node.dir.path().join("records");
    let gateway = start_gateway(&node, &store);
    let w = World {
        node,
        http,
        registry,
        consent,
        gateway,
        chain,
    };
    let now = w.http.chain_head().await.unwrap().timestamp_ms;
    for (who, role) in [(HOSPITAL, "ProviderOrganisation"), (DOCTOR, "Practitioner")] {
        let arguments = json!([
            dev_key(who).address().to_string(),
            [role],
            null,
            null,
            null,
            "0",
            (now + 3650 * DAY_MS).to_string(),
            Hash([0x11; 32]).to_string()
        ]);
        call(
            &w,
            AUTHORITY,
            DEV_REGISTRY_ADDRESS,
            &w.registry,
            "register",
            arguments,
        )
        .await;
    }
    let registered = salus(
        &w.node,
        &[
            "record",
            "reply-key",
            "--key",
            &format!("dev:{DOCTOR}"),
            "--register",
        ],
    )
    .unwrap();
    let public_key = reply_public_key(&dev_key(DOCTOR), &w.chain);
    assert_eq!(
        registered.trim(),
        format!("0x{} (registered, version 1)", hex::encode(public_key))
    );
    w
}

impl World {
    /// `salus record put` of the lab result for the patient; the handle.
    fn put_lab(&self) -> Hash {
        self.put_lab_dated(0)
    }

    /// `salus record put` of the lab result for the patient, dated `date_ms`; the handle.
    fn put_lab_dated(&self, date_ms: i64) -> Hash {
        let file = self.node.dir.path().join("lab.json");
        std::fs::write(&file, LAB).unwrap();
        let store = self.node.dir.path().join("records");
        let printed = salus(
            &self.node,
            &[
                "record",
                "put",
                "--store",
                store.to_str().unwrap(),
                "--key",
                &format!("dev:{HOSPITAL}"),
                "--patient",
                &dev_key(PATIENT).address().to_string(),
                // The patient's relationship with the hospital (a wallet derives it:
                // `salus key pseudonym`); a fixed key here.
                "--blinding",
                &hex::encode([0xb1u8; 32]),
                "--labels",
                "N",
                "--date-ms",
                &date_ms.to_string(),
                file.to_str().unwrap(),
            ],
        )
        .unwrap();
        printed
            .trim()
            .parse()
            .expect("record put prints the handle")
    }

    /// The patient permits the doctor to have records disclosed for treatment, and itself to
    /// have them for any purpose; the consent id.
    async fn grant_disclosure_for_treatment(&self) -> Value {
        self.grant_disclosure_for_treatment_of(Value::Null).await
    }

    /// As [`World::grant_disclosure_for_treatment`], the doctor's permit limited to records
    /// dated inside the period `data_period_commitment` commits to (`null`: any date).
    async fn grant_disclosure_for_treatment_of(&self, data_period_commitment: Value) -> Value {
        let now = self.http.chain_head().await.unwrap().timestamp_ms;
        let provision = json!({
            "kind": "Permit",
            "period": null,
            "actors": [dev_key(DOCTOR).address().to_string()],
            "roles": [],
            "actions": ["Disclose"],
            "purposes": ["TREAT"],
            "label_tags": [],
            "class_tags": [],
            "records": [],
            "data_period_commitment": data_period_commitment,
            "children": [],
            "custodians": [],
            "authors": [],
        });
        let mut own = provision.clone();
        own["data_period_commitment"] = Value::Null;
        own["actors"] = json!([dev_key(PATIENT).address().to_string()]);
        own["roles"] = json!(["PAT"]);
        own["purposes"] = json!([]);
        let arguments = json!([
            dev_key(PATIENT).address().to_string(),
            "patient-privacy",
            "59284-0",
            { "start_ms": now.to_string(), "end_ms": (now + 30 * DAY_MS).to_string() },
            "Deny",
            [provision, own],
            Hash([0x22; 32]).to_string(),
            null
        ]);
        call(
            self,
            PATIENT,
            DEV_CONSENT_ADDRESS,
            &self.consent,
            "grant",
            arguments,
        )
        .await
    }

    /// `salus record get` by `who` for `record`; the resource written to a file, or the error.
    fn record_get(
        &self,
        who: u32,
        record: Hash,
        purpose: &str,
        role: &str,
    ) -> Result<String, String> {
        self.record_get_keeping(who, record, (purpose, role), None)
    }

    /// [`World::record_get`], keeping the sealed reply in `keep` when given.
    fn record_get_keeping(
        &self,
        who: u32,
        record: Hash,
        (purpose, role): (&str, &str),
        keep: Option<&Path>,
    ) -> Result<String, String> {
        let out = self
            .node
            .dir
            .path()
            .join(format!("got-{who}-{}.json", hex::encode(&record.0[..4])));
        let _ = std::fs::remove_file(&out);
        salus(
            &self.node,
            &[
                "record",
                "get",
                "--gateway",
                &self.gateway.url,
                "--key",
                &format!("dev:{who}"),
                "--record",
                &record.to_string(),
                "--purpose",
                purpose,
                "--role",
                role,
                "--out",
                out.to_str().unwrap(),
            ]
            .into_iter()
            .chain(
                keep.map(|path| ["--keep-sealed", path.to_str().unwrap()])
                    .into_iter()
                    .flatten(),
            )
            .collect::<Vec<_>>(),
        )?;
        Ok(std::fs::read_to_string(out).unwrap())
    }

    /// The patient's accounting of disclosures for `record`: (agent, outcome, request) per
    /// entry (a dry run the patient signs).
    async fn accounting(&self, record: Hash) -> Vec<(String, u64, Value)> {
        let input = self
            .consent
            .encode_call(
                "accounting",
                &json!([
                    dev_key(PATIENT).address().to_string(),
                    "0",
                    u64::MAX.to_string(),
                    null,
                    100
                ]),
            )
            .unwrap();
        let request =
            DryRun::new(DEV_CONSENT_ADDRESS, input).signed_for(DEV_CHAIN_ID, &dev_key(PATIENT));
        let outcome = self.http.state_call(request).await.unwrap();
        assert_eq!(outcome.status, "success", "{:?}", outcome.failure);
        let entries = self
            .consent
            .decode_result(
                "accounting",
                &hex::decode(&outcome.return_data[2..]).unwrap(),
            )
            .unwrap();
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["record"] == json!(record.to_string()))
            .map(|entry| {
                (
                    entry["agent"].as_str().unwrap().to_string(),
                    entry["outcome"].as_u64().unwrap(),
                    entry["request"].clone(),
                )
            })
            .collect()
    }

    /// A request by the doctor for `record`, signed now with a fresh nonce.
    fn doctor_request(&self, record: Hash, nonce: u8) -> GatewayRequest {
        GatewayRequest {
            chain_id: DEV_CHAIN_ID,
            gateway: dev_key(HOSPITAL).address(),
            record,
            purpose: "TREAT".into(),
            role: "PRCP".into(),
            requester: dev_key(DOCTOR).address(),
            reply_key: ReplyKey {
                public_key: reply_public_key(&dev_key(DOCTOR), &self.chain),
                version: 1,
            },
            nonce: [nonce; 16],
            time_ms: salus_node::wall_clock_ms(),
        }
    }
}

/// The gateway's refusal code for a raw signed request, or `"released"`.
async fn outcome(w: &World, request: GatewayRequest, key: &SecretKey) -> String {
    match record::send_request(&w.gateway.url, &request.sign(key)).await {
        Ok(_) => "released".into(),
        Err(error) => error
            .downcast::<record::Refusal>()
            .map(|refusal| refusal.code)
            .unwrap_or_else(|error| panic!("not a refusal: {error:#}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permitted_record_is_released_sealed_to_the_requester_and_the_release_is_accounted() {
    let w = world().await;
    let lab = w.put_lab();
    // `salus record put` indexed it under the relationship's subject handle (from --blinding),
    // never the patient's address: whoever holds the blinding key finds it by that topic.
    let indexed = w
        .http
        .events_query(salus_client::rpc::EventFilter {
            contract: DEV_CONSENT_ADDRESS.to_string(),
            topics: vec![
                Some(salus_primitives::keccak256(b"RecordIndexed").to_string()),
                Some(salus_client::pseudonym::subject_handle(&[0xb1; 32]).to_string()),
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(indexed.events.len(), 1, "{indexed:?}");

    // No consent yet: the dry run denies; refused with the reason, nothing on chain.
    let denied = w.record_get(DOCTOR, lab, "TREAT", "PRCP").unwrap_err();
    assert!(denied.contains("consent_denied"), "{denied}");
    assert!(denied.contains("no consent on file"), "{denied}");
    assert_eq!(
        w.accounting(lab).await,
        vec![],
        "a dry-run deny is not recorded"
    );

    w.grant_disclosure_for_treatment().await;
    let fetched = w.record_get(DOCTOR, lab, "TREAT", "PRCP").unwrap();
    assert_eq!(fetched, LAB, "the doctor gets the resource byte for byte");

    // A raw request: the box opens with the doctor's reply key and this request's hash only.
    let request = w.doctor_request(lab, 0x51);
    let request_hash = request.hash();
    let sealed = record::send_request(&w.gateway.url, &request.sign(&dev_key(DOCTOR)))
        .await
        .unwrap();
    let opened = salus_client::open(
        &reply_secret(&dev_key(DOCTOR), &w.chain),
        &sealed,
        &request_hash.0,
    )
    .unwrap();
    assert_eq!(&opened[..], LAB.as_bytes());
    for other in [HOSPITAL, PATIENT, STRANGER] {
        assert!(
            salus_client::open(
                &reply_secret(&dev_key(other), &w.chain),
                &sealed,
                &request_hash.0
            )
            .is_err()
        );
    }
    assert!(
        salus_client::open(&reply_secret(&dev_key(DOCTOR), &w.chain), &sealed, &[0; 32]).is_err()
    );

    // Another purpose is not covered: refused with the reason.
    let other_purpose = w.record_get(DOCTOR, lab, "HPAYMT", "PRCP").unwrap_err();
    assert!(other_purpose.contains("consent_denied"), "{other_purpose}");

    // The patient asks for its own record, unregistered, with a reply key it supplies, and
    // keeps the sealed reply to open again later (as the console's /ui/open does).
    let kept_box = w.node.dir.path().join("patient-lab.sealed");
    assert_eq!(
        w.record_get_keeping(PATIENT, lab, ("TREAT", "PAT"), Some(&kept_box))
            .unwrap(),
        LAB
    );

    // The accounting lists the three releases, each naming its request; the raw one by hash.
    let (doctor, patient) = (
        dev_key(DOCTOR).address().to_string(),
        dev_key(PATIENT).address().to_string(),
    );
    let trail = w.accounting(lab).await;
    let agents: Vec<&str> = trail.iter().map(|(agent, _, _)| agent.as_str()).collect();
    assert_eq!(agents, vec![&doctor, &doctor, &patient]);
    assert!(
        trail
            .iter()
            .all(|(_, outcome, request)| *outcome == 0 && request.is_string()),
        "{trail:?}"
    );
    assert_eq!(trail[1].2, json!(request_hash.to_string()));
    // The kept box opens with the patient's reply key and the request its release names on
    // the patient's trail, and with nothing else.
    let kept_box = std::fs::read(&kept_box).unwrap();
    let released: Hash = trail[2].2.as_str().unwrap().parse().unwrap();
    let opened = salus_client::open(
        &reply_secret(&dev_key(PATIENT), &w.chain),
        &kept_box,
        &released.0,
    )
    .unwrap();
    assert_eq!(&opened[..], LAB.as_bytes());
    assert!(
        salus_client::open(
            &reply_secret(&dev_key(PATIENT), &w.chain),
            &kept_box,
            &request_hash.0
        )
        .is_err()
    );
    // The gateway keeps every request it answered, under its hash.
    let kept = w
        .node
        .dir
        .path()
        .join("gateway/requests")
        .join(format!("{}.scale", hex::encode(request_hash.0)));
    assert!(kept.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_limited_to_a_data_period_releases_a_record_dated_inside_and_refuses_one_outside()
{
    // 2019-01-01 to 2020-01-01 (UTC); a record of June 2019 and one of May 2021.
    const FROM_MS: i64 = 1_546_300_800_000;
    const TO_MS: i64 = 1_577_836_800_000;
    let w = world().await;
    let in_2019 = w.put_lab_dated(1_560_000_000_000);
    let in_2021 = w.put_lab_dated(1_620_000_000_000);
    // The patient hands the hospital the period it commits its consent to, with the salt
    // (`salus record period`); the provision carries only the commitment.
    let store = w.node.dir.path().join("records");
    // A local command: it asks no node.
    let output = w.node.salus(&[
        "record",
        "period",
        "--store",
        store.to_str().unwrap(),
        "--patient",
        &dev_key(PATIENT).address().to_string(),
        "--start-ms",
        &FROM_MS.to_string(),
        "--end-ms",
        &TO_MS.to_string(),
    ]);
    assert!(output.status.success(), "{output:?}");
    let kept: Value = serde_json::from_slice(&output.stdout).unwrap();
    let commitment: Hash = kept["commitment"].as_str().unwrap().parse().unwrap();
    // The commitment opens with the period and the salt it printed (kind 2, SCALE of the
    // period), as anyone holding both checks it.
    let salt = hex::decode(kept["salt"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    assert_eq!(
        commitment,
        salus_client::seal::commit_value(
            salus_client::seal::CommitmentKind::DATA_PERIOD,
            &salus_client::seal::CommitmentSalt::from_bytes(salt.try_into().unwrap()),
            &(FROM_MS, TO_MS),
        )
    );
    w.grant_disclosure_for_treatment_of(json!(commitment.to_string()))
        .await;

    assert_eq!(w.record_get(DOCTOR, in_2019, "TREAT", "PRCP").unwrap(), LAB);
    let refused = w.record_get(DOCTOR, in_2021, "TREAT", "PRCP").unwrap_err();
    assert!(refused.contains("consent_denied"), "{refused}");
    assert!(
        refused.contains("no consent on file") || refused.contains("base decision"),
        "{refused}"
    );
    // One release on the trail (the dry-run deny is not recorded).
    assert_eq!(w.accounting(in_2019).await.len(), 1);
    assert_eq!(w.accounting(in_2021).await, vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_replayed_stale_and_forged_requests_are_each_refused_with_their_own_error() {
    let w = world().await;
    let lab = w.put_lab();
    w.grant_disclosure_for_treatment().await;
    let doctor = dev_key(DOCTOR);

    let stranger = w.record_get(STRANGER, lab, "TREAT", "PRCP").unwrap_err();
    assert!(stranger.contains("unknown_requester"), "{stranger}");

    let request = w.doctor_request(lab, 1);
    assert_eq!(outcome(&w, request.clone(), &doctor).await, "released");
    assert_eq!(outcome(&w, request, &doctor).await, "replayed_request");

    let stale = GatewayRequest {
        time_ms: salus_node::wall_clock_ms() - 6 * 60 * 1000,
        ..w.doctor_request(lab, 2)
    };
    assert_eq!(outcome(&w, stale, &doctor).await, "stale_request");

    let forged = w.doctor_request(lab, 3);
    assert_eq!(
        outcome(&w, forged, &dev_key(STRANGER)).await,
        "bad_signature"
    );

    let unregistered_key = GatewayRequest {
        reply_key: ReplyKey {
            public_key: reply_public_key(&dev_key(STRANGER), &w.chain),
            version: 1,
        },
        ..w.doctor_request(lab, 4)
    };
    assert_eq!(
        outcome(&w, unregistered_key, &doctor).await,
        "reply_key_not_registered"
    );

    let unknown_record = w.doctor_request(Hash([0x77; 32]), 5);
    assert_eq!(outcome(&w, unknown_record, &doctor).await, "unknown_record");

    let unknown_role = GatewayRequest {
        role: "NOTAROLE".into(),
        ..w.doctor_request(lab, 6)
    };
    assert_eq!(outcome(&w, unknown_role, &doctor).await, "invalid_request");

    // Only the one good request reached the chain.
    assert_eq!(w.accounting(lab).await.len(), 1);
}

/// The node's ledger, but with the dry run answering as it did before the consent was revoked.
struct DryRunBeforeRevocation(RpcLedger);

impl Ledger for DryRunBeforeRevocation {
    async fn is_active(&self, who: Address) -> Result<bool, LedgerError> {
        self.0.is_active(who).await
    }
    async fn encryption_key(&self, who: Address) -> Result<Option<ReplyKey>, LedgerError> {
        self.0.encryption_key(who).await
    }
    async fn can_access(
        &self,
        _request: &GatewayRequest,
        _answers: &[PeriodAnswer],
    ) -> Result<AccessDecision, LedgerError> {
        Ok(AccessDecision {
            decision: Decision::Permit,
            consent: Some((0, 1)),
            provision_path: vec![0],
            reason: "permitted".into(),
            break_glass: None,
        })
    }
    async fn record_disclosure(
        &self,
        request: &GatewayRequest,
        request_hash: Hash,
        answers: &[PeriodAnswer],
    ) -> Result<Disclosure, LedgerError> {
        self.0
            .record_disclosure(request, request_hash, answers)
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_revoked_after_the_dry_run_is_denied_at_inclusion_recorded_and_nothing_released()
{
    let w = world().await;
    let lab = w.put_lab();
    let consent_id = w.grant_disclosure_for_treatment().await;
    call(
        &w,
        PATIENT,
        DEV_CONSENT_ADDRESS,
        &w.consent,
        "revoke",
        json!([consent_id]),
    )
    .await;

    let ledger = RpcLedger::new(
        HttpClientBuilder::default()
            .build(w.node.http_url())
            .unwrap(),
        dev_key(HOSPITAL),
        DEV_CHAIN_ID,
        (DEV_REGISTRY_ADDRESS, DEV_CONSENT_ADDRESS),
        DEADLINE,
    );
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::new(
        DEV_CHAIN_ID,
        dev_key(HOSPITAL).address(),
        RecordStore::open(&w.node.dir.path().join("records")).unwrap(),
        DryRunBeforeRevocation(ledger),
        dir.path().join("requests"),
    )
    .unwrap();
    let request = w.doctor_request(lab, 9);
    let refused = gateway
        .handle(
            &request.clone().sign(&dev_key(DOCTOR)).encode(),
            salus_node::wall_clock_ms(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "consent_denied_at_inclusion");
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.body()["reason"],
        "no consent on file: network default"
    );
    let doctor = dev_key(DOCTOR).address().to_string();
    assert_eq!(
        w.accounting(lab).await,
        vec![(doctor, 4, json!(request.hash().to_string()))],
        "the denial at inclusion is on the patient's trail with the request it refused"
    );
}
