//! The re-identification test of docs/PRIVACY.md §7, on the paths converted so far: a `salus
//! dev` node runs issue 22's healthcare scenario — two patients, each seen by two clinics
//! (records registered by each patient's per-custodian pseudonym with blinded label and class
//! tags and a date commitment, consents granted by that pseudonym, accesses recorded), a
//! delegation (the first patient's guardian, under a pseudonym of its own, grants at the second
//! clinic), a break-glass (the second patient at the first clinic), coverage for each member
//! (member hash and payer pseudonym, no demographics), sealed preauthorizations decided by
//! `salus agent payer --once` (one line approved, one pended; the second patient's line pended
//! and then denied by a clinician reviewer with `post_decision`), a sealed claim per patient
//! citing its authorisation and checked by the agent (`submit_claim`, `post_claim_check`), and a
//! prescription filled at the pharmacy by its handle. Then `salus inspect dump` of the node's data directory — every
//! byte an operator holds — is searched:
//!
//! - (a) no clinical value of the scenario (ICD-10 and CPT codes, security labels, birth years,
//!   dates of service and of the records) is in it in any encoding the chain uses (§7); the NDC
//!   only where no patient identifier is;
//! - (b) for each patient, no 20- or 32-byte value is in data tied to two of its relationships
//!   (clinic A, clinic B, the payer, the prescription), apart from registered participants'
//!   addresses and public constants.
//!
//! How (b) is computed: an entry of the dump is tied to a relationship when its key or value
//! holds one of the relationship's identifiers, which the test knows from the wallets'
//! derivation (the pseudonym, the subject handle, record and trace handles, the member hash,
//! the payer pseudonym, the delegate's pseudonym, the prescription's handle and patient
//! commitment). Its values are every 20- and 32-byte window of those entries that could be an
//! identifier (at least half its bytes distinct: not a zero-padded counter), never partly a
//! public address (participants, genesis contracts) and outside the participants' account
//! records in undo data (the miner's balance links consecutive blocks: timing, §9). A value shared by two relationships of one patient fails
//! the test unless it is a participant's address or holds an 8-byte run of common structure:
//! of the dump taken before any patient existed (contracts, rule set, product, policies) or of
//! the other patient's data (structure common to every patient, not an identifier of one). A
//! random identifier shares no 8-byte run with anything; a window of public strings and one
//! byte of a block time does, and two relationships held one whenever the low bytes of their
//! consents' signing times agreed (1 in 256 per pair: the flake this rule ended). The two patients' scenarios
//! differ (only the first has a delegate and a prescription, only the second a break-glass),
//! so each is the other's control.
//!
//! (a) searches every entry the scenario wrote or changed, key and value, for each value's
//! UTF-8, SCALE string, SCALE `u64`/`i64` little-endian (dates in ms, years), decimal text,
//! hex text, 32-byte topic and keccak256 of each; a year's bare `u16` (two bytes, found by
//! chance in any megabyte) as a topic, a hash and next to the sex code, where the old
//! `Coverage` held it.
//!
//! Every coverage path is covered: the clear `submit` and `check_claim` are gone (PRIVACY.md
//! §8 row 5).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use coverage::{ActionCode, CoverageStatus, Period, PlanType, PostedLine, Priority};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::{Compact, Encode};
use salus_client::pseudonym::{PseudonymKeys, Relationship, RelationshipKind, derive_pseudonym};
use salus_client::rpc::{ReceiptView, SalusApiClient};
use salus_client::seal::{CommitmentKind, CommitmentSalt, commit, commit_value};
use salus_client::{ContractAbi, TransactionBuilder};
use salus_node::agent::submission::{inbox_file, seal_delivery};
use salus_node::agent::{
    ClaimLineRecord, SealedClaim, SealedSubmission, SubmissionLine, seal_claim,
};
use salus_node::gateway::ledger::{call_input, registered_key};
use salus_node::genesis::{
    DEV_CHAIN_ID, DEV_CONSENT_ADDRESS, DEV_COVERAGE_ADDRESS, DEV_REGISTRY_ADDRESS,
    DEV_SUPPLY_ADDRESS,
};
use salus_primitives::hash::{keccak256, keccak256_concat};
use salus_primitives::{Address, Hash, SecretKey};
use serde_json::{Value, json};

use crate::support::{DevProcess, dev_key, payer_rules};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const DEADLINE: Duration = Duration::from_secs(60);

/// Dev accounts: the registry's authority and the organisations and practitioners.
const AUTHORITY: u32 = 0;
const PAYER: u32 = 1;
const CLINIC_A: u32 = 2;
const CLINIC_B: u32 = 3;
const PHARMACY: u32 = 4;
const DOCTOR: u32 = 5;
const REVIEWER: u32 = 6;
const MAKER: u32 = 7;

const NPI: &str = "1234567893";
/// Lumbar spine MRI: certified by rule 10.
const MRI: &str = "72148";
/// Abdominal CT: rule 20 sends it to a clinician.
const CT: &str = "74177";
const GTIN: &str = "00312345678906";
const NDC: &str = "12345-678-90";

/// One patient's clinical facts, known only to the wallet and its counterparties.
struct Patient {
    wallet: SecretKey,
    birth_year: u16,
    sex: &'static str,
    /// The security label of its record at each clinic.
    labels: [&'static str; 2],
    diagnosis: &'static str,
    /// Its procedures, all on one date of service.
    procedures: Vec<&'static str>,
    service_ms: u64,
    /// The date of its records.
    record_ms: u64,
}

/// One entry of a dump: column family, key, value.
type Entry = (String, Vec<u8>, Vec<u8>);

/// A relationship's name, its values and the entries tied to it.
type RelationshipData<'a> = (String, BTreeSet<Vec<u8>>, Vec<&'a Entry>);

/// A relationship's identifiers on chain (the values that tie an entry of the dump to it).
struct Ties {
    name: String,
    seeds: Vec<Vec<u8>>,
}

struct World {
    node: DevProcess,
    http: HttpClient,
    registry: ContractAbi,
    consent: ContractAbi,
    supply: ContractAbi,
    chain: Hash,
    inbox: PathBuf,
}

fn address(index: u32) -> Address {
    dev_key(index).address()
}

/// Runs the `salus` binary against the node; its stdout.
fn salus(node: &DevProcess, arguments: &[&str]) -> String {
    let output = node.salus(arguments);
    assert!(
        output.status.success(),
        "salus {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn receipt(http: &HttpClient, hash: &str) -> ReceiptView {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(receipt) = http.tx_receipt(hash.to_string()).await.unwrap() {
            return receipt;
        }
        assert!(Instant::now() < deadline, "{hash} was not included");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl World {
    /// Signs `input` to `contract` with `key` (a pseudonym pays no fee: price 0, so no coin
    /// ever moves to it), waits for inclusion and requires success; the raw result.
    async fn must(&self, key: &SecretKey, contract: Address, input: Vec<u8>) -> Vec<u8> {
        let nonce = self
            .http
            .state_get_account(key.address().to_string(), None)
            .await
            .unwrap()
            .nonce;
        let transaction = TransactionBuilder::new(DEV_CHAIN_ID, key.clone(), nonce)
            .fuel(20_000_000, 0)
            .call(contract, input);
        let hash = self
            .http
            .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
            .await
            .unwrap();
        let receipt = receipt(&self.http, &hash).await;
        assert_eq!(receipt.status, "success", "{:?}", receipt.failure);
        hex::decode(receipt.return_data.trim_start_matches("0x")).unwrap()
    }

    /// A call by ABI JSON; its decoded result.
    async fn call(
        &self,
        key: &SecretKey,
        contract: Address,
        abi: &ContractAbi,
        message: &str,
        arguments: Value,
    ) -> Value {
        let input = abi.encode_call(message, &arguments).unwrap();
        let result = self.must(key, contract, input).await;
        abi.decode_result(message, &result).unwrap()
    }

    fn pseudonym(
        &self,
        wallet: &SecretKey,
        counterparty: Address,
        kind: RelationshipKind,
    ) -> PseudonymKeys {
        derive_pseudonym(
            wallet,
            Relationship {
                chain: self.chain,
                counterparty,
                kind,
                episode: 0,
            },
        )
    }

    /// `salus inspect dump` of the running node: (column, key, value) per entry.
    fn dump(&self, name: &str) -> Vec<Entry> {
        let out = self.node.dir.path().join(name);
        let data_dir = self.node.dir.path().join("dev");
        salus(
            &self.node,
            &[
                "inspect",
                "dump",
                "--data-dir",
                data_dir.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let text = std::fs::read_to_string(&out).unwrap();
        text.lines()
            .map(|line| {
                let entry: Value = serde_json::from_str(line).unwrap();
                let bytes = |field: &str| {
                    hex::decode(entry[field].as_str().unwrap().trim_start_matches("0x")).unwrap()
                };
                (
                    entry["column"].as_str().unwrap().to_string(),
                    bytes("key"),
                    bytes("value"),
                )
            })
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack.len() >= needle.len()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// The shortest run of printable text a bare needle of fewer than 4 bytes is sought in.
const SHORT_IN_TEXT: usize = 12;

/// Whether `needle` is in `haystack` as check (a) means it. A bare needle of fewer than 4
/// bytes (a 3-letter label in UTF-8) occurs by chance in the hashes and signatures of any dump
/// (about one in 16 million positions each: a 3-byte label in a header's hash failed check
/// (a) once), so it counts only inside text: a run of at least [`SHORT_IN_TEXT`] printable
/// ASCII bytes, around about one chance hit in a thousand. The label is still
/// sought everywhere through its SCALE string (length prefix and text), hex, topic and hashes.
fn found(haystack: &[u8], needle: &[u8]) -> bool {
    if needle.len() >= 4 {
        return contains(haystack, needle);
    }
    let printable = |byte: &u8| (0x20..0x7f).contains(byte);
    haystack
        .split(|byte| !printable(byte))
        .any(|text| text.len() >= SHORT_IN_TEXT && contains(text, needle))
}

fn random_hash() -> Hash {
    Hash(*CommitmentSalt::random().unwrap().as_bytes())
}

/// Every encoding PRIVACY.md §7 (a) lists for a string: UTF-8, SCALE, hex text of both, the
/// 32-byte topic and keccak256 of each.
fn string_encodings(value: &str) -> Vec<(String, Vec<u8>)> {
    let utf8 = value.as_bytes().to_vec();
    let scale = value.encode();
    encodings_of(value, [("utf8", utf8), ("scale", scale)])
}

/// Every encoding of an integer (a date in ms, a birth year): SCALE u64/i64 LE (and u16 for a
/// year, as a topic), the decimal text, hex text, topics and keccak256.
fn integer_encodings(value: u64, year: bool) -> Vec<(String, Vec<u8>)> {
    let mut forms = vec![
        ("u64", value.to_le_bytes().to_vec()),
        ("i64", (value as i64).to_le_bytes().to_vec()),
        ("decimal", value.to_string().into_bytes()),
        ("scale decimal", value.to_string().encode()),
    ];
    if year {
        forms.push(("u16", (value as u16).to_le_bytes().to_vec()));
        forms.push(("compact", Compact(value).encode()));
    }
    encodings_of(&value.to_string(), forms)
}

fn encodings_of<'a>(
    label: &str,
    forms: impl IntoIterator<Item = (&'a str, Vec<u8>)>,
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (form, bytes) in forms {
        // A bare 2-byte u16 occurs by chance in any megabyte of binary: it is searched as a
        // topic and a hash only (and beside the sex code, where a record would put it).
        if bytes.len() > 2 {
            out.push((format!("{label} {form}"), bytes.clone()));
        }
        out.push((
            format!("{label} {form} hex"),
            hex::encode(&bytes).into_bytes(),
        ));
        if bytes.len() <= 32 {
            let mut topic = [0u8; 32];
            topic[..bytes.len()].copy_from_slice(&bytes);
            out.push((format!("{label} {form} topic"), topic.to_vec()));
            out.push((
                format!("{label} {form} topic keccak"),
                keccak256(&topic).0.to_vec(),
            ));
        }
        out.push((
            format!("{label} {form} keccak"),
            keccak256(&bytes).0.to_vec(),
        ));
    }
    out
}

/// Whether a 20- or 32-byte window can be an identifier (an address, a hash, a tag: uniformly
/// random bytes, about 19 distinct values in 20): at least half its bytes distinct. A
/// zero-padded counter or length is not one.
fn identifier_like(window: &[u8]) -> bool {
    window.iter().collect::<BTreeSet<_>>().len() * 2 >= window.len()
}

/// The length of a run of common structure (see [`links`]).
const GRAM: usize = 8;

/// Every [`GRAM`]-byte run of some bytes.
#[derive(Default)]
struct Grams(HashSet<[u8; GRAM]>);

impl Grams {
    fn add(&mut self, bytes: &[u8]) {
        self.0.extend(
            bytes
                .windows(GRAM)
                .map(|run| <[u8; GRAM]>::try_from(run).unwrap()),
        );
    }

    /// Whether `value` holds a run of these bytes.
    fn any_in(&self, value: &[u8]) -> bool {
        value
            .windows(GRAM)
            .any(|run| self.0.contains(<&[u8; GRAM]>::try_from(run).unwrap()))
    }
}

/// The values of one relationship that are values of another too and identify the patient:
/// not a participant's address nor part of one, and without any 8-byte run of `common`
/// structure (the dump before any patient, the other patient's data). An identifier (random
/// bytes) shares no 8-byte run with anything else, so each 20-byte window inside it is kept;
/// a window that is 19 bytes of common structure and one byte of a block time is not an
/// identifier, yet two relationships hold it whenever the low bytes of their block times
/// agree (1 in 256: the consent's `date_ms` after its scope and category strings, the flake
/// of check (b)).
fn links(
    first: &BTreeSet<Vec<u8>>,
    second: &BTreeSet<Vec<u8>>,
    common: &Grams,
    participants: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    first
        .intersection(second)
        .filter(|value| {
            !participants
                .iter()
                .any(|p| contains(value, p) || contains(p, value))
        })
        .filter(|value| !common.any_in(value))
        .cloned()
        .collect()
}

/// Check (b)'s rule on the two shapes it must tell apart: a random identifier in the data of
/// two relationships links them, whatever surrounds it; the flake's value (the consent's scope
/// and category strings, then the low byte of two block times that happened to agree) does not.
#[test]
fn a_shared_identifier_links_two_relationships_and_common_structure_with_a_byte_of_time_does_not() {
    let values = |entries: &[Vec<u8>]| -> BTreeSet<Vec<u8>> {
        entries
            .iter()
            .flat_map(|entry| entry.windows(20).map(<[u8]>::to_vec).collect::<Vec<_>>())
            .filter(|window| identifier_like(window))
            .collect()
    };
    let consent = |date_ms: u64, pseudonym: &[u8]| -> Vec<u8> {
        let mut bytes = pseudonym.to_vec();
        bytes.extend(("patient-privacy", "59284-0", date_ms as i64).encode());
        bytes
    };
    let (a, b, c) = (random_hash(), random_hash(), random_hash());
    // The two relationships' consents were signed 256 ms apart: same low byte.
    let clinic_a = [consent(1_765_000_000_222, &a.0[..20])];
    let clinic_b = [consent(1_765_000_000_478, &b.0[..20])];
    let mut common = Grams::default();
    common.add(&consent(1_765_000_100_000, &c.0[..20]));
    common.add(b"trailing structure");
    let shared = values(&clinic_a)
        .intersection(&values(&clinic_b))
        .cloned()
        .collect::<Vec<_>>();
    assert!(!shared.is_empty(), "the windows do agree");
    // Check (a)'s short needles: in text, found; by chance in a hash, not.
    assert!(found(b"\x24security label: HIV", b"HIV"));
    assert!(found(&"HIV".encode(), &"HIV".encode()));
    assert!(!found(b"\x9a\x01HIV\xf3\x10", b"HIV"));
    assert!(links(&values(&clinic_a), &values(&clinic_b), &common, &[]).is_empty());
    // A leak: one record handle at both clinics, found inside any data.
    let leak = random_hash();
    let with_leak = |entry: &[Vec<u8>]| {
        let mut bytes = entry[0].clone();
        bytes.extend(leak.0);
        bytes.extend(b"trailing structure");
        values(&[bytes])
    };
    let found = links(&with_leak(&clinic_a), &with_leak(&clinic_b), &common, &[]);
    for inside in leak.0.windows(20) {
        assert!(
            found.iter().any(|value| value == inside),
            "each window of the handle"
        );
    }
    assert!(
        found
            .iter()
            .all(|value| value.windows(GRAM).any(|run| contains(&leak.0, run))),
        "only windows holding part of the handle"
    );
}

/// `bytes` cut around public addresses (registered participants and genesis contracts), so
/// that no value is in part one of them (a window of 19 bytes of an address and one byte of a
/// neighbour is no identifier), and without the participants' account records that undo data
/// carries (`SCALE(0x00 ‖ address)`, then the record before and after the block: nonce and
/// balance). The miner's balance changes in every block, so the undo data of two consecutive
/// blocks share it: that is timing (PRIVACY.md §9), not an identifier of a patient.
fn without_public_addresses<'a>(bytes: &'a [u8], public: &[Vec<u8>]) -> Vec<&'a [u8]> {
    /// `SCALE(Vec<u8>)` of a 21-byte account key: compact length 21.
    const ACCOUNT_KEY_PREFIX: [u8; 2] = [21 << 2, 0x00];
    /// The key and two `Option<Vec<u8>>` of a 25-byte account record.
    const RECORD_BYTES: usize = 2 + 20 + 2 * (2 + 25);
    let mut segments = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at + 20 <= bytes.len() {
        let public_at = |offset: usize| {
            at + offset + 20 <= bytes.len()
                && public
                    .iter()
                    .any(|p| bytes[at + offset..at + offset + 20] == p[..])
        };
        let end =
            if at + 22 <= bytes.len() && bytes[at..at + 2] == ACCOUNT_KEY_PREFIX && public_at(2) {
                Some(at + RECORD_BYTES)
            } else if public_at(0) {
                Some(at + 20)
            } else {
                None
            };
        match end {
            Some(end) => {
                segments.push(&bytes[start..at]);
                at = end.min(bytes.len());
                start = at;
            }
            None => at += 1,
        }
    }
    segments.push(&bytes[start..]);
    segments
}

/// The organisations, the payer's rules, reviewer and key, a product at the pharmacy, the
/// clinic's break-glass policy: everything before any patient.
async fn world() -> (World, Period) {
    let node = DevProcess::start(50);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let abi = async |contract: Address| -> ContractAbi {
        serde_json::from_value(
            http.contract_abi(contract.to_string())
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap()
    };
    let (registry, consent, supply) = (
        abi(DEV_REGISTRY_ADDRESS).await,
        abi(DEV_CONSENT_ADDRESS).await,
        abi(DEV_SUPPLY_ADDRESS).await,
    );
    let chain: Hash = http.node_info().await.unwrap().genesis.parse().unwrap();
    let inbox = node.dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let w = World {
        node,
        http,
        registry,
        consent,
        supply,
        chain,
        inbox,
    };
    let now = w.http.chain_head().await.unwrap().timestamp_ms;
    for (who, role, npi, prefix) in [
        (PAYER, "Payer", Some(NPI), None),
        (CLINIC_A, "ProviderOrganisation", Some(NPI), None),
        (CLINIC_B, "ProviderOrganisation", None, None),
        (PHARMACY, "Dispenser", None, None),
        (DOCTOR, "Practitioner", None, None),
        (REVIEWER, "Practitioner", None, None),
        (MAKER, "Manufacturer", None, Some("0312345")),
    ] {
        let arguments = json!([
            address(who).to_string(),
            [role],
            npi,
            null,
            prefix,
            "0",
            (now + 3650 * DAY_MS).to_string(),
            Hash([0x11; 32]).to_string()
        ]);
        w.call(
            &dev_key(AUTHORITY),
            DEV_REGISTRY_ADDRESS,
            &w.registry,
            "register",
            arguments,
        )
        .await;
    }
    salus(
        &w.node,
        &[
            "record",
            "reply-key",
            "--key",
            &format!("dev:{PAYER}"),
            "--register",
            "--rpc",
            &w.node.http_url(),
        ],
    );
    let period = Period {
        start_ms: now - DAY_MS,
        end_ms: now + 365 * DAY_MS,
    };
    // No scenario code is a bound of a range.
    let (rules, reasons) = payer_rules();
    let payer = dev_key(PAYER);
    w.must(
        &payer,
        DEV_COVERAGE_ADDRESS,
        call_input(
            "publish_rules",
            (Hash([0x90; 32]), period.clone(), rules, reasons),
        ),
    )
    .await;
    w.must(
        &payer,
        DEV_COVERAGE_ADDRESS,
        call_input("set_reviewer", (address(REVIEWER), true)),
    )
    .await;
    let maker = dev_key(MAKER);
    let supply = &w.supply;
    w.call(
        &maker,
        DEV_SUPPLY_ADDRESS,
        supply,
        "register_product",
        json!([GTIN, NDC, "Amoxicillin", "500 mg", "capsule", "30"]),
    )
    .await;
    let expiry = (now + 700 * DAY_MS).to_string();
    w.call(
        &maker,
        DEV_SUPPLY_ADDRESS,
        supply,
        "commission",
        json!([GTIN, "L1", expiry, ["S1"], "urn:gln:maker"]),
    )
    .await;
    let shipment = w
        .call(
            &maker,
            DEV_SUPPLY_ADDRESS,
            supply,
            "ship",
            json!([[{ "Unit": [GTIN, "S1"] }], address(PHARMACY).to_string(), [], "urn:gln:maker"]),
        )
        .await;
    w.call(
        &dev_key(PHARMACY),
        DEV_SUPPLY_ADDRESS,
        supply,
        "receive",
        json!([shipment, [{ "Unit": [GTIN, "S1"] }], "urn:gln:pharmacy"]),
    )
    .await;
    w.call(
        &dev_key(CLINIC_A),
        DEV_CONSENT_ADDRESS,
        &w.consent,
        "set_break_glass_policy",
        json!([
            [address(CLINIC_A).to_string()],
            (4 * 3600 * 1000u64).to_string(),
            address(CLINIC_A).to_string(),
            true
        ]),
    )
    .await;
    (w, period)
}

/// A provision permitting `actors` to access for treatment; with `label`, a deny of research
/// use of records carrying that (blinded) label.
fn provisions(actors: &[Address], deny_research_tag: Option<Hash>) -> Value {
    let permit = json!({
        "kind": "Permit", "period": null,
        "actors": actors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "roles": [], "actions": ["Access"], "purposes": ["TREAT"],
        "label_tags": [], "class_tags": [], "records": [],
        "data_period_commitment": null, "children": [], "custodians": [], "authors": [],
    });
    let mut all = vec![permit];
    if let Some(tag) = deny_research_tag {
        all.push(json!({
            "kind": "Deny", "period": null, "actors": [], "roles": [], "actions": [],
            "purposes": ["HRESCH"], "label_tags": [tag.to_string()], "class_tags": [],
            "records": [], "data_period_commitment": null, "children": [], "custodians": [],
            "authors": [],
        }));
    }
    json!(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_dump_holds_no_clinical_value_and_links_no_patients_relationships() {
    let (w, plan) = world().await;
    let now = w.http.chain_head().await.unwrap().timestamp_ms;
    // Dates of care away from every block time (blocks carry the wall clock): weeks ahead or
    // a year back, at an odd millisecond.
    let patients = [
        Patient {
            wallet: SecretKey::from_bytes(&[0xa1; 32]).unwrap(),
            birth_year: 1957,
            sex: "F",
            labels: ["HIV", "PSY"],
            diagnosis: "M54.16",
            procedures: vec![MRI, CT],
            service_ms: now + 23 * DAY_MS + 4_321,
            record_ms: now - 400 * DAY_MS + 987,
        },
        Patient {
            wallet: SecretKey::from_bytes(&[0xa2; 32]).unwrap(),
            birth_year: 1991,
            sex: "M",
            labels: ["ETH", "SDV"],
            diagnosis: "R10.13",
            procedures: vec![CT],
            service_ms: now + 31 * DAY_MS + 8_765,
            record_ms: now - 250 * DAY_MS + 123,
        },
    ];
    let baseline = w.dump("baseline.jsonl");
    let first_block = w.http.chain_head().await.unwrap().number + 1;

    // Each consent its own period, as patients' consents have: one period used by a patient at
    // both clinics is a value the two relationships share (public by design, §9), which the
    // test would rightly report.
    let consent_period = |patient: usize, clinic: usize| {
        let days = (2 * patient + clinic) as u64;
        json!({
            "start_ms": (now - (days + 1) * DAY_MS - 1_000 * days).to_string(),
            "end_ms": (now + (60 + 7 * days) * DAY_MS + 3_000 * days).to_string(),
        })
    };
    let clinics = [CLINIC_A, CLINIC_B];
    // Per patient: relationship name → its identifiers on chain.
    let mut ties: Vec<Vec<Ties>> = Vec::new();
    let mut records_file = Vec::new();
    for (index, patient) in patients.iter().enumerate() {
        let mut mine = Vec::new();
        for (c, clinic) in clinics.iter().enumerate() {
            let clinic_key = dev_key(*clinic);
            let keys = w.pseudonym(
                &patient.wallet,
                address(*clinic),
                RelationshipKind::Custodian,
            );
            let record = random_hash();
            // Four label tags: the record's label and random padding (PRIVACY.md §5.2).
            let mut label_tags = vec![keys.tag(patient.labels[c])];
            label_tags.extend((0..3).map(|_| random_hash()));
            let date_salt = CommitmentSalt::random().unwrap();
            let date_commitment = commit_value(
                CommitmentKind::RECORD_DATE,
                &date_salt,
                &(patient.record_ms as i64),
            );
            w.call(
                &clinic_key,
                DEV_CONSENT_ADDRESS,
                &w.consent,
                "register_record",
                json!([
                    record.to_string(),
                    keys.address().to_string(),
                    label_tags
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                    keys.tag("Observation").to_string(),
                    date_commitment.to_string(),
                    address(*clinic).to_string(),
                    keys.subject_handle().to_string(),
                ]),
            )
            .await;
            // The wallet files the relationship's subject handle before its first consent
            // (`salus key pseudonym --set-subject`, PRIVACY.md §5.7).
            w.call(
                &keys.signing,
                DEV_CONSENT_ADDRESS,
                &w.consent,
                "set_subject",
                json!([
                    keys.address().to_string(),
                    keys.subject_handle().to_string()
                ]),
            )
            .await;
            let source = commit(
                CommitmentKind::SOURCE,
                &CommitmentSalt::random().unwrap(),
                b"signed form",
            );
            w.call(
                &keys.signing,
                DEV_CONSENT_ADDRESS,
                &w.consent,
                "grant",
                json!([
                    keys.address().to_string(),
                    "patient-privacy",
                    "59284-0",
                    consent_period(index, c),
                    "Deny",
                    provisions(&[address(*clinic)], Some(keys.tag(patient.labels[c]))),
                    source.to_string(),
                    null
                ]),
            )
            .await;
            let mut seeds = vec![
                keys.address().0.to_vec(),
                keys.subject_handle().0.to_vec(),
                record.0.to_vec(),
            ];
            if index == 0 && c == 1 {
                // The first patient's guardian acts at clinic B under a pseudonym of its own
                // for this principal pseudonym (§5.1), attested by the registry's authority.
                let guardian = SecretKey::from_bytes(&[0xd1; 32]).unwrap();
                let delegate = derive_pseudonym(
                    &guardian,
                    Relationship {
                        chain: w.chain,
                        counterparty: keys.address(),
                        kind: RelationshipKind::Custodian,
                        episode: 0,
                    },
                );
                w.call(
                    &dev_key(AUTHORITY),
                    DEV_CONSENT_ADDRESS,
                    &w.consent,
                    "attest_delegation",
                    json!([
                        keys.address().to_string(),
                        delegate.address().to_string(),
                        "GUARD",
                        ["Access"],
                        ["TREAT"],
                        consent_period(index, c),
                        random_hash().to_string()
                    ]),
                )
                .await;
                // The guardian, a delegate in force, files the principal's handle as well.
                w.call(
                    &delegate.signing,
                    DEV_CONSENT_ADDRESS,
                    &w.consent,
                    "set_subject",
                    json!([
                        keys.address().to_string(),
                        keys.subject_handle().to_string()
                    ]),
                )
                .await;
                w.call(
                    &delegate.signing,
                    DEV_CONSENT_ADDRESS,
                    &w.consent,
                    "grant",
                    json!([
                        keys.address().to_string(),
                        "patient-privacy",
                        "59284-0",
                        consent_period(index, c),
                        "Deny",
                        provisions(&[address(*clinic)], None),
                        random_hash().to_string(),
                        null
                    ]),
                )
                .await;
                seeds.push(delegate.address().0.to_vec());
            }
            let mut purpose = "TREAT";
            if index == 1 && c == 0 {
                // The second patient's emergency at clinic A.
                let session = w
                    .call(
                        &clinic_key,
                        DEV_CONSENT_ADDRESS,
                        &w.consent,
                        "declare_break_glass",
                        json!([
                            address(*clinic).to_string(),
                            keys.address().to_string(),
                            "ETREAT",
                            random_hash().to_string(),
                            "3600000"
                        ]),
                    )
                    .await;
                assert_ne!(session, Value::Null, "the break-glass session opened");
                purpose = "ETREAT";
            }
            let decision = w
                .call(
                    &clinic_key,
                    DEV_CONSENT_ADDRESS,
                    &w.consent,
                    "record_access",
                    json!([
                        address(*clinic).to_string(),
                        "PRCP",
                        record.to_string(),
                        "Access",
                        purpose,
                        null,
                        null
                    ]),
                )
                .await;
            assert_eq!(decision["decision"], "Permit", "{decision}");
            mine.push(Ties {
                name: format!("clinic {}", ["A", "B"][c]),
                seeds,
            });
        }

        // Coverage at the payer: the member hash salted per relationship and the payer
        // pseudonym; no birth year or sex.
        let member_keys = w.pseudonym(&patient.wallet, address(PAYER), RelationshipKind::Payer);
        let member_id = format!("MBR-{index}-0042");
        let member = keccak256_concat(&[
            b"salus/member/v1",
            &address(PAYER).0,
            member_id.as_bytes(),
            &member_keys.member_salt,
        ]);
        let coverage = coverage::Coverage {
            beneficiary: member_keys.address(),
            plan_type: PlanType::Ppo,
            period: plan.clone(),
            status: CoverageStatus::Active,
        };
        w.must(
            &dev_key(PAYER),
            DEV_COVERAGE_ADDRESS,
            call_input("set_coverage", (member, coverage)),
        )
        .await;
        records_file.push(json!({
            "member": member.to_string(),
            "active": true,
            "period": { "start_ms": plan.start_ms, "end_ms": plan.end_ms },
            "birth_year": patient.birth_year,
            "sex": patient.sex,
            "network_plan": false,
            "benefits": [{ "service_type": "62", "authorisation_required": true,
                           "quantity_limit": null, "quantity_used": 0 }],
            "certified": [],
        }));

        // The sealed preauthorization, posted by clinic A and delivered to the payer's inbox.
        let handle = random_hash();
        let submission = SealedSubmission {
            trace_handle: handle,
            payer: address(PAYER),
            member,
            servicing_npi: NPI.into(),
            servicing_provider: None,
            priority: "Standard".into(),
            lines: patient
                .procedures
                .iter()
                .map(|procedure| SubmissionLine {
                    procedure: procedure.to_string(),
                    modifiers: vec![],
                    quantity: 1,
                    from_ms: patient.service_ms,
                    to_ms: patient.service_ms,
                    place_of_service: "11".into(),
                })
                .collect(),
            diagnoses: vec![patient.diagnosis.into()],
            attachment_templates: vec![],
        };
        let salt = CommitmentSalt::random().unwrap();
        let key = registered_key(&w.http, DEV_REGISTRY_ADDRESS, address(PAYER))
            .await
            .unwrap()
            .expect("the payer registered its key");
        std::fs::write(
            inbox_file(&w.inbox, &handle),
            seal_delivery(&submission, &salt, &key).unwrap(),
        )
        .unwrap();
        w.must(
            &dev_key(CLINIC_A),
            DEV_COVERAGE_ADDRESS,
            call_input(
                "submit_sealed",
                (
                    handle,
                    address(PAYER),
                    member,
                    Priority::Standard,
                    submission.lines.len() as u32,
                    submission.commitment(&salt),
                ),
            ),
        )
        .await;
        mine.push(Ties {
            name: "payer".into(),
            seeds: vec![
                member_keys.address().0.to_vec(),
                member.0.to_vec(),
                handle.0.to_vec(),
            ],
        });
        ties.push(mine);
    }

    // The payer's agent decides both requests from its own records.
    let records = w.node.dir.path().join("payer-records.json");
    std::fs::write(
        &records,
        json!({ "network": [NPI], "members": records_file }).to_string(),
    )
    .unwrap();
    let output = salus(
        &w.node,
        &[
            "agent",
            "payer",
            "--key",
            &format!("dev:{PAYER}"),
            "--inbox",
            w.inbox.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
            "--once",
            "--rpc",
            &w.node.http_url(),
        ],
    );
    let mut posted = Vec::new();
    for line in output.lines().filter(|line| line.starts_with("decided ")) {
        posted.push(receipt(&w.http, line.rsplit(' ').next().unwrap()).await);
    }
    assert_eq!(posted.len(), 2, "{output}");
    assert!(
        posted.iter().all(|receipt| receipt.status == "success"),
        "{output}"
    );
    // The second patient's pended CT: a clinician reviewer denies it.
    let second_handle = Hash(ties[1][2].seeds[2].clone().try_into().unwrap());
    let first_handle = Hash(ties[0][2].seeds[2].clone().try_into().unwrap());
    w.must(
        &dev_key(REVIEWER),
        DEV_COVERAGE_ADDRESS,
        call_input(
            "post_decision",
            (
                second_handle,
                vec![PostedLine {
                    action: ActionCode::A3,
                    reason: Some("R8".into()),
                    quantity: 0,
                }],
                1u32,
                random_hash(),
                random_hash(),
            ),
        ),
    )
    .await;
    let sealed = |handle: Hash| {
        let w = &w;
        async move {
            let request = salus_client::DryRun::new(
                DEV_COVERAGE_ADDRESS,
                call_input("sealed_request", handle),
            )
            .signed_for(DEV_CHAIN_ID, &dev_key(PAYER));
            let outcome = w.http.state_call(request).await.unwrap();
            let bytes = hex::decode(outcome.return_data.trim_start_matches("0x")).unwrap();
            <Option<coverage::SealedRequest> as parity_scale_codec::Decode>::decode(&mut &bytes[..])
                .unwrap()
                .expect("stored")
        }
    };
    let actions = |request: coverage::SealedRequest| -> Vec<ActionCode> {
        request
            .decisions
            .into_iter()
            .map(|decision| decision.line.action)
            .collect()
    };
    assert_eq!(
        actions(sealed(first_handle).await),
        vec![ActionCode::A1, ActionCode::A4],
        "approved and pended"
    );
    assert_eq!(
        actions(sealed(second_handle).await),
        vec![ActionCode::A3],
        "denied by the clinician"
    );

    // A claim per patient, posted by clinic A citing its authorisation and delivered sealed
    // to the payer's inbox; the payer's agent checks both (the first patient's MRI draws on its
    // certification, the second patient's denied CT has none: `197`).
    let key = registered_key(&w.http, DEV_REGISTRY_ADDRESS, address(PAYER))
        .await
        .unwrap()
        .expect("the payer registered its key");
    for (index, (patient, trace)) in patients
        .iter()
        .zip([first_handle, second_handle])
        .enumerate()
    {
        let member = Hash(ties[index][2].seeds[1].clone().try_into().unwrap());
        let claim = SealedClaim {
            claim_handle: random_hash(),
            payer: address(PAYER),
            member,
            trace_handle: Some(trace),
            lines: vec![ClaimLineRecord {
                procedure: patient.procedures[0].to_string(),
                quantity: 1,
                service_ms: patient.service_ms,
                diagnoses: vec![patient.diagnosis.into()],
            }],
        };
        let salt = CommitmentSalt::random().unwrap();
        std::fs::write(
            inbox_file(&w.inbox, &claim.claim_handle),
            seal_claim(&claim, &salt, &key).unwrap(),
        )
        .unwrap();
        w.must(
            &dev_key(CLINIC_A),
            DEV_COVERAGE_ADDRESS,
            call_input(
                "submit_claim",
                (
                    claim.claim_handle,
                    claim.payer,
                    member,
                    claim.trace_handle,
                    1u32,
                    claim.commitment(&salt),
                ),
            ),
        )
        .await;
        ties[index][2].seeds.push(claim.claim_handle.0.to_vec());
    }
    let output = salus(
        &w.node,
        &[
            "agent",
            "payer",
            "--key",
            &format!("dev:{PAYER}"),
            "--inbox",
            w.inbox.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
            "--once",
            "--rpc",
            &w.node.http_url(),
        ],
    );
    let checked: Vec<&str> = output
        .lines()
        .filter(|line| line.starts_with("checked "))
        .collect();
    assert_eq!(checked.len(), 2, "{output}");
    assert!(checked[0].contains("1 accepted 0 refused"), "{output}");
    assert!(checked[1].contains("0 accepted 1 refused"), "{output}");
    for line in checked {
        let posted = receipt(&w.http, line.rsplit(' ').next().unwrap()).await;
        assert_eq!(posted.status, "success", "{line}");
    }

    // The first patient's prescription, known on chain by its handle, filled at the pharmacy.
    let rx_salt = [0x77; 32];
    let inner = commit(
        CommitmentKind(0x30),
        &CommitmentSalt::random().unwrap(),
        b"patient details: first patient",
    );
    let rx = keccak256_concat(&[b"salus/rx/v1", &rx_salt, NDC.as_bytes(), &inner.0]);
    w.call(
        &dev_key(DOCTOR),
        DEV_SUPPLY_ADDRESS,
        &w.supply,
        "prescribe",
        json!([rx.to_string(), 1, (now + 30 * DAY_MS).to_string()]),
    )
    .await;
    let dispensed = w
        .call(
            &dev_key(PHARMACY),
            DEV_SUPPLY_ADDRESS,
            &w.supply,
            "dispense",
            json!([
                GTIN,
                "S1",
                "L1",
                (now + 700 * DAY_MS).to_string(),
                rx.to_string(),
                format!("0x{}", hex::encode(rx_salt)),
                inner.to_string()
            ]),
        )
        .await;
    assert_eq!(dispensed["dispensed"], true, "{dispensed}");
    ties[0].push(Ties {
        name: "prescription".into(),
        seeds: vec![rx.0.to_vec(), inner.0.to_vec()],
    });

    // Every consent, delegation, access, break-glass and record event of the scenario carries
    // a subject handle: the custodian's filing or the pseudonym's, never the zero handle.
    let mut events = Vec::new();
    let mut after = None;
    loop {
        let page = w
            .http
            .events_query(salus_client::rpc::EventFilter {
                contract: DEV_CONSENT_ADDRESS.to_string(),
                topics: vec![],
                from_block: Some(first_block),
                to_block: None,
                after,
                limit: None,
            })
            .await
            .unwrap();
        events.extend(page.events);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Per patient and clinic: a record, a consent and an access; a delegation and its grant;
    // a break-glass.
    assert!(events.len() >= 14, "{} consent events", events.len());
    let zero = Hash([0; 32]).to_string();
    for event in &events {
        assert!(
            !event.event.topics.contains(&zero),
            "a zero topic in block {}: {:?}",
            event.block_number,
            event.event
        );
    }

    let dump = w.dump("dump.jsonl");
    let baseline: BTreeSet<Entry> = baseline.into_iter().collect();
    let new_entries: Vec<&Entry> = dump
        .iter()
        .filter(|entry| !baseline.contains(*entry))
        .collect();
    assert!(
        new_entries.len() > 100,
        "the scenario wrote {} entries",
        new_entries.len()
    );

    // (a) No clinical value in any encoding, in any entry the scenario wrote or changed.
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for patient in &patients {
        for code in patient
            .procedures
            .iter()
            .chain([&patient.diagnosis])
            .chain(&patient.labels)
        {
            needles.extend(string_encodings(code));
        }
        needles.extend(integer_encodings(u64::from(patient.birth_year), true));
        let mut beside_sex = patient.birth_year.to_le_bytes().to_vec();
        beside_sex.extend(patient.sex.encode());
        needles.push((
            format!("{} u16 beside the sex code", patient.birth_year),
            beside_sex,
        ));
        needles.extend(integer_encodings(patient.service_ms, false));
        needles.extend(integer_encodings(patient.record_ms, false));
    }
    for (column, key, value) in &new_entries {
        for (what, needle) in &needles {
            assert!(
                !found(key, needle) && !found(value, needle),
                "{what} in column {column}, key 0x{}",
                hex::encode(key)
            );
        }
    }
    // The NDC only where no patient identifier is (a product registration, a unit).
    let patient_values: Vec<&Vec<u8>> = ties.iter().flatten().flat_map(|t| &t.seeds).collect();
    let mut holding_the_ndc = 0;
    for (column, key, value) in &dump {
        let entry = [key.as_slice(), value.as_slice()].concat();
        if string_encodings(NDC)
            .iter()
            .any(|(_, needle)| contains(&entry, needle))
        {
            holding_the_ndc += 1;
            for seed in &patient_values {
                assert!(
                    !contains(&entry, seed),
                    "the NDC beside a patient in column {column}, key 0x{}",
                    hex::encode(key)
                );
            }
        }
    }

    assert!(
        holding_the_ndc > 0,
        "the product registration names the NDC"
    );

    // (b) Per patient, no value shared by the data of two of its relationships.
    let participants: Vec<Vec<u8>> = (0..8)
        .map(|index| address(index).0.to_vec())
        .chain(
            [
                DEV_REGISTRY_ADDRESS,
                DEV_CONSENT_ADDRESS,
                DEV_COVERAGE_ADDRESS,
                DEV_SUPPLY_ADDRESS,
            ]
            .map(|contract| contract.0.to_vec()),
        )
        .collect();
    let windows = |entries: &[&Entry]| -> BTreeSet<Vec<u8>> {
        let mut values = BTreeSet::new();
        for (_, key, value) in entries {
            for part in [key, value] {
                for segment in without_public_addresses(part, &participants) {
                    for size in [20, 32] {
                        if segment.len() >= size {
                            values.extend(
                                segment
                                    .windows(size)
                                    .filter(|window| identifier_like(window))
                                    .map(<[u8]>::to_vec),
                            );
                        }
                    }
                }
            }
        }
        values
    };
    let tied = |relationship: &Ties| -> Vec<&Entry> {
        dump.iter()
            .filter(|(_, key, value)| {
                relationship
                    .seeds
                    .iter()
                    .any(|seed| contains(key, seed) || contains(value, seed))
            })
            .collect()
    };
    for (index, relationships) in ties.iter().enumerate() {
        // Common structure: every 8-byte run of the dump before any patient and of the other
        // patient's data. A value of this patient with a run of common structure in it is not
        // an identifier of the patient (see `links`).
        let mut common = Grams::default();
        for (_, key, value) in &baseline {
            common.add(key);
            common.add(value);
        }
        for relationship in &ties[1 - index] {
            for (_, key, value) in tied(relationship) {
                common.add(key);
                common.add(value);
            }
        }
        let values: Vec<RelationshipData<'_>> = relationships
            .iter()
            .map(|relationship| {
                let entries = tied(relationship);
                assert!(
                    !entries.is_empty(),
                    "{}: nothing on chain",
                    relationship.name
                );
                (relationship.name.clone(), windows(&entries), entries)
            })
            .collect();
        let mut shared: BTreeMap<(String, String), Vec<Vec<u8>>> = BTreeMap::new();
        for (i, (first, first_values, _)) in values.iter().enumerate() {
            for (second, second_values, _) in &values[i + 1..] {
                let linking = links(first_values, second_values, &common, &participants);
                if !linking.is_empty() {
                    shared.insert((first.clone(), second.clone()), linking);
                }
            }
        }
        if let Some(((first, second), common)) = shared.iter().next() {
            let value = &common[0];
            let place = |name: &String| {
                let (_, _, entries) = values.iter().find(|(n, _, _)| n == name).unwrap();
                entries
                    .iter()
                    .filter(|(_, key, entry)| contains(key, value) || contains(entry, value))
                    .map(|(column, key, entry)| {
                        let at = entry
                            .windows(value.len())
                            .position(|window| window == value.as_slice())
                            .unwrap_or(0);
                        format!(
                            "{column} 0x{} len {} at {at}: {}",
                            hex::encode(key),
                            entry.len(),
                            hex::encode(&entry[at.saturating_sub(60)..(at + 60).min(entry.len())])
                        )
                    })
                    .collect::<Vec<_>>()
            };
            panic!(
                "patient {index}: 0x{} is in data of {first} ({:?}) and of {second} ({:?})",
                hex::encode(value),
                place(first),
                place(second)
            );
        }
    }
}
