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
    /// Signalled when the last kept job ends.
    kept_done: Condvar,
    max_threads: usize,
}

struct PoolState {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    /// Kept jobs queued or running: work the end of a run waits for (a file's writes), unlike
    /// a `to_thread` closure whose caller has gone.
    kept: usize,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(PoolState {
                jobs: VecDeque::new(),
                threads: 0,
                idle: 0,
                kept: 0,
            }),
            work: Condvar::new(),
            kept_done: Condvar::new(),
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

    /// Queues `job` as [`submit`](BlockingPool::submit) does, and counts it until it ends:
    /// [`wait_kept`](BlockingPool::wait_kept) waits for it.
    #[cfg(feature = "fs")]
    pub(crate) fn submit_kept(self: &Arc<Self>, job: Job) {
        self.lock().kept += 1;
        let pool = self.clone();
        self.submit(Box::new(move || {
            // Counted down however the job ends: a panic in it is caught by the job itself,
            // and this guard runs on unwinding too.
            struct Done(Arc<BlockingPool>);
            impl Drop for Done {
                fn drop(&mut self) {
                    let mut state = self.0.lock();
                    state.kept -= 1;
                    if state.kept == 0 {
                        self.0.kept_done.notify_all();
                    }
                }
            }
            let _done = Done(pool);
            job();
        }));
    }

    /// Blocks until every kept job has ended: the end of a run, so that a file's last writes,
    /// handed to the pool by its drop, reach the file before `run` returns.
    pub(crate) fn wait_kept(&self) {
        let mut state = self.lock();
        while state.kept > 0 {
            state = unpoison(self.kept_done.wait(state));
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

    #[cfg(feature = "fs")]
    #[test]
    fn wait_kept_returns_once_every_kept_job_has_ended() {
        let pool = Arc::new(BlockingPool::new(2));
        let done = Arc::new(Mutex::new(Vec::new()));
        for i in 0..4 {
            let done = done.clone();
            pool.submit_kept(Box::new(move || {
                thread::sleep(Duration::from_millis(2));
                done.lock().unwrap().push(i);
            }));
        }
        pool.wait_kept();
        assert_eq!(done.lock().unwrap().len(), 4);
        // Nothing kept: at once.
        pool.wait_kept();
    }

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
