//! Hostile contracts: each is contained with a typed result, and the VM keeps serving.

use salus_abi::CallStatus;
use salus_abi::limits::MAX_CALL_DEPTH;
use salus_primitives::receipt::TrapKind;
use salus_primitives::{Address, ExecutionStatus, InvalidReason, ModuleLimit, ModuleRejection};

use salus_runtime::ContractOutcome;

use crate::harness::{Harness, wasm};
use crate::modules::{call_back, counter, module, relay, reverter, writer};

/// The stable code of a deploy rejection.
fn rejection(outcome: &ContractOutcome) -> ModuleRejection {
    match outcome.status {
        ExecutionStatus::Invalid {
            reason: InvalidReason::ModuleRejected(rejection),
        } => rejection,
        ref other => panic!("expected a deploy rejection, got {other:?}"),
    }
}

/// The validator's explanation of a rejection (for people; never in a receipt).
fn diagnostic(outcome: &ContractOutcome) -> &str {
    outcome.diagnostic.as_deref().unwrap_or_default()
}

/// After each hostile run, an honest contract still works on the same VM.
fn still_serving(harness: &mut Harness) {
    let counter = harness.deploy(&counter(), 250);
    let outcome = harness.call(counter, Vec::new());
    assert_eq!(outcome.status, ExecutionStatus::Success);
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let mut harness = Harness::new();
    let looping = harness.deploy(&module(r#"(func (export "call") (loop (br 0)))"#), 1);
    let outcome = harness.call_with(looping, Vec::new(), 1_000_000);
    assert_eq!(outcome.status, ExecutionStatus::OutOfFuel);
    assert_eq!(outcome.fuel_used, 1_000_000);
    still_serving(&mut harness);
}

#[test]
fn growing_memory_without_bound_traps_at_the_limit() {
    let mut harness = Harness::new();
    let grower = harness.deploy(
        &module(
            r#"(func (export "call")
                 (loop (br_if 0 (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
                 unreachable)"#,
        ),
        1,
    );
    let outcome = harness.call(grower, Vec::new());
    assert_eq!(
        outcome.status,
        ExecutionStatus::Trapped {
            kind: TrapKind::ResourceLimit
        }
    );
    still_serving(&mut harness);
}

#[test]
fn unbounded_recursion_is_a_stack_overflow_trap() {
    let mut harness = Harness::new();
    let recursive = harness.deploy(&module(r#"(func $f (export "call") (call $f))"#), 1);
    let outcome = harness.call(recursive, Vec::new());
    assert_eq!(
        outcome.status,
        ExecutionStatus::Trapped {
            kind: TrapKind::StackOverflow
        }
    );
    still_serving(&mut harness);
}

#[test]
fn oversized_and_overfull_modules_are_rejected_at_deploy() {
    let mut harness = Harness::new();
    let big_data = format!(r#"(data (i32.const 0) "{}")"#, "\\00".repeat(300 * 1024));
    let outcome = harness.try_deploy(
        &wasm(&module(&format!(r#"{big_data} (func (export "call"))"#))),
        1,
    );
    assert_eq!(rejection(&outcome), ModuleRejection::TooLarge);
    assert!(diagnostic(&outcome).contains("exceeds the limit"));

    let many_functions: String = (0..10_001).map(|i| format!("(func $f{i})")).collect();
    let outcome = harness.try_deploy(
        &wasm(&module(&format!(
            r#"{many_functions} (func (export "call"))"#
        ))),
        2,
    );
    assert_eq!(
        rejection(&outcome),
        ModuleRejection::OverLimit(ModuleLimit::Functions)
    );

    let many_locals = format!(r#"(func (export "call") (local {}))"#, "i64 ".repeat(2_000));
    let outcome = harness.try_deploy(&wasm(&module(&many_locals)), 3);
    assert_eq!(
        rejection(&outcome),
        ModuleRejection::OverLimit(ModuleLimit::LocalsPerFunction)
    );
    still_serving(&mut harness);
}

#[test]
fn imports_outside_the_abi_are_rejected_at_deploy() {
    let mut harness = Harness::new();
    let foreign = r#"(module (import "env" "abort" (func)) (memory (export "memory") 1) (func (export "call")))"#;
    let outcome = harness.try_deploy(&wasm(foreign), 1);
    assert_eq!(rejection(&outcome), ModuleRejection::UnknownImport);
    assert!(diagnostic(&outcome).contains("env.abort"));

    let unknown = r#"(module (import "salus" "read_file" (func)) (memory (export "memory") 1) (func (export "call")))"#;
    let outcome = harness.try_deploy(&wasm(unknown), 2);
    assert_eq!(rejection(&outcome), ModuleRejection::UnknownImport);
    assert!(diagnostic(&outcome).contains("read_file"));

    let wrong_signature = r#"(module (import "salus" "storage_get" (func (param i32))) (memory (export "memory") 1) (func (export "call")))"#;
    let outcome = harness.try_deploy(&wasm(wrong_signature), 3);
    assert_eq!(rejection(&outcome), ModuleRejection::ImportSignature);

    let imported_memory = r#"(module (import "salus" "memory" (memory 1)) (func (export "call")))"#;
    let outcome = harness.try_deploy(&wasm(imported_memory), 7);
    assert_eq!(rejection(&outcome), ModuleRejection::UnknownImport);
    let imported_memory =
        r#"(module (import "salus" "storage_get" (memory 1)) (func (export "call")))"#;
    let outcome = harness.try_deploy(&wasm(imported_memory), 4);
    assert_eq!(rejection(&outcome), ModuleRejection::NonFunctionImport);

    let no_call = r#"(module (memory (export "memory") 1))"#;
    let outcome = harness.try_deploy(&wasm(no_call), 5);
    assert_eq!(rejection(&outcome), ModuleRejection::MissingExport);
    assert!(diagnostic(&outcome).contains("call"));

    let start =
        r#"(module (memory (export "memory") 1) (func $s) (start $s) (func (export "call")))"#;
    let outcome = harness.try_deploy(&wasm(start), 6);
    assert_eq!(rejection(&outcome), ModuleRejection::StartFunction);
}

/// A module whose `salus_abi` custom section holds `json`.
fn with_abi_section(json: &str) -> Vec<u8> {
    let escaped = json.replace('\\', "\\\\").replace('"', "\\\"");
    wasm(&module(&format!(
        r#"(@custom "{}" "{escaped}") (func (export "call"))"#,
        salus_abi::ABI_SECTION
    )))
}

#[test]
fn a_module_declaring_another_abi_version_is_refused_at_deploy() {
    let mut harness = Harness::new();
    let declaring = |version: &str| {
        with_abi_section(&format!(
            r#"{{"{}":{version},"contract":"Declaring","messages":[]}}"#,
            salus_abi::ABI_VERSION_FIELD
        ))
    };

    let future = harness.try_deploy(&declaring("2"), 1);
    assert_eq!(rejection(&future), ModuleRejection::AbiVersion);
    assert!(
        diagnostic(&future).contains("declares ABI version 2"),
        "{}",
        diagnostic(&future)
    );
    // The reason a receipt reader sees names the section and the version this host implements.
    let reason = InvalidReason::ModuleRejected(rejection(&future)).to_string();
    assert!(
        reason.contains(salus_abi::ABI_SECTION) && reason.contains("ABI version 1"),
        "{reason}"
    );

    // A section that declares no version, or cannot be read as one, declares no version this
    // host implements either.
    let unreadable = [
        with_abi_section(r#"{"contract":"Undeclared"}"#),
        with_abi_section(r#"{"abi_version":"1"}"#),
        with_abi_section(r#"{"abi_version":1.5}"#),
        with_abi_section(r#"{"abi_version":1,"abi_version":1}"#),
        with_abi_section("not JSON"),
        with_abi_section(r#"{"abi_version":1"#),
    ];
    for (salt, code) in (2..).zip(&unreadable) {
        let outcome = harness.try_deploy(code, salt);
        assert_eq!(rejection(&outcome), ModuleRejection::AbiVersion);
    }

    // This host's version deploys, whatever else the section says; so does a hand-written
    // module with no ABI section at all (it declares nothing).
    let current = harness.try_deploy(&declaring(&salus_abi::ABI_VERSION.to_string()), 20);
    assert_eq!(current.status, ExecutionStatus::Success, "{current:?}");
    let undeclared = harness.try_deploy(&wasm(&module(r#"(func (export "call"))"#)), 21);
    assert_eq!(
        undeclared.status,
        ExecutionStatus::Success,
        "{undeclared:?}"
    );
    still_serving(&mut harness);
}

#[test]
fn disallowed_wasm_features_are_rejected_at_deploy() {
    let mut harness = Harness::new();
    let cases = [
        (
            "shared memory (threads)",
            r#"(module (memory (export "memory") 1 1 shared) (func (export "call")))"#,
        ),
        (
            "SIMD",
            r#"(module (memory (export "memory") 1) (func (export "call") (drop (v128.const i64x2 0 0))))"#,
        ),
        (
            "memory64",
            r#"(module (memory (export "memory") i64 1) (func (export "call")))"#,
        ),
        (
            "multi-memory",
            r#"(module (memory (export "memory") 1) (memory 1) (func (export "call")))"#,
        ),
        (
            "tail calls",
            r#"(module (memory (export "memory") 1) (func $f (return_call $f)) (func (export "call")))"#,
        ),
        (
            "exceptions",
            r#"(module (memory (export "memory") 1) (tag $e) (func (export "call") (throw $e)))"#,
        ),
        (
            "extended constant expressions",
            r#"(module (memory (export "memory") 1) (global i32 (i32.add (i32.const 1) (i32.const 2))) (func (export "call")))"#,
        ),
    ];
    for (salt, (feature, text)) in cases.iter().enumerate() {
        let outcome = harness.try_deploy(&wasm(text), salt as u8);
        assert!(
            matches!(outcome.status, ExecutionStatus::Invalid { .. }),
            "{feature} was accepted: {:?}",
            outcome.status
        );
        // What every node stores for it, as an operator reads it: a code of a few bytes, none
        // of the engine's explanation (which only the dry run's diagnostic carries).
        let stored = parity_scale_codec::Encode::encode(&outcome.status);
        assert!(stored.len() <= 4, "{feature}: receipt status {stored:?}");
        assert!(outcome.diagnostic.is_some(), "{feature}: no diagnostic");
    }
    // What rustc emits is accepted: bulk memory, sign extension, saturating conversions,
    // multi-value, reference types (a funcref table), mutable globals.
    let modern = r#"(module
        (memory (export "memory") 1)
        (table 2 funcref)
        (global $g (mut i32) (i32.const 0))
        (func $pair (result i32 i32) (i32.const 1) (i32.const 2))
        (func (export "call")
          (memory.fill (i32.const 0) (i32.const 0) (i32.const 16))
          (drop (i32.extend8_s (i32.const 255)))
          (drop (i32.trunc_sat_f32_s (f32.const 1e30)))
          (drop (drop (call $pair)))
          (global.set $g (i32.const 1))))"#;
    let outcome = harness.try_deploy(&wasm(modern), 99);
    assert_eq!(outcome.status, ExecutionStatus::Success);
}

#[test]
fn reentrancy_is_refused_unless_the_callee_opts_in() {
    let mut harness = Harness::new();
    let relay_plain = harness.deploy(&relay(false), 1);
    let caller_back = harness.deploy(&call_back(), 2);
    let outcome = harness.call(relay_plain, caller_back.0.to_vec());
    assert_eq!(outcome.status, ExecutionStatus::Success);
    // relay → call_back succeeded (0); call_back's call into relay was refused (5).
    assert_eq!(
        outcome.return_data,
        vec![
            CallStatus::Success as u8,
            CallStatus::ReentrancyRefused as u8
        ]
    );

    let relay_reentrant = harness.deploy(&relay(true), 3);
    let outcome = harness.call(relay_reentrant, caller_back.0.to_vec());
    assert_eq!(outcome.return_data[0], CallStatus::Success as u8);
    assert_ne!(
        outcome.return_data[1],
        CallStatus::ReentrancyRefused as u8,
        "opted-in contract was refused"
    );
}

#[test]
fn calling_itself_through_another_contract_a_thousand_deep_hits_the_depth_limit() {
    let mut harness = Harness::new();
    let a = harness.deploy(&relay(true), 1);
    let b = harness.deploy(&relay(true), 2);
    // a → b → a → b … for 1,000 hops: each hop strips its own address from the input.
    let mut input = Vec::new();
    for hop in 0..1_000 {
        input.extend_from_slice(&if hop % 2 == 0 { b.0 } else { a.0 });
    }
    let outcome = harness.call(a, input);
    assert_eq!(outcome.status, ExecutionStatus::Success);
    let statuses = &outcome.return_data;
    assert_eq!(
        statuses.last(),
        Some(&(CallStatus::DepthExceeded as u8)),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.len(),
        MAX_CALL_DEPTH,
        "one status per frame below the outermost"
    );
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|s| *s == CallStatus::Success as u8)
    );
}

#[test]
fn event_and_return_data_floods_are_limited() {
    let mut harness = Harness::new();
    let flood = harness.deploy(
        &module(
            r#"(func (export "call") (local $i i32)
                 (loop
                   (call $emit_event (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8))
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br_if 0 (i32.lt_u (local.get $i) (i32.const 1000)))))"#,
        ),
        1,
    );
    let outcome = harness.call(flood, Vec::new());
    assert_eq!(
        outcome.status,
        ExecutionStatus::Trapped {
            kind: TrapKind::HostError
        }
    );
    assert!(outcome.events.is_empty());

    let big_return = harness.deploy(
        &module(r#"(func (export "call") (call $set_return (i32.const 0) (i32.const 65537)))"#),
        2,
    );
    let outcome = harness.call(big_return, Vec::new());
    assert_eq!(
        outcome.status,
        ExecutionStatus::Trapped {
            kind: TrapKind::HostError
        }
    );

    let wild_pointer = harness.deploy(
        &module(r#"(func (export "call") (call $set_return (i32.const 65530) (i32.const 100)))"#),
        3,
    );
    let outcome = harness.call(wild_pointer, Vec::new());
    assert_eq!(
        outcome.status,
        ExecutionStatus::Trapped {
            kind: TrapKind::HostError
        }
    );
    still_serving(&mut harness);
}

#[test]
fn a_contract_cannot_write_another_contracts_storage() {
    let mut harness = Harness::new();
    let first = harness.deploy(&writer(), 1);
    let second = harness.deploy(&writer(), 2);
    assert_eq!(
        harness.call(first, b"first".to_vec()).status,
        ExecutionStatus::Success
    );
    assert_eq!(
        harness.call(second, b"second".to_vec()).status,
        ExecutionStatus::Success
    );
    // The same key "k" lives in two namespaces.
    assert_eq!(harness.storage(first, b"k"), Some(b"first".to_vec()));
    assert_eq!(harness.storage(second, b"k"), Some(b"second".to_vec()));
}

#[test]
fn a_reverting_contract_reports_its_message_and_keeps_nothing() {
    let mut harness = Harness::new();
    let reverting = harness.deploy(&reverter(), 1);
    let outcome = harness.call(reverting, Vec::new());
    assert_eq!(
        outcome.status,
        ExecutionStatus::Reverted {
            message: "patient record locked".into()
        }
    );
    assert!(outcome.events.is_empty());
}

#[test]
fn calls_to_missing_contracts_are_typed_failures() {
    let mut harness = Harness::new();
    let outcome = harness.call(Address([0x55; 20]), Vec::new());
    assert_eq!(
        outcome.status,
        ExecutionStatus::Invalid {
            reason: InvalidReason::NoContract
        }
    );
    assert_eq!(outcome.fuel_used, 0);
}

#[test]
fn a_counter_keeps_state_between_calls_and_emits_events() {
    let mut harness = Harness::new();
    let counter = harness.deploy(&counter(), 1);
    for expected in 1..=3u64 {
        let outcome = harness.call(counter, Vec::new());
        assert_eq!(outcome.status, ExecutionStatus::Success);
        assert_eq!(outcome.return_data, expected.to_le_bytes());
        assert_eq!(outcome.events.len(), 1);
        assert_eq!(outcome.events[0].contract, counter);
        assert_eq!(outcome.events[0].data, expected.to_le_bytes());
        let storage = outcome
            .fuel_breakdown
            .get("storage_set")
            .expect("storage_set charged");
        assert_eq!(storage.calls, 1);
    }
    assert_eq!(
        harness.storage(counter, b"count"),
        Some(3u64.to_le_bytes().to_vec())
    );
}
