//! Host functions beyond storage and calls: prefix iteration, crypto, balances, instantiation
//! from code on chain, dry runs, and fuel that does not depend on a node's caches.

use salus_abi::CallStatus;
use salus_primitives::{Address, ExecutionStatus, Hash, SecretKey, StateKey, keccak256};
use salus_runtime::Vm;

use crate::harness::{FUEL, Harness, wasm};
use crate::modules::{counter, module};

/// Stores keys "p/1", "p/2", "q/1", then pages through prefix "p/" one key at a time and returns
/// the keys found, separated by ';'.
fn scanner() -> String {
    module(
        r#"
  (import "salus" "storage_next_key" (func $next (param i32 i32 i32 i32 i32 i32) (result i64)))
  (data (i32.const 0) "p/1p/2q/1")
  (func (export "call")
    (local $len i64) (local $out i32) (local $cursor_len i32)
    (call $storage_set (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 1))
    (call $storage_set (i32.const 3) (i32.const 3) (i32.const 0) (i32.const 1))
    (call $storage_set (i32.const 6) (i32.const 3) (i32.const 0) (i32.const 1))
    (local.set $out (i32.const 1000))
    (local.set $cursor_len (i32.const -1))
    (block $done
      (loop $more
        ;; prefix "p/" at 0; cursor at 200; next key written to 200
        (local.set $len (call $next (i32.const 0) (i32.const 2) (i32.const 200) (local.get $cursor_len) (i32.const 200) (i32.const 64)))
        (br_if $done (i64.eq (local.get $len) (i64.const -1)))
        (local.set $cursor_len (i32.wrap_i64 (local.get $len)))
        (memory.copy (local.get $out) (i32.const 200) (local.get $cursor_len))
        (local.set $out (i32.add (local.get $out) (local.get $cursor_len)))
        (i32.store8 (local.get $out) (i32.const 59))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (br $more)))
    (call $set_return (i32.const 1000) (i32.sub (local.get $out) (i32.const 1000))))
"#,
    )
}

#[test]
fn storage_pages_through_a_prefix_in_key_order() {
    let mut harness = Harness::new();
    let contract = harness.deploy(&scanner(), 1);
    let outcome = harness.call(contract, Vec::new());
    assert_eq!(outcome.status, ExecutionStatus::Success);
    assert_eq!(String::from_utf8(outcome.return_data).unwrap(), "p/1;p/2;");
    assert_eq!(outcome.fuel_breakdown["storage_next_key"].calls, 3);
}

/// Recovers the signer of the 32-byte digest at input[0..32] with the signature at
/// input[32..97], verifies input[97..161] (r‖s) under the key at input[161..194], and returns
/// keccak256(input[0..32]) ‖ recover status ‖ address ‖ verify result.
fn crypto() -> String {
    module(
        r#"
  (import "salus" "keccak256" (func $keccak (param i32 i32 i32)))
  (import "salus" "secp256k1_recover" (func $recover (param i32 i32 i32) (result i32)))
  (import "salus" "secp256k1_verify" (func $verify (param i32 i32 i32) (result i32)))
  (func (export "call")
    (call $input_read (i32.const 0))
    (call $keccak (i32.const 0) (i32.const 32) (i32.const 400))
    (i32.store8 (i32.const 432) (call $recover (i32.const 0) (i32.const 32) (i32.const 433)))
    (i32.store8 (i32.const 453) (call $verify (i32.const 0) (i32.const 97) (i32.const 161)))
    (call $set_return (i32.const 400) (i32.const 54)))
"#,
    )
}

#[test]
fn hashing_and_signatures_match_the_primitives() {
    let mut harness = Harness::new();
    let contract = harness.deploy(&crypto(), 1);
    let key = SecretKey::from_bytes(&[7; 32]).unwrap();
    let digest = keccak256(b"consent for TREAT until 2027-01-01");
    let signature = key.sign_digest(&digest);
    let mut input = digest.0.to_vec();
    input.extend_from_slice(&signature.0);
    input.extend_from_slice(&signature.0[..64]);
    input.extend_from_slice(&key.public_key_compressed());
    let outcome = harness.call(contract, input.clone());
    assert_eq!(outcome.status, ExecutionStatus::Success);
    let data = outcome.return_data;
    assert_eq!(&data[..32], &keccak256(&digest.0).0);
    assert_eq!(data[32], 0, "recovery succeeds");
    assert_eq!(&data[33..53], &key.address().0);
    assert_eq!(data[53], 1, "verification succeeds");
    assert_eq!(outcome.fuel_breakdown["secp256k1_recover"].calls, 1);

    // A tampered digest recovers another address and fails verification.
    input[0] ^= 1;
    let data = harness.call(contract, input).return_data;
    assert_ne!(&data[33..53], &key.address().0);
    assert_eq!(data[53], 0);
}

/// Transfers 40 units of its own balance to the 20-byte address in the input, and returns the
/// status, then its balance and the recipient's (16 bytes each).
fn payer() -> String {
    module(
        r#"
  (import "salus" "transfer" (func $transfer (param i32 i32) (result i32)))
  (import "salus" "balance" (func $balance (param i32 i32)))
  (import "salus" "self_address" (func $self (param i32)))
  (func (export "call")
    (call $input_read (i32.const 0))
    (i64.store (i32.const 100) (i64.const 40))
    (i32.store8 (i32.const 200) (call $transfer (i32.const 0) (i32.const 100)))
    (call $self (i32.const 300))
    (call $balance (i32.const 300) (i32.const 201))
    (call $balance (i32.const 0) (i32.const 217))
    (call $set_return (i32.const 200) (i32.const 33)))
"#,
    )
}

#[test]
fn contracts_hold_and_move_native_balance() {
    let mut harness = Harness::new();
    let contract = harness.deploy(&payer(), 1);
    let recipient = Address([0x77; 20]);
    // The contract has nothing yet: the transfer is refused with a status, not a trap.
    let outcome = harness.call(contract, recipient.0.to_vec());
    assert_eq!(
        outcome.return_data[0],
        CallStatus::InsufficientBalance as u8
    );
    // Fund it with a call that carries value, then pay out.
    let funded = harness.call_with_value(contract, recipient.0.to_vec(), 100, FUEL);
    assert_eq!(funded.status, ExecutionStatus::Success);
    let data = &funded.return_data;
    assert_eq!(data[0], CallStatus::Success as u8);
    assert_eq!(u128::from_le_bytes(data[1..17].try_into().unwrap()), 60);
    assert_eq!(u128::from_le_bytes(data[17..33].try_into().unwrap()), 40);
}

/// Deploys the code whose hash is the input's 32 bytes (salt 9, no value) and returns the
/// status and the new address.
fn factory() -> String {
    module(
        r#"
  (import "salus" "instantiate" (func $instantiate (param i32 i32 i32 i32 i32 i64 i32) (result i32)))
  (func (export "call")
    (call $input_read (i32.const 0))
    (i32.store8 (i32.const 100) (i32.const 9))
    (memory.fill (i32.const 100) (i32.const 9) (i32.const 32))
    (i32.store8 (i32.const 300)
      (call $instantiate (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 100) (i32.const 200) (i64.const 0) (i32.const 301)))
    (call $set_return (i32.const 300) (i32.const 21)))
"#,
    )
}

#[test]
fn contracts_instantiate_code_already_on_chain() {
    let mut harness = Harness::new();
    let counter_code = wasm(&counter());
    let counter_hash = keccak256(&counter_code);
    harness.deploy(&counter(), 1);
    let factory = harness.deploy(&factory(), 2);
    let outcome = harness.call(factory, counter_hash.0.to_vec());
    assert_eq!(outcome.status, ExecutionStatus::Success);
    assert_eq!(outcome.return_data[0], CallStatus::Success as u8);
    let child = Address(outcome.return_data[1..21].try_into().unwrap());
    assert_eq!(
        child,
        Address::contract(&factory, &counter_hash, &Hash([9; 32]))
    );
    assert_eq!(
        harness.call(child, Vec::new()).return_data,
        1u64.to_le_bytes()
    );
    // The same salt again: the address is taken.
    let again = harness.call(factory, counter_hash.0.to_vec());
    assert_eq!(again.return_data[0], CallStatus::Refused as u8);
    // Unknown code.
    let unknown = harness.call(factory, [0x42; 32].to_vec());
    assert_eq!(unknown.return_data[0], CallStatus::UnknownContract as u8);
}

#[test]
fn dry_runs_report_results_and_commit_nothing() {
    let mut harness = Harness::new();
    let counter_address = harness.deploy(&counter(), 1);
    let state = harness.snapshot_state();
    let env = harness.env();
    let outcome = harness
        .vm
        .dry_run(state.clone(), env, counter_address, Vec::new(), 0, FUEL)
        .unwrap();
    assert_eq!(outcome.status, ExecutionStatus::Success);
    assert_eq!(outcome.return_data, 1u64.to_le_bytes());
    assert_eq!(outcome.events.len(), 1);
    assert!(outcome.fuel_breakdown.contains_key("storage_set"));
    // Nothing was written: a second dry run sees the same state.
    let again = harness
        .vm
        .dry_run(state, env, counter_address, Vec::new(), 0, FUEL)
        .unwrap();
    assert_eq!(again.return_data, 1u64.to_le_bytes());
}

#[test]
fn load_fuel_is_the_same_whether_or_not_the_module_was_cached() {
    let mut warm = Harness::new();
    let counter_address = warm.deploy(&counter(), 1);
    let state = warm.snapshot_state();
    let env = warm.env();
    let cached = warm
        .vm
        .dry_run(state.clone(), env, counter_address, Vec::new(), 0, FUEL)
        .unwrap();
    // A fresh VM has neither the module in memory nor an artifact: it compiles from the code in
    // state, and charges exactly the same.
    let cold_vm = Vm::in_memory().unwrap();
    let cold = cold_vm
        .dry_run(state, env, counter_address, Vec::new(), 0, FUEL)
        .unwrap();
    assert_eq!(cold, cached);
    let code = wasm(&counter());
    assert!(
        warm.overlay
            .get(&StateKey::Code(keccak256(&code)).to_bytes())
            .unwrap()
            .is_some()
    );
}
