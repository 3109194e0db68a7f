//! The gateway's memory of recent request nonces: a request is answered once. Bounded in time
//! (a nonce is remembered as long as its request could still pass the freshness check) and in
//! size (a full cache refuses new requests rather than forget a nonce that could be replayed).

use std::collections::{BTreeSet, HashMap};

use salus_primitives::Address;

/// Why a nonce is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// This requester's nonce was seen within the window.
    #[error("the request was already answered (its nonce was seen)")]
    Replayed,
    /// The cache holds as many live nonces as it may.
    #[error("too many requests within the freshness window; try again later")]
    Full,
}

/// Recent `(requester, nonce)` pairs, each kept until its request's time is outside the
/// freshness window of the clock at the time of a later check.
#[derive(Debug)]
pub struct NonceCache {
    /// How far a request's time may be from the gateway's clock.
    window_ms: u64,
    /// Most pairs held at once.
    capacity: usize,
    /// Pair → the request's time.
    seen: HashMap<(Address, [u8; 16]), u64>,
    /// (request time, pair), to drop the expired ones in time order.
    by_time: BTreeSet<(u64, Address, [u8; 16])>,
}

impl NonceCache {
    /// A cache for requests within `window_ms` of the clock, holding at most `capacity`.
    pub fn new(window_ms: u64, capacity: usize) -> NonceCache {
        NonceCache {
            window_ms,
            capacity,
            seen: HashMap::new(),
            by_time: BTreeSet::new(),
        }
    }

    /// Remembers `nonce` of `requester` for a request made at `time_ms`, checked at `now_ms`
    /// (the caller has already refused a request outside the window).
    ///
    /// # Errors
    /// [`NonceError::Replayed`] if it was seen; [`NonceError::Full`] if the cache is full of
    /// nonces still within the window.
    pub fn check_and_insert(
        &mut self,
        requester: Address,
        nonce: [u8; 16],
        time_ms: u64,
        now_ms: u64,
    ) -> Result<(), NonceError> {
        self.expire(now_ms);
        if self.seen.contains_key(&(requester, nonce)) {
            return Err(NonceError::Replayed);
        }
        if self.seen.len() >= self.capacity {
            return Err(NonceError::Full);
        }
        self.seen.insert((requester, nonce), time_ms);
        self.by_time.insert((time_ms, requester, nonce));
        Ok(())
    }

    /// Pairs held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Forgets requests made before `now_ms - window_ms`: they are refused as stale anyway.
    fn expire(&mut self, now_ms: u64) {
        let oldest_fresh = now_ms.saturating_sub(self.window_ms);
        while let Some(&(time_ms, requester, nonce)) = self.by_time.first() {
            if time_ms >= oldest_fresh {
                break;
            }
            self.by_time.pop_first();
            self.seen.remove(&(requester, nonce));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_accepted_once_per_requester_until_its_request_is_stale() {
        let mut cache = NonceCache::new(1_000, 10);
        let (alice, bob) = (Address([1; 20]), Address([2; 20]));
        assert_eq!(cache.check_and_insert(alice, [7; 16], 5_000, 5_000), Ok(()));
        assert_eq!(
            cache.check_and_insert(alice, [7; 16], 5_000, 5_500),
            Err(NonceError::Replayed)
        );
        assert_eq!(cache.check_and_insert(bob, [7; 16], 5_000, 5_500), Ok(()));
        // Past the window the request itself is stale; the cache forgets it.
        assert_eq!(cache.check_and_insert(alice, [8; 16], 6_100, 6_100), Ok(()));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_cache_refuses_rather_than_forgets_a_live_nonce() {
        let mut cache = NonceCache::new(1_000, 2);
        let alice = Address([1; 20]);
        assert_eq!(cache.check_and_insert(alice, [1; 16], 5_000, 5_000), Ok(()));
        assert_eq!(cache.check_and_insert(alice, [2; 16], 5_000, 5_000), Ok(()));
        assert_eq!(
            cache.check_and_insert(alice, [3; 16], 5_000, 5_000),
            Err(NonceError::Full)
        );
        assert_eq!(
            cache.check_and_insert(alice, [1; 16], 5_000, 5_000),
            Err(NonceError::Replayed)
        );
        assert_eq!(cache.check_and_insert(alice, [3; 16], 5_000, 6_001), Ok(()));
    }
}
