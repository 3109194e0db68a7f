//! Prometheus metrics: counters and gauges kept in atomics, served as text on `GET /metrics`
//! by a minimal HTTP responder on their own address.

use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::NodeState;

/// Largest request the metrics endpoint reads (a GET line and headers).
const MAX_METRICS_REQUEST_BYTES: usize = 8 * 1024;

/// The node's counters. Rates (transactions per second, fuel per second) are what Prometheus
/// computes from counters with `rate()`.
#[derive(Default)]
pub struct Metrics {
    /// Blocks that became canonical.
    pub blocks_connected: AtomicU64,
    /// Transactions in connected blocks.
    pub transactions: AtomicU64,
    /// Fuel used by connected blocks.
    pub fuel_used: AtomicU64,
    /// Time spent importing blocks, microseconds.
    pub import_micros: AtomicU64,
    /// Duration of the last import, microseconds.
    pub last_import_micros: AtomicU64,
    /// Connected peers.
    pub peers: AtomicU64,
    /// Dry runs (`state_call`) executing now, historical replay included.
    pub dry_runs_running: AtomicU64,
    /// Dry runs refused because every place was taken for too long.
    pub dry_runs_busy: AtomicU64,
    /// Dry runs answered with a timeout.
    pub dry_runs_timed_out: AtomicU64,
}

impl Metrics {
    /// Records the number of connected peers.
    pub fn set_peers(&self, peers: usize) {
        self.peers.store(peers as u64, Ordering::Relaxed);
    }

    /// Records a connected block.
    pub fn record_block(&self, transactions: usize, fuel_used: u64, import_micros: u64) {
        self.blocks_connected.fetch_add(1, Ordering::Relaxed);
        self.transactions
            .fetch_add(transactions as u64, Ordering::Relaxed);
        self.fuel_used.fetch_add(fuel_used, Ordering::Relaxed);
        self.import_micros
            .fetch_add(import_micros, Ordering::Relaxed);
        self.last_import_micros
            .store(import_micros, Ordering::Relaxed);
    }
}

/// The metrics in Prometheus text exposition format.
pub fn render(state: &NodeState) -> String {
    let (height, orphans, store) = {
        let chain = state.chain();
        (
            chain.head().header.number,
            chain.orphan_count(),
            chain.store().clone(),
        )
    };
    let node_cache = store.node_cache_stats();
    let memory = store.memory();
    let (pending, pending_bytes) = {
        let pool = state.mempool();
        (pool.len(), pool.bytes())
    };
    let metrics = &state.metrics;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    metric(
        "salus_head_height",
        "gauge",
        "Height of the canonical head.",
        height,
    );
    metric(
        "salus_peers",
        "gauge",
        "Connected peers.",
        metrics.peers.load(Ordering::Relaxed),
    );
    metric(
        "salus_mempool_transactions",
        "gauge",
        "Pending transactions.",
        pending as u64,
    );
    metric(
        "salus_mempool_bytes",
        "gauge",
        "Bytes of pending transactions.",
        pending_bytes as u64,
    );
    metric(
        "salus_orphan_blocks",
        "gauge",
        "Blocks waiting for their parent.",
        orphans as u64,
    );
    metric(
        "salus_blocks_connected_total",
        "counter",
        "Blocks that became canonical.",
        metrics.blocks_connected.load(Ordering::Relaxed),
    );
    metric(
        "salus_transactions_total",
        "counter",
        "Transactions in connected blocks.",
        metrics.transactions.load(Ordering::Relaxed),
    );
    metric(
        "salus_fuel_used_total",
        "counter",
        "Fuel used by connected blocks.",
        metrics.fuel_used.load(Ordering::Relaxed),
    );
    metric(
        "salus_block_import_microseconds_total",
        "counter",
        "Time spent importing blocks.",
        metrics.import_micros.load(Ordering::Relaxed),
    );
    metric(
        "salus_last_block_import_microseconds",
        "gauge",
        "Duration of the last block import.",
        metrics.last_import_micros.load(Ordering::Relaxed),
    );
    metric(
        "salus_rpc_dry_runs_running",
        "gauge",
        "Dry runs (state_call) executing now, historical replay included.",
        metrics.dry_runs_running.load(Ordering::Relaxed),
    );
    metric(
        "salus_rpc_dry_runs_busy_total",
        "counter",
        "Dry runs refused as busy: every place was taken for too long.",
        metrics.dry_runs_busy.load(Ordering::Relaxed),
    );
    metric(
        "salus_rpc_dry_runs_timed_out_total",
        "counter",
        "Dry runs answered with a timeout.",
        metrics.dry_runs_timed_out.load(Ordering::Relaxed),
    );
    metric(
        "salus_state_node_cache_hits_total",
        "counter",
        "State-tree node reads answered from memory (the tree warmer's included).",
        node_cache.hits,
    );
    metric(
        "salus_state_node_cache_misses_total",
        "counter",
        "State-tree node reads that went to RocksDB (the tree warmer's included: those are off the block's critical path).",
        node_cache.misses,
    );
    for (name, help, value) in [
        (
            "salus_rocksdb_memtable_bytes",
            "Bytes in RocksDB memtables, all column families.",
            memory.memtables,
        ),
        (
            "salus_rocksdb_table_readers_bytes",
            "Bytes of RocksDB table readers outside the block cache.",
            memory.table_readers,
        ),
        (
            "salus_rocksdb_block_cache_bytes",
            "Bytes in the shared RocksDB block cache.",
            memory.block_cache,
        ),
        (
            "salus_rocksdb_block_cache_pinned_bytes",
            "Bytes of pinned (unevictable) block-cache entries.",
            memory.block_cache_pinned,
        ),
        (
            "salus_state_node_cache_bytes",
            "Encoded bytes of the state-tree nodes cached in memory.",
            node_cache.bytes,
        ),
    ] {
        metric(name, "gauge", help, value);
    }
    out
}

/// Serves `GET /metrics` on `addr` until the task is dropped.
///
/// # Errors
/// If the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Answers connections on `listener` forever.
pub async fn serve(listener: TcpListener, state: Arc<NodeState>) -> Result<(), String> {
    loop {
        let (mut socket, _) = listener.accept().await.map_err(|error| error.to_string())?;
        let state = state.clone();
        tokio::spawn(async move {
            let mut request = vec![0u8; MAX_METRICS_REQUEST_BYTES];
            let Ok(read) = socket.read(&mut request).await else {
                return;
            };
            let head = String::from_utf8_lossy(&request[..read]);
            let (status, body) = if head.starts_with("GET /metrics") {
                ("200 OK", render(&state))
            } else {
                (
                    "404 Not Found",
                    "only GET /metrics is served here\n".to_string(),
                )
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}
