//! Admission of submitted transactions off the async reactor, without a thread hand-off per
//! transaction: submissions queue up, and at most one blocking task per core drains the queue
//! (recovering signatures, then admitting to the pool) until it is empty. Under load each task
//! keeps working through the queue instead of being woken once per transaction.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

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
