//! The native stack (issue 19): recursion at the Wasm stack limit in every frame, down to the
//! maximum call depth, ends in a typed trap — on a thread the runtime moves the execution to, and
//! inline on a thread of exactly the size the runtime gives executions — and the VM keeps
//! serving. Before the execution stack was sized, this crashed the process.

use salus_primitives::{Address, ExecutionStatus, TrapKind};
use salus_runtime::native_stack;

use crate::harness::{Harness, assert_overflowed_at_every_depth};
use crate::modules::counter;

/// The hostile contract: see the comment at the top of the file.
const DEEP_RECURSION: &str = include_str!("../wat/deep_recursion.wat");

fn input(frames: u32, probe: bool) -> Vec<u8> {
    let mut input = frames.to_le_bytes().to_vec();
    input.push(u8::from(probe));
    input
}

/// The most Wasm frames of the contract's recursion one frame's stack holds (bisection in the
/// probe mode, which descends and returns without calling).
fn frames_per_stack(harness: &mut Harness, contract: Address) -> u32 {
    let overflow = ExecutionStatus::Trapped {
        kind: TrapKind::StackOverflow,
    };
    let (mut fits, mut overflows) = (1u32, 1u32 << 20);
    assert!(
        harness
            .call(contract, input(fits, true))
            .status
            .is_success()
    );
    assert_eq!(
        harness.call(contract, input(overflows, true)).status,
        overflow
    );
    while overflows - fits > 1 {
        let middle = fits + (overflows - fits) / 2;
        let status = harness.call(contract, input(middle, true)).status;
        if status.is_success() {
            fits = middle;
        } else {
            assert_eq!(status, overflow);
            overflows = middle;
        }
    }
    fits
}

/// Deploys the contract, recurses to 98 % of the stack limit in every frame to the maximum
/// depth, and checks the typed trap, that every level made its call, and that the VM serves on.
fn recurse_at_the_limit_in_every_frame() {
    let mut harness = Harness::new();
    let deep = harness.deploy(DEEP_RECURSION, 1);
    let frames = frames_per_stack(&mut harness, deep);
    assert!(
        frames > 1_000,
        "one frame's stack holds only {frames} frames"
    );
    // Every level called the next; the deepest call was refused by the depth limit.
    assert_overflowed_at_every_depth(&harness.call(deep, input(frames - frames / 50, false)));
    let counter = harness.deploy(&counter(), 2);
    assert!(harness.call(counter, Vec::new()).status.is_success());
}

#[test]
fn recursion_at_the_stack_limit_in_every_frame_is_a_typed_trap_from_a_small_thread() {
    // The test thread has the default stack (2 MiB): the VM moves each execution to a thread
    // of its own size.
    assert!(!native_stack::has_execution_stack());
    recurse_at_the_limit_in_every_frame();
}

#[test]
fn recursion_at_the_stack_limit_in_every_frame_fits_the_execution_stack_exactly() {
    // Inline on a registered thread of exactly `EXECUTION_STACK_BYTES`: the arithmetic next to
    // the limits holds.
    native_stack::spawn("deep-recursion", || {
        assert!(native_stack::has_execution_stack());
        recurse_at_the_limit_in_every_frame();
    })
    .expect("spawn")
    .join()
    .expect("the execution ended in a typed trap, without overflowing the native stack");
}
