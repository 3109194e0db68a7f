//! Test contracts in WAT.

/// Imports every test module may use.
pub const PRELUDE: &str = r#"
  (import "salus" "storage_get" (func $storage_get (param i32 i32 i32 i32) (result i64)))
  (import "salus" "storage_set" (func $storage_set (param i32 i32 i32 i32)))
  (import "salus" "emit_event" (func $emit_event (param i32 i32 i32 i32)))
  (import "salus" "set_return" (func $set_return (param i32 i32)))
  (import "salus" "revert" (func $revert (param i32 i32)))
  (import "salus" "input_len" (func $input_len (result i32)))
  (import "salus" "input_read" (func $input_read (param i32)))
  (import "salus" "call" (func $call (param i32 i32 i32 i32 i64) (result i32)))
  (import "salus" "call_result_len" (func $call_result_len (result i32)))
  (import "salus" "call_result_read" (func $call_result_read (param i32)))
  (import "salus" "caller" (func $caller (param i32)))
"#;

/// Wraps `body` (its own imports first, then functions and data) in a module with the prelude
/// and a one-page exported memory.
pub fn module(body: &str) -> String {
    module_with_memory(body, 1)
}

/// [`module`] with a memory of `pages` Wasm pages.
pub fn module_with_memory(body: &str, pages: u64) -> String {
    format!(r#"(module {PRELUDE} {body} (memory (export "memory") {pages}))"#)
}

/// A counter: each call adds one to the 8-byte value under "count", emits it as an event with
/// one topic, and returns it.
pub fn counter() -> String {
    module(COUNTER_BODY)
}

/// The counter with a `tag` in its data: a distinct code for every tag.
pub fn tagged_counter(tag: usize) -> String {
    module(&format!(
        r#"{COUNTER_BODY}  (data (i32.const 128) "tag {tag}")"#
    ))
}

const COUNTER_BODY: &str = r#"
  (data (i32.const 0) "count")
  (data (i32.const 32) "counter-topic-0000000000000000000")
  (func (export "call")
    (if (i64.eq (call $storage_get (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8)) (i64.const -1))
      (then (i64.store (i32.const 16) (i64.const 0))))
    (i64.store (i32.const 16) (i64.add (i64.load (i32.const 16)) (i64.const 1)))
    (call $storage_set (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8))
    (call $emit_event (i32.const 32) (i32.const 1) (i32.const 16) (i32.const 8))
    (call $set_return (i32.const 16) (i32.const 8)))
"#;

/// Writes the input (≤ 64 bytes) under the key "k".
pub fn writer() -> String {
    module(
        r#"
  (data (i32.const 0) "k")
  (func (export "call")
    (call $input_read (i32.const 100))
    (call $storage_set (i32.const 0) (i32.const 1) (i32.const 100) (call $input_len)))
"#,
    )
}

/// Calls the contract whose address is the input's first 20 bytes, passing the rest on as that
/// contract's input, and returns [status] followed by the callee's result data.
/// With `reentrant`, the module allows re-entry.
pub fn relay(reentrant: bool) -> String {
    let marker = if reentrant {
        r#"(@custom "salus_reentrant" "")"#
    } else {
        ""
    };
    module(&format!(
        r#"
  {marker}
  (func (export "call")
    (local $len i32) (local $status i32)
    (local.set $len (call $input_len))
    (call $input_read (i32.const 1024))
    ;; value (16 zero bytes) at 512
    (local.set $status
      (call $call (i32.const 1024) (i32.const 1044) (i32.sub (local.get $len) (i32.const 20)) (i32.const 512) (i64.const 0)))
    (i32.store8 (i32.const 2047) (local.get $status))
    (call $call_result_read (i32.const 2048))
    (call $set_return (i32.const 2047) (i32.add (i32.const 1) (call $call_result_len))))
"#
    ))
}

/// Calls back its caller (with empty input) and returns [status].
pub fn call_back() -> String {
    module(
        r#"
  (func (export "call")
    (call $caller (i32.const 0))
    (i32.store8 (i32.const 100)
      (call $call (i32.const 0) (i32.const 200) (i32.const 0) (i32.const 300) (i64.const 0)))
    (call $set_return (i32.const 100) (i32.const 1)))
"#,
    )
}

/// Reverts with "patient record locked".
pub fn reverter() -> String {
    module(
        r#"
  (data (i32.const 0) "patient record locked")
  (func (export "call") (call $revert (i32.const 0) (i32.const 21)))
"#,
    )
}
