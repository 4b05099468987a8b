//! [`to_thread`]: blocking work on a bounded pool of threads, awaited from async code.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::Duration;

use futures::channel::oneshot;

use crate::event_loop::EventLoop;
use crate::task::Panic;

/// How many blocking threads a pool runs at most, unless configured
/// ([`Builder::blocking_threads`](crate::Builder::blocking_threads)).
pub(crate) const DEFAULT_THREADS: usize = 64;

/// How long an idle blocking thread waits for work before it exits.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Why [`to_thread`] produced no value.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BlockingError {
    /// The closure panicked on its thread; the panic was caught there.
    #[error("the blocking closure panicked: {0}")]
    Panicked(Panic),
}

type Job = Box<dyn FnOnce() + Send>;

/// A bounded pool of threads for blocking work: asyncio's default executor.
pub(crate) struct BlockingPool {
    state: Mutex<PoolState>,
    work: Condvar,
    max_threads: usize,
}

struct PoolState {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(PoolState {
                jobs: VecDeque::new(),
                threads: 0,
                idle: 0,
            }),
            work: Condvar::new(),
            max_threads: max_threads.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job`; starts a thread for it when none is idle and the bound allows.
    fn submit(self: &Arc<Self>, job: Job) {
        let mut state = self.lock();
        state.jobs.push_back(job);
        if state.idle > 0 {
            drop(state);
            self.work.notify_one();
            return;
        }
        if state.threads < self.max_threads {
            state.threads += 1;
            drop(state);
            let pool = self.clone();
            let spawned = thread::Builder::new()
                .name("tether-blocking".into())
                .spawn(move || pool.work_loop());
            if spawned.is_err() {
                // The job stays queued for a thread that exists, or the next one started.
                self.lock().threads -= 1;
            }
        }
    }

    fn work_loop(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                job();
                state = self.lock();
                continue;
            }
            state.idle += 1;
            let (next, waited) = self
                .work
                .wait_timeout(state, KEEP_ALIVE)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            state.idle -= 1;
            if waited.timed_out() && state.jobs.is_empty() {
                state.threads -= 1;
                return;
            }
        }
    }

    /// No job queued and none running: nothing from this pool will wake a task.
    pub(crate) fn is_idle(&self) -> bool {
        let state = self.lock();
        state.jobs.is_empty() && state.idle == state.threads
    }

    #[cfg(test)]
    fn threads(&self) -> usize {
        self.lock().threads
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.jobs.len())
            .field("max_threads", &self.max_threads)
            .finish()
    }
}

/// The pool of the running loop, or a process-wide one outside a loop.
fn current_pool() -> Arc<BlockingPool> {
    static FALLBACK: OnceLock<Arc<BlockingPool>> = OnceLock::new();
    EventLoop::with_current(|lp| lp.shared().blocking().clone()).unwrap_or_else(|| {
        FALLBACK
            .get_or_init(|| Arc::new(BlockingPool::new(DEFAULT_THREADS)))
            .clone()
    })
}

/// Runs the blocking closure `f` on a thread of the loop's blocking pool and awaits its result:
/// asyncio's `await asyncio.to_thread(f)`.
///
/// The pool is bounded ([`Builder::blocking_threads`](crate::Builder::blocking_threads), 64 by
/// default); work beyond the bound waits its turn. Idle threads exit after 10 seconds. A panic
/// in `f` is caught on its thread and returned as [`BlockingError::Panicked`]: it never reaches
/// the loop.
///
/// Cancelling the awaiting task does not stop `f` (a thread cannot be interrupted safely); `f`
/// runs to the end and its result is dropped.
///
/// # Examples
///
/// ```
/// fn checksum(data: &[u8]) -> u64 {
///     // Stands for blocking work: file I/O, a C library, heavy hashing.
///     data.iter().map(|&b| u64::from(b)).sum()
/// }
///
/// tether::run(async {
///     let data = vec![1u8; 1 << 16];
///     let sum = tether::to_thread(move || checksum(&data)).await.unwrap();
///     assert_eq!(sum, 1 << 16);
/// });
/// ```
pub async fn to_thread<F, R>(f: F) -> Result<R, BlockingError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    current_pool().submit(Box::new(move || {
        let outcome = catch_unwind(AssertUnwindSafe(f))
            .map_err(|payload| BlockingError::Panicked(Panic::new(payload)));
        // The awaiting side may be gone (cancelled): then the result is simply dropped.
        let _ = tx.send(outcome);
    }));
    rx.await
        .unwrap_or_else(|_| unreachable!("a submitted job always runs and sends its outcome"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_is_bounded_and_runs_everything() {
        let pool = Arc::new(BlockingPool::new(2));
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..6 {
            let tx = tx.clone();
            pool.submit(Box::new(move || {
                thread::sleep(Duration::from_millis(5));
                tx.send(i).unwrap();
            }));
            assert!(pool.threads() <= 2);
        }
        let mut got: Vec<i32> = (0..6).map(|_| rx.recv().unwrap()).collect();
        got.sort();
        assert_eq!(got, [0, 1, 2, 3, 4, 5]);
    }
}
