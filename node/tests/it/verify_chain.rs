//! verify-chain: passes on an honest database and names the block whose stored header or body
//! was tampered with.

use parity_scale_codec::Encode;
use salus_node::storage::Column;
use salus_node::verify::{VerifyError, verify_chain};
use salus_primitives::Address;

use crate::support::*;

fn chain_with_transfers() -> TestChain {
    let mut test = TestChain::new();
    let sender = dev_key(4);
    for nonce in 0..8 {
        test.mine(
            dev_key(0).address(),
            &[transfer(&sender, nonce, Address([7; 20]), 10)],
        );
    }
    test
}

fn expect_block_named(result: Result<salus_node::verify::VerifyReport, VerifyError>, number: u64) {
    match result {
        Err(VerifyError::Block {
            number: found,
            problem,
            ..
        }) => {
            assert_eq!(found, number, "named the wrong block: {problem}");
        }
        other => panic!("expected block {number} to fail, got {other:?}"),
    }
}

#[test]
fn honest_chain_verifies() {
    let test = chain_with_transfers();
    let report = verify_chain(test.chain.store()).unwrap();
    assert_eq!(report.blocks, 9);
    assert_eq!(report.transactions, 8);
    assert!(report.state_entries >= 10);
}

#[test]
fn a_flipped_byte_in_a_stored_header_is_found() {
    let test = chain_with_transfers();
    let hash = test.chain.store().canonical_hash(5).unwrap().unwrap();
    let mut bytes = test.chain.store().header(&hash).unwrap().unwrap().encode();
    bytes[40] ^= 0x01; // inside the timestamp
    test.chain
        .store()
        .put_raw_for_tests(Column::Headers, &hash.0, &bytes)
        .unwrap();
    expect_block_named(verify_chain(test.chain.store()), 5);
}

#[test]
fn a_flipped_byte_in_a_stored_body_is_found() {
    let test = chain_with_transfers();
    let hash = test.chain.store().canonical_hash(3).unwrap().unwrap();
    let mut bytes = test
        .chain
        .store()
        .get_raw(Column::Bodies, &hash.0)
        .unwrap()
        .unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    test.chain
        .store()
        .put_raw_for_tests(Column::Bodies, &hash.0, &bytes)
        .unwrap();
    expect_block_named(verify_chain(test.chain.store()), 3);
}

#[test]
fn a_changed_flat_state_value_is_found() {
    let test = chain_with_transfers();
    let key = salus_primitives::StateKey::Account(Address([7; 20])).to_bytes();
    let account = salus_primitives::Account {
        nonce: 0,
        balance: 1_000_000,
        code_hash: None,
    };
    test.chain
        .store()
        .put_raw_for_tests(Column::State, &key, &account.encode())
        .unwrap();
    assert!(matches!(
        verify_chain(test.chain.store()),
        Err(VerifyError::FlatState(_))
    ));
}

#[test]
fn schema_and_chain_mismatches_are_refused_on_open() {
    let test = chain_with_transfers();
    let dir = test.dir.path().to_path_buf();
    let TestChain {
        chain, dir: temp, ..
    } = test;
    drop(chain);
    // Another chain's genesis.
    let mut other = salus_node::genesis::GenesisConfig::dev();
    other.chain_id = 99;
    let other = other.build().unwrap();
    let store = salus_node::Store::open(&dir).unwrap();
    assert!(matches!(
        salus_node::Chain::open(store, &other),
        Err(salus_node::ImportError::Storage(
            salus_node::StorageError::WrongChain { .. }
        ))
    ));
    // A newer schema version.
    let store = salus_node::Store::open(&dir).unwrap();
    store
        .put_raw_for_tests(Column::Meta, b"schema_version", &99u32.encode())
        .unwrap();
    drop(store);
    match salus_node::Store::open(&dir) {
        Err(salus_node::StorageError::SchemaMismatch { found, expected }) => {
            assert_eq!((found, expected), (99, salus_node::storage::SCHEMA_VERSION));
        }
        other => panic!("expected a schema mismatch, got {:?}", other.map(|_| ())),
    }
    drop(temp);
}
