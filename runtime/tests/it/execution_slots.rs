//! Execution slots (issue 19): dry runs holding every dry-run slot cannot take what block
//! execution needs — a transaction nesting to the maximum depth still runs, with the result an
//! idle VM gives — and one more dry run is refused as busy instead of waiting forever.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use salus_runtime::state::Entry;
use salus_runtime::wasm::slots::DRY_RUN_SLOTS;
use salus_runtime::{DryRunError, SharedState, State, StateError};

use crate::harness::{FUEL, Harness, assert_overflowed_at_every_depth};
use crate::modules::counter;

/// A state whose reads wait at a gate until the test opens it: dry runs over it hold their slot
/// for exactly as long as the test wants, with no timing involved.
struct GatedState {
    inner: SharedState,
    gate: Mutex<(bool, usize)>,
    changed: Condvar,
}

impl GatedState {
    fn waiting(&self) -> usize {
        self.gate.lock().unwrap().1
    }
    fn open(&self) {
        self.gate.lock().unwrap().0 = true;
        self.changed.notify_all();
    }
}

impl State for GatedState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        let mut gate = self.gate.lock().unwrap();
        gate.1 += 1;
        while !gate.0 {
            gate = self.changed.wait(gate).unwrap();
        }
        drop(gate);
        self.inner.get(key)
    }
    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        self.inner.next_entry(prefix, after)
    }
}

const DEEP_RECURSION: &str = include_str!("../wat/deep_recursion.wat");

#[test]
fn dry_runs_holding_every_slot_leave_block_execution_its_instances() {
    let mut harness = Harness::new();
    let counter = harness.deploy(&counter(), 1);
    let deep = harness.deploy(DEEP_RECURSION, 2);
    let gated = Arc::new(GatedState {
        inner: harness.snapshot_state(),
        gate: Mutex::new((false, 0)),
        changed: Condvar::new(),
    });
    let env = harness.env();
    let vm = harness.vm.clone();
    std::thread::scope(|scope| {
        let holders: Vec<_> = (0..DRY_RUN_SLOTS)
            .map(|_| {
                let (vm, state) = (vm.clone(), gated.clone() as SharedState);
                scope.spawn(move || vm.dry_run(state, env, counter, Vec::new(), 0, FUEL))
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while gated.waiting() < DRY_RUN_SLOTS as usize {
            assert!(Instant::now() < deadline, "the dry runs did not start");
            std::thread::yield_now();
        }
        assert_eq!(vm.free_dry_run_slots(), 0);

        // Block execution meanwhile: a call nesting to the maximum depth runs as on an idle VM.
        let mut input = 10u32.to_le_bytes().to_vec();
        input.push(0);
        assert_overflowed_at_every_depth(&harness.call(deep, input));
        assert!(harness.call(counter, Vec::new()).status.is_success());

        // One dry run more waits its patience, then is refused as busy.
        let refused = vm.dry_run(harness.snapshot_state(), env, counter, Vec::new(), 0, FUEL);
        assert!(matches!(refused, Err(DryRunError::Busy(_))), "{refused:?}");

        gated.open();
        for holder in holders {
            let outcome = holder.join().unwrap().expect("the held dry run ends");
            assert!(outcome.status.is_success(), "{:?}", outcome.status);
        }
    });
    assert_eq!(vm.free_dry_run_slots(), DRY_RUN_SLOTS);
}
