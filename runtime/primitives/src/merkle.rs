//! Merkle roots of ordered lists (transactions, receipts), by RFC 6962's Merkle Tree Hash with
//! keccak256.
//!
//! Leaves are hashed with a `0x00` prefix and interior nodes with `0x01`, so an interior node can
//! never pose as a leaf; a list is split at the largest power of two below its length and an odd
//! node is never duplicated, so `[a, b, c]` and `[a, b, c, c]` have different roots (the
//! ambiguity of Bitcoin's tree, CVE-2012-2459, cannot arise).

use crate::hash::{Hash, keccak256, keccak256_concat};

const LEAF_PREFIX: &[u8] = &[0x00];
const NODE_PREFIX: &[u8] = &[0x01];

/// The hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    keccak256_concat(&[LEAF_PREFIX, data])
}

/// The hash of an interior node from its two children.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    keccak256_concat(&[NODE_PREFIX, &left.0, &right.0])
}

/// RFC 6962 Merkle Tree Hash of a list of leaf hashes (already passed through [`leaf_hash`]).
/// The empty list's root is keccak256 of the empty string.
pub fn merkle_root_of_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => keccak256(&[]),
        1 => leaves[0],
        n => {
            let split = largest_power_of_two_below(n);
            let left = merkle_root_of_leaf_hashes(&leaves[..split]);
            let right = merkle_root_of_leaf_hashes(&leaves[split..]);
            node_hash(&left, &right)
        }
    }
}

/// The Merkle root of a list of items, each item's leaf being its 32-byte hash.
pub fn merkle_root<'a>(items: impl IntoIterator<Item = &'a Hash>) -> Hash {
    let leaves: alloc::vec::Vec<Hash> = items.into_iter().map(|item| leaf_hash(&item.0)).collect();
    merkle_root_of_leaf_hashes(&leaves)
}

fn largest_power_of_two_below(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: u8) -> alloc::vec::Vec<Hash> {
        (0..n).map(|i| keccak256(&[i])).collect()
    }

    #[test]
    fn split_points_follow_rfc6962() {
        assert_eq!(largest_power_of_two_below(2), 1);
        assert_eq!(largest_power_of_two_below(3), 2);
        assert_eq!(largest_power_of_two_below(4), 2);
        assert_eq!(largest_power_of_two_below(5), 4);
        assert_eq!(largest_power_of_two_below(9), 8);
    }

    #[test]
    fn small_trees_have_the_documented_shape() {
        let xs = items(3);
        let (a, b, c) = (
            leaf_hash(&xs[0].0),
            leaf_hash(&xs[1].0),
            leaf_hash(&xs[2].0),
        );
        assert_eq!(merkle_root(&xs), node_hash(&node_hash(&a, &b), &c));
        assert_eq!(merkle_root(&xs[..1]), a);
        assert_eq!(merkle_root(&[]), keccak256(&[]));
    }

    #[test]
    fn duplicated_last_leaf_changes_the_root() {
        let mut xs = items(3);
        let root = merkle_root(&xs);
        xs.push(xs[2]);
        assert_ne!(merkle_root(&xs), root);
    }

    #[test]
    fn a_leaf_cannot_pose_as_an_interior_node() {
        let xs = items(2);
        let interior = node_hash(&leaf_hash(&xs[0].0), &leaf_hash(&xs[1].0));
        // A one-leaf list whose leaf is the interior node's hash does not collide.
        assert_ne!(merkle_root(&[interior]), merkle_root(&xs));
    }

    #[test]
    fn every_position_and_length_matters() {
        let xs = items(7);
        let mut swapped = xs.clone();
        swapped.swap(3, 4);
        assert_ne!(merkle_root(&xs), merkle_root(&swapped));
        assert_ne!(merkle_root(&xs), merkle_root(&xs[..6]));
    }
}
