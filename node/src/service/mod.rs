//! The node service: a chain, a mempool, a miner and the JSON-RPC server as named tokio tasks.
//! A task that ends (or dies) is logged by name and shuts the node down; SIGINT and SIGTERM
//! stop it cleanly between blocks (each block is one atomic write, so a stop never leaves half
//! of one).

mod admission;
pub mod doors;
pub mod metrics;
mod network_state;
mod rpc;
mod rpc_guard;
pub mod rpc_limits;
pub mod views;

pub use doors::RpcAccess;
pub use rpc_limits::{
    EVENT_SUBSCRIPTION_BUFFER, HEAD_SUBSCRIPTION_BUFFER, MAX_RPC_BATCH, MAX_RPC_CONNECTIONS,
    MAX_RPC_REQUEST_BYTES, MAX_RPC_RESPONSE_BYTES,
};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use salus_client::rpc::{EventRecord, HeaderView, SalusApiServer};
use salus_primitives::{Address, Block, Hash, SignedTransaction};
use tokio::sync::broadcast;
use tokio::task::JoinSet;

use crate::chain::{Chain, ImportError, ImportOutcome, IncomingBlock, ReceivedBlock};
use crate::genesis::{Genesis, GenesisConfig};
use crate::mempool::{AdmissionError, Mempool, PoolLimits};
use crate::mining::{SearchOutcome, search_nonce};
use crate::network::{NetworkCommand, NetworkConfig, NetworkHandle};
use crate::storage::Store;

/// The outcome of an admission job that panicked.
fn admission_failed() -> AdmissionError {
    AdmissionError::State("the admission failed".into())
}

/// Blocks' worth of reserved fuel (Σ fuel limits) the miner takes from the pool as candidates
/// for one block: blocks are charged the fuel used, typically well below the limits.
pub const SELECTION_FUEL_BLOCKS: u64 = 2;

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

/// The shared state of a running node.
pub struct NodeState {
    chain: Mutex<Chain>,
    mempool: Mutex<Mempool>,
    /// The pool's nearly-full flag ([`Mempool::nearly_full_flag`]), read without its lock.
    pool_nearly_full: Arc<AtomicBool>,
    /// The chain's cache of verified signatures (shared with the pool), reachable without the
    /// chain lock.
    signatures: Arc<crate::signature_cache::VerifiedSignatures>,
    /// The chain's database, for reads that need no consistency with the chain's lock.
    store: Store,
    genesis: Genesis,
    config: NodeConfig,
    heads: broadcast::Sender<HeaderView>,
    events: broadcast::Sender<EventRecord>,
    clock_offset_ms: AtomicU64,
    mining: tokio::sync::Mutex<()>,
    stopping: AtomicBool,
    /// Set to abandon the nonce search in progress (a better head arrived, or the node stops).
    abandon_search: Mutex<Arc<AtomicBool>>,
    metrics: metrics::Metrics,
    network: OnceLock<NetworkHandle>,
    /// The one thread that builds and imports this node's blocks (see [`BlockThread`]).
    block_thread: BlockThread,
    /// Submitted transactions waiting for their signature checks and admission.
    admissions: Arc<admission::AdmissionQueue>,
}

/// A job for the block thread.
type BlockJob = Box<dyn FnOnce() + Send>;

/// One long-lived thread for the miner's block building and import. Off the async workers, so
/// RPC and the network keep being served; always the same thread, so the allocator keeps one
/// block's worth of memory for it instead of one per pool thread that ever built a block.
struct BlockThread {
    jobs: Mutex<std::sync::mpsc::Sender<BlockJob>>,
}

impl BlockThread {
    fn start() -> BlockThread {
        let (jobs, receiver) = std::sync::mpsc::channel::<BlockJob>();
        // Building and importing blocks executes contracts: the thread has the native stack
        // the execution limits allow for.
        salus_runtime::native_stack::spawn("block-producer", move || {
            for job in receiver {
                job();
            }
        })
        .expect("the block thread starts");
        BlockThread {
            jobs: Mutex::new(jobs),
        }
    }

    /// Runs `job` on the block thread and waits for its result.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, NodeError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        lock(&self.jobs)
            .send(Box::new(move || {
                let _ = sender.send(job());
            }))
            .map_err(|_| NodeError::TaskFailed("block-producer", "the thread stopped".into()))?;
        receiver
            .await
            .map_err(|_| NodeError::TaskFailed("block-producer", "a job panicked".into()))
    }
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
        let store = chain.store().clone();
        let mempool = Mempool::new(
            genesis.params.clone(),
            signatures.clone(),
            PoolLimits::default(),
        );
        let pool_nearly_full = mempool.nearly_full_flag();
        let (heads, _) = broadcast::channel(HEAD_SUBSCRIPTION_BUFFER);
        let (events, _) = broadcast::channel(EVENT_SUBSCRIPTION_BUFFER);
        Ok(Arc::new(NodeState {
            chain: Mutex::new(chain),
            mempool: Mutex::new(mempool),
            pool_nearly_full,
            signatures,
            store,
            genesis,
            config,
            heads,
            events,
            clock_offset_ms: AtomicU64::new(0),
            mining: tokio::sync::Mutex::new(()),
            stopping: AtomicBool::new(false),
            abandon_search: Mutex::new(Arc::new(AtomicBool::new(false))),
            metrics: metrics::Metrics::default(),
            network: OnceLock::new(),
            block_thread: BlockThread::start(),
            admissions: admission::AdmissionQueue::new(),
        }))
    }

    /// The chain, locked.
    pub fn chain(&self) -> MutexGuard<'_, Chain> {
        lock(&self.chain)
    }

    /// The mempool, locked.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        lock(&self.mempool)
    }

    /// The local clock, shifted by `dev_increaseTime`.
    pub fn now_ms(&self) -> u64 {
        crate::wall_clock_ms() + self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Admits a transaction from a client to the pool and gossips it to peers.
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks.
    pub fn submit(&self, transaction: SignedTransaction) -> Result<Hash, AdmissionError> {
        let Some(network) = self.network.get() else {
            // No network (a dev node without peers): nothing to publish, nothing to copy.
            return self.admit(transaction);
        };
        let hash = self.admit(transaction.clone())?;
        network.send(NetworkCommand::PublishTransaction(transaction));
        Ok(hash)
    }

    /// [`NodeState::submit`] on a blocking thread, off the async reactor: submissions queue
    /// and are verified on every core without a thread hand-off per transaction.
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks, or [`AdmissionError::State`] if the
    /// admission itself failed.
    pub async fn submit_queued(
        self: &Arc<Self>,
        transaction: SignedTransaction,
    ) -> Result<Hash, AdmissionError> {
        self.through_admission_queue(transaction, NodeState::submit)
            .await
    }

    /// [`NodeState::submit`] for each of `transactions`, in order, as one job of the admission
    /// queue (one hand-off for the whole batch); one outcome per transaction.
    pub async fn submit_batch_queued(
        self: &Arc<Self>,
        transactions: Vec<SignedTransaction>,
    ) -> Vec<Result<Hash, AdmissionError>> {
        let count = transactions.len();
        self.on_admission_queue(move |state| {
            transactions
                .into_iter()
                .map(|transaction| state.submit(transaction))
                .collect()
        })
        .await
        .unwrap_or_else(|| (0..count).map(|_| Err(admission_failed())).collect())
    }

    /// [`NodeState::admit`] through the admission queue, off the async reactor (gossiped
    /// transactions: the network task does not wait for their signature checks).
    ///
    /// # Errors
    /// As [`NodeState::submit_queued`].
    pub async fn admit_queued(
        self: &Arc<Self>,
        transaction: SignedTransaction,
    ) -> Result<Hash, AdmissionError> {
        self.through_admission_queue(transaction, NodeState::admit)
            .await
    }

    async fn through_admission_queue(
        self: &Arc<Self>,
        transaction: SignedTransaction,
        admission: fn(&NodeState, SignedTransaction) -> Result<Hash, AdmissionError>,
    ) -> Result<Hash, AdmissionError> {
        self.on_admission_queue(move |state| admission(state, transaction))
            .await
            .unwrap_or_else(|| Err(admission_failed()))
    }

    /// Runs `job` on the admission queue with this node's state; `None` if it panicked.
    async fn on_admission_queue<T: Send + 'static>(
        self: &Arc<Self>,
        job: impl FnOnce(&NodeState) -> T + Send + 'static,
    ) -> Option<T> {
        let state = self.clone();
        self.admissions.run(move || job(&state)).await
    }

    /// Admits a transaction to the pool (from a peer: gossip relays it once validated).
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks.
    pub fn admit(&self, transaction: SignedTransaction) -> Result<Hash, AdmissionError> {
        // Hashed once: the pool, the miner, execution and the store batch use this hash.
        let transaction = salus_runtime::HashedTransaction::new(transaction);
        // A full pool refuses what it could not take before any signature work (asked only
        // when nearly full: the flag spares every other admission a second lock).
        if self
            .pool_nearly_full
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            self.mempool().refuse_before_verifying(&transaction)?;
        }
        // Signatures are recovered outside the pool's lock, so admissions on several threads
        // verify in parallel and neither the miner nor block import waits for them.
        let verified = crate::mempool::verify_for_admission(
            &self.genesis.params,
            self.signatures.as_ref(),
            transaction,
        )?;
        // Accounts are read from the store, not through the chain: an admission never waits
        // for the miner or an import holding the chain's lock.
        self.mempool().admit_verified(verified, &self.store)
    }

    /// The network, when the node joined one.
    pub fn network(&self) -> Option<&NetworkHandle> {
        self.network.get()
    }

    /// The node's counters.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
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

    /// Mines one block on the head with the best pending transactions, imports it and gossips
    /// it. `None` when the search was abandoned because a better head arrived first.
    ///
    /// # Errors
    /// [`NodeError`] if building or importing fails, or the node is stopping.
    pub async fn mine_block(self: &Arc<Self>) -> Result<Option<Hash>, NodeError> {
        let _one_at_a_time = self.mining.lock().await;
        let abandon = Arc::new(AtomicBool::new(self.stopping.load(Ordering::Relaxed)));
        // Building executes the block and importing writes it: both on the block thread.
        let state = self.clone();
        let search_flag = abandon.clone();
        let template = self
            .block_thread
            .run(move || {
                let chain = state.chain();
                // A block is charged the fuel its transactions use, which is less than their
                // limits: candidates reserving up to `SELECTION_FUEL_BLOCKS` blocks' worth, and
                // the builder keeps those that fit.
                let candidates = state.mempool().select(
                    &*chain,
                    chain
                        .params()
                        .block_fuel_limit
                        .saturating_mul(SELECTION_FUEL_BLOCKS),
                );
                let template =
                    chain.build_block(state.config.miner, state.now_ms(), &candidates)?;
                // Installed under the chain lock: any head change after this template was built
                // (imports hold the same lock) abandons this search.
                *lock(&state.abandon_search) = search_flag;
                Ok::<_, NodeError>(template)
            })
            .await??;
        if !template.skipped.is_empty() {
            tracing::debug!(
                skipped = template.skipped.len(),
                "transactions left out of the block"
            );
        }
        let threads = self.config.mining_threads;
        let header = template.header.clone();
        let outcome = tokio::task::spawn_blocking(move || search_nonce(&header, threads, &abandon))
            .await
            .map_err(|error| NodeError::TaskFailed("nonce-search", error.to_string()))?
            .map_err(|error| {
                NodeError::Import(ImportError::Rule(
                    crate::chain::validation::BlockRuleError::BadTarget(error),
                ))
            })?;
        let header = match outcome {
            SearchOutcome::Found(header) => header,
            SearchOutcome::Stopped if !self.stopping.load(Ordering::Relaxed) => {
                tracing::debug!("nonce search abandoned: a better head arrived");
                return Ok(None);
            }
            SearchOutcome::Stopped | SearchOutcome::Exhausted => {
                return Err(NodeError::TaskFailed(
                    "nonce-search",
                    "stopped before a nonce was found".into(),
                ));
            }
        };
        let built = template.seal(header);
        let hash = built.hash();
        let block = self.network.get().map(|_| built.block());
        // The template's execution is reused: the miner does not run its own block twice.
        let state = self.clone();
        let outcome = self
            .block_thread
            .run(move || state.import_with(IncomingBlock::Built(built)))
            .await??;
        match outcome {
            ImportOutcome::NewHead { .. } => {
                if let (Some(network), Some(block)) = (self.network.get(), block) {
                    network.send(NetworkCommand::PublishBlock(block));
                }
                Ok(Some(hash))
            }
            // A peer's block took the head while this one was being imported.
            _ => Ok(None),
        }
    }

    /// Stops the nonce search in progress, if any.
    fn abandon_search(&self) {
        lock(&self.abandon_search).store(true, Ordering::Relaxed);
    }

    /// Imports a block and does the housekeeping a new head needs: prune and refill the pool,
    /// announce the head.
    ///
    /// # Errors
    /// [`NodeError::Import`] when the block is refused.
    pub fn import(&self, block: Block) -> Result<ImportOutcome, NodeError> {
        let block = ReceivedBlock::new(block);
        // Spend cores on signatures only for a block that could be imported now: well formed,
        // with its proof of work, new, on a stored parent. They are recovered on every core
        // before the chain lock is taken; import finds them in the cache.
        if block.check_standalone().is_ok()
            && self.has_block(&block.header().parent_hash)
            && !self.has_block(&block.hash())
        {
            block.recover_signers_in_parallel(&self.signatures);
        }
        self.import_with(IncomingBlock::Received(block))
    }

    /// Imports a block and does the housekeeping of [`NodeState::import`]: the pool drops what
    /// the connected blocks included (by the hashes their receipts carry) and takes back what
    /// disconnected blocks held; heads, metrics and events are announced from the connected
    /// blocks as the import produced them, not read back from the store.
    fn import_with(&self, block: IncomingBlock) -> Result<ImportOutcome, NodeError> {
        let mut chain = self.chain();
        let before = chain.head().hash;
        let started = std::time::Instant::now();
        // A refused block can still have moved the head (a reorganisation onto a heavier branch
        // that stopped at an invalid block): the housekeeping below runs either way.
        let outcome = chain.import_block(block, self.now_ms());
        let connected = chain.drain_connected_blocks();
        let head = chain.head().clone();
        if head.hash != before {
            self.abandon_search();
            let orphaned = chain.drain_orphaned_transactions();
            let mut mempool = self.mempool();
            mempool.prune(
                connected
                    .iter()
                    .flat_map(|block| &block.receipts)
                    .map(|receipt| &receipt.transaction_hash),
                &*chain,
            );
            if !orphaned.is_empty() {
                let returned: Vec<(Hash, SignedTransaction)> = orphaned
                    .iter()
                    .map(|transaction| (transaction.hash(), transaction.transaction().clone()))
                    .collect();
                let readmitted = mempool.readmit(orphaned, &*chain);
                tracing::info!(
                    readmitted,
                    "transactions of disconnected blocks returned to the pool"
                );
                // Peers that followed the same branch dropped them too: announce them again.
                if let Some(network) = self.network.get() {
                    for (hash, transaction) in returned {
                        if mempool.contains(&hash) {
                            network.send(NetworkCommand::PublishTransaction(transaction));
                        }
                    }
                }
            }
            drop(mempool);
            tracing::info!(
                number = head.header.number,
                hash = %head.hash,
                transactions = connected.last().map_or(0, |block| block.receipts.len()),
                import_ms = started.elapsed().as_millis() as u64,
                "new head"
            );
            // No subscribers is fine.
            let _ = self.heads.send(views::header(&head.header));
            let import_micros = started.elapsed().as_micros() as u64;
            for block in &connected {
                let fuel: u64 = block.receipts.iter().map(|receipt| receipt.fuel_used).sum();
                self.metrics
                    .record_block(block.receipts.len(), fuel, import_micros);
                if self.events.receiver_count() > 0 {
                    self.publish_events(block);
                }
            }
        }
        Ok(outcome?)
    }
}

impl NodeState {
    fn publish_events(&self, block: &crate::chain::ConnectedBlock) {
        let header = &block.header;
        for (transaction_index, receipt) in block.receipts.iter().enumerate() {
            for (event_index, event) in receipt.events.iter().enumerate() {
                let _ = self.events.send(EventRecord {
                    block_number: header.number,
                    transaction_index: transaction_index as u32,
                    event_index: event_index as u16,
                    transaction_hash: receipt.transaction_hash.to_string(),
                    event: views::event(event),
                });
            }
        }
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
        .set_http_middleware(tower::ServiceBuilder::new().layer(doors::DoorsLayer::new(
            config.rpc_access.clone(),
            cookie.clone(),
        )))
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
    let module = rpc::RpcHandler::new(state.clone()).into_rpc();
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
            loop {
                ticker.tick().await;
                if miner_state.stopping.load(Ordering::Relaxed) {
                    return ("miner", Ok(()));
                }
                if let Err(error) = miner_state.mine_block().await {
                    return ("miner", Err(error.to_string()));
                }
            }
        });
    }
    if let Some(network_config) = config.network.clone() {
        let (handle, network_task) =
            crate::network::start(state.clone(), network_config, &config.data_dir)?;
        let _ = state.network.set(handle);
        tasks.spawn(async move { ("network", network_task.await) });
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
        self.state.stopping.store(true, Ordering::Relaxed);
        self.state.abandon_search();
        // Wait for a block being mined to finish its atomic import.
        let _mining = self.state.mining.lock().await;
        let _ = self.server.stop();
        self.tasks.shutdown().await;
        self.cookie.remove();
        result
    }
}
