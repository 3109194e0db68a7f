//! A wallet's pseudonyms on the real binary: `salus key pseudonyms` against a `salus dev` node
//! derives them for every provider organisation and payer in the registry (across its pages)
//! and lists only those in use on chain, with organisation, kind and episode; `salus seal` and
//! `salus open` carry a file to one pseudonym's X25519 key and to nothing else.

use std::process::Command;

use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use salus_client::rpc::SalusApiClient;
use salus_client::{ContractAbi, Relationship, RelationshipKind, TransactionBuilder};
use salus_node::genesis::{DEV_CHAIN_ID, DEV_CONSENT_ADDRESS, DEV_REGISTRY_ADDRESS};
use salus_primitives::{Address, Hash, SignedTransaction};
use serde_json::json;

use crate::support::{DevProcess, dev_key, transfer};

const YEAR_MS: u64 = 365 * 24 * 60 * 60 * 1000;

/// Submits `transaction`, mines a block and checks it succeeded.
async fn include(http: &HttpClient, transaction: SignedTransaction) {
    let hash = http
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap();
    http.dev_mine(1).await.unwrap();
    let receipt = http.tx_receipt(hash).await.unwrap().expect("included");
    assert_eq!(receipt.status, "success", "{:?}", receipt.failure);
}

/// Runs `salus key pseudonyms KEY` against `node`; its stdout, split into rows of fields.
fn list_pseudonyms(node: &DevProcess, key: &str) -> Vec<Vec<String>> {
    let output = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["key", "pseudonyms", key, "--rpc", &node.http_url()])
        .env("SALUS_KEYS", node.dir.path().join("keys"))
        .env("SALUS_DATA_DIR", node.dir.path().join("dev"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(
        lines
            .next()
            .map(|header| header.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["organisation", "kind", "episode", "pseudonym"])
    );
    lines
        .map(|line| line.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudonyms_lists_exactly_the_relationships_in_use_across_the_registrys_organisations() {
    let node = DevProcess::start(0);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let registry: ContractAbi = serde_json::from_value(
        http.contract_abi(DEV_REGISTRY_ADDRESS.to_string())
            .await
            .unwrap()
            .expect("the dev genesis deploys the registry"),
    )
    .unwrap();

    // The authority (dev account 0) registers a hospital, a payer and a practitioner.
    let (hospital, payer, doctor) = (
        dev_key(5).address(),
        dev_key(6).address(),
        dev_key(7).address(),
    );
    let mut authority = TransactionBuilder::new(DEV_CHAIN_ID, dev_key(0), 0).fuel(20_000_000, 1);
    let now = http.chain_head().await.unwrap().timestamp_ms;
    for (who, role) in [
        (hospital, "ProviderOrganisation"),
        (payer, "Payer"),
        (doctor, "Practitioner"),
    ] {
        let input = registry
            .encode_call(
                "register",
                &json!([
                    who.to_string(),
                    [role],
                    null,
                    null,
                    null,
                    "0",
                    (now + 10 * YEAR_MS).to_string(),
                    Hash([0x11; 32]).to_string()
                ]),
            )
            .unwrap();
        include(&http, authority.call(DEV_REGISTRY_ADDRESS, input)).await;
    }

    // A hundred more practitioners, whose addresses (0x0101…, 0x0202…, …) sort before the
    // hospital's, so that the hospital is on the registry's second page of participants.
    let fillers: Vec<String> = (1..=100u8)
        .map(|byte| {
            let input = registry
                .encode_call(
                    "register",
                    &json!([
                        Address([byte; 20]).to_string(),
                        ["Practitioner"],
                        null,
                        null,
                        null,
                        "0",
                        (now + 10 * YEAR_MS).to_string(),
                        Hash([0x11; 32]).to_string()
                    ]),
                )
                .unwrap();
            format!(
                "0x{}",
                hex::encode(authority.call(DEV_REGISTRY_ADDRESS, input).encode())
            )
        })
        .collect();
    // In batches within the pool's nonce-gap and fuel bounds, each mined until it is in.
    for batch in fillers.chunks(16) {
        let outcomes = http.tx_submit_batch(batch.to_vec()).await.unwrap();
        let hashes: Vec<String> = outcomes
            .into_iter()
            .map(|outcome| {
                outcome
                    .hash
                    .unwrap_or_else(|| panic!("{:?}", outcome.error))
            })
            .collect();
        let last = hashes.last().unwrap().clone();
        for _ in 0..16 {
            if http.tx_receipt(last.clone()).await.unwrap().is_some() {
                break;
            }
            http.dev_mine(1).await.unwrap();
        }
        for hash in hashes {
            let receipt = http.tx_receipt(hash).await.unwrap().expect("included");
            assert_eq!(receipt.status, "success", "{:?}", receipt.failure);
        }
    }

    // Nothing of the wallet (dev account 3) is in use yet.
    assert_eq!(list_pseudonyms(&node, "dev:3"), Vec::<Vec<String>>::new());

    // The wallet's second episode at the hospital is funded and used (a transfer from it);
    // episode 0 there, and every relationship with the payer, stay unused.
    let chain: Hash = http.node_info().await.unwrap().genesis.parse().unwrap();
    let wallet = dev_key(3);
    let pseudonym = |counterparty: Address, kind: RelationshipKind, episode: u32| {
        salus_client::derive_pseudonym(
            &wallet,
            Relationship {
                chain,
                counterparty,
                kind,
                episode,
            },
        )
    };
    let used = pseudonym(hospital, RelationshipKind::Custodian, 1);
    include(&http, transfer(&dev_key(1), 0, used.address(), 1_000_000)).await;
    include(&http, transfer(&used.signing, 0, hospital, 1)).await;
    assert_eq!(
        http.state_get_account(used.address().to_string(), None)
            .await
            .unwrap()
            .nonce,
        1
    );

    let listed = list_pseudonyms(&node, "dev:3");
    assert_eq!(
        listed,
        vec![vec![
            hospital.to_string(),
            "custodian".to_string(),
            "1".to_string(),
            used.address().to_string(),
        ]]
    );
    // The unused ones the scan tried are not listed: episode 0 at the hospital, the payer's.
    for unused in [
        pseudonym(hospital, RelationshipKind::Custodian, 0),
        pseudonym(payer, RelationshipKind::Payer, 0),
    ] {
        assert!(!listed.concat().contains(&unused.address().to_string()));
    }
    // Another wallet has nothing in use: the pseudonyms are the wallet's own.
    assert_eq!(list_pseudonyms(&node, "dev:4"), Vec::<Vec<String>>::new());

    // A balance alone makes a pseudonym used (the payer's episode 0, funded, never signing);
    // one after two unused episodes is beyond the scan (the payer's episode 3).
    let at_payer = pseudonym(payer, RelationshipKind::Payer, 0).address();
    let beyond = pseudonym(payer, RelationshipKind::Payer, 3).address();
    include(&http, transfer(&dev_key(1), 1, at_payer, 1)).await;
    include(&http, transfer(&dev_key(1), 2, beyond, 1)).await;
    // Participants come in address order: the payer (0x976E…) before the hospital (0x9965…).
    assert_eq!(
        list_pseudonyms(&node, "dev:3"),
        vec![
            vec![
                payer.to_string(),
                "payer".to_string(),
                "0".to_string(),
                at_payer.to_string(),
            ],
            listed[0].clone(),
        ]
    );
}

/// Runs `salus ARGS` without a node; its output.
fn salus(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(args)
        .current_dir(dir)
        .env("SALUS_KEYS", dir.join("keys"))
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

#[test]
fn a_box_sealed_to_a_pseudonyms_key_opens_only_with_that_pseudonym_and_its_associated_data() {
    let dir = tempfile::tempdir().unwrap();
    let hospital = dev_key(5).address().to_string();
    let relationship = ["--counterparty", hospital.as_str(), "--kind", "custodian"];
    let derived = salus(
        dir.path(),
        &[&["key", "pseudonym", "dev:3"][..], &relationship[..]].concat(),
    );
    assert!(derived.status.success());
    let stdout = String::from_utf8(derived.stdout).unwrap();
    let encryption_key = stdout
        .lines()
        .find_map(|line| line.strip_prefix("encryption key"))
        .unwrap()
        .trim()
        .to_string();
    let report = b"HbA1c 6.1 %, 2026-03-01";
    std::fs::write(dir.path().join("lab.txt"), report).unwrap();
    let commitment = Hash([0xc0; 32]).to_string();
    let sealed = salus(
        dir.path(),
        &[
            "seal",
            "--to-key",
            &encryption_key,
            "--aad",
            &commitment,
            "lab.txt",
            "--out",
            "lab.sealed",
        ],
    );
    assert!(sealed.status.success(), "{sealed:?}");
    let sealed_box = std::fs::read(dir.path().join("lab.sealed")).unwrap();
    assert!(
        !sealed_box
            .windows(report.len())
            .any(|window| window == report)
    );

    let open = |key: &str, kind: &str, aad: &str| {
        salus(
            dir.path(),
            &[
                "open",
                "--key",
                key,
                "--counterparty",
                &hospital,
                "--kind",
                kind,
                "--aad",
                aad,
                "lab.sealed",
            ],
        )
    };
    let opened = open("dev:3", "custodian", &commitment);
    assert!(opened.status.success(), "{opened:?}");
    assert_eq!(opened.stdout, report);
    // Another relationship of the same wallet, another wallet, another commitment: refused.
    for refused in [
        open("dev:3", "payer", &commitment),
        open("dev:4", "custodian", &commitment),
        open("dev:3", "custodian", &Hash([0xc1; 32]).to_string()),
    ] {
        assert!(!refused.status.success());
        assert!(refused.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("does not open"),
            "{refused:?}"
        );
    }
}

/// `salus key pseudonym --set-subject`: the pseudonym files its relationship's subject handle
/// (PRIVACY.md §5.7) at fuel price 0, so that a consent it grants before any record exists
/// carries the handle as its topic, not the zero handle; the pseudonym holds no coin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pseudonym_files_its_subject_handle_and_its_first_consent_carries_it() {
    let node = DevProcess::start(50);
    let http = HttpClientBuilder::default().build(node.http_url()).unwrap();
    let clinic = dev_key(2).address();
    let output = node.salus(&[
        "key",
        "pseudonym",
        "dev:9",
        "--counterparty",
        &clinic.to_string(),
        "--kind",
        "custodian",
        "--set-subject",
        "--rpc",
        &node.http_url(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let field = |name: &str| -> String {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
            .trim()
            .to_string()
    };
    // The node's chain: the same pseudonym and handle the wallet derives.
    let chain: Hash = http.node_info().await.unwrap().genesis.parse().unwrap();
    let keys = salus_client::derive_pseudonym(
        &dev_key(9),
        Relationship {
            chain,
            counterparty: clinic,
            kind: RelationshipKind::Custodian,
            episode: 0,
        },
    );
    assert_eq!(field("pseudonym"), keys.address().to_string());
    assert_eq!(field("subject handle"), keys.subject_handle().to_string());
    let filed = http
        .tx_receipt(field("set_subject"))
        .await
        .unwrap()
        .expect("included");
    assert_eq!(filed.status, "success");
    let account = http
        .state_get_account(keys.address().to_string(), None)
        .await
        .unwrap();
    assert_eq!((account.nonce, account.balance.as_str()), (1, "0"));

    // A consent before any record of the patient at the clinic.
    let consent: ContractAbi = serde_json::from_value(
        http.contract_abi(DEV_CONSENT_ADDRESS.to_string())
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let now = http.chain_head().await.unwrap().timestamp_ms;
    let input = consent
        .encode_call(
            "grant",
            &json!([
                keys.address().to_string(),
                "patient-privacy",
                "59284-0",
                { "start_ms": now.to_string(), "end_ms": (now + YEAR_MS).to_string() },
                "Deny",
                [],
                Hash([0x55; 32]).to_string(),
                null
            ]),
        )
        .unwrap();
    let transaction = TransactionBuilder::new(DEV_CHAIN_ID, keys.signing.clone(), 1)
        .fuel(20_000_000, 0)
        .call(DEV_CONSENT_ADDRESS, input);
    let hash = http
        .tx_submit(format!("0x{}", hex::encode(transaction.encode())))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let granted = loop {
        if let Some(receipt) = http.tx_receipt(hash.clone()).await.unwrap() {
            break receipt;
        }
        assert!(std::time::Instant::now() < deadline, "{hash} not included");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(granted.status, "success", "{:?}", granted.failure);
    let handle = keys.subject_handle().to_string();
    assert!(
        granted
            .events
            .iter()
            .any(|event| event.topics.contains(&handle)),
        "{:?}",
        granted.events
    );
    let zero = Hash([0; 32]).to_string();
    assert!(
        granted
            .events
            .iter()
            .all(|event| !event.topics.contains(&zero)),
        "{:?}",
        granted.events
    );
}

/// `salus key pseudonym --save NAME` stores the pseudonym's signing key, so `--from NAME` signs
/// as the pseudonym; a name already taken is refused and the key under it stays as it was.
#[test]
fn a_saved_pseudonym_signs_as_the_pseudonym_and_never_overwrites_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let hospital = dev_key(5).address().to_string();
    let derive = |name: &str| {
        salus(
            dir.path(),
            &[
                "key",
                "pseudonym",
                "dev:3",
                "--counterparty",
                &hospital,
                "--kind",
                "custodian",
                "--save",
                name,
                "--insecure-plaintext",
            ],
        )
    };
    let saved = derive("alice-at-hospital");
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let stdout = String::from_utf8(saved.stdout).unwrap();
    let pseudonym = stdout
        .lines()
        .find_map(|line| line.strip_prefix("pseudonym"))
        .unwrap()
        .trim()
        .to_string();
    let listed = salus(dir.path(), &["key", "list"]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed
            .lines()
            .any(|line| line.contains("alice-at-hospital") && line.contains(&pseudonym)),
        "{listed}"
    );
    assert_ne!(pseudonym, dev_key(3).address().to_string());

    let file = dir.path().join("keys/alice-at-hospital.key");
    let before = std::fs::read(&file).unwrap();
    let again = salus(
        dir.path(),
        &["key", "new", "--name", "other", "--insecure-plaintext"],
    );
    assert!(again.status.success());
    // Saving a pseudonym under a taken name (here another key's) is refused; nothing changes.
    let taken = derive("other");
    assert!(!taken.status.success());
    let other_listed = String::from_utf8(salus(dir.path(), &["key", "list"]).stdout).unwrap();
    assert!(
        other_listed
            .lines()
            .any(|line| line.contains("other") && !line.contains(&pseudonym)),
        "{other_listed}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
}
