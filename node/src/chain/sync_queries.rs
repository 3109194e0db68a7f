//! The chain's answers to a syncing peer: a block locator of the canonical chain, the canonical
//! headers after a peer's locator, and block bodies by hash; and what this node's own sync
//! checks headers against (`header_context`). Each is bounded by the caller (the
//! sync protocol's limits) and reads the store under the chain's lock, so it sees one head.

use parity_scale_codec::Encode;
use salus_primitives::{BlockHeader, Hash, SignedTransaction};

use super::Chain;
use super::validation::HeaderContext;
use crate::storage::BlockStatus;

/// The locator holds every one of this many newest blocks before its steps start doubling.
const DENSE_LOCATOR_HASHES: usize = 10;

impl Chain {
    /// Block locator of the canonical chain: the ten newest hashes, then exponentially sparser,
    /// then genesis; at most `max_hashes`.
    pub fn locator(&self, max_hashes: usize) -> Vec<Hash> {
        let head = self.head().header.number;
        let mut numbers = Vec::new();
        let mut step = 1u64;
        let mut number = head;
        loop {
            numbers.push(number);
            if number == 0 {
                break;
            }
            if numbers.len() >= DENSE_LOCATOR_HASHES {
                step = step.saturating_mul(2);
            }
            number = number.saturating_sub(step);
        }
        numbers
            .into_iter()
            .filter_map(|number| self.store().canonical_hash(number).ok().flatten())
            .take(max_hashes)
            .collect()
    }

    /// Canonical headers after the first locator hash on our canonical chain (after genesis
    /// when none is), at most `max`.
    pub fn headers_after(&self, locator: &[Hash], max: u32) -> Vec<BlockHeader> {
        let store = self.store();
        let fork_point = locator
            .iter()
            .find_map(|hash| {
                let header = store.header(hash).ok().flatten()?;
                (store.canonical_hash(header.number).ok().flatten() == Some(*hash))
                    .then_some(header.number)
            })
            .unwrap_or(0);
        (fork_point + 1..=self.head().header.number)
            .take(max as usize)
            .map_while(|number| {
                let hash = store.canonical_hash(number).ok().flatten()?;
                store.header(&hash).ok().flatten()
            })
            .collect()
    }

    /// The context to check headers after the stored block `parent` against: its header, the
    /// timestamps of it and up to ten ancestors, its total work. `None` when it is not stored or
    /// known invalid.
    pub fn header_context(&self, parent: &Hash) -> Option<HeaderContext> {
        let meta = self.store().block_meta(parent).ok().flatten()?;
        if matches!(meta.status, BlockStatus::Invalid(_)) {
            return None;
        }
        let header = self.header(parent).ok()?;
        let timestamps = self.recent_timestamps(&header).ok()?;
        Some(HeaderContext {
            parent: header,
            timestamps: timestamps.into(),
            total_work: meta.total_work,
        })
    }

    /// Bodies of the given blocks, in order, stopping at the first unknown one or before
    /// `byte_limit` encoded bytes (the first body is always given).
    pub fn bodies(&self, hashes: &[Hash], byte_limit: usize) -> Vec<Vec<SignedTransaction>> {
        let mut bodies = Vec::new();
        let mut bytes = 0;
        for hash in hashes {
            let Ok(Some(body)) = self.store().body(hash) else {
                break;
            };
            bytes += body.encoded_size();
            if bytes > byte_limit && !bodies.is_empty() {
                break;
            }
            bodies.push(body);
        }
        bodies
    }
}
