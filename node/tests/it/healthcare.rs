//! Consent scenarios of DOMAIN.md end to end over JSON-RPC against `salus dev`, whose genesis
//! deploys the registry and the consent contract: arguments are JSON encoded through the ABI
//! read from chain, time passes with `dev_increaseTime`, and the audit trail is queried as events
//! and through the patient's accounting.

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::{BlockId, EventFilter, ReceiptView, SalusApiClient};
use salus_client::{CallAt, ContractAbi, DryRun, TransactionBuilder};
use salus_node::genesis::{DEV_CHAIN_ID, DEV_CONSENT_ADDRESS, DEV_REGISTRY_ADDRESS};
use salus_primitives::hash::keccak256_concat;
use salus_primitives::{Address, SecretKey};
use serde_json::{Value, json};

use crate::support::{DevProcess, dev_key};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

struct DevNode {
    http: HttpClient,
    _process: DevProcess,
}

/// `salus dev` mining only on `dev_mine`, with an HTTP client.
fn start() -> DevNode {
    let process = DevProcess::start(0);
    DevNode {
        http: HttpClientBuilder::default()
            .build(process.http_url())
            .unwrap(),
        _process: process,
    }
}

struct Actor {
    builder: TransactionBuilder,
    address: Address,
    /// Signs the actor's dry runs: views that check their caller answer only a signed one.
    key: SecretKey,
}

fn actor(index: u32) -> Actor {
    Actor {
        builder: TransactionBuilder::new(DEV_CHAIN_ID, dev_key(index), 0).fuel(20_000_000, 1),
        address: dev_key(index).address(),
        key: dev_key(index),
    }
}

async fn abi(node: &DevNode, contract: Address) -> ContractAbi {
    serde_json::from_value(
        node.http
            .contract_abi(contract.to_string())
            .await
            .unwrap()
            .expect("ABI on chain"),
    )
    .unwrap()
}

/// Submits a call, mines it, and returns the receipt and the decoded result.
async fn send(
    node: &DevNode,
    actor: &mut Actor,
    contract: Address,
    abi: &ContractAbi,
    message: &str,
    args: Value,
) -> (ReceiptView, Value) {
    let transaction = actor
        .builder
        .call(contract, abi.encode_call(message, &args).unwrap());
    let hash = node
        .http
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap();
    node.http.dev_mine(1).await.unwrap();
    let receipt = node.http.tx_receipt(hash).await.unwrap().expect("included");
    assert_eq!(
        receipt.status, "success",
        "{message}: {:?}",
        receipt.failure
    );
    let data = hex::decode(&receipt.return_data[2..]).unwrap();
    let result = abi.decode_result(message, &data).unwrap();
    (receipt, result)
}

async fn view(
    node: &DevNode,
    from: &SecretKey,
    contract: Address,
    abi: &ContractAbi,
    message: &str,
    args: Value,
) -> Value {
    view_at(node, from, contract, abi, message, args, None).await
}

/// A dry run signed by `from` against the state after block `at` (default: the head).
async fn view_at(
    node: &DevNode,
    from: &SecretKey,
    contract: Address,
    abi: &ContractAbi,
    message: &str,
    args: Value,
    at: Option<salus_client::rpc::BlockId>,
) -> Value {
    let mut call = DryRun::new(contract, abi.encode_call(message, &args).unwrap());
    call.at = at.map(|at| match at {
        BlockId::Number(number) => CallAt::Number(number),
        BlockId::Hash(hash) => CallAt::Hash(hash.parse().unwrap()),
    });
    let request = call.signed_for(DEV_CHAIN_ID, from);
    let outcome = node.http.state_call(request).await.unwrap();
    assert_eq!(
        outcome.status, "success",
        "{message}: {:?}",
        outcome.failure
    );
    abi.decode_result(message, &hex::decode(&outcome.return_data[2..]).unwrap())
        .unwrap()
}

/// The blinding key of the patient's relationship with the hospital (a wallet derives it:
/// `salus key pseudonym`); fixed here.
const BLINDING: [u8; 32] = [0xb1; 32];

/// The blinded tag of `code` in the patient's relationship with the hospital, as JSON.
fn tag(code: &str) -> String {
    salus_client::pseudonym::blinded_tag(&BLINDING, code).to_string()
}

/// `register_record`'s arguments for `record` (hex) of `patient` written by `author`: an
/// Observation labelled `N`, as blinded tags (the label padded to four with filler), a date
/// commitment and the relationship's subject handle — no clear label, class or date.
fn registration(record: &str, patient: Address, author: Address) -> Value {
    let filler = |n: u8| keccak256_concat(&[record.as_bytes(), &[n]]).to_string();
    let mut label_tags = vec![tag("N"), filler(1), filler(2), filler(3)];
    label_tags.sort();
    json!([
        record,
        patient.to_string(),
        label_tags,
        tag("Observation"),
        keccak256_concat(&[b"date", record.as_bytes()]).to_string(),
        author.to_string(),
        salus_client::pseudonym::subject_handle(&BLINDING).to_string()
    ])
}

fn provision(kind: &str, actors: Vec<Address>, purposes: &[&str], classes: &[&str]) -> Value {
    json!({
        "kind": kind,
        "period": null,
        "actors": actors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "roles": [],
        "actions": ["Access"],
        "purposes": purposes,
        "label_tags": [],
        "class_tags": classes.iter().map(|class| tag(class)).collect::<Vec<_>>(),
        "records": [],
        "data_period_commitment": null,
        "children": [],
        "custodians": [],
        "authors": [],
    })
}

/// The registry's authority (dev account 0) registers `who` in `role`, licensed for ten years,
/// with an NPI (people and providers) or a GLN (trading partners).
async fn register(
    node: &DevNode,
    authority: &mut Actor,
    registry_abi: &ContractAbi,
    who: Address,
    role: &str,
    npi: Option<&str>,
    gln: Option<&str>,
) {
    let head = node.http.chain_head().await.unwrap().timestamp_ms;
    send(
        node,
        authority,
        DEV_REGISTRY_ADDRESS,
        registry_abi,
        "register",
        json!([
            who.to_string(),
            [role],
            npi,
            gln,
            // A manufacturer holds the GS1 company prefix of the GTIN it registers: `03` and
            // its NDC labeler code (GS1 General Specifications §3.3.2).
            (role == "Manufacturer").then_some("0312345"),
            "0",
            (head + 3650 * DAY_MS).to_string(),
            format!("0x{}", "11".repeat(32))
        ]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_limited_grant_and_self_pay_restriction_over_rpc() {
    let node = start();
    let registry_abi = abi(&node, DEV_REGISTRY_ADDRESS).await;
    let consent_abi = abi(&node, DEV_CONSENT_ADDRESS).await;
    let mut authority = actor(0);
    let mut hospital = actor(5);
    let mut patient = actor(6);
    let doctor = actor(7);
    let payer = actor(8);
    let patient_address = patient.address.to_string();

    // The authority registers the hospital; the hospital indexes two records.
    register(
        &node,
        &mut authority,
        &registry_abi,
        hospital.address,
        "ProviderOrganisation",
        Some("1234567893"),
        None,
    )
    .await;
    // Roles are attested in the registry, never taken on the requester's word.
    for (who, role) in [(doctor.address, "Practitioner"), (payer.address, "Payer")] {
        register(&node, &mut authority, &registry_abi, who, role, None, None).await;
    }
    let lab = format!("0x{}", "a1".repeat(32));
    let attachment = format!("0x{}", "a2".repeat(32));
    for record in [&lab, &attachment] {
        send(
            &node,
            &mut hospital,
            DEV_CONSENT_ADDRESS,
            &consent_abi,
            "register_record",
            registration(record, patient.address, doctor.address),
        )
        .await;
    }

    // Scenario 1: Dr A may see Observations for TREAT for 30 days from now.
    let head = node.http.chain_head().await.unwrap().timestamp_ms;
    let period =
        json!({ "start_ms": head.to_string(), "end_ms": (head + 30 * DAY_MS).to_string() });
    let (grant_receipt, consent_id) = send(
        &node,
        &mut patient,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "grant",
        json!([
            patient_address.clone(),
            "patient-privacy",
            "59284-0",
            period,
            "Deny",
            [provision(
                "Permit",
                vec![doctor.address],
                &["TREAT"],
                &["Observation"]
            )],
            format!("0x{}", "22".repeat(32)),
            null
        ]),
    )
    .await;
    assert_eq!(consent_id, json!("0"));
    let stored = view(
        &node,
        &patient.key,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "consent",
        json!(["0"]),
    )
    .await;
    assert_eq!(
        stored["period"]["end_ms"],
        json!((head + 30 * DAY_MS).to_string())
    );
    node.http.dev_increase_time(5 * DAY_MS).await.unwrap();
    // The hospital, custodian of the record, records each access by the doctor.
    let doctor_address = doctor.address.to_string();
    let (_, day5) = send(
        &node,
        &mut hospital,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "record_access",
        json!([doctor_address, "PRCP", lab, "Access", "TREAT", null, null]),
    )
    .await;
    assert_eq!(day5["decision"], "Permit", "{day5}");
    node.http.dev_increase_time(26 * DAY_MS).await.unwrap();
    let (_, day31) = send(
        &node,
        &mut hospital,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "record_access",
        json!([doctor_address, "PRCP", lab, "Access", "TREAT", null, null]),
    )
    .await;
    assert_eq!(day31["decision"], "Deny");
    assert_eq!(day31["reason"], "consent expired");

    // Scenario 6: a self-pay restriction — permit by default, but not to the health plan.
    let now = node.http.chain_head().await.unwrap().timestamp_ms;
    let period = json!({ "start_ms": now.to_string(), "end_ms": (now + 365 * DAY_MS).to_string() });
    send(
        &node,
        &mut patient,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "grant",
        json!([
            patient_address.clone(),
            "patient-privacy",
            "59284-0",
            period,
            "Permit",
            [provision(
                "Deny",
                vec![payer.address],
                &["HPAYMT", "COVAUTH"],
                &[]
            )],
            format!("0x{}", "33".repeat(32)),
            null
        ]),
    )
    .await;
    let (_, payer_access) = send(
        &node,
        &mut hospital,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "record_access",
        json!([
            payer.address.to_string(),
            "PAYOR",
            attachment,
            "Access",
            "HPAYMT",
            null,
            null
        ]),
    )
    .await;
    assert_eq!(payer_access["decision"], "Deny");
    assert_eq!(payer_access["provision_path"], json!("0x00"));

    // The patient's accounting lists every decision, refusals included.
    let accounting = view(
        &node,
        &patient.key,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "accounting",
        json!([
            patient.address.to_string(),
            "0",
            u64::MAX.to_string(),
            null,
            100
        ]),
    )
    .await;
    let decisions: Vec<(String, u64)> = accounting
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "R")
        .map(|entry| {
            (
                entry["agent"].as_str().unwrap().to_string(),
                entry["outcome"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            (doctor.address.to_string(), 0),
            (doctor.address.to_string(), 4),
            (payer.address.to_string(), 4)
        ]
    );

    // A query as of a past block: at the grant's block the trail held only the grant.
    let then = view_at(
        &node,
        &patient.key,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "accounting",
        json!([
            patient.address.to_string(),
            "0",
            u64::MAX.to_string(),
            null,
            100
        ]),
        Some(salus_client::rpc::BlockId::Number(
            grant_receipt.block_number,
        )),
    )
    .await;
    assert_eq!(then.as_array().unwrap().len(), 1);
    assert_eq!(then[0]["reason"], "consent granted");

    // And every access is an event indexed by the relationship's subject handle (never the
    // patient's address): for whoever holds the blinding key, an audit trail is one query.
    let mut patient_topic = [0u8; 32];
    patient_topic[..20].copy_from_slice(&patient.address.0);
    let signature = salus_primitives::keccak256(b"AccessRecorded").to_string();
    let by_address = node
        .http
        .events_query(EventFilter {
            contract: DEV_CONSENT_ADDRESS.to_string(),
            topics: vec![
                Some(signature.clone()),
                Some(salus_primitives::Hash(patient_topic).to_string()),
            ],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert!(
        by_address.events.is_empty(),
        "the patient's address is no topic"
    );
    let events = node
        .http
        .events_query(EventFilter {
            contract: DEV_CONSENT_ADDRESS.to_string(),
            topics: vec![
                Some(signature),
                Some(salus_client::pseudonym::subject_handle(&BLINDING).to_string()),
            ],
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(events.events.len(), 3);
    let decoded = consent_abi.decode_event(&salus_primitives::Event {
        contract: DEV_CONSENT_ADDRESS,
        topics: events.events[2]
            .event
            .topics
            .iter()
            .map(|t| t.parse().unwrap())
            .collect(),
        data: hex::decode(&events.events[2].event.data[2..]).unwrap(),
    });
    assert_eq!(decoded.unwrap().unwrap()["fields"]["decision"], "Deny");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_over_rpc() {
    let node = start();
    let registry_abi = abi(&node, DEV_REGISTRY_ADDRESS).await;
    let consent_abi = abi(&node, DEV_CONSENT_ADDRESS).await;
    let mut authority = actor(0);
    let mut hospital = actor(5);
    let patient = actor(6);
    let mut er_doctor = actor(7);
    let mut nurse = actor(8);
    let reviewer = actor(9);
    register(
        &node,
        &mut authority,
        &registry_abi,
        hospital.address,
        "ProviderOrganisation",
        Some("1234567893"),
        None,
    )
    .await;
    register(
        &node,
        &mut authority,
        &registry_abi,
        er_doctor.address,
        "Practitioner",
        None,
        None,
    )
    .await;
    let chart = format!("0x{}", "c1".repeat(32));
    send(
        &node,
        &mut hospital,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "register_record",
        registration(&chart, patient.address, er_doctor.address),
    )
    .await;
    send(
        &node,
        &mut hospital,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "set_break_glass_policy",
        json!([
            [er_doctor.address.to_string()],
            (4 * 3600 * 1000u64).to_string(),
            reviewer.address.to_string(),
            false
        ]),
    )
    .await;
    let er = er_doctor.address.to_string();
    let access = json!([er, "PRCP", chart, "Access", "ETREAT", null, null]);

    // No consent on file: denied by the network default.
    let (_, before) = send(
        &node,
        &mut hospital,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "record_access",
        access.clone(),
    )
    .await;
    assert_eq!(before["decision"], "Deny");
    // The ER physician declares an emergency; the patient is notified by an event.
    let (declared, session) = send(
        &node,
        &mut er_doctor,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "declare_break_glass",
        json!([
            hospital.address.to_string(),
            patient.address.to_string(),
            "ETREAT",
            format!("0x{}", "aa".repeat(32)),
            (8 * 3600 * 1000u64).to_string()
        ]),
    )
    .await;
    assert_eq!(session, json!("0"));
    let notice = consent_abi.decode_event(&salus_primitives::Event {
        contract: DEV_CONSENT_ADDRESS,
        topics: declared.events[0]
            .topics
            .iter()
            .map(|t| t.parse().unwrap())
            .collect(),
        data: hex::decode(&declared.events[0].data[2..]).unwrap(),
    });
    assert_eq!(notice.unwrap().unwrap()["fields"]["step"], "declared");
    let (_, during) = send(
        &node,
        &mut hospital,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "record_access",
        access.clone(),
    )
    .await;
    assert_eq!(during["decision"], "Permit");
    assert_eq!(during["reason"], "110127 emergency override");
    // A nurse outside the group is refused, and the refusal is on the record.
    let (_, refused) = send(
        &node,
        &mut nurse,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "declare_break_glass",
        json!([
            hospital.address.to_string(),
            patient.address.to_string(),
            "ETREAT",
            format!("0x{}", "bb".repeat(32)),
            "3600000"
        ]),
    )
    .await;
    assert_eq!(refused, Value::Null);
    // After the window (capped at the policy's 4 h), access is denied again.
    node.http.dev_increase_time(5 * 3600 * 1000).await.unwrap();
    let (_, after) = send(
        &node,
        &mut hospital,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "record_access",
        access,
    )
    .await;
    assert_eq!(after["decision"], "Deny");
    // The session waits for review.
    let pending = view(
        &node,
        &reviewer.key,
        DEV_CONSENT_ADDRESS,
        &consent_abi,
        "pending_sessions",
        json!([hospital.address.to_string()]),
    )
    .await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counterfeit_and_recall_over_rpc() {
    use salus_node::genesis::DEV_SUPPLY_ADDRESS;
    let node = start();
    let registry_abi = abi(&node, DEV_REGISTRY_ADDRESS).await;
    let supply_abi = abi(&node, DEV_SUPPLY_ADDRESS).await;
    let mut authority = actor(0);
    let mut maker = actor(1);
    let mut pharmacy = actor(2);
    let mut doctor = actor(3);
    let head = node.http.chain_head().await.unwrap().timestamp_ms;
    for (who, role) in [
        (maker.address, "Manufacturer"),
        (pharmacy.address, "Dispenser"),
        (doctor.address, "Practitioner"),
    ] {
        register(
            &node,
            &mut authority,
            &registry_abi,
            who,
            role,
            None,
            Some("0614141000012"),
        )
        .await;
    }
    let gtin = "00312345678906";
    send(
        &node,
        &mut maker,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "register_product",
        json!([
            gtin,
            "12345-678-90",
            "Amoxicillin",
            "500 mg",
            "capsule",
            "30"
        ]),
    )
    .await;
    let expiry = (head + 700 * DAY_MS).to_string();
    send(
        &node,
        &mut maker,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "commission",
        json!([gtin, "L1", expiry, ["S1", "S2"], "urn:gln:maker"]),
    )
    .await;
    let (_, shipment) = send(
        &node,
        &mut maker,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "ship",
        json!([[{ "Unit": [gtin, "S1"] }, { "Unit": [gtin, "S2"] }], pharmacy.address.to_string(), [], "urn:gln:maker"]),
    )
    .await;
    let (_, received) = send(
        &node,
        &mut pharmacy,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "receive",
        json!([shipment, [{ "Unit": [gtin, "S1"] }, { "Unit": [gtin, "S2"] }], "urn:gln:pharmacy"]),
    )
    .await;
    assert_eq!(received, json!(true));
    // The prescription goes on chain as its handle alone (docs/PRIVACY.md §5.5), computed here
    // from its definition: keccak256("salus/rx/v1" ‖ salt ‖ NDC ‖ inner), `inner` standing for
    // the prescriber's salted commitment to the patient's details.
    let patient = actor(9).address;
    let salt = [0x77; 32];
    let inner = keccak256_concat(&[b"test/patient-details", &patient.0, &[0x78; 32]]);
    let handle = keccak256_concat(&[b"salus/rx/v1", &salt, b"12345-678-90", &inner.0]);
    let (rx, salt, inner) = (
        handle.to_string(),
        format!("0x{}", hex::encode(salt)),
        inner.to_string(),
    );
    // Valid 30 days from the last block's time (blocks after genesis take the wall clock).
    let now = node.http.chain_head().await.unwrap().timestamp_ms;
    send(
        &node,
        &mut doctor,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "prescribe",
        json!([rx, 2, (now + 30 * DAY_MS).to_string()]),
    )
    .await;

    // Counterfeit: a serial never commissioned, presented at dispensing.
    let (_, fake) = send(
        &node,
        &mut pharmacy,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "dispense",
        json!([gtin, "FAKE", "L1", expiry, rx, salt, inner]),
    )
    .await;
    assert_eq!(fake["verified"], false);
    assert_eq!(fake["failure_reason"], "No_match_GTIN_Serial");
    let case = view(
        &node,
        &maker.key,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "investigation",
        json!(["0"]),
    )
    .await;
    assert_eq!(case["classification"], "Suspect");

    // S1 dispensed by the opening: the contract recomputes the handle with S1's NDC. Nothing in
    // the receipt names the patient; the stored EPCIS event names the handle.
    let (receipt, dispensed) = send(
        &node,
        &mut pharmacy,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "dispense",
        json!([gtin, "S1", "L1", expiry, rx, salt, inner]),
    )
    .await;
    assert_eq!(dispensed["dispensed"], true, "{dispensed}");
    let receipt_text = serde_json::to_string(&receipt).unwrap();
    assert!(
        !receipt_text.contains(&hex::encode(patient.0)),
        "{receipt_text}"
    );
    let history = view(
        &node,
        &maker.key,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "history",
        json!([gtin, "S1"]),
    )
    .await;
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["biz_step"], "dispensing");
    assert_eq!(last["biz_transactions"], json!([["rx", rx]]));

    // Recall of lot L1: verification says Recalled, dispensing is refused, the lot is located.
    send(
        &node,
        &mut maker,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "recall",
        json!([gtin, ["L1"], "ClassI"]),
    )
    .await;
    let verified = view(
        &node,
        &pharmacy.key,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "verify",
        json!([gtin, "S2", "L1", expiry]),
    )
    .await;
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["additional"], json!(["Recalled"]));
    let transaction = pharmacy.builder.call(
        DEV_SUPPLY_ADDRESS,
        supply_abi
            .encode_call(
                "dispense",
                &json!([gtin, "S2", "L1", expiry, rx, salt, inner]),
            )
            .unwrap(),
    );
    let hash = node
        .http
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap();
    node.http.dev_mine(1).await.unwrap();
    let refused = node.http.tx_receipt(hash).await.unwrap().unwrap();
    // A refused dispense is a decision, recorded rather than reverted.
    assert_eq!(refused.failure, None);
    let events = decoded_events(&supply_abi, DEV_SUPPLY_ADDRESS, &refused);
    assert!(
        events
            .iter()
            .any(|(name, fields)| name == "Refused" && fields["reason"] == "NotMovable"),
        "{events:?}"
    );
    let located = view(
        &node,
        &maker.key,
        DEV_SUPPLY_ADDRESS,
        &supply_abi,
        "lot_units",
        json!([gtin, "L1", null, 100]),
    )
    .await;
    assert_eq!(located.as_array().unwrap().len(), 2);
    assert_eq!(located[0][1], json!(pharmacy.address.to_string()));
}

/// Decodes a receipt's events with `abi`, as `(name, fields)`.
fn decoded_events(
    abi: &ContractAbi,
    contract: Address,
    receipt: &ReceiptView,
) -> Vec<(String, Value)> {
    receipt
        .events
        .iter()
        .filter_map(|event| {
            abi.decode_event(&salus_primitives::Event {
                contract,
                topics: event.topics.iter().map(|t| t.parse().unwrap()).collect(),
                data: hex::decode(&event.data[2..]).unwrap(),
            })
            .unwrap()
        })
        .map(|decoded| {
            (
                decoded["event"].as_str().unwrap().to_string(),
                decoded["fields"].clone(),
            )
        })
        .collect()
}

/// DOMAIN.md §2 scenarios 2 and 5 through `salus dev`: the payer configures coverage and a rule
/// set over RPC, a qualifying lumbar MRI is certified in the submitting transaction, and an
/// expedited request left undecided past 72 hours is marked overdue by a bystander and stays
/// undecided.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_preauthorization_decided_and_overdue_over_rpc() {
    use salus_node::genesis::DEV_COVERAGE_ADDRESS;
    const HOUR_MS: u64 = 60 * 60 * 1000;
    let node = start();
    let registry_abi = abi(&node, DEV_REGISTRY_ADDRESS).await;
    let coverage_abi = abi(&node, DEV_COVERAGE_ADDRESS).await;
    let mut authority = actor(0);
    let mut payer = actor(1);
    let mut hospital = actor(2);
    let mut bystander = actor(3);
    let patient = actor(4);
    let head = node.http.chain_head().await.unwrap().timestamp_ms;
    for (who, role) in [
        (payer.address, "Payer"),
        (hospital.address, "ProviderOrganisation"),
    ] {
        register(
            &node,
            &mut authority,
            &registry_abi,
            who,
            role,
            Some("1234567893"),
            None,
        )
        .await;
    }
    let member = format!("0x{}", "4d".repeat(32));
    let payer_address = payer.address.to_string();
    let plan_period =
        json!({ "start_ms": head.to_string(), "end_ms": (head + 365 * DAY_MS).to_string() });
    let mut send_as_payer = async |message: &str, args: Value| {
        send(
            &node,
            &mut payer,
            DEV_COVERAGE_ADDRESS,
            &coverage_abi,
            message,
            args,
        )
        .await
    };
    send_as_payer(
        "set_coverage",
        json!([member, {
            "beneficiary": patient.address.to_string(),
            "plan_type": "Hmo",
            "period": plan_period,
            "status": "Active",
        }]),
    )
    .await;
    let attestation = format!("0x{}", "a7".repeat(32));
    let edits = [
        "NotEligible",
        "Network",
        "Age",
        "Sex",
        "PlaceOfService",
        "Diagnosis",
        "Quantity",
        "Documentation",
        "ClinicalReview",
        "Extension",
    ];
    let reasons: Vec<Value> = edits
        .iter()
        .enumerate()
        .map(|(index, edit)| json!({ "edit": edit, "reason": { "code": format!("0{index}"), "text": format!("{edit} edit") } }))
        .collect();
    let (_, version) = send_as_payer(
        "publish_rules",
        json!([format!("0x{}", "90".repeat(32)), plan_period, [{
            "id": 10,
            "service_type": "62",
            "procedures": [{ "from": "72141", "to": "72158" }],
            "diagnoses": ["M54.1"],
            "min_age": null,
            "max_age": null,
            "sexes": [],
            "places_of_service": ["11"],
            "network_required": false,
            "quantity_per_period": null,
            "prior_authorisation": true,
            "documentation": attestation,
            "auto_approve": { "diagnoses": [], "max_quantity": 1, "in_network_only": true },
            "authorised_days": 60,
        }], reasons]),
    )
    .await;
    assert_eq!(version, json!(1));

    // Sealed requests (docs/PRIVACY.md §5.5): the hospital posts the skeleton, the payer (its
    // agent, here by hand) posts the decision's codes and commitments.
    let approved_handle = format!("0x{}", "e1".repeat(32));
    let pended_handle = format!("0x{}", "e2".repeat(32));
    let skeleton = |handle: &str, priority: &str| {
        json!([
            handle,
            payer_address,
            member,
            priority,
            1,
            format!("0x{}", "c0".repeat(32))
        ])
    };
    let (submitted_receipt, _) = send(
        &node,
        &mut hospital,
        DEV_COVERAGE_ADDRESS,
        &coverage_abi,
        "submit_sealed",
        skeleton(&approved_handle, "Standard"),
    )
    .await;
    let events = decoded_events(&coverage_abi, DEV_COVERAGE_ADDRESS, &submitted_receipt);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "SealedSubmitted");
    let post = |handle: &str, action: &str, reason: Value, quantity: u32| {
        json!([
            handle,
            [{ "action": action, "reason": reason, "quantity": quantity }],
            1,
            format!("0x{}", "11".repeat(32)),
            format!("0x{}", "22".repeat(32)),
        ])
    };
    let (approved_receipt, status) = send_as_payer(
        "post_decision",
        post(&approved_handle, "A1", Value::Null, 1),
    )
    .await;
    assert_eq!(status, "Decided");
    let events = decoded_events(&coverage_abi, DEV_COVERAGE_ADDRESS, &approved_receipt);
    assert!(
        events
            .iter()
            .any(|(name, fields)| name == "DecisionPosted" && fields["status"] == "Decided"),
        "{events:?}"
    );

    send(
        &node,
        &mut hospital,
        DEV_COVERAGE_ADDRESS,
        &coverage_abi,
        "submit_sealed",
        skeleton(&pended_handle, "Expedited"),
    )
    .await;
    let (_, status) =
        send_as_payer("post_decision", post(&pended_handle, "A4", json!("08"), 0)).await;
    assert_eq!(status, "Pended");
    node.http.dev_increase_time(73 * HOUR_MS).await.unwrap();
    let (overdue_receipt, _) = send(
        &node,
        &mut bystander,
        DEV_COVERAGE_ADDRESS,
        &coverage_abi,
        "mark_overdue",
        json!([pended_handle]),
    )
    .await;
    let events = decoded_events(&coverage_abi, DEV_COVERAGE_ADDRESS, &overdue_receipt);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "Overdue");
    assert_eq!(events[0].1["trace_handle"], pended_handle);
    let request = view(
        &node,
        &patient.key,
        DEV_COVERAGE_ADDRESS,
        &coverage_abi,
        "sealed_request",
        json!([pended_handle]),
    )
    .await;
    assert_eq!(request["status"], "Pended", "overdue is never approval");
    assert_eq!(request["overdue"], true);
    assert_eq!(request["decisions"][0]["line"]["action"], "A4");
    let metrics = view(
        &node,
        &patient.key,
        DEV_COVERAGE_ADDRESS,
        &coverage_abi,
        "metrics",
        json!([payer_address, "Expedited"]),
    )
    .await;
    assert_eq!(metrics["counts"]["overdue"], "1");
}
