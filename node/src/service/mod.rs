//! The node service: a chain, a mempool, a miner and the JSON-RPC server as named tokio tasks.
//! A task that ends (or dies) is logged by name and shuts the node down; SIGINT and SIGTERM
//! stop it cleanly between blocks (each block is one atomic write, so a stop never leaves half
//! of one).

mod admission;
pub mod console;
pub use console::ConsoleContracts;
pub mod doors;
mod import;
pub mod metrics;
mod network_state;
mod production;
mod rpc;
mod rpc_guard;
pub mod rpc_limits;
pub mod views;

pub use admission::Admission;
pub use doors::RpcAccess;
pub use production::{BlockProduction, SELECTION_FUEL_BLOCKS};
pub use rpc_limits::{
    EVENT_SUBSCRIPTION_BUFFER, HEAD_SUBSCRIPTION_BUFFER, MAX_RPC_BATCH, MAX_RPC_CONNECTIONS,
    MAX_RPC_REQUEST_BYTES, MAX_RPC_RESPONSE_BYTES,
};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use salus_client::rpc::{EventRecord, HeaderView, SalusApiServer};
use salus_primitives::{Address, Hash, SignedTransaction};
use tokio::sync::broadcast;
use tokio::task::JoinSet;

use crate::chain::{Chain, ImportError};
use crate::genesis::{Genesis, GenesisConfig};
use crate::mempool::{AdmissionError, Mempool};
use crate::network::{NetworkConfig, NetworkHandle};
use crate::storage::Store;

/// When a node mines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mining {
    /// Never (a node that only follows and serves).
    Off,
    /// Only when asked (`dev_mine`).
    OnDemand,
    /// A block every this many milliseconds (dev chains).
    Every(u64),
    /// Back to back, as fast as the proof of work allows (the difficulty sets the pace).
    Continuous,
}

/// How a node is run.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Data directory (RocksDB).
    pub data_dir: PathBuf,
    /// Address of the JSON-RPC server (HTTP and WebSocket); port 0 picks a free one.
    pub rpc_addr: SocketAddr,
    /// Host names and browser origins the RPC server answers besides the local ones.
    pub rpc_access: RpcAccess,
    /// The chain.
    pub genesis: GenesisConfig,
    /// Dev chain: `dev_*` methods answer (they move the chain's clock and mine at will; on any
    /// other chain they do not exist).
    pub dev: bool,
    /// When to mine.
    pub mining: Mining,
    /// Receiver of block rewards.
    pub miner: Address,
    /// Threads for the nonce search.
    pub mining_threads: usize,
    /// Address of the Prometheus metrics endpoint, if any.
    pub metrics_addr: Option<SocketAddr>,
    /// The peer-to-peer network, if the node joins one.
    pub network: Option<NetworkConfig>,
    /// The contracts the console reads (`[console]`); `None`: the genesis contracts named
    /// `registry`, `consent`, `supply` and `coverage`.
    pub console_contracts: Option<ConsoleContracts>,
}

/// Why the node stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The genesis is invalid.
    #[error(transparent)]
    Genesis(#[from] crate::genesis::GenesisError),
    /// The database could not be opened or written.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// Block import failed.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The RPC cookie could not be written.
    #[error(transparent)]
    Cookie(#[from] crate::rpc_cookie::CookieError),
    /// The RPC server could not start (e.g. the port is taken).
    #[error("cannot serve JSON-RPC on {addr}: {reason}")]
    Rpc {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
    /// The peer-to-peer network could not start.
    #[error("network: {0}")]
    Network(#[from] crate::network::NetworkError),
    /// A named task ended unexpectedly.
    #[error("task `{0}` stopped: {1}")]
    TaskFailed(&'static str, String),
}

impl NodeError {
    /// Whether the node's disk is full: nothing was written, and the same work may succeed once
    /// space is freed (the miner pauses and retries instead of stopping the node).
    pub fn is_out_of_space(&self) -> bool {
        match self {
            NodeError::Storage(error) | NodeError::Import(ImportError::Storage(error)) => {
                error.is_out_of_space()
            }
            _ => false,
        }
    }
}

/// How often a node announces its longest-pending transactions to its peers again. Gossip
/// carries a transaction once, when admitted (and when a reorganisation returns it): one
/// accepted while the node had no peers, or on the far side of a partition, or returned to a
/// pool whose peers dropped it, would otherwise stay where it is — on a node that does not
/// mine, for ever. Peers that have it answer from their pool (its signature is cached).
pub const REANNOUNCE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Most transactions announced again each [`REANNOUNCE_INTERVAL`], the longest-pending first.
pub const REANNOUNCE_LIMIT: usize = 256;

/// How often a miner paused by a full disk tries again.
pub const DISK_FULL_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// The shared state of a running node: the chain, and the parts with one job each that the
/// service composes around it — [`Admission`] (the pool and the way into it),
/// [`BlockProduction`] (the miner), block import and its housekeeping (`import.rs`), the
/// network's view (`network_state.rs`) — with the broadcast channels, the clock and the
/// network handle they share.
pub struct NodeState {
    chain: Mutex<Chain>,
    /// The chain's cache of verified signatures (shared with the pool), reachable without the
    /// chain lock.
    signatures: Arc<crate::signature_cache::VerifiedSignatures>,
    /// The head as of the last import, readable without the chain's lock (which an import holds
    /// for as long as it runs): the network task answers peers' status requests from it.
    published_head: Mutex<crate::chain::Tip>,
    /// The chain's database, for reads that need no consistency with the chain's lock.
    store: Store,
    genesis: Genesis,
    config: NodeConfig,
    admission: Arc<Admission>,
    production: BlockProduction,
    heads: broadcast::Sender<HeaderView>,
    events: broadcast::Sender<EventRecord>,
    clock_offset_ms: AtomicU64,
    metrics: metrics::Metrics,
    network: OnceLock<NetworkHandle>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl NodeState {
    /// Opens the chain and the pool.
    ///
    /// # Errors
    /// [`NodeError`] for an invalid genesis or an unusable database.
    pub fn open(config: NodeConfig) -> Result<Arc<NodeState>, NodeError> {
        let genesis = config.genesis.build()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|error| {
            crate::storage::StorageError::Corrupt(format!(
                "cannot create {}: {error}",
                config.data_dir.display()
            ))
        })?;
        let chain = Chain::open(Store::open(&config.data_dir)?, &genesis)?;
        let signatures = chain.signature_cache().clone();
        let published_head = Mutex::new(chain.head().clone());
        let store = chain.store().clone();
        let admission = Admission::new(genesis.params.clone(), signatures.clone(), store.clone());
        let (heads, _) = broadcast::channel(HEAD_SUBSCRIPTION_BUFFER);
        let (events, _) = broadcast::channel(EVENT_SUBSCRIPTION_BUFFER);
        Ok(Arc::new(NodeState {
            chain: Mutex::new(chain),
            signatures,
            published_head,
            store,
            genesis,
            config,
            admission,
            production: BlockProduction::start(),
            heads,
            events,
            clock_offset_ms: AtomicU64::new(0),
            metrics: metrics::Metrics::default(),
            network: OnceLock::new(),
        }))
    }

    /// The chain, locked.
    pub fn chain(&self) -> MutexGuard<'_, Chain> {
        lock(&self.chain)
    }

    /// The mempool, locked.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.admission.pool()
    }

    /// The pool's front end.
    pub fn admission(&self) -> &Arc<Admission> {
        &self.admission
    }

    /// [`Admission::submit_queued`] with this node's network.
    ///
    /// # Errors
    /// As [`Admission::submit_queued`].
    pub async fn submit_queued(
        &self,
        transaction: SignedTransaction,
    ) -> Result<Hash, AdmissionError> {
        self.admission
            .submit_queued(transaction, self.network().cloned())
            .await
    }

    /// [`Admission::submit_batch_queued`] with this node's network.
    pub async fn submit_batch_queued(
        &self,
        transactions: Vec<SignedTransaction>,
    ) -> Vec<Result<Hash, AdmissionError>> {
        self.admission
            .submit_batch_queued(transactions, self.network().cloned())
            .await
    }

    /// Mines one block on the head ([`BlockProduction::mine_block`]).
    ///
    /// # Errors
    /// As [`BlockProduction::mine_block`].
    pub async fn mine_block(self: &Arc<Self>) -> Result<Option<Hash>, NodeError> {
        self.production.mine_block(self).await
    }

    /// The head as of the last import, without waiting for one in progress.
    pub fn published_head(&self) -> crate::chain::Tip {
        lock(&self.published_head).clone()
    }

    /// The local clock, shifted by `dev_increaseTime`.
    pub fn now_ms(&self) -> u64 {
        crate::wall_clock_ms() + self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// The network, when the node joined one.
    pub fn network(&self) -> Option<&NetworkHandle> {
        self.network.get()
    }

    /// The node's counters.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// The chain's database, for reads that need no consistency with the chain's lock (each
    /// block is one atomic write; a block's body and receipts never change).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The chain's consensus parameters.
    pub fn chain_params(&self) -> &salus_primitives::ChainParams {
        &self.genesis.params
    }

    /// The contracts the console reads: `[console]`'s, else the genesis contracts by name.
    pub fn console_contracts(&self) -> ConsoleContracts {
        self.config
            .console_contracts
            .unwrap_or_else(|| ConsoleContracts::from_genesis(&self.config.genesis))
    }

    /// Genesis hash.
    pub fn genesis_hash(&self) -> Hash {
        self.genesis.header.hash()
    }

    /// Whether a block is stored and not known to be invalid.
    pub fn has_block(&self, hash: &Hash) -> bool {
        matches!(
            self.chain().store().block_meta(hash),
            Ok(Some(meta)) if !matches!(meta.status, crate::storage::BlockStatus::Invalid(_))
        )
    }
}

/// A running node: the RPC address it listens on, and a way to wait for it.
pub struct RunningNode {
    /// The shared state.
    pub state: Arc<NodeState>,
    /// The bound RPC address (useful with port 0).
    pub rpc_addr: SocketAddr,
    /// The bound metrics address, if metrics are served.
    pub metrics_addr: Option<SocketAddr>,
    /// The operator's token, in `DATA_DIR/.cookie` (removed at a clean stop).
    pub cookie: Arc<crate::rpc_cookie::RpcCookie>,
    tasks: JoinSet<(&'static str, Result<(), String>)>,
    server: jsonrpsee::server::ServerHandle,
}

/// Starts the node's tasks.
///
/// # Errors
/// [`NodeError`] if the chain cannot be opened or the RPC port cannot be bound.
pub async fn start(config: NodeConfig) -> Result<RunningNode, NodeError> {
    let state = NodeState::open(config.clone())?;
    // After the database is open (and locked): one node per data directory writes the cookie.
    let cookie = Arc::new(crate::rpc_cookie::RpcCookie::create(&config.data_dir)?);
    // One handler for the RPC and the console: dry-run places are shared.
    let handler = rpc::RpcHandler::new(state.clone());
    let server_config = jsonrpsee::server::ServerConfig::builder()
        .max_request_body_size(MAX_RPC_REQUEST_BYTES)
        .max_response_body_size(MAX_RPC_RESPONSE_BYTES)
        .max_connections(MAX_RPC_CONNECTIONS)
        .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(MAX_RPC_BATCH))
        .max_subscriptions_per_connection(rpc_limits::MAX_SUBSCRIPTIONS_PER_CONNECTION)
        .set_first_request_timeout(Some(rpc_limits::RPC_FIRST_REQUEST_TIMEOUT))
        .enable_ws_ping(
            jsonrpsee::server::PingConfig::new()
                .ping_interval(rpc_limits::WS_PING_INTERVAL)
                .inactive_limit(rpc_limits::WS_INACTIVE_LIMIT)
                .max_failures(rpc_limits::WS_MAX_MISSED_PINGS),
        )
        .build();
    let server = jsonrpsee::server::Server::builder()
        .set_config(server_config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(doors::DoorsLayer::new(
                    config.rpc_access.clone(),
                    cookie.clone(),
                ))
                .layer(console::ConsoleLayer::new(console::Console::new(
                    handler.clone(),
                    state.clone(),
                ))),
        )
        .set_rpc_middleware(
            jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new()
                .layer_fn(rpc_guard::RpcGuard::new),
        )
        .build(config.rpc_addr)
        .await
        .map_err(|error| NodeError::Rpc {
            addr: config.rpc_addr,
            reason: error.to_string(),
        })?;
    let rpc_addr = server.local_addr().map_err(|error| NodeError::Rpc {
        addr: config.rpc_addr,
        reason: error.to_string(),
    })?;
    let module = handler.into_rpc();
    let server = server.start(module);

    let mut tasks = JoinSet::new();
    let mut metrics_addr = None;
    if let Some(addr) = config.metrics_addr {
        let listener = metrics::bind(addr).await.map_err(|error| NodeError::Rpc {
            addr,
            reason: error.to_string(),
        })?;
        metrics_addr = listener.local_addr().ok();
        let metrics_state = state.clone();
        tasks.spawn(async move { ("metrics", metrics::serve(listener, metrics_state).await) });
    }
    if let Mining::Every(_) | Mining::Continuous = config.mining {
        let interval_ms = match config.mining {
            Mining::Every(ms) => ms.max(1),
            _ => 1,
        };
        let miner_state = state.clone();
        tasks.spawn(async move {
            let mut ticker = tokio::time::interval(std::time::Duration::from_millis(interval_ms));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // A full disk pauses mining (nothing was written; reads and the network go on)
            // until a block can be written again; any other failure stops the node.
            let mut paused = false;
            loop {
                ticker.tick().await;
                if miner_state.production.is_stopping() {
                    return ("miner", Ok(()));
                }
                match miner_state.mine_block().await {
                    Ok(_) if paused => {
                        paused = false;
                        tracing::warn!("disk space is back: mining resumed");
                    }
                    Ok(_) => {}
                    Err(error) if error.is_out_of_space() => {
                        if !paused {
                            paused = true;
                            tracing::error!(
                                %error,
                                "disk full: mining paused, retried every {DISK_FULL_RETRY:?}; \
                                 reads are still served"
                            );
                        }
                        tokio::time::sleep(DISK_FULL_RETRY).await;
                    }
                    Err(error) => return ("miner", Err(error.to_string())),
                }
            }
        });
    }
    if let Some(network_config) = config.network.clone() {
        let (handle, network_task) =
            crate::network::start(state.clone(), network_config, &config.data_dir)?;
        let _ = state.network.set(handle);
        tasks.spawn(async move { ("network", network_task.await) });
        let announcing = state.clone();
        tasks.spawn(async move {
            let mut ticker = tokio::time::interval(REANNOUNCE_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if announcing.production.is_stopping() {
                    return ("reannounce", Ok(()));
                }
                let pending = announcing.admission.pool().oldest(REANNOUNCE_LIMIT);
                if let Some(network) = announcing.network() {
                    for transaction in pending {
                        network.send(crate::network::NetworkCommand::PublishTransaction(
                            transaction,
                        ));
                    }
                }
            }
        });
    }
    let watched = server.clone();
    tasks.spawn(async move {
        watched.stopped().await;
        ("rpc-server", Ok(()))
    });
    Ok(RunningNode {
        state,
        rpc_addr,
        metrics_addr,
        cookie,
        tasks,
        server,
    })
}

impl RunningNode {
    /// Runs until `shutdown` resolves or a task ends; then stops every task. A task that ended
    /// on its own is reported by name.
    ///
    /// # Errors
    /// [`NodeError::TaskFailed`] naming the task that died.
    pub async fn run_until(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), NodeError> {
        let result = tokio::select! {
            () = shutdown => {
                tracing::info!("shutting down");
                Ok(())
            }
            Some(joined) = self.tasks.join_next() => match joined {
                Ok((name, Ok(()))) => Err(NodeError::TaskFailed(name, "ended".into())),
                Ok((name, Err(error))) => Err(NodeError::TaskFailed(name, error)),
                Err(error) => Err(NodeError::TaskFailed("unknown", error.to_string())),
            },
        };
        if let Err(error) = &result {
            tracing::error!(%error, "a node task stopped; shutting down");
        }
        // Wait for a block being mined to finish its atomic import; none is mined after.
        self.state.production.stop().await;
        let _ = self.server.stop();
        self.tasks.shutdown().await;
        self.cookie.remove();
        result
    }
}
