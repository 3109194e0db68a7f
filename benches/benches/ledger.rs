//! Ledger benchmarks: the proof-of-work loop against bare keccak256, importing a block of 1,000
//! transfers with and without cached signatures, and committing state through the state tree
//! against a raw RocksDB write of the same keys.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use parity_scale_codec::Encode;
use salus_benches::{block_with, dev_genesis, fresh_chain, transfers};
use salus_node::mining::try_nonces;
use salus_node::state_tree;
use salus_primitives::state_proof::EMPTY_SUBTREE;
use salus_primitives::{Account, Address, BlockHeader, CompactTarget, Hash, StateKey, keccak256};
use salus_runtime::{SignatureCache, StateChanges};

const HASHES: u64 = 10_000;

fn proof_of_work(c: &mut Criterion) {
    let header = BlockHeader {
        parent_hash: Hash([1; 32]),
        number: 1,
        timestamp_ms: 1,
        transactions_root: Hash([2; 32]),
        receipts_root: Hash([3; 32]),
        state_root: Hash([4; 32]),
        bits: CompactTarget::from_leading_zero_bits(250),
        miner: Address([5; 20]),
        nonce: 0,
    };
    let mut encoded = header.encode();
    let impossible = [0u8; 32];
    let mut group = c.benchmark_group("pow");
    group.throughput(Throughput::Elements(HASHES));
    group.bench_function("bare_keccak256_loop", |b| {
        b.iter(|| {
            for _ in 0..HASHES {
                black_box(keccak256(black_box(&encoded)));
            }
        })
    });
    group.bench_function("nonce_search_loop", |b| {
        b.iter(|| black_box(try_nonces(&mut encoded, &impossible, 0, 1, HASHES)))
    });
    group.finish();
}

fn block_import(c: &mut Criterion) {
    let genesis = dev_genesis();
    let transactions = transfers(1_000);
    let block = block_with(&genesis, &transactions);
    let now = genesis.header.timestamp_ms + 10_000_000;
    let mut group = c.benchmark_group("import_1000_transfers");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("signatures_recovered", |b| {
        b.iter_batched(
            || fresh_chain(&genesis),
            |(mut chain, dir)| {
                chain.import_block(block.clone(), now).expect("valid block");
                (chain, dir)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("signatures_cached", |b| {
        b.iter_batched(
            || {
                let (chain, dir) = fresh_chain(&genesis);
                for transaction in &transactions {
                    let signers = transaction.verify_signatures().expect("signed");
                    chain.signature_cache().insert(transaction.hash(), signers);
                }
                (chain, dir)
            },
            |(mut chain, dir)| {
                chain.import_block(block.clone(), now).expect("valid block");
                (chain, dir)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// Keys in the state before the measured commits: a mid-sized network's account count.
const EXISTING_KEYS: u32 = 100_000;
/// Keys changed per commit: about a block of 300 transfers (sender, recipient, miner).
const CHANGED_KEYS: u32 = 1_000;

fn account_key(i: u32) -> Vec<u8> {
    let mut address = [0u8; 20];
    address[..4].copy_from_slice(&i.to_be_bytes());
    StateKey::Account(Address(address)).to_bytes()
}

fn state_commit(c: &mut Criterion) {
    let genesis = dev_genesis();
    let (chain, _dir) = fresh_chain(&genesis);
    let store = chain.store().clone();
    // Populate the flat state and the tree.
    let initial: Vec<(Vec<u8>, Vec<u8>)> = (0..EXISTING_KEYS)
        .map(|i| {
            (
                account_key(i),
                Account {
                    nonce: 0,
                    balance: u128::from(i),
                    code_hash: None,
                }
                .encode(),
            )
        })
        .collect();
    let initial_changes = StateChanges::creating(initial);
    let paths = state_tree::path_changes(&initial_changes);
    let update = state_tree::apply(&store, &EMPTY_SUBTREE, &paths).expect("populate");
    let mut root = update.root;
    let mut batch = store.batch();
    batch.put_tree_nodes(update.new_nodes);
    batch.apply_state_changes(&initial_changes, true);
    store.write(batch).expect("populate write");

    // Each round rewrites a different spread of existing accounts.
    let mut round = 0u32;
    let mut next_changes = move || {
        round += 1;
        let keys: std::collections::BTreeSet<Vec<u8>> = (0..CHANGED_KEYS)
            .map(|j| {
                account_key(
                    j.wrapping_mul(7_919)
                        .wrapping_add(round.wrapping_mul(104_729))
                        % EXISTING_KEYS,
                )
            })
            .collect();
        let value = Account {
            nonce: u64::from(round),
            balance: 7,
            code_hash: None,
        }
        .encode();
        StateChanges::creating(keys.into_iter().map(|key| (key, value.clone())))
    };

    let mut group = c.benchmark_group("commit_1000_keys_over_100k");
    group.sample_size(20);
    group.throughput(Throughput::Elements(u64::from(CHANGED_KEYS)));
    group.bench_function("raw_rocksdb_write_batch", |b| {
        b.iter_batched(
            &mut next_changes,
            |changes| {
                let mut batch = store.batch();
                batch.apply_state_changes(&changes, true);
                store.write(batch).expect("write");
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("state_tree_commit", |b| {
        b.iter_batched(
            &mut next_changes,
            |changes| {
                let paths = state_tree::path_changes(&changes);
                let update = state_tree::apply(&store, &root, &paths).expect("apply");
                let mut batch = store.batch();
                batch.apply_state_changes(&changes, true);
                batch.put_tree_nodes(update.new_nodes);
                store.write(batch).expect("write");
                root = update.root;
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// Signature recovery: k256's `recover_from_prehash` (recovery, then a second verification)
/// against Salus's one-lincomb recovery (`recover_signer`), on the same signatures.
fn signature_recovery(c: &mut Criterion) {
    use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, VerifyingKey};
    let signed: Vec<(salus_primitives::Hash, salus_primitives::Signature)> = (0u32..64)
        .map(|i| {
            let key =
                salus_primitives::keys::derive_key(salus_primitives::keys::DEV_MNEMONIC, i % 10)
                    .unwrap();
            let digest = salus_primitives::keccak256(&i.to_le_bytes());
            (digest, key.sign_digest(&digest))
        })
        .collect();
    let mut group = c.benchmark_group("signature_recovery");
    group.throughput(Throughput::Elements(signed.len() as u64));
    group.bench_function("k256_recover_from_prehash", |b| {
        b.iter(|| {
            for (digest, signature) in &signed {
                let parsed = EcdsaSignature::from_slice(&signature.0[..64]).unwrap();
                let id = RecoveryId::from_byte(signature.0[64]).unwrap();
                std::hint::black_box(
                    VerifyingKey::recover_from_prehash(&digest.0, &parsed, id).unwrap(),
                );
            }
        })
    });
    group.bench_function("salus_one_lincomb", |b| {
        b.iter(|| {
            for (digest, signature) in &signed {
                std::hint::black_box(
                    salus_primitives::crypto::recover_signer(digest, signature).unwrap(),
                );
            }
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    proof_of_work,
    block_import,
    state_commit,
    signature_recovery
);
// Contract execution runs on a thread with the native stack the execution limits allow for
// (registered, so that the VM runs each call inline instead of on a thread of its own, which
// would add a thread spawn to every measurement).
fn main() {
    salus_runtime::native_stack::run_with_execution_stack(|| {
        benches();
        Criterion::default().configure_from_args().final_summary();
    })
    .expect("a thread with the execution stack starts");
}
