//! Reads the state-tree paths of the keys a block writes into the node cache on a helper thread
//! while the block executes, so that the tree update after execution finds those nodes in memory
//! instead of reading them from RocksDB one after another on the block's critical path. On a
//! tree larger than the cache (a supply chain commissioning units), the lower levels of every
//! rewritten path are otherwise read cold there. (A deletion that leaves a lone leaf also reads
//! that leaf's sibling to move it up; the warmer does not foresee that one read.)
//!
//! Warming changes no result: nodes are content-addressed, so a cached node is the stored one.
//! It only decides when, and on which core, a node is first read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use salus_primitives::Hash;
use salus_primitives::state_key::tree_path_of;
use salus_runtime::state::Entry;
use salus_runtime::{SharedState, State, StateError};

use crate::state_tree;
use crate::storage::Store;

/// A helper thread reading, under one root, the tree path of every key it is told of.
/// Dropping it stops the thread (after the path it is reading) and waits for it.
pub(crate) struct PathWarmer {
    /// Keys to warm; `None` wakes the thread to stop.
    keys: mpsc::Sender<Option<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PathWarmer {
    /// Starts warming paths under `root`, and returns the state a block built or imported on
    /// that root should execute over: the store's flat state, whose write hints
    /// ([`State::will_write`]) feed the warmer. If no thread can be started, the block executes
    /// over the plain store, unwarmed.
    pub(crate) fn start(store: &Store, root: Hash) -> (PathWarmer, SharedState) {
        let (keys, queue) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let spawned = {
            let store = store.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("tree-warmer".into())
                .spawn(move || warm_paths(&store, &root, &queue, &stop))
        };
        let (thread, state): (_, SharedState) = match spawned {
            Ok(thread) => (
                Some(thread),
                Arc::new(WarmingState {
                    store: store.clone(),
                    keys: keys.clone(),
                }),
            ),
            Err(error) => {
                tracing::warn!(%error, "could not start the state-tree warmer; executing unwarmed");
                (None, Arc::new(store.clone()))
            }
        };
        let warmer = PathWarmer { keys, stop, thread };
        (warmer, state)
    }

    /// Waits until every key given so far is warmed, then stops (for tests: [`PathWarmer::stop`]
    /// does not wait).
    #[cfg(test)]
    fn finish_after_queued(mut self) {
        let _ = self.keys.send(None);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the warmer does not panic");
        }
    }

    /// Stops warming: the tree update is about to start, and reads what is still cold itself
    /// (on every core) rather than compete with this thread for the same nodes.
    pub(crate) fn stop(self) {
        drop(self);
    }
}

impl Drop for PathWarmer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The thread may be waiting for a key: wake it. (It may also have ended already.)
        let _ = self.keys.send(None);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the state-tree warmer panicked");
        }
    }
}

/// The warmer's loop: until told to stop, read the tree path of each key into the cache.
fn warm_paths(
    store: &Store,
    root: &Hash,
    queue: &mpsc::Receiver<Option<Vec<u8>>>,
    stop: &AtomicBool,
) {
    while let Ok(Some(key)) = queue.recv() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // A node that cannot be read is the tree update's to report; warming only saves it work.
        let _ = state_tree::get(store, root, &tree_path_of(&key));
    }
}

/// The store's flat state, telling a [`PathWarmer`] of every key the block writes.
struct WarmingState {
    store: Store,
    keys: mpsc::Sender<Option<Vec<u8>>>,
}

impl State for WarmingState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.store.get(key)
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        self.store.next_entry(prefix, after)
    }

    fn will_write(&self, key: &[u8]) {
        // After the warmer stopped, a hint has no reader, and is dropped.
        let _ = self.keys.send(Some(key.to_vec()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_tree::PathChange;

    fn key(i: u32) -> Vec<u8> {
        format!("key {i}").into_bytes()
    }

    /// A store holding a tree of 4,096 keys, and its root.
    fn store_with_tree(dir: &std::path::Path) -> Hash {
        let store = Store::open(dir).unwrap();
        let values: Vec<(Hash, Vec<u8>)> = (0..4096)
            .map(|i| (tree_path_of(&key(i)), i.to_le_bytes().to_vec()))
            .collect();
        let mut changes: Vec<PathChange<'_>> = values
            .iter()
            .map(|(path, value)| (*path, Some(value.as_slice())))
            .collect();
        changes.sort_unstable_by_key(|change| change.0);
        let update = state_tree::apply(&store, &Hash::ZERO, &changes).unwrap();
        let mut batch = store.batch();
        batch.put_tree_nodes(update.new_nodes);
        store.write(batch).unwrap();
        update.root
    }

    /// Updates keys 0, 10, 20, … under `root` and returns how many node reads went to RocksDB.
    fn cold_reads_of_an_update(store: &Store, root: &Hash) -> u64 {
        let new_value = b"updated".to_vec();
        let mut changes: Vec<PathChange<'_>> = (0..4096)
            .step_by(10)
            .map(|i| (tree_path_of(&key(i)), Some(new_value.as_slice())))
            .collect();
        changes.sort_unstable_by_key(|change| change.0);
        let before = store.node_cache_stats().misses;
        state_tree::apply(store, root, &changes).unwrap();
        store.node_cache_stats().misses - before
    }

    #[test]
    fn a_warmed_update_reads_no_tree_node_from_rocksdb() {
        let dir = tempfile::tempdir().unwrap();
        let root = store_with_tree(dir.path());

        // Reopened, the store's node cache is empty: an unwarmed update reads its paths cold.
        let cold = Store::open(dir.path()).unwrap();
        assert!(cold_reads_of_an_update(&cold, &root) > 400);
        drop(cold);

        // Told of the keys a block writes, the warmer reads every node their update will need.
        let store = Store::open(dir.path()).unwrap();
        let (warmer, state) = PathWarmer::start(&store, root);
        for i in (0..4096).step_by(10) {
            state.will_write(&key(i));
        }
        warmer.finish_after_queued();
        assert!(store.node_cache_stats().misses > 400);
        assert_eq!(cold_reads_of_an_update(&store, &root), 0);
    }

    #[test]
    fn a_stopped_warmer_ignores_later_hints_and_reads_still_answer() {
        let dir = tempfile::tempdir().unwrap();
        let root = store_with_tree(dir.path());
        let store = Store::open(dir.path()).unwrap();
        let (warmer, state) = PathWarmer::start(&store, root);
        warmer.stop();
        let misses = store.node_cache_stats().misses;
        state.will_write(&key(1));
        assert_eq!(store.node_cache_stats().misses, misses);
        assert_eq!(state.get(b"no such key").unwrap(), None);
    }
}
