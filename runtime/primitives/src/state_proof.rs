//! The authenticated state tree's hashing rules and the verification of its proofs.
//!
//! The state tree is a binary Merkle tree over 256-bit key paths (keccak256 of the flat state
//! key). A subtree holding no key is the zero hash; a subtree holding exactly one key is that
//! key's leaf, wherever it sits; a subtree holding two or more keys is an interior node whose
//! children are the subtrees of the next path bit. The shape is therefore a function of the key
//! set alone, and a proof is the list of sibling hashes from the root down to where the key's
//! path ends: at its own leaf (inclusion), at an empty subtree, or at another key's leaf that
//! shares the path so far (exclusion). A client checks a proof against a header's state root
//! alone.

use alloc::vec::Vec;

use parity_scale_codec::{Decode, Encode};

use crate::hash::{Hash, keccak256, keccak256_concat};

/// Domain tag of leaf hashes.
const LEAF_TAG: &[u8] = &[0x00];
/// Domain tag of interior-node hashes.
const INTERIOR_TAG: &[u8] = &[0x01];

/// Most siblings a proof can carry: one per path bit.
pub const MAX_PROOF_DEPTH: usize = 256;

/// The hash of an empty subtree.
pub const EMPTY_SUBTREE: Hash = Hash::ZERO;

/// Hash of the leaf holding `value_hash` (keccak256 of the value) at key path `path`. A leaf's
/// hash does not depend on its depth, so a leaf can move up when its sibling is deleted.
pub fn leaf_hash(path: &Hash, value_hash: &Hash) -> Hash {
    keccak256_concat(&[LEAF_TAG, &path.0, &value_hash.0])
}

/// Hash of an interior node.
pub fn interior_hash(left: &Hash, right: &Hash) -> Hash {
    keccak256_concat(&[INTERIOR_TAG, &left.0, &right.0])
}

/// Where a proof's path ends.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum ProofTerminal {
    /// An empty subtree: the key is absent.
    Empty,
    /// A leaf: the key itself (inclusion) or another key sharing the path (exclusion).
    Leaf {
        /// The leaf's key path.
        path: Hash,
        /// keccak256 of the leaf's value.
        value_hash: Hash,
    },
}

/// A proof that a key has a given value, or no value, under a state root.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StateProof {
    /// Sibling hashes from the root (index 0) down to the terminal.
    pub siblings: Vec<Hash>,
    /// Where the key's path ends.
    pub terminal: ProofTerminal,
}

/// Why a proof does not prove the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// More siblings than path bits.
    #[error("proof deeper than 256 levels")]
    TooDeep,
    /// The recomputed root differs from the expected root.
    #[error("proof does not hash to the state root")]
    RootMismatch,
    /// Claimed present, but the proof ends at an empty subtree or another key's leaf.
    #[error("proof shows the key absent")]
    KeyAbsent,
    /// Claimed absent, but the proof ends at the key's own leaf.
    #[error("proof shows the key present")]
    KeyPresent,
    /// The leaf found holds a different value than claimed.
    #[error("proof shows a different value")]
    ValueMismatch,
    /// An exclusion leaf whose path does not share the proven prefix.
    #[error("exclusion leaf is not on the key's path")]
    LeafOffPath,
}

impl StateProof {
    /// Checks that under `root`, the key at `path` holds `value` (`None`: holds nothing).
    ///
    /// # Errors
    /// A [`ProofError`] saying why the proof fails.
    pub fn verify(&self, root: &Hash, path: &Hash, value: Option<&[u8]>) -> Result<(), ProofError> {
        let depth = self.siblings.len();
        if depth > MAX_PROOF_DEPTH {
            return Err(ProofError::TooDeep);
        }
        let terminal_hash = match (&self.terminal, value) {
            (ProofTerminal::Empty, None) => EMPTY_SUBTREE,
            (ProofTerminal::Empty, Some(_)) => return Err(ProofError::KeyAbsent),
            (
                ProofTerminal::Leaf {
                    path: leaf_path,
                    value_hash,
                },
                claimed,
            ) => {
                let is_key = leaf_path == path;
                match claimed {
                    Some(_) if !is_key => return Err(ProofError::KeyAbsent),
                    Some(value) if keccak256(value) != *value_hash => {
                        return Err(ProofError::ValueMismatch);
                    }
                    None if is_key => return Err(ProofError::KeyPresent),
                    None if !shares_prefix(leaf_path, path, depth) => {
                        return Err(ProofError::LeafOffPath);
                    }
                    _ => {}
                }
                leaf_hash(leaf_path, value_hash)
            }
        };
        if self.root_from(path, terminal_hash) == *root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        }
    }

    fn root_from(&self, path: &Hash, terminal_hash: Hash) -> Hash {
        let mut current = terminal_hash;
        for (depth, sibling) in self.siblings.iter().enumerate().rev() {
            current = if path.bit(depth) {
                interior_hash(sibling, &current)
            } else {
                interior_hash(&current, sibling)
            };
        }
        current
    }
}

fn shares_prefix(a: &Hash, b: &Hash, bits: usize) -> bool {
    (0..bits).all(|index| a.bit(index) == b.bit(index))
}
