//! Prometheus metrics: counters and gauges kept in atomics, served as text on `GET /metrics`
//! on their own address by hyper's HTTP/1.1 server (the stack the RPC server runs on), with
//! timeouts so that a client that connects and sends nothing holds nothing for long.

use std::convert::Infallible;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::NodeState;

/// How long a connection may take to send its request line and headers. A scrape sends them at
/// once; a client that connects and sends nothing, or trickles bytes (slowloris), is cut off
/// after this.
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may live at all, whatever it does: bounds a client that sends its
/// request but never reads the answer. Rendering takes milliseconds.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The Prometheus text exposition format.
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

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
    let io = store.io();
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
    for (name, help, value) in [
        (
            "salus_store_batches_written_total",
            "Atomic, synced RocksDB writes (a block extending the head is one).",
            io.batches_written,
        ),
        (
            "salus_store_bodies_read_total",
            "Block bodies read from RocksDB (sync serving, reorganisations, RPC).",
            io.bodies_read,
        ),
        (
            "salus_store_receipts_read_total",
            "Block receipts read from RocksDB.",
            io.receipts_read,
        ),
        (
            "salus_store_undo_read_total",
            "Block undo data read from RocksDB (reorganisations).",
            io.state_changes_read,
        ),
    ] {
        metric(name, "counter", help, value);
    }
    out
}

/// Binds the metrics address.
///
/// # Errors
/// If the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Answers `GET /metrics` on `listener` forever, each connection on its own task.
///
/// # Errors
/// When accepting a connection fails.
pub async fn serve(listener: TcpListener, state: Arc<NodeState>) -> Result<(), String> {
    let timeouts = Timeouts {
        request_head: REQUEST_HEAD_TIMEOUT,
        connection: CONNECTION_TIMEOUT,
    };
    serve_text(listener, timeouts, move || render(&state)).await
}

/// How long a metrics connection may take.
#[derive(Clone, Copy, Debug)]
struct Timeouts {
    /// To send its request line and headers.
    request_head: Duration,
    /// To be served and closed, from its acceptance.
    connection: Duration,
}

/// Serves the text `render` returns on `GET /metrics`, one request per connection (the
/// response says `Connection: close`), until accepting fails.
async fn serve_text<R>(listener: TcpListener, timeouts: Timeouts, render: R) -> Result<(), String>
where
    R: Fn() -> String + Clone + Send + Sync + 'static,
{
    loop {
        let (socket, _) = listener.accept().await.map_err(|error| error.to_string())?;
        let render = render.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let response = respond(&request, &render);
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.request_head)
                .keep_alive(false)
                .serve_connection(TokioIo::new(socket), service);
            // A timed-out or failed connection is simply dropped, which closes it.
            let _ = tokio::time::timeout(timeouts.connection, connection).await;
        });
    }
}

/// The response to one request: the metrics for `GET /metrics`, 404 for anything else.
fn respond(request: &Request<Incoming>, render: &impl Fn() -> String) -> Response<Full<Bytes>> {
    let (status, body) = if request.method() == Method::GET && request.uri().path() == "/metrics" {
        (StatusCode::OK, render())
    } else {
        (
            StatusCode::NOT_FOUND,
            "only GET /metrics is served here\n".to_string(),
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(METRICS_CONTENT_TYPE),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::{Timeouts, serve_text};

    /// Generous: CI machines are slow and shared; every wait ends as soon as its event happens.
    const DEADLINE: Duration = Duration::from_secs(60);

    async fn serving(request_head: Duration) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let timeouts = Timeouts {
            request_head,
            connection: DEADLINE * 2,
        };
        tokio::spawn(serve_text(listener, timeouts, || {
            "# TYPE salus_test gauge\nsalus_test 1\n".to_string()
        }));
        address
    }

    /// Sends `request` and reads the whole response, up to the server closing the connection.
    async fn exchange(address: SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(DEADLINE, stream.read_to_string(&mut response))
            .await
            .expect("the server answers and closes the connection")
            .unwrap();
        response
    }

    /// Reads from `stream` until the server closes it (end of stream or reset).
    async fn closed_by_server(stream: &mut TcpStream) -> bool {
        let mut buffer = [0u8; 1024];
        let closed = async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(DEADLINE, closed).await.is_ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn metrics_are_served_once_per_connection_and_anything_else_is_not_found() {
        let address = serving(DEADLINE).await;
        let response = exchange(address, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        let lowercase = response.to_ascii_lowercase();
        assert!(
            lowercase.contains("content-type: text/plain; version=0.0.4\r\n"),
            "{response}"
        );
        assert!(lowercase.contains("connection: close\r\n"), "{response}");
        assert!(
            response.ends_with("\r\n\r\n# TYPE salus_test gauge\nsalus_test 1\n"),
            "{response}"
        );

        let response = exchange(address, b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(
            response.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{response}"
        );
        let response = exchange(address, b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(
            response.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{response}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_sends_nothing_is_cut_off_and_does_not_stop_other_scrapes() {
        let address = serving(Duration::from_millis(300)).await;
        let mut silent = TcpStream::connect(address).await.unwrap();
        let mut trickling = TcpStream::connect(address).await.unwrap();
        trickling.write_all(b"GET /metr").await.unwrap();

        // While both hold their connections open, scrapes are answered.
        for _ in 0..3 {
            let response = exchange(address, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
            assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
            assert!(response.ends_with("salus_test 1\n"), "{response}");
        }

        // Both are cut off by the request-head timeout, long before the connection timeout.
        assert!(
            closed_by_server(&mut silent).await,
            "a silent client was never cut off"
        );
        assert!(
            closed_by_server(&mut trickling).await,
            "a client that never finished its request head was never cut off"
        );
        let response = exchange(address, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    }
}
