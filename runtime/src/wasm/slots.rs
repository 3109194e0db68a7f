//! Execution slots: the pooling allocator's instances divided between consensus execution and
//! dry runs, so that no number of dry runs can leave a block without the instances it needs.
//!
//! The engine's pool holds [`MAX_CONCURRENT_EXECUTIONS`] full call stacks of instances
//! (`MAX_CALL_DEPTH + 1` each). Every top-level execution holds one slot — one full stack — for
//! its duration, so the pool cannot run out while every execution holds a slot. The slots are
//! split: [`CONSENSUS_SLOTS`] for block building and import (which wait for a free one, since a
//! block must run) and [`DRY_RUN_SLOTS`] for dry runs (which wait a bounded time, then give up
//! with [`SlotBusy`]). Before this split, 24 concurrent dry runs held every instance and a mined
//! transaction's instantiation failed into its receipt: a fork by RPC load.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::limits::MAX_CONCURRENT_EXECUTIONS;

/// Slots reserved for consensus execution: the block thread (building), block import, and
/// `verify-chain` or a test harness beside them, with one to spare.
pub const CONSENSUS_SLOTS: u32 = 4;

/// Slots for dry runs: the rest of the pool.
pub const DRY_RUN_SLOTS: u32 = MAX_CONCURRENT_EXECUTIONS - CONSENSUS_SLOTS;

const _: () = assert!(DRY_RUN_SLOTS > 0 && CONSENSUS_SLOTS > 0);

/// Every dry-run slot stayed taken for the whole wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every dry-run execution slot is busy; try again")]
pub struct SlotBusy;

/// A counting semaphore over execution slots.
pub(crate) struct SlotPool {
    free: Mutex<u32>,
    returned: Condvar,
}

/// One taken slot; dropping it returns the slot.
pub(crate) struct Slot<'a> {
    pool: &'a SlotPool,
}

impl SlotPool {
    pub(crate) const fn new(slots: u32) -> Self {
        SlotPool {
            free: Mutex::new(slots),
            returned: Condvar::new(),
        }
    }

    /// Takes a slot, waiting as long as it takes.
    pub(crate) fn take(&self) -> Slot<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self
                .returned
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Slot { pool: self }
    }

    /// Takes a slot, waiting at most `patience`.
    pub(crate) fn take_within(&self, patience: Duration) -> Result<Slot<'_>, SlotBusy> {
        let deadline = Instant::now() + patience;
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            let now = Instant::now();
            if now >= deadline {
                return Err(SlotBusy);
            }
            free = self
                .returned
                .wait_timeout(free, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *free -= 1;
        Ok(Slot { pool: self })
    }

    /// Slots free now.
    pub(crate) fn free(&self) -> u32 {
        *self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self
            .pool
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        self.pool.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_pool_makes_a_patient_taker_give_up_and_a_returned_slot_is_free_again() {
        let pool = SlotPool::new(1);
        let held = pool.take();
        assert_eq!(pool.free(), 0);
        assert_eq!(
            pool.take_within(Duration::from_millis(1)).err(),
            Some(SlotBusy)
        );
        drop(held);
        assert_eq!(pool.free(), 1);
        let again = pool.take_within(Duration::ZERO);
        assert!(again.is_ok());
    }

    #[test]
    fn a_waiting_taker_gets_the_slot_when_it_is_returned() {
        let pool = SlotPool::new(1);
        let held = pool.take();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let _slot = pool.take();
            });
            drop(held);
            waiter.join().expect("the waiter finishes");
        });
        assert_eq!(pool.free(), 1);
    }
}
