//! A write overlay over a [`State`] with nested checkpoints, recording each key's value before
//! the block so that the node can store undo data.

use std::collections::BTreeMap;

use parity_scale_codec::Encode;
use salus_primitives::{Account, Address, StateKey};

use crate::state::{State, StateError, decode_account};

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
pub struct Overlay<'a, S: State + ?Sized> {
    base: &'a S,
    /// Layer 0 holds the block's committed writes; later layers are open checkpoints.
    layers: Vec<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    /// First value read from `base` for each key written, for undo data.
    originals: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a, S: State + ?Sized> Overlay<'a, S> {
    /// An overlay with no writes over `base`.
    pub fn new(base: &'a S) -> Self {
        Overlay {
            base,
            layers: vec![BTreeMap::new()],
            originals: BTreeMap::new(),
        }
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

    /// Writes `value` (`None` removes the key) in the newest layer.
    ///
    /// # Errors
    /// [`StateError`] from the base when recording the original value.
    pub fn set(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> Result<(), StateError> {
        if !self.originals.contains_key(&key) {
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
    fn checkpoints_nest_and_changes_record_originals() {
        let mut base = BTreeMap::new();
        base.insert(b"a".to_vec(), b"1".to_vec());
        base.insert(b"b".to_vec(), b"2".to_vec());
        let mut overlay = Overlay::new(&base);
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
