//! The state as of an earlier canonical block, for dry runs and queries "as of block N": the
//! head's flat state with every key changed since block N reset to its value then, taken from
//! the stored undo data. Supports ordered iteration, which the state tree cannot.

use std::collections::BTreeMap;
use std::ops::Bound;

use salus_primitives::Hash;
use salus_runtime::state::{Entry, scan_start};
use salus_runtime::{State, StateError};

use crate::storage::{StorageError, Store};

/// How far back a historical view may reach: each block back costs one read of its undo data.
pub const MAX_HISTORICAL_DEPTH: u64 = 100_000;

/// Why a historical view could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HistoricalError {
    /// The block is not on the canonical chain.
    #[error("block {0} is not on the canonical chain")]
    NotCanonical(Hash),
    /// More than [`MAX_HISTORICAL_DEPTH`] blocks back.
    #[error("block is {depth} blocks behind the head; at most {MAX_HISTORICAL_DEPTH} are served")]
    TooOld {
        /// Blocks behind the head.
        depth: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The state after canonical block `number`.
pub struct HistoricalState {
    head: Store,
    /// Key → value at the block (`None`: absent then) for every key changed since.
    reverted: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl HistoricalState {
    /// The state after canonical block `number`, given the head's number.
    ///
    /// # Errors
    /// [`HistoricalError`] when the block is too old or the undo data is missing.
    pub fn at(
        store: &Store,
        head_number: u64,
        number: u64,
    ) -> Result<HistoricalState, HistoricalError> {
        let depth = head_number.saturating_sub(number);
        if depth > MAX_HISTORICAL_DEPTH {
            return Err(HistoricalError::TooOld { depth });
        }
        let mut reverted = BTreeMap::new();
        // Walk from the head down to number + 1: each block's "before" value is the value
        // after its parent; the oldest one seen for a key is its value after block `number`.
        for height in (number + 1..=head_number).rev() {
            let hash = store
                .canonical_hash(height)?
                .ok_or_else(|| StorageError::Corrupt(format!("no canonical block at {height}")))?;
            let changes = store
                .state_changes(&hash)?
                .ok_or_else(|| StorageError::Corrupt(format!("undo data of {hash} is missing")))?;
            for change in changes.entries {
                reverted.insert(change.key, change.before);
            }
        }
        Ok(HistoricalState {
            head: store.clone(),
            reverted,
        })
    }
}

impl State for HistoricalState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.reverted.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.head.get(key),
        }
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        let mut cursor: Option<Vec<u8>> = after.map(<[u8]>::to_vec);
        loop {
            let from_head = self
                .head
                .next_entry(prefix, cursor.as_deref())?
                .map(|(key, _)| key);
            let start = scan_start(prefix, cursor.as_deref());
            let from_reverted = self
                .reverted
                .range::<[u8], _>((start, Bound::Unbounded))
                .next()
                .filter(|(key, _)| key.starts_with(prefix))
                .map(|(key, _)| key.clone());
            let next = match (from_head, from_reverted) {
                (None, None) => return Ok(None),
                (Some(key), None) | (None, Some(key)) => key,
                (Some(a), Some(b)) => a.min(b),
            };
            match self.get(&next)? {
                Some(value) => return Ok(Some((next, value))),
                None => cursor = Some(next),
            }
        }
    }
}
