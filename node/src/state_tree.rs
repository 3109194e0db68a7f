//! The authenticated state tree: a content-addressed binary Merkle tree over keccak256 key paths
//! (hashing rules and proof format in `salus_primitives::state_proof`).
//!
//! Nodes are stored by their hash and never overwritten or deleted, so every root ever committed
//! — on the canonical chain or on a fork — stays readable, and two forks at the same height
//! cannot collide (nodes are not keyed by height or version). An update touches only the paths
//! of the changed keys: O(changed keys × depth) node reads and writes, with depth ≈ log2(keys).

use std::borrow::Cow;

use parity_scale_codec::{Decode, Encode};
use salus_primitives::state_proof::{
    EMPTY_SUBTREE, ProofTerminal, StateProof, interior_hash, leaf_hash,
};
use salus_primitives::{Hash, keccak256};

/// One stored node of the state tree.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum TreeNode {
    /// A node with two or more keys below it.
    Interior {
        /// Subtree of path bit 0 (or the empty-subtree hash).
        left: Hash,
        /// Subtree of path bit 1 (or the empty-subtree hash).
        right: Hash,
    },
    /// The only key in its subtree. The value is kept so that any old root can be read.
    Leaf {
        /// The key's path (keccak256 of the flat key).
        path: Hash,
        /// The value.
        value: Vec<u8>,
    },
}

impl TreeNode {
    /// The node's hash, under which it is stored.
    pub fn hash(&self) -> Hash {
        match self {
            TreeNode::Interior { left, right } => interior_hash(left, right),
            TreeNode::Leaf { path, value } => leaf_hash(path, &keccak256(value)),
        }
    }
}

/// Why the tree could not be read or updated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A node referenced by a stored parent is missing: the database is damaged, or the root was
    /// never committed.
    #[error("state tree node {0} is missing")]
    MissingNode(Hash),
    /// A stored node does not decode or does not match its hash.
    #[error("state tree node {0} is corrupt")]
    CorruptNode(Hash),
    /// Two changes share a path, or the tree is deeper than 256 levels.
    #[error("state tree path collision")]
    PathCollision,
    /// The backing store failed.
    #[error("state tree backend: {0}")]
    Backend(String),
}

/// Where tree nodes are read from.
pub trait TreeNodeSource {
    /// The encoded node stored under `hash`.
    ///
    /// # Errors
    /// [`TreeError::Backend`] when the store fails.
    fn node_bytes(&self, hash: &Hash) -> Result<Option<Vec<u8>>, TreeError>;

    /// The node stored under `hash`, decoded.
    ///
    /// # Errors
    /// [`TreeError::MissingNode`] or [`TreeError::CorruptNode`].
    fn node(&self, hash: &Hash) -> Result<TreeNode, TreeError> {
        let bytes = self
            .node_bytes(hash)?
            .ok_or(TreeError::MissingNode(*hash))?;
        TreeNode::decode(&mut &bytes[..]).map_err(|_| TreeError::CorruptNode(*hash))
    }
}

impl TreeNodeSource for std::collections::HashMap<Hash, Vec<u8>> {
    fn node_bytes(&self, hash: &Hash) -> Result<Option<Vec<u8>>, TreeError> {
        Ok(self.get(hash).cloned())
    }
}

/// The result of applying changes: the new root and the nodes to store.
#[derive(Clone, Debug, Default)]
pub struct TreeUpdate {
    /// The new root.
    pub root: Hash,
    /// New nodes as `(hash, SCALE encoding)`; storing one that already exists is harmless.
    pub new_nodes: Vec<(Hash, Vec<u8>)>,
}

/// A change to one key: its path and its new value (`None`: delete).
pub type PathChange<'a> = (Hash, Option<&'a [u8]>);

/// The tree changes of a block's write set, sorted by path as [`apply`] requires.
pub fn path_changes(changes: &salus_runtime::StateChanges) -> Vec<PathChange<'_>> {
    let mut paths: Vec<PathChange<'_>> = changes
        .entries
        .iter()
        .map(|change| {
            (
                salus_primitives::state_key::tree_path_of(&change.key),
                change.after.as_deref(),
            )
        })
        .collect();
    paths.sort_unstable_by_key(|change| change.0);
    paths
}

/// The value at `path` under `root`.
///
/// # Errors
/// [`TreeError`] for missing or corrupt nodes.
pub fn get(
    source: &impl TreeNodeSource,
    root: &Hash,
    path: &Hash,
) -> Result<Option<Vec<u8>>, TreeError> {
    let mut current = *root;
    for depth in 0..=256 {
        if current == EMPTY_SUBTREE {
            return Ok(None);
        }
        match source.node(&current)? {
            TreeNode::Leaf {
                path: leaf_path,
                value,
            } => {
                return Ok((leaf_path == *path).then_some(value));
            }
            TreeNode::Interior { left, right } => {
                if depth == 256 {
                    break;
                }
                current = if path.bit(depth) { right } else { left };
            }
        }
    }
    Err(TreeError::CorruptNode(current))
}

/// A proof of the value (or absence) at `path` under `root`, with the value.
///
/// # Errors
/// [`TreeError`] for missing or corrupt nodes.
pub fn prove(
    source: &impl TreeNodeSource,
    root: &Hash,
    path: &Hash,
) -> Result<(StateProof, Option<Vec<u8>>), TreeError> {
    let mut siblings = Vec::new();
    let mut current = *root;
    loop {
        if current == EMPTY_SUBTREE {
            return Ok((
                StateProof {
                    siblings,
                    terminal: ProofTerminal::Empty,
                },
                None,
            ));
        }
        match source.node(&current)? {
            TreeNode::Leaf {
                path: leaf_path,
                value,
            } => {
                let terminal = ProofTerminal::Leaf {
                    path: leaf_path,
                    value_hash: keccak256(&value),
                };
                let value = (leaf_path == *path).then_some(value);
                return Ok((StateProof { siblings, terminal }, value));
            }
            TreeNode::Interior { left, right } => {
                let depth = siblings.len();
                if depth == 256 {
                    return Err(TreeError::CorruptNode(current));
                }
                if path.bit(depth) {
                    siblings.push(left);
                    current = right;
                } else {
                    siblings.push(right);
                    current = left;
                }
            }
        }
    }
}

/// Applies `changes` (sorted by path, no duplicates) to the tree at `root`, on this thread.
///
/// # Errors
/// [`TreeError`] for missing or corrupt nodes, or unsorted / duplicate paths.
pub fn apply(
    source: &(impl TreeNodeSource + Sync),
    root: &Hash,
    changes: &[PathChange<'_>],
) -> Result<TreeUpdate, TreeError> {
    apply_on_threads(source, root, changes, 1)
}

/// Fewest changes below a node for its two subtrees to be updated on two threads: below this,
/// starting a thread costs more than it saves.
const PARALLEL_MIN_CHANGES: usize = 256;

/// [`apply`] on up to `threads` threads: the tree's top levels are split into that many
/// subtrees (rounded down to a power of two), each updated on its own thread. Node reads, which
/// dominate an update of a large tree, then wait on several cores at once. The result is the
/// same as [`apply`]'s.
///
/// # Errors
/// As [`apply`].
pub fn apply_on_threads(
    source: &(impl TreeNodeSource + Sync),
    root: &Hash,
    changes: &[PathChange<'_>],
    threads: usize,
) -> Result<TreeUpdate, TreeError> {
    if changes.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
        return Err(TreeError::PathCollision);
    }
    let mut updater = Updater {
        source,
        new_nodes: Vec::new(),
        split_depth: threads.max(1).ilog2() as usize,
    };
    let root = updater.update(*root, 0, changes)?.hash();
    Ok(TreeUpdate {
        root,
        new_nodes: updater.new_nodes,
    })
}

/// Visits every leaf under `root` in path order, stopping at the first error.
///
/// # Errors
/// [`TreeError`] for missing or corrupt nodes, or the visitor's error.
pub fn for_each_leaf<F>(
    source: &impl TreeNodeSource,
    root: &Hash,
    visit: &mut F,
) -> Result<(), TreeError>
where
    F: FnMut(&Hash, &[u8]) -> Result<(), TreeError>,
{
    if *root == EMPTY_SUBTREE {
        return Ok(());
    }
    match source.node(root)? {
        TreeNode::Leaf { path, value } => visit(&path, &value),
        TreeNode::Interior { left, right } => {
            for_each_leaf(source, &left, visit)?;
            for_each_leaf(source, &right, visit)
        }
    }
}

/// A subtree after an update, with what is known of its kind (needed to collapse a lone leaf
/// into its parent's place).
enum Subtree {
    Empty,
    Leaf(Hash),
    Interior(Hash),
    /// Untouched by the update; kind not yet read.
    Unchanged(Hash),
}

impl Subtree {
    fn hash(&self) -> Hash {
        match self {
            Subtree::Empty => EMPTY_SUBTREE,
            Subtree::Leaf(hash) | Subtree::Interior(hash) | Subtree::Unchanged(hash) => *hash,
        }
    }
}

struct Updater<'a, S> {
    source: &'a S,
    new_nodes: Vec<(Hash, Vec<u8>)>,
    /// Interior nodes above this depth update their two subtrees on two threads.
    split_depth: usize,
}

impl<S: TreeNodeSource + Sync> Updater<'_, S> {
    fn store(&mut self, node: TreeNode) -> Hash {
        let hash = node.hash();
        self.new_nodes.push((hash, node.encode()));
        hash
    }

    fn update(
        &mut self,
        node: Hash,
        depth: usize,
        changes: &[PathChange<'_>],
    ) -> Result<Subtree, TreeError> {
        if changes.is_empty() {
            return Ok(if node == EMPTY_SUBTREE {
                Subtree::Empty
            } else {
                Subtree::Unchanged(node)
            });
        }
        if depth > 255 {
            return Err(TreeError::PathCollision);
        }
        if node == EMPTY_SUBTREE {
            let items: Vec<(Hash, Cow<'_, [u8]>)> = changes
                .iter()
                .filter_map(|(path, value)| value.map(|value| (*path, Cow::Borrowed(value))))
                .collect();
            return self.build(depth, &items);
        }
        match self.source.node(&node)? {
            TreeNode::Leaf { path, value } => {
                let mut items: Vec<(Hash, Cow<'_, [u8]>)> = Vec::with_capacity(changes.len() + 1);
                let overridden = changes
                    .binary_search_by(|change| change.0.cmp(&path))
                    .is_ok();
                let mut existing = (!overridden).then_some((path, Cow::Owned(value)));
                for (change_path, change_value) in changes {
                    if let Some(value) = change_value {
                        if existing.as_ref().is_some_and(|(p, _)| p < change_path) {
                            items.push(existing.take().expect("checked"));
                        }
                        items.push((*change_path, Cow::Borrowed(*value)));
                    }
                }
                items.extend(existing);
                self.build(depth, &items)
            }
            TreeNode::Interior { left, right } => {
                let split = changes.partition_point(|(path, _)| !path.bit(depth));
                let (left_changes, right_changes) = changes.split_at(split);
                let (new_left, new_right) =
                    if depth < self.split_depth && changes.len() >= PARALLEL_MIN_CHANGES {
                        self.update_both_in_parallel(
                            depth + 1,
                            (left, left_changes),
                            (right, right_changes),
                        )?
                    } else {
                        (
                            self.update(left, depth + 1, left_changes)?,
                            self.update(right, depth + 1, right_changes)?,
                        )
                    };
                self.join(new_left, new_right)
            }
        }
    }

    /// Updates two sibling subtrees at `depth`, the left one on a thread of its own.
    fn update_both_in_parallel(
        &mut self,
        depth: usize,
        (left, left_changes): (Hash, &[PathChange<'_>]),
        (right, right_changes): (Hash, &[PathChange<'_>]),
    ) -> Result<(Subtree, Subtree), TreeError> {
        let mut left_updater = Updater {
            source: self.source,
            new_nodes: Vec::new(),
            split_depth: self.split_depth,
        };
        let (new_left, new_right) = std::thread::scope(|scope| {
            let left_thread = scope.spawn(|| left_updater.update(left, depth, left_changes));
            let new_right = self.update(right, depth, right_changes);
            let new_left = left_thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (new_left, new_right)
        });
        self.new_nodes.append(&mut left_updater.new_nodes);
        Ok((new_left?, new_right?))
    }

    /// Joins two updated children, collapsing a lone leaf upwards.
    fn join(&mut self, left: Subtree, right: Subtree) -> Result<Subtree, TreeError> {
        let lone = match (&left, &right) {
            (Subtree::Empty, Subtree::Empty) => return Ok(Subtree::Empty),
            (Subtree::Empty, other) | (other, Subtree::Empty) => Some(other),
            _ => None,
        };
        if let Some(lone) = lone {
            let is_leaf = match lone {
                Subtree::Leaf(_) => true,
                Subtree::Interior(_) | Subtree::Empty => false,
                Subtree::Unchanged(hash) => {
                    matches!(self.source.node(hash)?, TreeNode::Leaf { .. })
                }
            };
            if is_leaf {
                return Ok(Subtree::Leaf(lone.hash()));
            }
        }
        let hash = self.store(TreeNode::Interior {
            left: left.hash(),
            right: right.hash(),
        });
        Ok(Subtree::Interior(hash))
    }

    /// Builds the canonical subtree of `items` (sorted by path) at `depth`.
    fn build(
        &mut self,
        depth: usize,
        items: &[(Hash, Cow<'_, [u8]>)],
    ) -> Result<Subtree, TreeError> {
        match items {
            [] => Ok(Subtree::Empty),
            [(path, value)] => Ok(Subtree::Leaf(self.store(TreeNode::Leaf {
                path: *path,
                value: value.to_vec(),
            }))),
            _ => {
                if depth > 255 {
                    return Err(TreeError::PathCollision);
                }
                let split = items.partition_point(|(path, _)| !path.bit(depth));
                let left = self.build(depth + 1, &items[..split])?;
                let right = self.build(depth + 1, &items[split..])?;
                let hash = self.store(TreeNode::Interior {
                    left: left.hash(),
                    right: right.hash(),
                });
                Ok(Subtree::Interior(hash))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use salus_primitives::state_proof::ProofError;

    use super::*;

    fn path(i: u32) -> Hash {
        keccak256(&i.to_le_bytes())
    }

    /// Applies changes to an in-memory node map, returning the new root.
    fn commit(
        nodes: &mut HashMap<Hash, Vec<u8>>,
        root: Hash,
        changes: &BTreeMap<Hash, Option<Vec<u8>>>,
    ) -> Hash {
        let list: Vec<PathChange<'_>> = changes.iter().map(|(p, v)| (*p, v.as_deref())).collect();
        let update = apply(nodes, &root, &list).unwrap();
        nodes.extend(update.new_nodes);
        update.root
    }

    /// The root of a key set built from scratch.
    fn fresh_root(contents: &BTreeMap<Hash, Vec<u8>>) -> Hash {
        let mut nodes = HashMap::new();
        let changes = contents
            .iter()
            .map(|(p, v)| (*p, Some(v.clone())))
            .collect();
        commit(&mut nodes, EMPTY_SUBTREE, &changes)
    }

    #[test]
    fn root_depends_only_on_contents_not_history() {
        let mut nodes = HashMap::new();
        let mut contents = BTreeMap::new();
        let mut root = EMPTY_SUBTREE;
        // Insert 200 keys in batches, delete some, overwrite some.
        for batch in 0..10u32 {
            let mut changes = BTreeMap::new();
            for i in batch * 20..batch * 20 + 20 {
                changes.insert(path(i), Some(vec![i as u8; 3]));
                contents.insert(path(i), vec![i as u8; 3]);
            }
            if batch > 0 {
                let deleted = path(batch * 7);
                changes.insert(deleted, None);
                contents.remove(&deleted);
                changes.insert(path(batch), Some(b"over".to_vec()));
                contents.insert(path(batch), b"over".to_vec());
            }
            root = commit(&mut nodes, root, &changes);
            assert_eq!(root, fresh_root(&contents), "batch {batch}");
        }
        // Delete everything: back to the empty root.
        let all = contents.keys().map(|p| (*p, None)).collect();
        assert_eq!(commit(&mut nodes, root, &all), EMPTY_SUBTREE);
    }

    #[test]
    fn old_roots_stay_readable() {
        let mut nodes = HashMap::new();
        let first = commit(
            &mut nodes,
            EMPTY_SUBTREE,
            &[(path(1), Some(b"a".to_vec()))].into(),
        );
        let second = commit(&mut nodes, first, &[(path(1), Some(b"b".to_vec()))].into());
        let fork = commit(&mut nodes, first, &[(path(1), Some(b"c".to_vec()))].into());
        assert_eq!(get(&nodes, &first, &path(1)).unwrap(), Some(b"a".to_vec()));
        assert_eq!(get(&nodes, &second, &path(1)).unwrap(), Some(b"b".to_vec()));
        assert_eq!(get(&nodes, &fork, &path(1)).unwrap(), Some(b"c".to_vec()));
        assert_eq!(get(&nodes, &second, &path(2)).unwrap(), None);
    }

    #[test]
    fn proofs_verify_for_present_and_absent_keys_and_fail_when_tampered() {
        let mut nodes = HashMap::new();
        let changes = (0..100u32)
            .map(|i| (path(i), Some(vec![i as u8])))
            .collect();
        let root = commit(&mut nodes, EMPTY_SUBTREE, &changes);
        for i in 0..100u32 {
            let (proof, value) = prove(&nodes, &root, &path(i)).unwrap();
            assert_eq!(value, Some(vec![i as u8]));
            proof.verify(&root, &path(i), Some(&[i as u8])).unwrap();
            assert_eq!(
                proof.verify(&root, &path(i), Some(&[i as u8 ^ 1])),
                Err(ProofError::ValueMismatch)
            );
            assert_eq!(
                proof.verify(&root, &path(i), None),
                Err(ProofError::KeyPresent)
            );
            let mut other_root = root;
            other_root.0[0] ^= 1;
            assert_eq!(
                proof.verify(&other_root, &path(i), Some(&[i as u8])),
                Err(ProofError::RootMismatch)
            );
            let mut tampered = proof.clone();
            if let Some(sibling) = tampered.siblings.first_mut() {
                sibling.0[5] ^= 1;
            }
            assert_eq!(
                tampered.verify(&root, &path(i), Some(&[i as u8])),
                Err(ProofError::RootMismatch)
            );
        }
        for i in 100..200u32 {
            let (proof, value) = prove(&nodes, &root, &path(i)).unwrap();
            assert_eq!(value, None);
            proof.verify(&root, &path(i), None).unwrap();
            assert_eq!(
                proof.verify(&root, &path(i), Some(b"x")),
                Err(ProofError::KeyAbsent)
            );
        }
        // The empty tree proves every key absent.
        let (proof, _) = prove(&nodes, &EMPTY_SUBTREE, &path(1)).unwrap();
        proof.verify(&EMPTY_SUBTREE, &path(1), None).unwrap();
    }

    #[test]
    fn an_exclusion_proof_cannot_be_forged_from_another_keys_leaf() {
        let mut nodes = HashMap::new();
        let changes = (0..8u32).map(|i| (path(i), Some(vec![i as u8]))).collect();
        let root = commit(&mut nodes, EMPTY_SUBTREE, &changes);
        // Take key 0's inclusion proof and claim it proves key 1 absent.
        let (proof, _) = prove(&nodes, &root, &path(0)).unwrap();
        let result = proof.verify(&root, &path(1), None);
        assert!(result.is_err(), "forged exclusion accepted");
    }

    #[test]
    fn leaves_visit_in_path_order() {
        let mut nodes = HashMap::new();
        let changes: BTreeMap<_, _> = (0..50u32).map(|i| (path(i), Some(vec![i as u8]))).collect();
        let root = commit(&mut nodes, EMPTY_SUBTREE, &changes);
        let mut seen = Vec::new();
        for_each_leaf(&nodes, &root, &mut |p, _| {
            seen.push(*p);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, changes.keys().copied().collect::<Vec<_>>());
    }

    #[test]
    fn an_update_on_several_threads_equals_the_serial_one() {
        let mut nodes = HashMap::new();
        let initial: BTreeMap<Hash, Option<Vec<u8>>> = (0..5_000u32)
            .map(|i| (path(i), Some(vec![i as u8; 4])))
            .collect();
        let root = commit(&mut nodes, EMPTY_SUBTREE, &initial);
        // Overwrites, inserts and deletions, enough for every split to run in parallel.
        let changes: BTreeMap<Hash, Option<Vec<u8>>> = (0..3_000u32)
            .map(|i| (path(i * 2), (i % 3 != 0).then(|| vec![7; 5])))
            .chain((10_000..11_000u32).map(|i| (path(i), Some(vec![1; 3]))))
            .collect();
        let list: Vec<PathChange<'_>> = changes.iter().map(|(p, v)| (*p, v.as_deref())).collect();
        let serial = apply(&nodes, &root, &list).unwrap();
        for threads in [2, 3, 4, 8] {
            let parallel = apply_on_threads(&nodes, &root, &list, threads).unwrap();
            assert_eq!(parallel.root, serial.root, "{threads} threads");
            let sorted = |update: &TreeUpdate| {
                let mut new_nodes = update.new_nodes.clone();
                new_nodes.sort();
                new_nodes
            };
            assert_eq!(sorted(&parallel), sorted(&serial), "{threads} threads");
        }
    }

    #[test]
    fn unsorted_changes_are_refused() {
        let nodes = HashMap::new();
        let (a, b) = (path(1).min(path(2)), path(1).max(path(2)));
        assert!(matches!(
            apply(&nodes, &EMPTY_SUBTREE, &[(b, Some(b"1")), (a, Some(b"2"))]),
            Err(TreeError::PathCollision)
        ));
    }
}
