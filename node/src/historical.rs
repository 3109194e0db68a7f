//! The state as of an earlier canonical block, for dry runs "as of block N", with ordered
//! iteration, which the state tree alone cannot give.
//!
//! Built and read without the chain's lock, while blocks keep being imported:
//! - values are read through the state tree at block N's state root: tree nodes are never
//!   rewritten or deleted, so these reads are exact whatever the head does meanwhile;
//! - ordered iteration merges the head's flat state with the keys changed since block N
//!   (collected from the stored undo data of the blocks after it, walking parent links down
//!   from the head), each candidate's value again read through the tree. Before each scan the
//!   set catches up with blocks imported since (or is collected again after a
//!   reorganisation), and a scan during which the head moved is repeated, so no key of block
//!   N's state is skipped.
//!
//! Bounded: at most [`MAX_HISTORICAL_DEPTH`] blocks back, at most
//! [`MAX_HISTORICAL_CHANGED_KEYS`] changed keys held, and collection stops at the caller's
//! deadline.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use salus_primitives::state_key::tree_path_of;
use salus_primitives::{BlockHeader, Hash};
use salus_runtime::state::{Entry, scan_start};
use salus_runtime::{State, StateError};

use crate::state_tree::{self, TreeError};
use crate::storage::{StorageError, Store};

/// How far back a historical view may reach: each block back costs one read of its undo data
/// and its changed keys are held in memory while the view lives.
pub const MAX_HISTORICAL_DEPTH: u64 = 100_000;

/// Most changed keys a historical view holds (each about a hundred bytes with its set entry):
/// bounds its memory near 100 MiB whatever the blocks after it wrote.
pub const MAX_HISTORICAL_CHANGED_KEYS: usize = 1_000_000;

/// Scans repeated because the head moved during them before iteration gives up: a scan takes
/// microseconds, so this is only reached if blocks land back to back without pause.
const MAX_SCAN_ATTEMPTS: usize = 16;

/// Why a historical view could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum HistoricalError {
    /// The block is not (or no longer) on the canonical chain.
    #[error("block {0} is not on the canonical chain")]
    NotCanonical(Hash),
    /// More than [`MAX_HISTORICAL_DEPTH`] blocks back.
    #[error("block is {depth} blocks behind the head; at most {MAX_HISTORICAL_DEPTH} are served")]
    TooOld {
        /// Blocks behind the head.
        depth: u64,
    },
    /// The blocks after it changed more than [`MAX_HISTORICAL_CHANGED_KEYS`] keys.
    #[error(
        "the blocks after this one changed more than {MAX_HISTORICAL_CHANGED_KEYS} state keys; \
         ask about a more recent block"
    )]
    TooManyChanges,
    /// The caller's deadline passed while collecting.
    #[error("reconstructing the state of that block took too long; ask about a more recent block")]
    TimedOut,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The state tree is damaged.
    #[error(transparent)]
    Tree(#[from] TreeError),
}

/// The keys changed by the canonical blocks after a block, up to a head.
struct ChangedKeys {
    keys: BTreeSet<Vec<u8>>,
    /// The head through which `keys` is complete.
    through: Hash,
    through_number: u64,
}

/// The canonical head as the store says now.
fn current_head(store: &Store) -> Result<BlockHeader, HistoricalError> {
    let hash = store
        .head_hash()?
        .ok_or_else(|| StorageError::Corrupt("head pointer missing".into()))?;
    Ok(store
        .header(&hash)?
        .ok_or_else(|| StorageError::Corrupt(format!("head header {hash} is missing")))?)
}

impl ChangedKeys {
    /// The keys changed by the blocks after `block` up to the current head.
    fn collect(
        store: &Store,
        block: &BlockHeader,
        block_hash: Hash,
        deadline: Option<Instant>,
    ) -> Result<ChangedKeys, HistoricalError> {
        let head = current_head(store)?;
        let depth = head.number.saturating_sub(block.number);
        if depth > MAX_HISTORICAL_DEPTH {
            return Err(HistoricalError::TooOld { depth });
        }
        let mut changed = ChangedKeys {
            keys: BTreeSet::new(),
            through: head.hash(),
            through_number: head.number,
        };
        let reached = changed.add_blocks_down_to(store, &head, block.number, deadline)?;
        if reached != block_hash {
            return Err(HistoricalError::NotCanonical(block_hash));
        }
        Ok(changed)
    }

    /// Adds the keys changed by `top` and its ancestors down to (not including) height
    /// `stop_number`; returns the hash of the ancestor at `stop_number`.
    fn add_blocks_down_to(
        &mut self,
        store: &Store,
        top: &BlockHeader,
        stop_number: u64,
        deadline: Option<Instant>,
    ) -> Result<Hash, HistoricalError> {
        let mut cursor = top.clone();
        let mut hash = top.hash();
        while cursor.number > stop_number {
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(HistoricalError::TimedOut);
            }
            let changes = store
                .state_changes(&hash)?
                .ok_or_else(|| StorageError::Corrupt(format!("undo data of {hash} is missing")))?;
            for change in changes.entries {
                self.keys.insert(change.key);
            }
            if self.keys.len() > MAX_HISTORICAL_CHANGED_KEYS {
                return Err(HistoricalError::TooManyChanges);
            }
            hash = cursor.parent_hash;
            cursor = store
                .header(&hash)?
                .ok_or_else(|| StorageError::Corrupt(format!("header {hash} is missing")))?;
        }
        Ok(hash)
    }

    /// Brings the set up to the current head: the keys of blocks added on top of `through`, or
    /// all of them again after a reorganisation; returns the head it is complete through.
    fn catch_up(
        &mut self,
        store: &Store,
        block: &BlockHeader,
        block_hash: Hash,
    ) -> Result<Hash, HistoricalError> {
        let head = current_head(store)?;
        let head_hash = head.hash();
        if head_hash == self.through {
            return Ok(head_hash);
        }
        if head.number > self.through_number {
            // Keys of blocks that turn out not to extend `through` only add candidates, which
            // are checked against the tree anyway; `through` moves only once complete.
            let reached = self.add_blocks_down_to(store, &head, self.through_number, None)?;
            if reached == self.through {
                self.through = head_hash;
                self.through_number = head.number;
                return Ok(head_hash);
            }
        }
        // The head left the branch the set was collected on.
        *self = ChangedKeys::collect(store, block, block_hash, None)?;
        Ok(self.through)
    }
}

/// The state after canonical block `number`.
pub struct HistoricalState {
    store: Store,
    block: BlockHeader,
    block_hash: Hash,
    changed: Mutex<ChangedKeys>,
}

impl HistoricalState {
    /// The state after canonical block `block`. Takes no lock: reads the store.
    ///
    /// # Errors
    /// [`HistoricalError`] when the block is not canonical, too old, followed by too many
    /// changes, the deadline passes, or the database fails.
    pub fn at(
        store: &Store,
        block: &BlockHeader,
        deadline: Option<Instant>,
    ) -> Result<HistoricalState, HistoricalError> {
        let block_hash = block.hash();
        let changed = ChangedKeys::collect(store, block, block_hash, deadline)?;
        Ok(HistoricalState {
            store: store.clone(),
            block: block.clone(),
            block_hash,
            changed: Mutex::new(changed),
        })
    }

    /// The first key after the cursor with `prefix` in the head's flat state or among the
    /// changed keys, whichever is smaller.
    fn next_candidate(
        &self,
        changed: &BTreeSet<Vec<u8>>,
        prefix: &[u8],
        cursor: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, StateError> {
        let from_head = self.store.next_entry(prefix, cursor)?.map(|(key, _)| key);
        let from_changed = changed
            .range::<[u8], _>((scan_start(prefix, cursor), Bound::Unbounded))
            .next()
            .filter(|key| key.starts_with(prefix))
            .cloned();
        Ok(match (from_head, from_changed) {
            (None, None) => None,
            (Some(key), None) | (None, Some(key)) => Some(key),
            (Some(a), Some(b)) => Some(a.min(b)),
        })
    }
}

fn state_error(error: impl std::fmt::Display) -> StateError {
    StateError(error.to_string())
}

impl State for HistoricalState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        state_tree::get(&self.store, &self.block.state_root, &tree_path_of(key))
            .map_err(state_error)
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        let mut changed = self.changed.lock().unwrap_or_else(PoisonError::into_inner);
        for _ in 0..MAX_SCAN_ATTEMPTS {
            let head = changed
                .catch_up(&self.store, &self.block, self.block_hash)
                .map_err(state_error)?;
            let mut cursor: Option<Vec<u8>> = after.map(<[u8]>::to_vec);
            let found = loop {
                let Some(key) = self.next_candidate(&changed.keys, prefix, cursor.as_deref())?
                else {
                    break None;
                };
                // A key of the head's state that did not exist at the block is skipped.
                match self.get(&key)? {
                    Some(value) => break Some((key, value)),
                    None => cursor = Some(key),
                }
            };
            // The head's flat state was read at one head only if the head did not move.
            if self.store.head_hash().map_err(state_error)? == Some(head) {
                return Ok(found);
            }
        }
        Err(StateError(
            "the chain kept moving during a historical scan; try again".into(),
        ))
    }
}
