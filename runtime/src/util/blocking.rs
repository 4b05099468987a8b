//! The bounded pool of threads [`to_thread`](crate::to_thread) runs blocking work on.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use crate::util::loom_facade::unpoison;

/// How many blocking threads a pool runs at most, unless configured
/// ([`Builder::blocking_threads`](crate::Builder::blocking_threads)).
pub(crate) const DEFAULT_THREADS: usize = 64;

/// How long an idle blocking thread waits for work before it exits.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

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
        crate::util::loom_facade::lock(&self.state)
    }

    /// Queues `job`; starts a thread for it when none is idle and the bound allows.
    pub(crate) fn submit(self: &Arc<Self>, job: Job) {
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
            let (next, waited) = unpoison(self.work.wait_timeout(state, KEEP_ALIVE));
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
