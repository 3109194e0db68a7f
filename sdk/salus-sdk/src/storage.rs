//! Typed storage: a single [`Value`] under a key, and a [`Map`] of keys under a prefix, SCALE
//! encoded. Keys live in the contract's own namespace; no contract can touch another's.

use alloc::vec::Vec;
use core::marker::PhantomData;

use parity_scale_codec::{Decode, Encode};

use crate::{dispatch, sys};

fn write(key: &[u8], value: &[u8]) {
    dispatch::ensure_writable();
    sys::storage_set(key, value)
}

fn remove(key: &[u8]) {
    dispatch::ensure_writable();
    sys::storage_remove(key)
}

fn decode<T: Decode>(key: &[u8], bytes: &[u8]) -> T {
    T::decode(&mut &bytes[..]).unwrap_or_else(|_| {
        let _ = key;
        crate::revert("stored value does not decode as its declared type")
    })
}

/// One value under a fixed key.
pub struct Value<T> {
    key: &'static [u8],
    _type: PhantomData<fn() -> T>,
}

impl<T: Encode + Decode> Value<T> {
    /// A handle for the value under `key`.
    pub const fn new(key: &'static [u8]) -> Self {
        Value {
            key,
            _type: PhantomData,
        }
    }

    /// The stored value, if set.
    pub fn get(&self) -> Option<T> {
        sys::storage_get(self.key).map(|bytes| decode(self.key, &bytes))
    }

    /// Stores `value`.
    pub fn set(&self, value: &T) {
        write(self.key, &value.encode())
    }

    /// Removes the value.
    pub fn clear(&self) {
        remove(self.key)
    }

    /// Whether a value is stored.
    pub fn exists(&self) -> bool {
        sys::storage_has(self.key)
    }
}

/// A map from `K` to `V` under a prefix: the storage key of `k` is `prefix ‖ SCALE(k)`.
/// Iteration visits entries in the byte order of their encoded keys, a page at a time.
pub struct Map<K, V> {
    prefix: &'static [u8],
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Encode + Decode, V: Encode + Decode> Map<K, V> {
    /// A handle for the map under `prefix`. Two maps must not have prefixes where one starts
    /// with the other.
    pub const fn new(prefix: &'static [u8]) -> Self {
        Map {
            prefix,
            _types: PhantomData,
        }
    }

    fn key(&self, key: &K) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + key.size_hint());
        out.extend_from_slice(self.prefix);
        key.encode_to(&mut out);
        out
    }

    /// The value under `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        let storage_key = self.key(key);
        sys::storage_get(&storage_key).map(|bytes| decode(&storage_key, &bytes))
    }

    /// Stores `value` under `key`.
    pub fn insert(&self, key: &K, value: &V) {
        write(&self.key(key), &value.encode())
    }

    /// Removes `key`.
    pub fn remove(&self, key: &K) {
        remove(&self.key(key))
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &K) -> bool {
        sys::storage_has(&self.key(key))
    }

    /// Up to `limit` entries after `after` (or from the start), in key order, and whether more
    /// may follow. Each entry costs one scan and one read of fuel.
    pub fn page(&self, after: Option<&K>, limit: usize) -> (Vec<(K, V)>, bool) {
        self.scan(self.prefix.to_vec(), after, limit)
    }

    /// Like [`Map::page`], but only keys whose encoding starts with the encoding of `partial`:
    /// for a map keyed by `(patient, sequence)`, `page_under(&patient, …)` pages one patient's
    /// entries.
    pub fn page_under<P: Encode>(
        &self,
        partial: &P,
        after: Option<&K>,
        limit: usize,
    ) -> (Vec<(K, V)>, bool) {
        let mut prefix = self.prefix.to_vec();
        partial.encode_to(&mut prefix);
        self.scan(prefix, after, limit)
    }

    fn scan(&self, prefix: Vec<u8>, after: Option<&K>, limit: usize) -> (Vec<(K, V)>, bool) {
        let mut cursor: Option<Vec<u8>> = after.map(|key| self.key(key));
        let mut entries = Vec::new();
        while entries.len() < limit {
            let Some(storage_key) = sys::storage_next_key(&prefix, cursor.as_deref()) else {
                return (entries, false);
            };
            let key = decode::<K>(&storage_key, &storage_key[self.prefix.len()..]);
            if let Some(bytes) = sys::storage_get(&storage_key) {
                entries.push((key, decode(&storage_key, &bytes)));
            }
            cursor = Some(storage_key);
        }
        (entries, true)
    }
}
