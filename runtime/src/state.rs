//! The narrow read-only view of global state through which the runtime sees the world.

use std::collections::BTreeMap;
use std::ops::Bound;

use salus_primitives::{Account, Address, StateKey};

/// A failure of the backing store (I/O, corruption). Distinct from anything a transaction can
/// cause: a block whose execution hits one is neither valid nor invalid, and is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state backend failure: {0}")]
pub struct StateError(pub String);

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Read access to global state, keyed by the flat encoding of a [`StateKey`].
pub trait State {
    /// The value stored under `key`, if any.
    ///
    /// # Errors
    /// [`StateError`] when the backend cannot answer.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// The first entry in key order whose key starts with `prefix` and is greater than `after`
    /// (or, with no `after`, the first whose key starts with `prefix`).
    ///
    /// # Errors
    /// [`StateError`] when the backend cannot answer or cannot iterate.
    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError>;

    /// The account at `address` (the default account if absent).
    ///
    /// # Errors
    /// [`StateError`] when the backend fails or the stored account does not decode.
    fn account(&self, address: &Address) -> Result<Account, StateError> {
        decode_account(self.get(&StateKey::Account(*address).to_bytes())?)
    }

    /// A hint that the execution reading this state is about to write `key` (given at the key's
    /// first write in the block, whether or not the write is later rolled back; again at the
    /// next write if reading the key's value before the block failed). A backend
    /// may start preparing the key's commitment — the node reads the key's state-tree path into
    /// memory on another thread while the block executes. It must not change what any read
    /// returns. The default does nothing.
    fn will_write(&self, key: &[u8]) {
        let _ = key;
    }
}

/// A shared, thread-safe state handle: what executions hold for their duration.
pub type SharedState = std::sync::Arc<dyn State + Send + Sync>;

/// Decodes a stored account; absent means default.
///
/// # Errors
/// [`StateError`] when the bytes are not a SCALE-encoded [`Account`].
pub fn decode_account(bytes: Option<Vec<u8>>) -> Result<Account, StateError> {
    use parity_scale_codec::Decode;
    match bytes {
        None => Ok(Account::default()),
        Some(bytes) => Account::decode(&mut &bytes[..])
            .map_err(|error| StateError(format!("stored account does not decode: {error}"))),
    }
}

/// The lower bound of a scan: strictly after `after`, or from `prefix` inclusive.
pub fn scan_start<'a>(prefix: &'a [u8], after: Option<&'a [u8]>) -> Bound<&'a [u8]> {
    match after {
        Some(after) if after >= prefix => Bound::Excluded(after),
        _ => Bound::Included(prefix),
    }
}

/// An in-memory state, for genesis construction, replay and tests.
impl State for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(BTreeMap::get(self, key).cloned())
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        let start = scan_start(prefix, after);
        Ok(self
            .range::<[u8], _>((start, Bound::Unbounded))
            .next()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_scan_respects_prefix_and_cursor() {
        let state: BTreeMap<Vec<u8>, Vec<u8>> = [
            (b"a1".to_vec(), vec![1]),
            (b"b1".to_vec(), vec![2]),
            (b"b2".to_vec(), vec![3]),
            (b"c".to_vec(), vec![4]),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            state.next_entry(b"b", None).unwrap(),
            Some((b"b1".to_vec(), vec![2]))
        );
        assert_eq!(
            state.next_entry(b"b", Some(b"b1")).unwrap(),
            Some((b"b2".to_vec(), vec![3]))
        );
        assert_eq!(state.next_entry(b"b", Some(b"b2")).unwrap(), None);
        // A cursor before the prefix starts at the prefix.
        assert_eq!(
            state.next_entry(b"b", Some(b"a")).unwrap(),
            Some((b"b1".to_vec(), vec![2]))
        );
    }
}
