//! Fixtures shared by the Salus benchmarks: dev-chain blocks full of signed transfers, a
//! `salus dev` process for the benchmark binaries, and the load generator's workloads and
//! in-process bound measurement.

pub mod bound;
pub mod dev_node;
pub mod workload;

use salus_node::genesis::{DEV_CHAIN_ID, GenesisConfig};
use salus_node::{Chain, Genesis, Store};
use salus_primitives::keys::{DEV_MNEMONIC, derive_key};
use salus_primitives::{Action, Address, Block, SignedTransaction, Transaction};

/// The dev genesis.
pub fn dev_genesis() -> Genesis {
    GenesisConfig::dev()
        .build()
        .expect("the dev genesis is valid")
}

/// A fresh chain on RocksDB in a new temporary directory (kept alive by the returned guard).
pub fn fresh_chain(genesis: &Genesis) -> (Chain, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path()).expect("open RocksDB");
    (Chain::open(store, genesis).expect("open chain"), dir)
}

/// `count` transfers, spread over the ten dev accounts with consecutive nonces.
pub fn transfers(count: usize) -> Vec<SignedTransaction> {
    let keys: Vec<_> = (0..10)
        .map(|i| derive_key(DEV_MNEMONIC, i).expect("dev key"))
        .collect();
    (0..count)
        .map(|i| {
            let key = &keys[i % keys.len()];
            Transaction {
                chain_id: DEV_CHAIN_ID,
                nonce: (i / keys.len()) as u64,
                fuel_limit: 20_000,
                fuel_price: 1,
                action: Action::Transfer {
                    to: Address([(i % 251) as u8; 20]),
                    amount: 1,
                },
                sponsor: None,
            }
            .sign(key, None)
        })
        .collect()
}

/// A sealed block on genesis holding `transactions`.
pub fn block_with(genesis: &Genesis, transactions: &[SignedTransaction]) -> Block {
    let (chain, _dir) = fresh_chain(genesis);
    let timestamp = genesis.header.timestamp_ms + 1_000;
    let candidates = salus_runtime::recover_transactions(transactions).expect("signed");
    let template = chain
        .build_block(Address([0xee; 20]), timestamp, &candidates)
        .expect("template");
    assert!(
        template.skipped.is_empty(),
        "transactions skipped: {:?}",
        template.skipped
    );
    let stop = std::sync::atomic::AtomicBool::new(false);
    match salus_node::mining::search_nonce(&template.header, 1, &stop).expect("target") {
        salus_node::mining::SearchOutcome::Found(header) => Block {
            header,
            transactions: transactions.to_vec(),
        },
        other => panic!("nonce search: {other:?}"),
    }
}
