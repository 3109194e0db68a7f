//! A bounded in-memory cache of state-tree nodes. Nodes are content-addressed (stored under
//! their own hash and never changed), so a cached node can never be stale; the cache only saves
//! RocksDB lookups, which dominate tree updates (the upper levels are read by every update).
//! Sharded by hash so that a tree update running on several threads does not queue on one lock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use salus_primitives::Hash;

/// Nodes kept: the top ~17 levels of a tree of a million keys fit, at about 100 bytes each
/// (~40 MB).
pub const MAX_CACHED_NODES: usize = 400_000;

/// Independently locked parts of the cache, chosen by a node hash's first byte.
const SHARDS: usize = 16;

/// Recently read or written nodes, oldest evicted first within each shard.
pub struct NodeCache {
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Default)]
struct Shard {
    nodes: HashMap<Hash, Vec<u8>>,
    order: VecDeque<Hash>,
}

impl Default for NodeCache {
    fn default() -> Self {
        NodeCache {
            shards: std::array::from_fn(|_| Mutex::default()),
        }
    }
}

impl NodeCache {
    fn shard(&self, hash: &Hash) -> std::sync::MutexGuard<'_, Shard> {
        self.shards[usize::from(hash.0[0]) % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The node stored under `hash`, if cached.
    pub fn get(&self, hash: &Hash) -> Option<Vec<u8>> {
        self.shard(hash).nodes.get(hash).cloned()
    }

    /// Caches nodes.
    pub fn insert_all(&self, nodes: impl IntoIterator<Item = (Hash, Vec<u8>)>) {
        for (hash, bytes) in nodes {
            let mut shard = self.shard(&hash);
            if shard.nodes.insert(hash, bytes).is_none() {
                shard.order.push_back(hash);
            }
            while shard.nodes.len() > MAX_CACHED_NODES / SHARDS {
                let Some(oldest) = shard.order.pop_front() else {
                    break;
                };
                shard.nodes.remove(&oldest);
            }
        }
    }
}
