//! Keys of the global state: accounts and contract storage, with their flat byte encoding and
//! the 256-bit path each occupies in the authenticated state tree.

use alloc::vec::Vec;

use crate::address::Address;
use crate::hash::{Hash, keccak256};

/// Tag byte of account keys in the flat encoding.
const ACCOUNT_TAG: u8 = 0x00;
/// Tag byte of contract-storage keys in the flat encoding.
const STORAGE_TAG: u8 = 0x01;
/// Tag byte of contract-code keys in the flat encoding.
const CODE_TAG: u8 = 0x02;

/// One key of the global state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StateKey {
    /// The [`crate::Account`] record of an address.
    Account(Address),
    /// A key in a contract's own storage namespace. No contract can name another's namespace.
    Storage(Address, Vec<u8>),
    /// Wasm code by its hash (shared by every contract deployed from it).
    Code(Hash),
}

impl StateKey {
    /// The flat encoding: a tag byte, then the fields. Storage keys of one contract share the
    /// prefix `0x01 ‖ address`, so the node's flat state can iterate them in order.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            StateKey::Account(address) => {
                let mut out = Vec::with_capacity(21);
                out.push(ACCOUNT_TAG);
                out.extend_from_slice(&address.0);
                out
            }
            StateKey::Storage(address, key) => {
                let mut out = Vec::with_capacity(21 + key.len());
                out.push(STORAGE_TAG);
                out.extend_from_slice(&address.0);
                out.extend_from_slice(key);
                out
            }
            StateKey::Code(hash) => {
                let mut out = Vec::with_capacity(33);
                out.push(CODE_TAG);
                out.extend_from_slice(&hash.0);
                out
            }
        }
    }

    /// Decodes the flat encoding; `None` if it is not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<StateKey> {
        let (&tag, rest) = bytes.split_first()?;
        match tag {
            ACCOUNT_TAG => Some(StateKey::Account(Address(rest.try_into().ok()?))),
            STORAGE_TAG if rest.len() >= 20 => {
                let (address, key) = rest.split_at(20);
                Some(StateKey::Storage(
                    Address(address.try_into().ok()?),
                    key.to_vec(),
                ))
            }
            CODE_TAG => Some(StateKey::Code(Hash(rest.try_into().ok()?))),
            _ => None,
        }
    }

    /// The key's path in the state tree: keccak256 of the flat encoding. Hashing spreads keys
    /// evenly, so tree depth stays near log2(number of keys) whatever keys contracts choose.
    pub fn tree_path(&self) -> Hash {
        tree_path_of(&self.to_bytes())
    }
}

/// The state-tree path of a flat-encoded key.
pub fn tree_path_of(flat_key: &[u8]) -> Hash {
    keccak256(flat_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_encoding_round_trips_and_groups_storage_by_contract() {
        let contract = Address([7; 20]);
        let keys = [
            StateKey::Account(contract),
            StateKey::Storage(contract, b"consent/1".to_vec()),
            StateKey::Storage(contract, Vec::new()),
            StateKey::Code(Hash([9; 32])),
        ];
        for key in &keys {
            assert_eq!(StateKey::from_bytes(&key.to_bytes()).as_ref(), Some(key));
        }
        let prefix = StateKey::Storage(contract, Vec::new()).to_bytes();
        assert!(keys[1].to_bytes().starts_with(&prefix));
        assert_eq!(StateKey::from_bytes(&[0x09, 1, 2]), None);
        assert_eq!(StateKey::from_bytes(&[ACCOUNT_TAG, 1, 2]), None);
    }
}
