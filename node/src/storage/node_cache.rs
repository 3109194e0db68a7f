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
    /// Encoded bytes of the nodes held.
    bytes: u64,
    /// Lookups answered, counted under the shard's lock so that threads do not contend on a
    /// shared counter.
    hits: u64,
    /// Lookups not answered.
    misses: u64,
}

/// Lookups since the cache was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeCacheStats {
    /// Lookups that found their node.
    pub hits: u64,
    /// Lookups that had to read the node from RocksDB.
    pub misses: u64,
    /// Encoded bytes of the nodes held now.
    pub bytes: u64,
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
        let mut shard = self.shard(hash);
        let found = shard.nodes.get(hash).cloned();
        if found.is_some() {
            shard.hits += 1;
        } else {
            shard.misses += 1;
        }
        found
    }

    /// Lookups so far and bytes held now, over all shards.
    pub fn stats(&self) -> NodeCacheStats {
        self.shards
            .iter()
            .fold(NodeCacheStats::default(), |total, shard| {
                let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
                NodeCacheStats {
                    hits: total.hits + shard.hits,
                    misses: total.misses + shard.misses,
                    bytes: total.bytes + shard.bytes,
                }
            })
    }

    /// Caches nodes.
    pub fn insert_all(&self, nodes: impl IntoIterator<Item = (Hash, Vec<u8>)>) {
        for (hash, bytes) in nodes {
            let mut shard = self.shard(&hash);
            let added = bytes.len() as u64;
            match shard.nodes.insert(hash, bytes) {
                Some(replaced) => shard.bytes -= replaced.len() as u64,
                None => shard.order.push_back(hash),
            }
            shard.bytes += added;
            while shard.nodes.len() > MAX_CACHED_NODES / SHARDS {
                let Some(oldest) = shard.order.pop_front() else {
                    break;
                };
                if let Some(evicted) = shard.nodes.remove(&oldest) {
                    shard.bytes -= evicted.len() as u64;
                }
            }
        }
    }
}
