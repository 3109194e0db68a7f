//! What `salus dev` and `salus node` share as processes: the node's tokio runtime (threads
//! with the native stack contract execution needs), shutdown on SIGINT or SIGTERM, the
//! network's listen addresses for the start-up banner, and the last line a node prints.

use anyhow::Context;

use crate::network::NetworkHandle;
use crate::service::NodeState;

/// The node's tokio runtime: a worker per core, and a bounded pool of blocking threads (block
/// building and import, signature checks of submitted transactions).
pub fn node_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    /// Blocking threads at most: enough to keep every core verifying signatures while RPC
    /// clients wait, few enough that their stacks and allocator state stay small.
    const MAX_BLOCKING_THREADS: usize = 64;
    // Every worker and blocking thread may execute contracts (block import on the network
    // task, dry runs), so each has the native stack the execution limits allow for; only the
    // pages a deep call touches become resident.
    use salus_runtime::native_stack::{EXECUTION_STACK_BYTES, register};
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .thread_stack_size(EXECUTION_STACK_BYTES)
        .on_thread_start(|| register(EXECUTION_STACK_BYTES))
        .build()?)
}

/// The network's listen addresses once it has bound them (a port-0 listener learns its port
/// asynchronously); gives up after a few seconds and returns what it has.
pub async fn wait_for_listen_addrs(network: &NetworkHandle) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let addrs = network.listen_addrs();
        if !addrs.is_empty() || std::time::Instant::now() >= deadline {
            return addrs.iter().map(ToString::to_string).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Registers SIGINT and SIGTERM handlers now (before the node announces itself, so that a signal
/// sent right after start-up is never lost) and returns a future that resolves on either.
pub fn shutdown_signals() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Prints the head the node stopped at.
pub fn print_stopped(state: &NodeState) {
    let chain = state.chain();
    println!(
        "Stopped at block {} {}",
        chain.head().header.number,
        chain.head().hash
    );
}
