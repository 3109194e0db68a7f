//! A bounded in-memory cache of state-tree nodes. Nodes are content-addressed (stored under
//! their own hash and never changed), so a cached node can never be stale; the cache only saves
//! RocksDB lookups, which dominate tree updates (the upper levels are read by every update).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use salus_primitives::Hash;

/// Nodes kept: the top ~17 levels of a tree of a million keys fit, at about 100 bytes each
/// (~40 MB).
pub const MAX_CACHED_NODES: usize = 400_000;

/// Recently read or written nodes, oldest evicted first.
#[derive(Default)]
pub struct NodeCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    nodes: HashMap<Hash, Vec<u8>>,
    order: VecDeque<Hash>,
}

impl NodeCache {
    /// The node stored under `hash`, if cached.
    pub fn get(&self, hash: &Hash) -> Option<Vec<u8>> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .nodes
            .get(hash)
            .cloned()
    }

    /// Caches nodes.
    pub fn insert_all<'a>(&self, nodes: impl IntoIterator<Item = (&'a Hash, &'a Vec<u8>)>) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for (hash, bytes) in nodes {
            if inner.nodes.insert(*hash, bytes.clone()).is_none() {
                inner.order.push_back(*hash);
            }
        }
        while inner.nodes.len() > MAX_CACHED_NODES {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.nodes.remove(&oldest);
        }
    }
}
