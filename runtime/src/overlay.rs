//! A write overlay over a [`State`] with nested checkpoints, recording each key's value before
//! the block so that the node can store undo data.

use std::collections::BTreeMap;

use parity_scale_codec::Encode;
use salus_primitives::{Account, Address, Hash, StateKey};

use crate::limits::MAX_CODES_LOADED_PER_BLOCK;
use crate::state::{Entry, SharedState, StateError, decode_account, scan_start};

/// One key's change: its value before and after (`None`: absent).
#[derive(Clone, Debug, PartialEq, Eq, parity_scale_codec::Encode, parity_scale_codec::Decode)]
pub struct StateChange {
    /// The flat state key.
    pub key: Vec<u8>,
    /// The value before the block.
    pub before: Option<Vec<u8>>,
    /// The value after the block.
    pub after: Option<Vec<u8>>,
}

/// The write set of a block: every key whose value changed, with its value before and after.
/// Ordered by key, so applying and hashing it is deterministic.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, parity_scale_codec::Encode, parity_scale_codec::Decode,
)]
pub struct StateChanges {
    /// The changes, in key order.
    pub entries: Vec<StateChange>,
}

/// Pending writes over a base state. Checkpoints nest: [`Overlay::checkpoint`] opens a layer,
/// [`Overlay::commit`] merges it into the one below, [`Overlay::revert`] drops it.
pub struct Overlay {
    base: SharedState,
    /// Layer 0 holds the block's committed writes; later layers are open checkpoints.
    layers: Vec<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    /// First value read from `base` for each key written, for undo data.
    originals: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// The distinct contract codes loaded while executing on this overlay (one block), in
    /// the order first loaded. Not rolled back by [`Overlay::revert`]: a failed call still
    /// loaded its code.
    loaded_codes: Vec<Hash>,
    /// Whether a load was refused since [`Overlay::start_transaction`].
    code_load_refused: bool,
}

impl Overlay {
    /// An overlay with no writes over `base`.
    pub fn new(base: SharedState) -> Self {
        Overlay {
            base,
            layers: vec![BTreeMap::new()],
            originals: BTreeMap::new(),
            loaded_codes: Vec::new(),
            code_load_refused: false,
        }
    }

    /// Records that `code_hash` is about to be loaded. Returns false, and remembers the refusal
    /// until the next [`Overlay::start_transaction`], if it is a new code and the block has
    /// already loaded [`MAX_CODES_LOADED_PER_BLOCK`] distinct ones.
    pub fn admit_code_load(&mut self, code_hash: &Hash) -> bool {
        if self.loaded_codes.contains(code_hash) {
            return true;
        }
        if self.loaded_codes.len() >= MAX_CODES_LOADED_PER_BLOCK {
            self.code_load_refused = true;
            return false;
        }
        self.loaded_codes.push(*code_hash);
        true
    }

    /// Starts a transaction's bookkeeping of code loads: clears the refusal flag and returns
    /// a mark for [`Overlay::forget_code_loads_since`].
    pub fn start_transaction(&mut self) -> usize {
        self.code_load_refused = false;
        self.loaded_codes.len()
    }

    /// Whether a code load was refused since [`Overlay::start_transaction`].
    pub fn code_load_refused(&self) -> bool {
        self.code_load_refused
    }

    /// Forgets the codes first loaded after `mark`: for a transaction a miner leaves out of the
    /// block, as if it had never run.
    pub fn forget_code_loads_since(&mut self, mark: usize) {
        self.loaded_codes.truncate(mark);
        self.code_load_refused = false;
    }

    /// Reads through the layers, newest first, then the base.
    ///
    /// # Errors
    /// [`StateError`] from the base.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        for layer in self.layers.iter().rev() {
            if let Some(value) = layer.get(key) {
                return Ok(value.clone());
            }
        }
        self.base.get(key)
    }

    /// An overlay over an empty state: a placeholder while the real one is lent out.
    pub(crate) fn detached() -> Self {
        Overlay::new(std::sync::Arc::new(BTreeMap::<Vec<u8>, Vec<u8>>::new()))
    }

    /// The first entry after `after` under `prefix` (see [`State::next_entry`]), merging the
    /// pending writes with the base: written values shadow the base, removed keys are skipped.
    ///
    /// # Errors
    /// [`StateError`] from the base.
    pub fn next_entry(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> Result<Option<Entry>, StateError> {
        let mut cursor: Option<Vec<u8>> = after.map(<[u8]>::to_vec);
        loop {
            let start = scan_start(prefix, cursor.as_deref());
            let mut best: Option<Vec<u8>> = self
                .base
                .next_entry(prefix, cursor.as_deref())?
                .map(|(key, _)| key);
            for layer in &self.layers {
                if let Some((key, _)) = layer
                    .range::<[u8], _>((start, std::ops::Bound::Unbounded))
                    .next()
                    .filter(|(key, _)| key.starts_with(prefix))
                    && best.as_ref().is_none_or(|current| key < current)
                {
                    best = Some(key.clone());
                }
            }
            let Some(key) = best else { return Ok(None) };
            match self.get(&key)? {
                Some(value) => return Ok(Some((key, value))),
                // Removed by a pending write: continue after it.
                None => cursor = Some(key),
            }
        }
    }

    /// Writes `value` (`None` removes the key) in the newest layer.
    ///
    /// # Errors
    /// [`StateError`] from the base when recording the original value.
    pub fn set(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> Result<(), StateError> {
        if !self.originals.contains_key(&key) {
            self.base.will_write(&key);
            let original = self.base.get(&key)?;
            self.originals.insert(key.clone(), original);
        }
        self.layers
            .last_mut()
            .expect("layer 0 always exists")
            .insert(key, value);
        Ok(())
    }

    /// The account at `address`.
    ///
    /// # Errors
    /// [`StateError`] from the base or for an undecodable account.
    pub fn account(&self, address: &Address) -> Result<Account, StateError> {
        decode_account(self.get(&StateKey::Account(*address).to_bytes())?)
    }

    /// Stores `account` at `address`; the default account is stored as absent.
    ///
    /// # Errors
    /// [`StateError`] from the base.
    pub fn set_account(&mut self, address: &Address, account: &Account) -> Result<(), StateError> {
        let value = (!account.is_empty()).then(|| account.encode());
        self.set(StateKey::Account(*address).to_bytes(), value)
    }

    /// Opens a checkpoint.
    pub fn checkpoint(&mut self) {
        self.layers.push(BTreeMap::new());
    }

    /// Merges the newest checkpoint into the one below.
    pub fn commit(&mut self) {
        debug_assert!(self.layers.len() > 1, "commit without checkpoint");
        if self.layers.len() > 1 {
            let top = self.layers.pop().expect("checked above");
            self.layers
                .last_mut()
                .expect("layer 0 always exists")
                .extend(top);
        }
    }

    /// Drops the newest checkpoint's writes.
    pub fn revert(&mut self) {
        debug_assert!(self.layers.len() > 1, "revert without checkpoint");
        if self.layers.len() > 1 {
            self.layers.pop();
        }
    }

    /// The committed writes, with original values, dropping keys whose final value equals the
    /// original. Open checkpoints are discarded.
    pub fn into_changes(mut self) -> StateChanges {
        let committed = std::mem::take(&mut self.layers[0]);
        let entries = committed
            .into_iter()
            .filter_map(|(key, after)| {
                let before = self.originals.remove(&key).flatten();
                (before != after).then_some(StateChange { key, before, after })
            })
            .collect();
        StateChanges { entries }
    }
}

impl StateChanges {
    /// Changes that create each `(key, value)` in a previously empty state (genesis).
    pub fn creating(values: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) -> StateChanges {
        let entries = values
            .into_iter()
            .map(|(key, value)| StateChange {
                key,
                before: None,
                after: Some(value),
            })
            .collect();
        StateChanges { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_merge_pending_writes_with_the_base() {
        let base: BTreeMap<Vec<u8>, Vec<u8>> = [
            (b"k1".to_vec(), vec![1]),
            (b"k3".to_vec(), vec![3]),
            (b"k5".to_vec(), vec![5]),
        ]
        .into_iter()
        .collect();
        let mut overlay = Overlay::new(std::sync::Arc::new(base));
        overlay.set(b"k2".to_vec(), Some(vec![2])).unwrap();
        overlay.checkpoint();
        overlay.set(b"k3".to_vec(), None).unwrap();
        overlay.set(b"k5".to_vec(), Some(vec![50])).unwrap();
        let mut seen = Vec::new();
        let mut cursor = None;
        while let Some((key, value)) = overlay.next_entry(b"k", cursor.as_deref()).unwrap() {
            seen.push((key.clone(), value));
            cursor = Some(key);
        }
        assert_eq!(
            seen,
            vec![
                (b"k1".to_vec(), vec![1]),
                (b"k2".to_vec(), vec![2]),
                (b"k5".to_vec(), vec![50])
            ]
        );
        overlay.revert();
        assert_eq!(
            overlay.next_entry(b"k", Some(b"k2")).unwrap(),
            Some((b"k3".to_vec(), vec![3]))
        );
    }

    #[test]
    fn checkpoints_nest_and_changes_record_originals() {
        let mut base = BTreeMap::new();
        base.insert(b"a".to_vec(), b"1".to_vec());
        base.insert(b"b".to_vec(), b"2".to_vec());
        let mut overlay = Overlay::new(std::sync::Arc::new(base));
        overlay.set(b"a".to_vec(), Some(b"10".to_vec())).unwrap();
        overlay.checkpoint();
        overlay.set(b"b".to_vec(), None).unwrap();
        overlay.checkpoint();
        overlay.set(b"c".to_vec(), Some(b"3".to_vec())).unwrap();
        overlay.revert();
        assert_eq!(overlay.get(b"c").unwrap(), None);
        assert_eq!(overlay.get(b"b").unwrap(), None);
        overlay.commit();
        // A write that restores the original value is not a change.
        overlay.checkpoint();
        overlay.set(b"d".to_vec(), Some(b"4".to_vec())).unwrap();
        overlay.set(b"d".to_vec(), None).unwrap();
        overlay.commit();
        let changes = overlay.into_changes();
        assert_eq!(
            changes.entries,
            vec![
                StateChange {
                    key: b"a".to_vec(),
                    before: Some(b"1".to_vec()),
                    after: Some(b"10".to_vec())
                },
                StateChange {
                    key: b"b".to_vec(),
                    before: Some(b"2".to_vec()),
                    after: None
                },
            ]
        );
    }
}
