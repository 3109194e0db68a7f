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

/// What a refused or failed admission job answers.
fn refused(refusal: QueueRefusal) -> AdmissionError {
    match refusal {
        QueueRefusal::Full => AdmissionError::Busy,
        QueueRefusal::Failed => AdmissionError::State("the admission failed".into()),
    }
}

/// Most transactions waiting in the admission queue (a submission or a gossiped transaction
/// each; a batch counts its transactions). A few seconds of the pool's admission rate on two
/// cores (BENCHMARKS.md): beyond it, waiting longer only grows memory, so submitters are told
/// to retry (`Busy`) and gossip is dropped without blame (peers and sync bring it again).
pub const MAX_QUEUED_ADMISSIONS: usize = 8_192;

/// Most bytes of transactions waiting in the admission queue: 64 maximal transactions, or the
/// whole count of typical ones (a few hundred bytes each).
pub const MAX_QUEUED_ADMISSION_BYTES: usize = 32 * 1024 * 1024;

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
        let weight = Weight::of(std::slice::from_ref(&transaction));
        self.queue
            .run(weight, move || {
                admission.submit(transaction, network.as_ref())
            })
            .await
            .unwrap_or_else(|refusal| Err(refused(refusal)))
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
        let weight = Weight::of(&transactions);
        self.queue
            .run(weight, move || {
                transactions
                    .into_iter()
                    .map(|transaction| admission.submit(transaction, network.as_ref()))
                    .collect()
            })
            .await
            .unwrap_or_else(|refusal| (0..count).map(|_| Err(refused(refusal))).collect())
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
        let weight = Weight::of(std::slice::from_ref(&transaction));
        self.queue
            .run(weight, move || admission.admit(transaction))
            .await
            .unwrap_or_else(|refusal| Err(refused(refusal)))
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

/// What a job holds of the queue's bounds: its transactions and their encoded bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Weight {
    /// Transactions.
    pub transactions: usize,
    /// Their encoded bytes.
    pub bytes: usize,
}

impl Weight {
    /// The weight of admitting `transactions`.
    pub fn of(transactions: &[SignedTransaction]) -> Weight {
        use parity_scale_codec::Encode;
        Weight {
            transactions: transactions.len(),
            bytes: transactions.iter().map(Encode::encoded_size).sum(),
        }
    }
}

/// Why a job did not run to a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueRefusal {
    /// The queue is at its bound: the job was not queued.
    Full,
    /// The job panicked.
    Failed,
}

/// The queue and its drainers.
pub struct AdmissionQueue {
    inner: Mutex<Queue>,
    max_drainers: usize,
    limit: Weight,
}

struct Queue {
    jobs: VecDeque<(Weight, Job)>,
    /// What the waiting jobs hold.
    held: Weight,
    drainers: usize,
}

impl AdmissionQueue {
    /// A queue drained by at most one blocking task per core, bounded by
    /// [`MAX_QUEUED_ADMISSIONS`] and [`MAX_QUEUED_ADMISSION_BYTES`].
    pub fn new() -> Arc<AdmissionQueue> {
        AdmissionQueue::bounded(Weight {
            transactions: MAX_QUEUED_ADMISSIONS,
            bytes: MAX_QUEUED_ADMISSION_BYTES,
        })
    }

    /// A queue holding at most `limit` of waiting jobs (a single job heavier than the limit
    /// is still taken when the queue is empty, so that a batch within the RPC's own bounds
    /// always gets through an idle node).
    pub fn bounded(limit: Weight) -> Arc<AdmissionQueue> {
        Arc::new(AdmissionQueue {
            inner: Mutex::new(Queue {
                jobs: VecDeque::new(),
                held: Weight::default(),
                drainers: 0,
            }),
            max_drainers: std::thread::available_parallelism().map_or(1, usize::from),
            limit,
        })
    }

    /// Runs `job` on a blocking thread and waits for its result; [`QueueRefusal::Full`] at
    /// once, without running it, when the waiting jobs would then hold more than the queue's
    /// bound; [`QueueRefusal::Failed`] if the job panicked.
    ///
    /// # Errors
    /// The [`QueueRefusal`].
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        weight: Weight,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, QueueRefusal> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let start_drainer = {
            let mut queue = self.lock();
            let transactions = queue.held.transactions + weight.transactions;
            let bytes = queue.held.bytes + weight.bytes;
            if !queue.jobs.is_empty()
                && (transactions > self.limit.transactions || bytes > self.limit.bytes)
            {
                return Err(QueueRefusal::Full);
            }
            queue.held = Weight {
                transactions,
                bytes,
            };
            queue.jobs.push_back((
                weight,
                Box::new(move || {
                    let _ = sender.send(job());
                }),
            ));
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
        receiver.await.map_err(|_| QueueRefusal::Failed)
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
                    Some((weight, job)) => {
                        queue.held.transactions -= weight.transactions;
                        queue.held.bytes -= weight.bytes;
                        job
                    }
                    None => {
                        queue.drainers -= 1;
                        return;
                    }
                }
            };
            // A panicking job drops its reply channel; its caller sees `Failed`.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: Weight = Weight {
        transactions: 1,
        bytes: 100,
    };

    /// Waits (with a deadline) until the queue's state satisfies `done`.
    async fn settled(queue: &AdmissionQueue, done: impl Fn(&Queue) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !done(&queue.lock()) {
            assert!(std::time::Instant::now() < deadline, "the queue settles");
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Jobs that wait until released hold the queue at its bound: the next is refused at
    /// once, without running; once they drain, jobs are taken again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_takes_jobs_again_once_drained() {
        let queue = AdmissionQueue::bounded(Weight {
            transactions: 10,
            bytes: 1_000_000,
        });
        let release = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let mut waiting = Vec::new();
        let blocking = |queue: Arc<AdmissionQueue>,
                        release: Arc<(Mutex<bool>, std::sync::Condvar)>| {
            tokio::spawn(async move {
                queue
                    .run(ONE, move || {
                        let (lock, ready) = &*release;
                        let mut released = lock.lock().unwrap();
                        while !*released {
                            released = ready.wait(released).unwrap();
                        }
                    })
                    .await
            })
        };
        // The drainers (one per core) each take a job and block in it…
        let drainers = queue.max_drainers;
        for _ in 0..drainers {
            waiting.push(blocking(queue.clone(), release.clone()));
        }
        settled(&queue, |queue| {
            queue.drainers == drainers && queue.jobs.is_empty()
        })
        .await;
        // …and ten more wait in the queue, filling it.
        for _ in 0..10 {
            waiting.push(blocking(queue.clone(), release.clone()));
        }
        settled(&queue, |queue| queue.held.transactions == 10).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = ran.clone();
        let refused = queue
            .run(ONE, move || {
                flag.store(true, std::sync::atomic::Ordering::SeqCst)
            })
            .await;
        assert_eq!(refused, Err(QueueRefusal::Full));
        // Heavier by bytes than the bound: refused as well.
        let heavy = Weight {
            transactions: 1,
            bytes: 2_000_000,
        };
        assert_eq!(queue.run(heavy, || ()).await, Err(QueueRefusal::Full));
        {
            let (lock, ready) = &*release;
            *lock.lock().unwrap() = true;
            ready.notify_all();
        }
        for handle in waiting {
            assert_eq!(handle.await.unwrap(), Ok(()));
        }
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "the refused job never ran"
        );
        assert_eq!(queue.run(ONE, || 5).await, Ok(5));
        assert_eq!(queue.lock().held, Weight::default());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_job_runs_once_and_replies_and_a_panic_is_contained() {
        let queue = AdmissionQueue::new();
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut waiting = Vec::new();
        for index in 0..500u32 {
            let (queue, calls) = (queue.clone(), calls.clone());
            waiting.push(tokio::spawn(async move {
                queue
                    .run(ONE, move || {
                        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        index * 2
                    })
                    .await
            }));
        }
        for (index, handle) in waiting.into_iter().enumerate() {
            assert_eq!(handle.await.unwrap(), Ok(index as u32 * 2));
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 500);
        assert_eq!(
            queue.run(ONE, || -> u32 { panic!("a broken job") }).await,
            Err(QueueRefusal::Failed)
        );
        // The drainer that ran the panicking job carried on: later jobs still run.
        assert_eq!(queue.run(ONE, || 7).await, Ok(7));
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
