//! A bounded pool of blocks whose parent is not yet known, released when the parent arrives. The
//! blocks are kept as they were received, with their transactions' hashes, so that connecting
//! them later computes nothing again. The pool is bounded in blocks and bytes, and per sender,
//! so that one peer's orphans cannot push out everyone else's.

use std::collections::{BTreeMap, VecDeque};

use salus_primitives::Hash;

use super::ReceivedBlock;

/// Most blocks held while their parents are missing. A syncing node receives blocks roughly in
/// order, so a few hundred cover any realistic gap; the bound stops a peer from filling memory
/// with unconnectable (but proof-of-work-valid) blocks.
pub const MAX_ORPHAN_BLOCKS: usize = 256;

/// Most bytes of orphan blocks held: 16 maximal block bodies.
pub const MAX_ORPHAN_BYTES: usize = 64 * 1024 * 1024;

/// Most orphans held from one sender: a peer relaying heads as it learns them is rarely more
/// than a few blocks ahead of what we have, so 32 cover a burst; beyond, its own oldest orphan
/// makes room, never another peer's.
pub const MAX_ORPHANS_PER_ORIGIN: usize = 32;

/// Blocks waiting for their parent, oldest evicted first.
#[derive(Default)]
pub struct OrphanPool {
    blocks: BTreeMap<Hash, (ReceivedBlock, usize)>,
    children: BTreeMap<Hash, Vec<Hash>>,
    arrival: VecDeque<Hash>,
    /// Each sender's orphans, oldest first.
    by_origin: BTreeMap<u64, VecDeque<Hash>>,
    bytes: usize,
}

impl OrphanPool {
    /// Whether the block is held.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.blocks.contains_key(hash)
    }

    /// Number of blocks held.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Holds `block` until its parent arrives, evicting the oldest blocks beyond the bounds.
    pub fn insert(&mut self, block: ReceivedBlock) {
        let hash = block.hash();
        if self.blocks.contains_key(&hash) {
            return;
        }
        let size = block.encoded_size();
        if let Some(origin) = block.origin {
            let held = self.by_origin.entry(origin).or_default();
            held.push_back(hash);
            let oldest = (held.len() > MAX_ORPHANS_PER_ORIGIN)
                .then(|| held.pop_front())
                .flatten();
            if let Some(oldest) = oldest {
                self.remove(&oldest);
            }
        }
        self.children
            .entry(block.header().parent_hash)
            .or_default()
            .push(hash);
        self.blocks.insert(hash, (block, size));
        self.arrival.push_back(hash);
        self.bytes += size;
        while self.blocks.len() > MAX_ORPHAN_BLOCKS || self.bytes > MAX_ORPHAN_BYTES {
            let Some(oldest) = self.arrival.pop_front() else {
                break;
            };
            self.remove(&oldest);
        }
    }

    /// Removes and returns the blocks whose parent is `parent`.
    pub fn take_children(&mut self, parent: &Hash) -> Vec<ReceivedBlock> {
        let hashes = self.children.remove(parent).unwrap_or_default();
        hashes.iter().filter_map(|hash| self.remove(hash)).collect()
    }

    fn remove(&mut self, hash: &Hash) -> Option<ReceivedBlock> {
        let (block, size) = self.blocks.remove(hash)?;
        self.bytes -= size;
        let parent = block.header().parent_hash;
        if let Some(siblings) = self.children.get_mut(&parent) {
            siblings.retain(|sibling| sibling != hash);
            if siblings.is_empty() {
                self.children.remove(&parent);
            }
        }
        self.arrival.retain(|queued| queued != hash);
        if let Some(origin) = block.origin
            && let Some(held) = self.by_origin.get_mut(&origin)
        {
            held.retain(|queued| queued != hash);
            if held.is_empty() {
                self.by_origin.remove(&origin);
            }
        }
        Some(block)
    }
}
