//! verify-chain: passes on an honest database and names the block whose stored header or body
//! was tampered with, and finds a damaged table that nothing else reads.

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

#[test]
fn a_damaged_table_block_nothing_else_reads_is_found_and_named() {
    let test = chain_with_transfers();
    // A record no block check reads (a header under no block's hash), incompressible so that
    // its bytes stand in the table as written.
    let marker: Vec<u8> = (0..128u32)
        .flat_map(|index| salus_primitives::keccak256(&index.to_be_bytes()).0)
        .collect();
    test.chain
        .store()
        .put_raw_for_tests(Column::Headers, b"a record nothing reads", &marker)
        .unwrap();
    test.chain.store().flush_for_tests().unwrap();
    let honest = verify_chain(test.chain.store()).unwrap();
    assert!(honest.stored_entries > honest.blocks * 3, "{honest:?}");
    let TestChain { chain, dir, .. } = test;
    drop(chain);

    // Flip one byte inside the record, in the table that holds it.
    let needle = &marker[1_000..1_064];
    let (table, offset) = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "sst"))
        .find_map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let at = bytes
                .windows(needle.len())
                .position(|window| window == needle)?;
            Some((path, at))
        })
        .expect("the record is in a table");
    let mut bytes = std::fs::read(&table).unwrap();
    bytes[offset + 10] ^= 0x40;
    std::fs::write(&table, bytes).unwrap();

    let store = salus_node::storage::Store::open_read_only(dir.path()).unwrap();
    let error = verify_chain(&store).expect_err("the damaged table is found");
    let message = error.to_string();
    let name = table.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        message.contains("Corruption") && message.contains(&name),
        "the error names the damage and its file {name}: {message}"
    );
    // Met by an import, the same damage is fatal to the node: not the block's fault, and not
    // worth fetching the block again.
    let read = store
        .get_raw(Column::Headers, b"a record nothing reads")
        .expect_err("the damaged record does not read");
    assert!(read.is_corruption(), "{read}");
    let refused =
        salus_node::network::BlockImportError::Refused(salus_node::ImportError::Storage(read));
    assert!(refused.is_fatal() && !refused.is_invalid_block());
}
