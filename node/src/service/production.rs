//! Block production: one block at a time on the head, built and imported on the block thread
//! (off the async workers), sealed by a nonce search that a better head abandons, and published
//! once imported. [`BlockProduction`] holds what mining needs besides the node's chain, pool and
//! network: the one-at-a-time lock, the stop and abandon flags, and the block thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use salus_primitives::Hash;

use super::{NodeError, NodeState, lock};
use crate::chain::{ImportError, ImportOutcome, IncomingBlock};
use crate::mining::{SearchOutcome, search_nonce};
use crate::network::NetworkCommand;

/// Blocks' worth of reserved fuel (Σ fuel limits) the miner takes from the pool as candidates
/// for one block: blocks are charged the fuel used, typically well below the limits.
pub const SELECTION_FUEL_BLOCKS: u64 = 2;

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

/// The miner's state: one block at a time, on the block thread.
pub struct BlockProduction {
    /// Held while a block is built, sealed and imported; shutdown waits for it.
    mining: tokio::sync::Mutex<()>,
    stopping: AtomicBool,
    /// Set to abandon the nonce search in progress (a better head arrived, or the node stops).
    abandon_search: Mutex<Arc<AtomicBool>>,
    /// The one thread that builds and imports this node's blocks (see [`BlockThread`]).
    block_thread: BlockThread,
}

impl BlockProduction {
    /// Starts the block thread.
    pub(super) fn start() -> BlockProduction {
        BlockProduction {
            mining: tokio::sync::Mutex::new(()),
            stopping: AtomicBool::new(false),
            abandon_search: Mutex::new(Arc::new(AtomicBool::new(false))),
            block_thread: BlockThread::start(),
        }
    }

    /// Whether the node is stopping.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Stops the nonce search in progress, if any.
    pub fn abandon_search(&self) {
        lock(&self.abandon_search).store(true, Ordering::Relaxed);
    }

    /// Stops mining: the search in progress is abandoned, and this returns once a block being
    /// imported is written (each import is one atomic write); no block is mined after.
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.abandon_search();
        let _mining = self.mining.lock().await;
    }

    /// Mines one block on the head with the best pending transactions, imports it and gossips
    /// it. `None` when the search was abandoned because a better head arrived first.
    ///
    /// # Errors
    /// [`NodeError`] if building or importing fails, or the node is stopping.
    pub async fn mine_block(&self, node: &Arc<NodeState>) -> Result<Option<Hash>, NodeError> {
        let _one_at_a_time = self.mining.lock().await;
        let abandon = Arc::new(AtomicBool::new(self.is_stopping()));
        // Building executes the block and importing writes it: both on the block thread.
        let state = node.clone();
        let search_flag = abandon.clone();
        let template = self
            .block_thread
            .run(move || {
                let chain = state.chain();
                // A block is charged the fuel its transactions use, which is less than their
                // limits: candidates reserving up to `SELECTION_FUEL_BLOCKS` blocks' worth, and
                // the builder keeps those that fit.
                let candidates = state.admission.pool().select(
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
                *lock(&state.production.abandon_search) = search_flag;
                Ok::<_, NodeError>(template)
            })
            .await??;
        if !template.skipped.is_empty() {
            tracing::debug!(
                skipped = template.skipped.len(),
                "transactions left out of the block"
            );
        }
        let threads = node.config.mining_threads;
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
            SearchOutcome::Stopped if !self.is_stopping() => {
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
        let block = node.network().map(|_| built.block());
        // The template's execution is reused: the miner does not run its own block twice.
        let state = node.clone();
        let outcome = self
            .block_thread
            .run(move || state.import_with(IncomingBlock::Built(built)))
            .await??;
        match outcome {
            ImportOutcome::NewHead { .. } => {
                if let (Some(network), Some(block)) = (node.network(), block) {
                    network.send(NetworkCommand::PublishBlock(block));
                }
                Ok(Some(hash))
            }
            // A peer's block took the head while this one was being imported.
            _ => Ok(None),
        }
    }
}
