//! The native stack contract execution needs, and the threads that have it.
//!
//! wasmtime bounds the Wasm stack of one store ([`MAX_WASM_STACK_BYTES`]), measured from where
//! the host entered Wasm. A cross-contract call runs the callee in a new store on the same
//! thread, so every nesting level starts a fresh allowance below the caller's: a transaction
//! that recurses close to the limit in each of [`MAX_CALL_DEPTH`] frames needs their sum, plus
//! the host's own frames between them, of *native* stack. A thread with less overflows its guard
//! page and the process aborts — a crash anyone could trigger with one dry run or one
//! transaction (issue 19).
//!
//! The choice: every execution runs on a thread whose stack covers that worst case
//! ([`EXECUTION_STACK_BYTES`]). Threads that execute contracts (the node's block thread and its
//! tokio workers, `verify-chain`) are spawned with that size and [`register`]ed; an execution
//! that starts on any other thread (a test, a tool) is moved to a fresh thread of the right size
//! for its duration ([`run_with_execution_stack`]). As a second line, each nested frame checks
//! the stack left before it starts ([`frame_fits`]); if the arithmetic below were ever wrong, the
//! transaction ends as a node-local failure (the block is abandoned and retried), never as a
//! crash and never as a receipt.
//!
//! The alternative — one Wasm stack budget per transaction shared by its frames — needs a
//! per-store stack limit, which wasmtime 48 does not offer (`max_wasm_stack` is per engine).

use std::cell::Cell;

use salus_abi::limits::MAX_CALL_DEPTH;

use crate::limits::MAX_WASM_STACK_BYTES;

/// Native stack the host uses around one frame, on top of its Wasm stack: the host function that
/// makes the call, `run_frame`, the new store, instantiation and wasmtime's entry trampolines.
/// Measured: the recursion test of `runtime/tests/it/native_stack.rs` (every level to 98 % of its
/// Wasm limit, to the maximum depth) passes in an unoptimised build on a stack of
/// 33 × (512 + 64) KiB + 512 KiB, and overflows an 8 MiB one; 256 KiB per level leaves room for
/// a compiler that lays frames out worse.
pub const HOST_STACK_BYTES_PER_FRAME: usize = 256 * 1024;

/// Native stack one frame may use: its Wasm stack and the host around it.
pub const NATIVE_STACK_BYTES_PER_FRAME: usize = MAX_WASM_STACK_BYTES + HOST_STACK_BYTES_PER_FRAME;

/// Stack below the outermost frame: the caller of the VM (block building, import, a dry run's
/// task) and what the thread had already used when it registered.
pub const BASE_STACK_BYTES: usize = 2 * 1024 * 1024;

/// Native stack of every thread that executes contracts: the outermost frame plus
/// [`MAX_CALL_DEPTH`] nested ones at their worst, over the base. 33 × 768 KiB + 2 MiB ≈ 26.8 MiB.
/// Only the pages a deep call actually touches become resident; the rest is address space.
pub const EXECUTION_STACK_BYTES: usize =
    (MAX_CALL_DEPTH + 1) * NATIVE_STACK_BYTES_PER_FRAME + BASE_STACK_BYTES;

thread_local! {
    /// The lowest address this thread's stack may safely reach, if the thread registered.
    static STACK_FLOOR: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The current stack position, approximately (the address of a local).
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Records that the current thread's stack is `stack_bytes` long, counted from about here. Call
/// it first thing in a thread spawned with `stack_size(stack_bytes)` (or from tokio's
/// `on_thread_start` with its `thread_stack_size`).
pub fn register(stack_bytes: usize) {
    // What the thread used before this call, and its guard page, come out of the base margin.
    let floor = stack_position().saturating_sub(stack_bytes);
    STACK_FLOOR.with(|cell| cell.set(Some(floor)));
}

/// Native stack left on this thread, if it registered.
pub fn remaining() -> Option<usize> {
    STACK_FLOOR
        .with(Cell::get)
        .map(|floor| stack_position().saturating_sub(floor))
}

/// Whether this thread has the stack a whole execution may need from here.
pub fn has_execution_stack() -> bool {
    remaining().is_some_and(|left| left >= EXECUTION_STACK_BYTES - BASE_STACK_BYTES)
}

/// Whether one more frame fits on this thread's stack. `false` on an unregistered thread: nested
/// frames only run under [`run_with_execution_stack`], which registers.
pub fn frame_fits() -> bool {
    remaining().is_some_and(|left| left >= NATIVE_STACK_BYTES_PER_FRAME)
}

/// Spawns a named thread with [`EXECUTION_STACK_BYTES`] of stack, registered.
///
/// # Errors
/// The operating system's error if the thread cannot be created.
pub fn spawn<F, T>(name: &str, body: F) -> std::io::Result<std::thread::JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(EXECUTION_STACK_BYTES)
        .spawn(move || {
            register(EXECUTION_STACK_BYTES);
            body()
        })
}

/// Why an execution could not be given the stack it needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot start a thread with {EXECUTION_STACK_BYTES} bytes of stack for execution: {0}")]
pub struct ExecutionThreadError(pub String);

/// Runs `body` here if this thread has the stack an execution needs, otherwise on a fresh
/// registered thread of [`EXECUTION_STACK_BYTES`], waiting for it. A thread spawn costs tens of
/// microseconds, so threads that run many executions should be [`spawn`]ed or [`register`]ed.
///
/// # Errors
/// [`ExecutionThreadError`] if a thread was needed and could not be created.
pub fn run_with_execution_stack<F, T>(body: F) -> Result<T, ExecutionThreadError>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    if has_execution_stack() {
        return Ok(body());
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("salus-execution".into())
            .stack_size(EXECUTION_STACK_BYTES)
            .spawn_scoped(scope, move || {
                register(EXECUTION_STACK_BYTES);
                body()
            })
            .map_err(|error| ExecutionThreadError(error.to_string()))?;
        match handle.join() {
            Ok(value) => Ok(value),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unregistered_thread_has_no_execution_stack_and_a_spawned_one_has() {
        let unregistered =
            std::thread::spawn(|| (remaining(), has_execution_stack(), frame_fits()))
                .join()
                .expect("thread");
        assert_eq!(unregistered, (None, false, false));
        let registered = spawn("test-execution", || {
            (has_execution_stack(), frame_fits(), remaining())
        })
        .expect("spawn")
        .join()
        .expect("thread");
        assert!(registered.0 && registered.1);
        let left = registered.2.expect("registered");
        assert!(left <= EXECUTION_STACK_BYTES && left > EXECUTION_STACK_BYTES - 64 * 1024);
    }

    #[test]
    fn run_with_execution_stack_moves_work_off_a_small_thread() {
        let ran_with = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| run_with_execution_stack(has_execution_stack).expect("thread"))
            .expect("spawn")
            .join()
            .expect("join");
        assert!(ran_with);
    }
}
