//! Prescriptions end to end through `salus rx` (docs/PRIVACY.md §5.5 "Supply") against a
//! `salus dev` node mining every 50 ms: a practitioner prescribes (the handle on chain, copies
//! sealed to the patient's pseudonym key and to the pharmacy's registered key); the patient and
//! the pharmacy open their copies; a copy whose content names another product is refused
//! before anything is submitted; a unit of another product is refused by the contract
//! (`PrescriptionMismatch`); the prescribed unit is dispensed; a dispense beyond the fills is
//! refused (`PrescriptionFilled`). The operator's dump of the chain holds no patient detail
//! and no patient identifier, and the NDC never beside the prescription's handle.

use std::time::{Duration, Instant};

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::prescription::{self, PRESCRIPTION_DOMAIN, PRESCRIPTION_FORMAT};
use salus_client::rpc::{ReceiptView, SalusApiClient};
use salus_client::x25519_dalek::PublicKey;
use salus_client::{ContractAbi, Relationship, RelationshipKind, TransactionBuilder};
use salus_node::gateway::reply_secret;
use salus_node::genesis::{DEV_CHAIN_ID, DEV_REGISTRY_ADDRESS, DEV_SUPPLY_ADDRESS};
use salus_primitives::{Address, Hash};
use serde_json::{Value, json};

use crate::support::{DevProcess, dev_key};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const DEADLINE: Duration = Duration::from_secs(60);

/// The registry's authority, the manufacturer, the pharmacy, the prescriber (funded dev
/// accounts), the patient (a wallet key of the dev mnemonic that genesis does not fund, so its
/// address is nowhere on chain unless the prescription put it there).
const AUTHORITY: u32 = 0;
const MAKER: u32 = 1;
const PHARMACY: u32 = 2;
const DOCTOR: u32 = 3;
const PATIENT: u32 = 42;

/// The prescribed product and another one of the same labeler.
const NDC: &str = "12345-678-90";
const GTIN: &str = "00312345678906";
const OTHER_NDC: &str = "12345-678-91";
const OTHER_GTIN: &str = "00312345678913";

const NAME: &str = "Ada Lovelace";
const BIRTH_DATE: &str = "1815-12-10";

fn address(index: u32) -> Address {
    dev_key(index).address()
}

/// Runs `salus` against the node: its stdout, or its stdout and stderr.
fn salus(node: &DevProcess, arguments: &[&str]) -> Result<String, String> {
    let output = node.salus(arguments);
    let stdout = String::from_utf8(output.stdout).unwrap();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{stdout}{}",
            String::from_utf8(output.stderr).unwrap()
        ))
    }
}

/// Signs a call of `message` with JSON `arguments` as dev account `from`, submits it and polls
/// for its receipt, which must be a success.
async fn must(
    http: &HttpClient,
    from: u32,
    (contract, abi): (Address, &ContractAbi),
    message: &str,
    arguments: Value,
) -> ReceiptView {
    let transaction = TransactionBuilder::new(DEV_CHAIN_ID, dev_key(from), nonce(http, from).await)
        .fuel(20_000_000, 1)
        .call(contract, abi.encode_call(message, &arguments).unwrap());
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
    receipt
}

async fn nonce(http: &HttpClient, who: u32) -> u64 {
    http.state_get_account(address(who).to_string(), None)
        .await
        .unwrap()
        .nonce
}

async fn abi(http: &HttpClient, contract: Address) -> ContractAbi {
    serde_json::from_value(
        http.contract_abi(contract.to_string())
            .await
            .unwrap()
            .expect("ABI on chain"),
    )
    .unwrap()
}

/// One entry of `salus inspect dump`: column family, key, value.
type Entry = (String, Vec<u8>, Vec<u8>);

fn dump(node: &DevProcess) -> Vec<Entry> {
    let out = node.dir.path().join("dump.jsonl");
    let data_dir = node.dir.path().join("dev");
    salus(
        node,
        &[
            "inspect",
            "dump",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .unwrap();
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prescription_goes_from_the_prescribers_wallet_to_the_pharmacy_by_its_handle_alone() {
    let node = DevProcess::start(50);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let registry = abi(&http, DEV_REGISTRY_ADDRESS).await;
    let supply = abi(&http, DEV_SUPPLY_ADDRESS).await;
    let now = http.chain_head().await.unwrap().timestamp_ms;

    // The manufacturer, the pharmacy and the prescriber registered; the pharmacy's reply key.
    for (who, role) in [
        (MAKER, "Manufacturer"),
        (PHARMACY, "Dispenser"),
        (DOCTOR, "Practitioner"),
    ] {
        let arguments = json!([
            address(who).to_string(),
            [role],
            null,
            "0614141000012",
            (role == "Manufacturer").then_some("0312345"),
            "0",
            (now + 3650 * DAY_MS).to_string(),
            Hash([0x11; 32]).to_string()
        ]);
        must(
            &http,
            AUTHORITY,
            (DEV_REGISTRY_ADDRESS, &registry),
            "register",
            arguments,
        )
        .await;
    }
    salus(
        &node,
        &[
            "record",
            "reply-key",
            "--key",
            &format!("dev:{PHARMACY}"),
            "--register",
        ],
    )
    .unwrap();
    // Two products; S1, S2 of the prescribed one and T1 of the other, at the pharmacy.
    let expiry = (now + 700 * DAY_MS).to_string();
    let to_supply = (DEV_SUPPLY_ADDRESS, &supply);
    for (gtin, ndc, lot, serials) in [
        (GTIN, NDC, "L1", vec!["S1", "S2"]),
        (OTHER_GTIN, OTHER_NDC, "L2", vec!["T1"]),
    ] {
        let product = json!([gtin, ndc, "Amoxicillin", "500 mg", "capsule", "30"]);
        must(&http, MAKER, to_supply, "register_product", product).await;
        let units = json!([gtin, lot, expiry, serials, "urn:gln:maker"]);
        must(&http, MAKER, to_supply, "commission", units).await;
    }
    let units = json!([
        { "Unit": [GTIN, "S1"] }, { "Unit": [GTIN, "S2"] }, { "Unit": [OTHER_GTIN, "T1"] }
    ]);
    let pharmacy = address(PHARMACY).to_string();
    let shipped = must(
        &http,
        MAKER,
        to_supply,
        "ship",
        json!([units, pharmacy, [], "urn:gln:maker"]),
    )
    .await;
    let shipment = supply
        .decode_result(
            "ship",
            &hex::decode(shipped.return_data.trim_start_matches("0x")).unwrap(),
        )
        .unwrap();
    must(
        &http,
        PHARMACY,
        to_supply,
        "receive",
        json!([shipment, units, "urn:gln:pharmacy"]),
    )
    .await;

    // The patient's key: their pseudonym's with the prescriber, given at the visit.
    let genesis: Hash = http.node_info().await.unwrap().genesis.parse().unwrap();
    let doctor = address(DOCTOR).to_string();
    let patient_keys = salus_client::derive_pseudonym(
        &dev_key(PATIENT),
        Relationship {
            chain: genesis,
            counterparty: address(DOCTOR),
            kind: RelationshipKind::Custodian,
            episode: 0,
        },
    );
    let patient_key = PublicKey::from(&patient_keys.encryption);
    let dir = node.dir.path();
    let (patient_copy, pharmacy_copy) = (dir.join("ada.rx"), dir.join("pharmacy.rx"));
    let (patient_copy, pharmacy_copy) = (
        patient_copy.to_str().unwrap(),
        pharmacy_copy.to_str().unwrap(),
    );
    let expires = (now + 30 * DAY_MS).to_string();
    let handle = salus(
        &node,
        &[
            "rx",
            "prescribe",
            "--from",
            &format!("dev:{DOCTOR}"),
            "--ndc",
            NDC,
            "--fills",
            "1",
            "--expires",
            &expires,
            "--patient-name",
            NAME,
            "--patient-birth-date",
            BIRTH_DATE,
            "--patient-key",
            &format!("0x{}", hex::encode(patient_key.as_bytes())),
            "--out",
            patient_copy,
            "--pharmacy",
            &pharmacy,
            "--pharmacy-out",
            pharmacy_copy,
        ],
    )
    .unwrap();
    let handle: Hash = handle.trim().parse().unwrap();

    // The patient opens their copy with their pseudonym key: checked against the handle and
    // the chain's record of it.
    let opened: Value = serde_json::from_str(
        &salus(
            &node,
            &[
                "rx",
                "open",
                "--key",
                &format!("dev:{PATIENT}"),
                "--counterparty",
                &doctor,
                patient_copy,
            ],
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(opened["handle"], handle.to_string());
    assert_eq!(opened["ndc"], NDC);
    assert_eq!(
        opened["patient"],
        json!({ "name": NAME, "birthDate": BIRTH_DATE })
    );
    assert_eq!(opened["onChain"]["practitioner"], doctor);
    assert_eq!(opened["onChain"]["fillsLeft"], 1);
    // The pharmacy opens its own with its reply key and checks the patient in front of it;
    // the patient's key opens nothing of the pharmacy's.
    let checked: Value = serde_json::from_str(
        &salus(
            &node,
            &[
                "rx",
                "open",
                "--key",
                &format!("dev:{PHARMACY}"),
                "--patient-name",
                NAME,
                "--patient-birth-date",
                BIRTH_DATE,
                pharmacy_copy,
            ],
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(checked["patientMatches"], true, "{checked}");
    let someone_else = salus(
        &node,
        &[
            "rx",
            "open",
            "--key",
            &format!("dev:{PHARMACY}"),
            "--patient-name",
            NAME,
            "--patient-birth-date",
            "1815-12-11",
            pharmacy_copy,
        ],
    )
    .unwrap_err();
    assert!(
        someone_else.contains("not for this patient"),
        "{someone_else}"
    );
    let wrong_key = salus(
        &node,
        &[
            "rx",
            "open",
            "--key",
            &format!("dev:{PATIENT}"),
            "--counterparty",
            &doctor,
            pharmacy_copy,
        ],
    )
    .unwrap_err();
    assert!(wrong_key.contains("does not open"), "{wrong_key}");

    let dispense = |copy: &str, gtin: &str, serial: &str, lot: &str| {
        salus(
            &node,
            &[
                "rx",
                "dispense",
                "--from",
                &format!("dev:{PHARMACY}"),
                "--prescription",
                copy,
                "--gtin",
                gtin,
                "--serial",
                serial,
                "--lot",
                lot,
                "--expiry",
                &expiry,
            ],
        )
    };

    // A copy whose content was changed to another product, sealed to the pharmacy under the
    // original handle (anyone holding the pharmacy's public key can seal): refused before
    // anything is submitted.
    let pharmacy_secret = reply_secret(&dev_key(PHARMACY), &genesis);
    let genuine = prescription::SealedPrescription::from_json(
        &serde_json::from_str(&std::fs::read_to_string(pharmacy_copy).unwrap()).unwrap(),
    )
    .unwrap();
    let prescribed = prescription::open(&pharmacy_secret, &genuine).unwrap();
    let mut changed = prescribed.clone();
    changed.ndc = OTHER_NDC.into();
    let tampered = prescription::SealedPrescription {
        handle,
        sealed: salus_client::seal(
            &PublicKey::from(&pharmacy_secret),
            0,
            &(PRESCRIPTION_FORMAT, &changed).encode(),
            &[PRESCRIPTION_DOMAIN, &handle.0[..]].concat(),
        )
        .unwrap(),
    };
    let tampered_copy = dir.join("tampered.rx");
    std::fs::write(&tampered_copy, tampered.to_json().to_string()).unwrap();
    let before = nonce(&http, PHARMACY).await;
    let refused = dispense(tampered_copy.to_str().unwrap(), OTHER_GTIN, "T1", "L2").unwrap_err();
    assert!(refused.contains("does not open its handle"), "{refused}");
    assert_eq!(
        nonce(&http, PHARMACY).await,
        before,
        "nothing was submitted"
    );

    // A unit of another product against the genuine copy: the contract recomputes the handle
    // with that unit's NDC and refuses, recording the decision.
    let mismatch = dispense(pharmacy_copy, OTHER_GTIN, "T1", "L2").unwrap_err();
    assert!(mismatch.contains("PrescriptionMismatch"), "{mismatch}");
    assert!(mismatch.contains("\"decision\""), "{mismatch}");

    // The prescribed unit is dispensed; a second one is beyond the single fill.
    let dispensed: Value =
        serde_json::from_str(&dispense(pharmacy_copy, GTIN, "S1", "L1").unwrap()).unwrap();
    assert_eq!(dispensed["dispensed"], true, "{dispensed}");
    let filled = dispense(pharmacy_copy, GTIN, "S2", "L1").unwrap_err();
    assert!(filled.contains("PrescriptionFilled"), "{filled}");
    let after: Value = serde_json::from_str(
        &salus(
            &node,
            &[
                "rx",
                "open",
                "--key",
                &format!("dev:{PATIENT}"),
                "--counterparty",
                &doctor,
                patient_copy,
            ],
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(after["onChain"]["fillsLeft"], 0);

    // Everything an operator can read: no patient detail or identifier anywhere, and the NDC
    // never in an entry with the prescription's handle or its patient commitment.
    let opening = prescribed.dispense_opening();
    let patient_identifiers: [(&str, Vec<u8>); 6] = [
        ("name", NAME.as_bytes().to_vec()),
        ("birth date", BIRTH_DATE.as_bytes().to_vec()),
        ("patient address", address(PATIENT).0.to_vec()),
        ("patient pseudonym", patient_keys.address().0.to_vec()),
        ("patient key", patient_key.as_bytes().to_vec()),
        ("patient salt", prescribed.patient_salt.0.to_vec()),
    ];
    let entries = dump(&node);
    assert!(entries.len() > 100, "the dump holds the chain");
    let mut handle_entries = 0;
    for (column, key, value) in &entries {
        let entry = [&key[..], &value[..]].concat();
        for (what, bytes) in &patient_identifiers {
            assert!(!contains(&entry, bytes), "the {what} is in {column}");
        }
        if contains(&entry, &handle.0) || contains(&entry, &opening.inner.0) {
            handle_entries += 1;
            assert!(
                !contains(&entry, NDC.as_bytes()),
                "the NDC is beside the prescription in {column}"
            );
        }
    }
    assert!(handle_entries > 0, "the handle is on chain");
    assert!(
        entries
            .iter()
            .any(|(_, _, value)| contains(value, NDC.as_bytes())),
        "the product (and its NDC) is on chain"
    );
}
