//! The bound on distinct contract codes one block loads: a call that would load one more fails
//! (top-level or nested), the block's codes already loaded stay callable, and a new block starts
//! with none.

use salus_primitives::{Address, ExecutionStatus};
use salus_runtime::Overlay;
use salus_runtime::limits::MAX_CODES_LOADED_PER_BLOCK;

use crate::harness::Harness;
use crate::modules::{relay, tagged_counter};

/// Deploys `count` counters with distinct codes.
fn deploy_counters(harness: &mut Harness, count: usize) -> Vec<Address> {
    (0..count)
        .map(|tag| harness.deploy(&tagged_counter(tag), tag as u8))
        .collect()
}

/// Starts a new block over everything committed so far: no codes loaded yet.
fn next_block(harness: &mut Harness) {
    harness.overlay = Overlay::new(harness.snapshot_state());
}

fn assert_refused(status: &ExecutionStatus) {
    assert_eq!(
        status,
        &ExecutionStatus::Invalid {
            reason: salus_primitives::InvalidReason::CodeLoadLimit
        }
    );
}

#[test]
fn a_block_loads_at_most_its_bound_of_distinct_codes() {
    let mut harness = Harness::new();
    let counters = deploy_counters(&mut harness, MAX_CODES_LOADED_PER_BLOCK + 1);
    next_block(&mut harness);
    for counter in &counters[..MAX_CODES_LOADED_PER_BLOCK] {
        let outcome = harness.call(*counter, Vec::new());
        assert_eq!(outcome.status, ExecutionStatus::Success);
    }
    // One code more: refused before anything runs, charging nothing beyond intrinsic fuel.
    let last = counters[MAX_CODES_LOADED_PER_BLOCK];
    let refused = harness.call(last, Vec::new());
    assert_refused(&refused.status);
    assert_eq!(refused.fuel_used, 0);
    assert_eq!(harness.storage(last, b"count"), None);
    // Codes the block already loaded are still callable.
    let again = harness.call(counters[0], Vec::new());
    assert_eq!(again.return_data, 2u64.to_le_bytes());
    // The next block starts afresh.
    next_block(&mut harness);
    let next = harness.call(last, Vec::new());
    assert_eq!(next.return_data, 1u64.to_le_bytes());
}

#[test]
fn a_nested_call_past_the_bound_fails_the_whole_transaction() {
    let mut harness = Harness::new();
    let counters = deploy_counters(&mut harness, MAX_CODES_LOADED_PER_BLOCK);
    let relay = harness.deploy(&relay(false), 200);
    next_block(&mut harness);
    // The relay and all but the last counter: the block's bound, reached.
    for counter in &counters[..MAX_CODES_LOADED_PER_BLOCK - 1] {
        assert!(harness.call(*counter, Vec::new()).status.is_success());
    }
    assert!(
        harness
            .call(relay, counters[0].0.to_vec())
            .status
            .is_success()
    );
    // Through the relay to the last counter: a 65th code. The relay would carry on after a
    // failed call, but the refusal fails the transaction itself, and nothing it did is kept.
    let last = *counters.last().expect("counters");
    let refused = harness.call(relay, last.0.to_vec());
    assert_refused(&refused.status);
    assert!(refused.fuel_used > 0, "the relay ran and pays for it");
    assert!(refused.events.is_empty());
    assert_eq!(harness.storage(last, b"count"), None);
    // The relay can still reach a code the block already loaded.
    let fine = harness.call(relay, counters[1].0.to_vec());
    assert!(fine.status.is_success());
}
