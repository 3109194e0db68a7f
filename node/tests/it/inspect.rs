//! `salus inspect dump`: every entry of every column family, raw — the dump holds the exact
//! bytes of each stored transaction and state value, and the command line writes the same dump
//! from a data directory a node still has open.

use std::collections::BTreeMap;
use std::process::Command;

use parity_scale_codec::Encode;
use salus_node::inspect::dump;
use salus_node::storage::Column;
use salus_primitives::{Account, Address, StateKey};

use crate::support::*;

/// (column, key, value) of every line of a dump.
fn parse(dump: &str) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    dump.lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let bytes = |field: &str| {
                let text = entry[field].as_str().expect("a hex string");
                hex::decode(text.strip_prefix("0x").expect("0x-prefixed")).expect("hex")
            };
            let column = entry["column"].as_str().expect("a column").to_string();
            (column, bytes("key"), bytes("value"))
        })
        .collect()
}

#[test]
fn a_dump_holds_every_column_family_and_the_exact_stored_bytes() {
    let mut test = TestChain::new();
    let sender = dev_key(4);
    let recipient = Address([0x77; 20]);
    let transactions: Vec<_> = (0..3)
        .map(|nonce| transfer(&sender, nonce, recipient, 1_000 + nonce as u128))
        .collect();
    test.mine(dev_key(0).address(), &transactions);

    let mut out = Vec::new();
    let report = dump(test.chain.store(), &mut out).unwrap();
    let entries = parse(&String::from_utf8(out).unwrap());
    assert_eq!(entries.len() as u64, report.entries());

    // Every column family is dumped, with as many entries as the database holds.
    let mut per_column: BTreeMap<String, u64> = BTreeMap::new();
    for (column, _, _) in &entries {
        *per_column.entry(column.clone()).or_default() += 1;
    }
    for column in Column::ALL {
        let mut stored = 0u64;
        test.chain
            .store()
            .for_each_raw(column, |_, _| -> Result<(), salus_node::StorageError> {
                stored += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(
            per_column.get(column.name()).copied().unwrap_or(0),
            stored,
            "{}",
            column.name()
        );
    }
    for column in [
        "headers",
        "bodies",
        "receipts",
        "state",
        "state_nodes",
        "meta",
    ] {
        assert!(per_column.get(column).is_some_and(|n| *n > 0), "{column}");
    }

    // The signed bytes of each transaction sit inside the block body, uninterpreted.
    let bodies: Vec<&Vec<u8>> = entries
        .iter()
        .filter(|(column, _, _)| column == "bodies")
        .map(|(_, _, value)| value)
        .collect();
    for transaction in &transactions {
        let signed = transaction.encode();
        assert!(
            bodies
                .iter()
                .any(|body| body.windows(signed.len()).any(|w| w == signed.as_slice())),
            "a transaction's bytes are in a body"
        );
    }
    // The recipient's account is in the state column under its key, with its balance.
    let key = StateKey::Account(recipient).to_bytes();
    let (_, _, value) = entries
        .iter()
        .find(|(column, k, _)| column == "state" && *k == key)
        .expect("the recipient's account is dumped");
    let account = <Account as parity_scale_codec::Decode>::decode(&mut value.as_slice()).unwrap();
    assert_eq!(account.balance, 1_000 + 1_001 + 1_002);
}

#[test]
fn the_command_writes_the_same_dump_while_the_node_keeps_the_database_open() {
    let mut test = TestChain::new();
    test.mine(
        dev_key(0).address(),
        &[transfer(&dev_key(4), 0, Address([0x78; 20]), 5)],
    );
    let mut expected = Vec::new();
    dump(test.chain.store(), &mut expected).unwrap();

    let out = test.dir.path().join("dump.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["inspect", "dump", "--data-dir"])
        .arg(test.dir.path())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = std::fs::read(&out).unwrap();
    // The compiled-code cache may differ (the test's store compiled contracts in memory); every
    // other column family is byte for byte the library's dump.
    let without_artifacts = |bytes: &[u8]| -> Vec<String> {
        String::from_utf8(bytes.to_vec())
            .unwrap()
            .lines()
            .filter(|line| !line.starts_with("{\"column\":\"artifacts\""))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(without_artifacts(&written), without_artifacts(&expected));
    let summary = String::from_utf8_lossy(&output.stderr);
    assert!(summary.contains("bodies: 2 entries"), "{summary}");

    // A directory without a database is a clear error, not an empty dump.
    let empty = tempfile::tempdir().unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_salus"))
        .args(["inspect", "dump", "--data-dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("opening"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
