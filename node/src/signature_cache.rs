//! A bounded cache of verified transaction signatures, filled at mempool admission and read by
//! block import so that a transaction's signature is recovered once per node, not twice.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use salus_primitives::Hash;
use salus_primitives::transaction::Signers;
use salus_runtime::SignatureCache;

/// Most cached entries: several full blocks of minimal transfers.
pub const MAX_CACHED_SIGNATURES: usize = 100_000;

/// Verified signers by transaction hash; the oldest entries are evicted first.
#[derive(Default)]
pub struct VerifiedSignatures {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    entries: HashMap<Hash, Signers>,
    order: VecDeque<Hash>,
}

impl VerifiedSignatures {
    /// Number of cached entries.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entries
            .len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SignatureCache for VerifiedSignatures {
    fn get(&self, transaction_hash: &Hash) -> Option<Signers> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entries
            .get(transaction_hash)
            .copied()
    }

    fn insert(&self, hash: Hash, signers: Signers) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.entries.insert(hash, signers).is_none() {
            inner.order.push_back(hash);
        }
        while inner.entries.len() > MAX_CACHED_SIGNATURES {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            inner.entries.remove(&oldest);
        }
    }
}
