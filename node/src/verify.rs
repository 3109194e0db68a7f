//! `verify-chain`: re-checks every canonical block from genesis — header hashes and links, proof
//! of work, difficulty, timestamps, transactions and receipts roots, re-execution against the
//! state root — and the head's flat state against its state tree, naming the first block that
//! fails.

use parity_scale_codec::Encode;
use salus_primitives::block::{receipts_root, transactions_root};
use salus_primitives::state_key::tree_path_of;
use salus_primitives::{BlockHeader, ChainParams, Hash, keccak256, limits};
use std::collections::BTreeMap;
use std::sync::Arc;

use salus_runtime::{BlockContext, StateChanges, Vm, execute_block, recover_transactions};

use crate::chain::validation;
use crate::state_tree;
use crate::storage::{StorageError, Store};

/// What `verify-chain` found wrong.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A block fails a check.
    #[error("block {number} ({hash}) failed verification: {problem}")]
    Block {
        /// Height of the first bad block.
        number: u64,
        /// Its hash, as the canonical index records it.
        hash: Hash,
        /// What is wrong.
        problem: String,
    },
    /// The head's flat state differs from its state tree.
    #[error("flat state differs from the state tree at the head: {0}")]
    FlatState(String),
    /// The Wasm engine could not be built.
    #[error("cannot build the Wasm engine: {0}")]
    Engine(String),
    /// The database could not be read at all.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A summary of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Blocks checked (genesis included).
    pub blocks: u64,
    /// Transactions re-executed.
    pub transactions: u64,
    /// Flat-state entries compared with the tree.
    pub state_entries: u64,
    /// Entries of every column read with their block checksums verified
    /// ([`Store::scan_every_table`]).
    pub stored_entries: u64,
    /// The head's hash.
    pub head: Hash,
}

/// Verifies the whole canonical chain in `store`.
///
/// # Errors
/// [`VerifyError`] naming the first block that fails, or the storage error.
pub fn verify_chain(store: &Store) -> Result<VerifyReport, VerifyError> {
    let params = store
        .chain_params()?
        .ok_or_else(|| StorageError::Corrupt("chain parameters missing".into()))?;
    let head = store
        .head_hash()?
        .ok_or_else(|| StorageError::Corrupt("head pointer missing".into()))?;
    let mut previous: Option<(Hash, BlockHeader)> = None;
    let mut genesis: Option<BlockHeader> = None;
    let mut window: Vec<u64> = Vec::with_capacity(limits::MEDIAN_TIME_SPAN);
    let mut transactions = 0u64;
    let mut number = 0u64;
    let vm = Vm::in_memory().map_err(|error| VerifyError::Engine(error.to_string()))?;
    let mut replay: ReplayState = Arc::new(BTreeMap::new());
    loop {
        let hash = store
            .canonical_hash(number)
            .map_err(|e| block_error(number, Hash::ZERO, e))?
            .ok_or_else(|| VerifyError::Block {
                number,
                hash: Hash::ZERO,
                problem: "canonical index entry missing".into(),
            })?;
        let fail = |problem: String| VerifyError::Block {
            number,
            hash,
            problem,
        };
        let header = store
            .header(&hash)
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail("header missing".into()))?;
        if header.hash() != hash {
            return Err(fail(format!(
                "header hashes to {}, not to the hash it is stored under (tampered header)",
                header.hash()
            )));
        }
        if header.number != number {
            return Err(fail(format!("header number is {}", header.number)));
        }
        let body = store
            .body(&hash)
            .map_err(|e| fail(format!("{e} (tampered body)")))?
            .ok_or_else(|| fail("body missing".into()))?;
        let computed = transactions_root(&body);
        if computed != header.transactions_root {
            return Err(fail(format!(
                "transactions root {computed} does not match the header's (tampered body)"
            )));
        }
        let receipts = store
            .receipts(&hash)
            .map_err(|e| fail(e.to_string()))?
            .ok_or_else(|| fail("receipts missing".into()))?;
        if receipts_root(&receipts) != header.receipts_root {
            return Err(fail(
                "stored receipts do not match the receipts root".into(),
            ));
        }
        match &previous {
            None => {
                if header.parent_hash != keccak256(&params.encode()) {
                    return Err(fail(
                        "genesis does not commit to the stored chain parameters".into(),
                    ));
                }
                if !body.is_empty() {
                    return Err(fail("genesis has transactions".into()));
                }
                let initial = store
                    .state_changes(&hash)
                    .map_err(|e| fail(e.to_string()))?
                    .ok_or_else(|| fail("genesis state missing".into()))?;
                apply_to_replay(&mut replay, &initial);
                genesis = Some(header.clone());
            }
            Some((parent_hash, parent)) => {
                if header.parent_hash != *parent_hash {
                    return Err(fail(format!(
                        "parent hash {} does not link to block {}",
                        header.parent_hash,
                        number - 1
                    )));
                }
                validation::check_proof_of_work(&header, &hash).map_err(|e| fail(e.to_string()))?;
                let genesis = genesis.as_ref().expect("set at block 0");
                let mut recent = window.clone();
                validation::check_against_parent(
                    &params,
                    genesis,
                    &header,
                    parent,
                    &mut recent,
                    None,
                )
                .map_err(|e| fail(e.to_string()))?;
                reexecute(
                    store,
                    &vm,
                    &mut replay,
                    &params,
                    &header,
                    parent,
                    &body,
                    &receipts,
                )
                .map_err(fail)?;
                transactions += body.len() as u64;
            }
        }
        if window.len() == limits::MEDIAN_TIME_SPAN {
            window.remove(0);
        }
        window.push(header.timestamp_ms);
        let done = hash == head;
        previous = Some((hash, header));
        if done {
            break;
        }
        number += 1;
    }
    let (head_hash, head_header) = previous.expect("at least genesis was checked");
    let state_entries = verify_flat_state(store, &head_header.state_root, &replay)?;
    // Every table, not only what re-execution read: a damaged block of a side branch, of undo
    // data or of an index would otherwise show only when the node reads it.
    let stored_entries = store.scan_every_table()?;
    Ok(VerifyReport {
        blocks: number + 1,
        transactions,
        state_entries,
        stored_entries,
        head: head_hash,
    })
}

fn block_error(number: u64, hash: Hash, error: StorageError) -> VerifyError {
    VerifyError::Block {
        number,
        hash,
        problem: error.to_string(),
    }
}

/// The state replayed from genesis, block by block, in memory: an independent execution that
/// does not trust the stored flat state or undo data.
type ReplayState = Arc<BTreeMap<Vec<u8>, Vec<u8>>>;

#[allow(clippy::too_many_arguments)]
fn reexecute(
    store: &Store,
    vm: &Vm,
    replay: &mut ReplayState,
    params: &ChainParams,
    header: &BlockHeader,
    parent: &BlockHeader,
    body: &[salus_primitives::SignedTransaction],
    stored_receipts: &[salus_primitives::Receipt],
) -> Result<(), String> {
    let context = BlockContext {
        number: header.number,
        timestamp_ms: header.timestamp_ms,
        miner: header.miner,
    };
    let transactions =
        recover_transactions(body).map_err(|e| format!("re-execution failed: {e}"))?;
    let execution = execute_block(params, vm, replay.clone(), &context, &transactions)
        .map_err(|e| format!("re-execution failed: {e}"))?;
    if execution.receipts != stored_receipts {
        return Err("re-execution gives different receipts".into());
    }
    let paths = state_tree::path_changes(&execution.changes);
    let update = state_tree::apply(store, &parent.state_root, &paths)
        .map_err(|e| format!("state tree: {e}"))?;
    if update.root != header.state_root {
        return Err(format!(
            "re-execution gives state root {}, header has {}",
            update.root, header.state_root
        ));
    }
    apply_to_replay(replay, &execution.changes);
    Ok(())
}

fn apply_to_replay(replay: &mut ReplayState, changes: &StateChanges) {
    // Execution has finished and dropped its handle, so this is the only one: no copy is made.
    let state = Arc::make_mut(replay);
    for change in &changes.entries {
        match &change.after {
            Some(value) => state.insert(change.key.clone(), value.clone()),
            None => state.remove(&change.key),
        };
    }
}

/// The head's flat state must equal both the state tree at the head's root and the state
/// replayed from genesis.
fn verify_flat_state(store: &Store, root: &Hash, replay: &ReplayState) -> Result<u64, VerifyError> {
    let mut entries = 0u64;
    store
        .for_each_state_entry(|key, value| {
            entries += 1;
            if replay.get(key).map(Vec::as_slice) != Some(value) {
                return Err(StorageError::Corrupt(format!(
                    "key {} differs from the replay from genesis",
                    hex::encode(key)
                )));
            }
            let in_tree = state_tree::get(store, root, &tree_path_of(key))
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            if in_tree.as_deref() != Some(value) {
                return Err(StorageError::Corrupt(format!(
                    "key {} differs",
                    hex::encode(key)
                )));
            }
            Ok(())
        })
        .map_err(|e| VerifyError::FlatState(e.to_string()))?;
    let mut leaves = 0u64;
    state_tree::for_each_leaf(store, root, &mut |_, _| {
        leaves += 1;
        Ok(())
    })
    .map_err(|e| VerifyError::FlatState(e.to_string()))?;
    if leaves != entries || replay.len() as u64 != entries {
        return Err(VerifyError::FlatState(format!(
            "{entries} flat entries, {leaves} tree leaves, {} replayed entries",
            replay.len()
        )));
    }
    Ok(entries)
}
