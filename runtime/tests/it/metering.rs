//! Metering: Wasm operators cost fractions of a unit by kind, and linear memory beyond the
//! included pages is paid for, declared or grown.

use salus_primitives::ExecutionStatus;
use salus_primitives::receipt::TrapKind;
use salus_runtime::fuel_schedule::{MEMORY_PAGE_FUEL, MEMORY_PAGES_INCLUDED};

use crate::harness::Harness;
use crate::modules::module_with_memory;

/// A contract whose `call` runs `operation` on a local `iterations` times, the count read from
/// the first 8 bytes of its input.
fn looping(operation: &str) -> String {
    module_with_memory(
        &format!(
            r#"(func (export "call")
                 (local $n i64) (local $x i64)
                 (call $input_read (i32.const 0))
                 (local.set $n (i64.load (i32.const 0)))
                 (local.set $x (i64.const -1))
                 (block $done
                   (loop $l
                     (br_if $done (i64.eqz (local.get $n)))
                     (local.set $x ({operation} (local.get $x) (i64.const 7)))
                     (local.set $n (i64.sub (local.get $n) (i64.const 1)))
                     (br $l))))"#
        ),
        1,
    )
}

fn fuel_of(harness: &mut Harness, contract: salus_primitives::Address, iterations: u64) -> u64 {
    let outcome = harness.call(contract, iterations.to_le_bytes().to_vec());
    assert_eq!(outcome.status, ExecutionStatus::Success);
    outcome.fuel_used
}

#[test]
fn wasm_operators_cost_fractions_of_a_unit_by_kind() {
    let mut harness = Harness::new();
    let xor = harness.deploy(&looping("i64.xor"), 1);
    let divide = harness.deploy(&looping("i64.div_u"), 2);
    // An iteration of xor is three operators of one sub-unit (eqz, xor, sub) and two branches
    // of four (br_if, br): 11/8 of a unit. Fuel used rounds the last started unit up, hence ± 1.
    let xor_fuel = fuel_of(&mut harness, xor, 800) - fuel_of(&mut harness, xor, 0);
    assert!(
        (1_099..=1_101).contains(&xor_fuel),
        "800 xor iterations: {xor_fuel}"
    );
    // A division costs 32 sub-units: (2 + 8 + 32) / 8 = 5.25 units an iteration.
    let divide_fuel = fuel_of(&mut harness, divide, 800) - fuel_of(&mut harness, divide, 0);
    assert!(
        (4_199..=4_201).contains(&divide_fuel),
        "800 division iterations: {divide_fuel}"
    );
}

fn returning_module(pages: u64) -> String {
    module_with_memory(r#"(func (export "call"))"#, pages)
}

#[test]
fn memory_declared_beyond_the_included_pages_is_paid_before_instantiation() {
    let mut harness = Harness::new();
    let small = harness.deploy(&returning_module(1), 1);
    let included = harness.deploy(&returning_module(MEMORY_PAGES_INCLUDED), 2);
    let large = harness.deploy(&returning_module(64), 3);
    let small_fuel = harness.call(small, Vec::new()).fuel_used;
    assert_eq!(harness.call(included, Vec::new()).fuel_used, small_fuel);
    let outcome = harness.call(large, Vec::new());
    assert_eq!(outcome.status, ExecutionStatus::Success);
    let declared_extra = (64 - MEMORY_PAGES_INCLUDED) * MEMORY_PAGE_FUEL;
    assert_eq!(outcome.fuel_used, small_fuel + declared_extra);

    // Given less than the declared memory costs, the call never runs.
    let short = small_fuel + declared_extra - 1;
    let outcome = harness.call_with(large, Vec::new(), short);
    assert_eq!(outcome.status, ExecutionStatus::OutOfFuel);
    assert_eq!(outcome.fuel_used, short);
}

/// Grows its memory by the page count in its input's first byte, then returns.
fn grower() -> String {
    module_with_memory(
        r#"(func (export "call")
             (call $input_read (i32.const 0))
             (if (i32.eq (memory.grow (i32.load8_u (i32.const 0))) (i32.const -1))
               (then unreachable)))"#,
        MEMORY_PAGES_INCLUDED,
    )
}

#[test]
fn memory_growth_is_paid_when_the_frame_ends_and_only_as_far_as_fuel_allows() {
    let mut harness = Harness::new();
    let grower = harness.deploy(&grower(), 1);
    let unchanged = harness.call(grower, vec![0]);
    assert_eq!(unchanged.status, ExecutionStatus::Success);
    let grown = harness.call(grower, vec![10]);
    assert_eq!(grown.status, ExecutionStatus::Success);
    assert_eq!(grown.fuel_used, unchanged.fuel_used + 10 * MEMORY_PAGE_FUEL);
    assert_eq!(
        grown
            .fuel_breakdown
            .get("(memory pages)")
            .map(|entry| entry.fuel),
        Some(10 * MEMORY_PAGE_FUEL)
    );

    // With fuel for only part of the growth, growing is refused: the frame traps.
    let fuel = unchanged.fuel_used + 5 * MEMORY_PAGE_FUEL;
    let refused = harness.call_with(grower, vec![10], fuel);
    assert_eq!(
        refused.status,
        ExecutionStatus::Trapped {
            kind: TrapKind::ResourceLimit
        }
    );
    // Growth the fuel could pay for when the frame started, but spent meanwhile, ends the
    // frame out of fuel.
    let fuel = unchanged.fuel_used + 10 * MEMORY_PAGE_FUEL - 1;
    let unpaid = harness.call_with(grower, vec![10], fuel);
    assert_eq!(unpaid.status, ExecutionStatus::OutOfFuel);
    assert_eq!(unpaid.fuel_used, fuel);
}
