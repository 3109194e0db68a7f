//! The pool's front end: [`Admission`], what a submitted or gossiped transaction goes through
//! (hashed once, refused early by a full pool, verified outside the pool's lock, then admitted
//! against the head's accounts read from the store, never through the chain's lock), and what
//! the pool does when the head moves. Admission runs off the async reactor, without a thread
//! hand-off per transaction: submissions queue up ([`AdmissionQueue`]), and at most one
//! blocking task per core drains the queue until it is empty. Under load each task keeps
//! working through the queue instead of being woken once per transaction.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use salus_primitives::{ChainParams, Hash, SignedTransaction};
use salus_runtime::HashedTransaction;

use super::lock;
use crate::chain::{Chain, ConnectedBlock};
use crate::mempool::{AdmissionError, Mempool, PoolLimits, verify_for_admission};
use crate::network::{NetworkCommand, NetworkHandle};
use crate::signature_cache::VerifiedSignatures;
use crate::storage::Store;

/// The outcome of an admission job that panicked.
fn admission_failed() -> AdmissionError {
    AdmissionError::State("the admission failed".into())
}

/// The pool and the way into it.
pub struct Admission {
    pool: Mutex<Mempool>,
    /// The pool's nearly-full flag ([`Mempool::nearly_full_flag`]), read without its lock.
    nearly_full: Arc<AtomicBool>,
    /// The chain's cache of verified signatures, shared with block import.
    signatures: Arc<VerifiedSignatures>,
    /// The head's accounts, read without the chain's lock (each block is one atomic write).
    accounts: Store,
    params: ChainParams,
    queue: Arc<AdmissionQueue>,
}

impl Admission {
    /// An empty pool for the chain with `params`, sharing the chain's signature cache and
    /// reading accounts from `accounts`.
    pub fn new(
        params: ChainParams,
        signatures: Arc<VerifiedSignatures>,
        accounts: Store,
    ) -> Arc<Admission> {
        let pool = Mempool::new(params.clone(), signatures.clone(), PoolLimits::default());
        Arc::new(Admission {
            nearly_full: pool.nearly_full_flag(),
            pool: Mutex::new(pool),
            signatures,
            accounts,
            params,
            queue: AdmissionQueue::new(),
        })
    }

    /// The pool, locked.
    pub fn pool(&self) -> MutexGuard<'_, Mempool> {
        lock(&self.pool)
    }

    /// Admits a transaction to the pool (from a peer: gossip relays it once validated).
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks.
    pub fn admit(&self, transaction: SignedTransaction) -> Result<Hash, AdmissionError> {
        // Hashed once: the pool, the miner, execution and the store batch use this hash.
        let transaction = HashedTransaction::new(transaction);
        // A full pool refuses what it could not take before any signature work (asked only
        // when nearly full: the flag spares every other admission a second lock).
        if self.nearly_full.load(Ordering::Relaxed) {
            self.pool().refuse_before_verifying(&transaction)?;
        }
        // Signatures are recovered outside the pool's lock, so admissions on several threads
        // verify in parallel and neither the miner nor block import waits for them.
        let verified = verify_for_admission(&self.params, &self.signatures, transaction)?;
        // Accounts are read from the store, not through the chain: an admission never waits
        // for the miner or an import holding the chain's lock.
        self.pool().admit_verified(verified, &self.accounts)
    }

    /// Admits a transaction from a client and gossips it to peers (when the node has any).
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks.
    pub fn submit(
        &self,
        transaction: SignedTransaction,
        network: Option<&NetworkHandle>,
    ) -> Result<Hash, AdmissionError> {
        let Some(network) = network else {
            // No network (a dev node without peers): nothing to publish, nothing to copy.
            return self.admit(transaction);
        };
        let hash = self.admit(transaction.clone())?;
        network.send(NetworkCommand::PublishTransaction(transaction));
        Ok(hash)
    }

    /// [`Admission::submit`] through the queue, off the async reactor: submissions are
    /// verified on every core without a thread hand-off per transaction.
    ///
    /// # Errors
    /// [`AdmissionError`] naming the rule it breaks, or [`AdmissionError::State`] if the
    /// admission itself failed.
    pub async fn submit_queued(
        self: &Arc<Self>,
        transaction: SignedTransaction,
        network: Option<NetworkHandle>,
    ) -> Result<Hash, AdmissionError> {
        let admission = self.clone();
        self.queue
            .run(move || admission.submit(transaction, network.as_ref()))
            .await
            .unwrap_or_else(|| Err(admission_failed()))
    }

    /// [`Admission::submit`] for each of `transactions`, in order, as one job of the queue (one
    /// hand-off for the whole batch); one outcome per transaction.
    pub async fn submit_batch_queued(
        self: &Arc<Self>,
        transactions: Vec<SignedTransaction>,
        network: Option<NetworkHandle>,
    ) -> Vec<Result<Hash, AdmissionError>> {
        let count = transactions.len();
        let admission = self.clone();
        self.queue
            .run(move || {
                transactions
                    .into_iter()
                    .map(|transaction| admission.submit(transaction, network.as_ref()))
                    .collect()
            })
            .await
            .unwrap_or_else(|| (0..count).map(|_| Err(admission_failed())).collect())
    }

    /// [`Admission::admit`] through the queue, off the async reactor (gossiped transactions:
    /// the network task does not wait for their signature checks).
    ///
    /// # Errors
    /// As [`Admission::submit_queued`].
    pub async fn admit_queued(
        self: &Arc<Self>,
        transaction: SignedTransaction,
    ) -> Result<Hash, AdmissionError> {
        let admission = self.clone();
        self.queue
            .run(move || admission.admit(transaction))
            .await
            .unwrap_or_else(|| Err(admission_failed()))
    }

    /// After the head moved: drops what the `connected` blocks included (by the hashes their
    /// receipts carry) and what became stale, takes back the transactions of disconnected
    /// blocks (`orphaned`), and announces those it took back to peers, which dropped them too.
    pub fn after_new_head(
        &self,
        connected: &[ConnectedBlock],
        orphaned: Vec<HashedTransaction>,
        chain: &Chain,
        network: Option<&NetworkHandle>,
    ) {
        let mut pool = self.pool();
        pool.prune(
            connected
                .iter()
                .flat_map(|block| &block.receipts)
                .map(|receipt| &receipt.transaction_hash),
            chain,
        );
        if orphaned.is_empty() {
            return;
        }
        let returned: Vec<(Hash, SignedTransaction)> = match network {
            Some(_) => orphaned
                .iter()
                .map(|transaction| (transaction.hash(), transaction.transaction().clone()))
                .collect(),
            None => Vec::new(),
        };
        let readmitted = pool.readmit(orphaned, chain);
        tracing::info!(
            readmitted,
            "transactions of disconnected blocks returned to the pool"
        );
        if let Some(network) = network {
            for (hash, transaction) in returned {
                if pool.contains(&hash) {
                    network.send(NetworkCommand::PublishTransaction(transaction));
                }
            }
        }
    }
}

/// A queued admission: runs on a blocking thread and replies through its own channel.
type Job = Box<dyn FnOnce() + Send>;

/// The queue and its drainers.
pub struct AdmissionQueue {
    inner: Mutex<Queue>,
    max_drainers: usize,
}

struct Queue {
    jobs: VecDeque<Job>,
    drainers: usize,
}

impl AdmissionQueue {
    /// A queue drained by at most one blocking task per core.
    pub fn new() -> Arc<AdmissionQueue> {
        Arc::new(AdmissionQueue {
            inner: Mutex::new(Queue {
                jobs: VecDeque::new(),
                drainers: 0,
            }),
            max_drainers: std::thread::available_parallelism().map_or(1, usize::from),
        })
    }

    /// Runs `job` on a blocking thread and waits for its result; `None` if the job panicked.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let start_drainer = {
            let mut queue = self.lock();
            queue.jobs.push_back(Box::new(move || {
                let _ = sender.send(job());
            }));
            let start = queue.drainers < self.max_drainers;
            if start {
                queue.drainers += 1;
            }
            start
        };
        if start_drainer {
            let queue = self.clone();
            tokio::task::spawn_blocking(move || queue.drain());
        }
        receiver.await.ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs queued jobs until the queue is empty, then retires (under the same lock as the
    /// check, so a job pushed meanwhile either is seen here or starts a new drainer).
    fn drain(&self) {
        loop {
            let job = {
                let mut queue = self.lock();
                match queue.jobs.pop_front() {
                    Some(job) => job,
                    None => {
                        queue.drainers -= 1;
                        return;
                    }
                }
            };
            // A panicking job drops its reply channel; its caller sees `None`.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_job_runs_once_and_replies_and_a_panic_is_contained() {
        let queue = AdmissionQueue::new();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut waiting = Vec::new();
        for index in 0..500u32 {
            let (queue, calls) = (queue.clone(), calls.clone());
            waiting.push(tokio::spawn(async move {
                queue
                    .run(move || {
                        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        index * 2
                    })
                    .await
            }));
        }
        for (index, handle) in waiting.into_iter().enumerate() {
            assert_eq!(handle.await.unwrap(), Some(index as u32 * 2));
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 500);
        assert_eq!(queue.run(|| -> u32 { panic!("a broken job") }).await, None);
        // The drainer that ran the panicking job carried on: later jobs still run.
        assert_eq!(queue.run(|| 7).await, Some(7));
        // The drainer retires once it finds the queue empty (just after its last reply).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while queue.lock().drainers != 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the drainer never retired"
            );
            tokio::task::yield_now().await;
        }
    }
}
