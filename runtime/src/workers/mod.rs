//! The multi-threaded flavour: several event loops, one per worker thread, sharing `Send` tasks
//! through per-worker run queues with work stealing.
//!
//! Each worker is a complete event loop (its own ready queue, timers, callbacks and table of
//! local tasks), so everything that works on the single-threaded loop works on a worker:
//! [`create_task`](crate::create_task), task groups and sets make tasks that stay on the worker
//! that made them, and may be `!Send`. What the workers share is the tasks started with
//! [`spawn`](crate::spawn), which must be `Send`: they go to the run queue of the worker that
//! made or woke them, and a worker with nothing to do steals half of another's queue.
//!
//! The moving parts, each in its own file:
//! - [`local_queue`]: a worker's own queue of `Send` tasks, a lock-free ring its worker pushes
//!   to and anyone takes from (idle workers steal half);
//! - [`run_queue`]: the shared queue for tasks scheduled from outside the runtime, and for
//!   the overflow of a full worker queue;
//! - [`sleepers`]: which workers are parked, and the protocol that keeps wake-ups from being lost;
//! - this file: the shared state, the schedule function of `Send` tasks, and the shutdown of
//!   the whole runtime.
//!
//! Shutdown, when the main future has finished on worker 0 (the calling thread):
//! 1. every `Send` task is cancelled, and worker 0 keeps running until all of them have dropped
//!    their futures (the other workers keep running too, and help);
//! 2. worker 0 shuts its own loop down (its local tasks), then tells the other workers to stop;
//! 3. each of them shuts its own loop down and exits; `run` joins them;
//! 4. the runtime closes: a `Send` task woken after that (by a thread outside the runtime) is
//!    run once, cancelled, on the thread that woke it.

mod local_queue;
mod run_queue;
mod sleepers;
pub(crate) mod spawn;

#[cfg(all(test, loom))]
mod loom_models;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::thread;

use crate::blocking::BlockingPool;
use crate::event_loop::{self, Config, Shared};
use crate::primitives::{AtomicBool, Mutex, Ordering, lock};
use crate::registry::Registry;
use crate::task::header::Header;
use crate::task::table::TaskTable;
use crate::task::{RawTask, Runnable, Spawn, spawn_supervised};
use local_queue::LocalQueue;
use run_queue::RunQueue;
use sleepers::Sleepers;

pub use spawn::spawn;

/// How long an idle worker sleeps before it looks for work again, even if nobody woke it: the
/// bound on how long a task can wait behind a worker that is stuck in a long poll (see
/// `Workers::schedule_on_worker`).
pub(crate) const IDLE_RECHECK: std::time::Duration = std::time::Duration::from_millis(10);

/// How many `Send` tasks a worker runs before it turns to its own loop again (timers, local
/// tasks, callbacks); also the most one steal takes.
const BATCH: usize = 32;

thread_local! {
    /// The runtime and index of the worker running on this thread: null on any other thread.
    /// Read on every schedule of a `Send` task, so it is a plain `Cell`. Set and cleared by the
    /// worker's `Slot`, whose `Arc` keeps the runtime alive in between.
    static WORKER: Cell<(*const Workers, usize)> = const { Cell::new((std::ptr::null(), 0)) };
}

/// Every live multi-threaded runtime, by id: how a wake from a thread that is not one of its
/// workers finds a `Send` task's runtime (tasks do not hold it; see [`schedule`]).
static RUNTIMES: Registry<Workers> = Registry::new();

/// The schedule function of every `Send` task: the queue of the worker running on this thread
/// if it belongs to the task's runtime, else the runtime's injection queue. A plain `fn`, so
/// that async-task does not clone and drop the task's waker around each call, as it does for a
/// schedule function that captures anything.
fn schedule(runnable: Runnable) {
    let home = runnable.metadata().home;
    let (here, index) = WORKER.try_with(Cell::get).unwrap_or((std::ptr::null(), 0));
    if !here.is_null() {
        // SAFETY: a non-null `WORKER` was set by `Slot::enter` from the `Arc` its slot holds
        // until `Slot::exit` clears it, so the runtime is alive.
        let workers = unsafe { &*here };
        if workers.id == home {
            workers.schedule_on_worker(index, runnable);
            return;
        }
    }
    match RUNTIMES.get(home) {
        Some(workers) => workers.schedule_from_outside(runnable),
        None => run_cancelled(runnable),
    }
}

/// Completes a `Send` task whose runtime is gone: shutdown dropped every task's future before
/// closing, so this run only records the cancellation.
fn run_cancelled(runnable: Runnable) {
    runnable.metadata().request_cancel(None);
    runnable.run();
}

/// What the workers of one multi-threaded runtime share.
pub(crate) struct Workers {
    id: u64,
    /// Each worker's own queue: it pushes without a lock, anyone may take.
    queues: Box<[LocalQueue<Runnable>]>,
    /// `Send` tasks scheduled by threads that are not workers, and the overflow of full
    /// worker queues.
    injector: RunQueue<Runnable>,
    /// Set by `close`; pushes onto the injector happen under it, so none slips in afterwards.
    closed: Mutex<bool>,
    sleepers: Sleepers,
    /// Each worker's loop, once it has started: what an unpark or a cross-worker timer
    /// disarm needs.
    loops: Box<[OnceLock<Arc<Shared>>]>,
    /// Every live `Send` task, owned by its handle: shutdown cancels them all.
    tasks: Mutex<SendTable>,
    shutting_down: AtomicBool,
    stopped: AtomicBool,
    /// One `to_thread` pool for all workers, so that its bound is the runtime's.
    blocking: Arc<BlockingPool>,
}

/// The table of `Send` tasks, shared by the workers.
struct SendTable(TaskTable);

// SAFETY: the table holds pointers to the headers of `Send` tasks. A `Header` is `Sync` (its
// state is atomic, the rest behind a mutex or immutable), and an entry is only read while the
// table's mutex is held, during which the entry (and so its header) stays alive: entries are
// removed by the task's `on_end`, which takes the same mutex.
unsafe impl Send for SendTable {}

impl Workers {
    fn new(config: &Config) -> Workers {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = config.workers;
        Workers {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            queues: (0..n).map(|_| LocalQueue::new()).collect(),
            injector: RunQueue::new(),
            closed: Mutex::new(false),
            sleepers: Sleepers::new(n),
            loops: (0..n).map(|_| OnceLock::new()).collect(),
            tasks: Mutex::new(SendTable(TaskTable::default())),
            shutting_down: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            blocking: Arc::new(BlockingPool::new(
                config
                    .blocking_threads
                    .unwrap_or(crate::blocking::DEFAULT_THREADS),
            )),
        }
    }

    pub(crate) fn blocking(&self) -> &Arc<BlockingPool> {
        &self.blocking
    }

    /// Creates a `Send` task owned by the returned handle: on the worker running on this
    /// thread, or from any other thread through the injection queue.
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F, mut spawn: Spawn) -> RawTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let key = lock(&self.tasks).0.reserve();
        let on_end = {
            let workers = self.clone();
            move || workers.task_ended(key)
        };
        spawn.home = self.id;
        // SAFETY: the future, its output, `on_end` and the schedule function are all
        // `Send + 'static`, so the runnable may be run and dropped on any thread.
        let (runnable, task) =
            unsafe { spawn_supervised(future, &mut spawn, schedule, on_end, |_, outcome| outcome) };
        lock(&self.tasks).0.fill(key, task.metadata(), true);
        let shutting_down = self.shutting_down.load(Ordering::SeqCst);
        if shutting_down {
            // Made by a destructor while the runtime shuts down: it never starts.
            task.metadata().request_cancel(None);
        }
        crate::task::start(runnable, spawn.eager && !shutting_down);
        task
    }

    /// Schedules a task of this runtime on worker `index`, which runs this thread; wakes a
    /// parked worker if that leaves more than one task waiting here.
    fn schedule_on_worker(&self, index: usize, runnable: Runnable) {
        // SAFETY: the caller found this thread to be worker `index` (`WORKER`), the only thread
        // that pushes onto its queue.
        if unsafe { self.push_local(index, runnable) } < 2 {
            // The only task queued here: this worker takes it next. Waking another worker for
            // it would only move it to another thread (a chain of tasks, each spawning or
            // waking the next, would hop between threads at every link). A worker stuck in a
            // long poll with this task behind it is rescued by the idle workers' periodic look
            // (`IDLE_RECHECK`).
            return;
        }
        self.wake_one();
    }

    /// Schedules a task of this runtime from a thread that is not one of its workers.
    fn schedule_from_outside(&self, runnable: Runnable) {
        let closed = lock(&self.closed);
        if *closed {
            drop(closed);
            run_cancelled(runnable);
            return;
        }
        self.injector.push(runnable);
        drop(closed);
        self.wake_one();
    }

    /// Pushes onto worker `index`'s own queue; when it is full, moves half of it and `runnable`
    /// to the injection queue in one go (so that the next overflows are far apart). Returns
    /// how many tasks wait on that worker now.
    ///
    /// # Safety
    ///
    /// Called on worker `index`'s thread only.
    unsafe fn push_local(&self, index: usize, runnable: Runnable) -> usize {
        let queue = &self.queues[index];
        // SAFETY: forwarded to the caller.
        match unsafe { queue.push(runnable) } {
            Ok(len) => len,
            Err(runnable) => {
                let mut moved = Vec::new();
                queue.steal_half(&mut moved, usize::MAX);
                moved.push(runnable);
                self.injector.push_all(moved.into_iter());
                // More than this worker can run soon: always worth a helper.
                usize::MAX
            }
        }
    }

    /// Unparks one parked worker, if any is parked.
    fn wake_one(&self) {
        if let Some(index) = self.sleepers.notify_one() {
            if let Some(shared) = self.loops[index].get() {
                shared.unpark();
            }
        }
    }

    fn task_ended(&self, key: usize) {
        let left = {
            let mut tasks = lock(&self.tasks);
            tasks.0.remove(key);
            tasks.0.owned_len()
        };
        if left == 0 && self.shutting_down.load(Ordering::SeqCst) {
            // Worker 0 may be parked, waiting for exactly this.
            if let Some(shared) = self.loops[0].get() {
                shared.unpark();
            }
        }
    }

    /// Sets aside an entry of the shared table for a child of a `Send` group: listed for
    /// introspection, not owned (its group cancels it, not the runtime's shutdown).
    pub(crate) fn reserve_child(&self) -> usize {
        lock(&self.tasks).0.reserve()
    }

    pub(crate) fn fill_child(&self, key: usize, header: &Header) {
        lock(&self.tasks).0.fill(key, header, false);
    }

    /// Takes a child of a `Send` group off the table: when its future ends.
    pub(crate) fn remove_child(&self, key: usize) {
        lock(&self.tasks).0.remove(key);
    }

    /// `true` once the runtime has shut down: it runs nothing more.
    pub(crate) fn is_closed(&self) -> bool {
        *lock(&self.closed)
    }

    /// How many `Send` tasks are alive.
    pub(crate) fn live_tasks(&self) -> usize {
        lock(&self.tasks).0.owned_len()
    }

    /// Calls `f` with the header of every live `Send` task.
    pub(crate) fn for_each_task(&self, f: &mut dyn FnMut(&Header)) {
        lock(&self.tasks).0.headers().for_each(f);
    }

    /// The loop of the worker whose loop id is `loop_id`.
    pub(crate) fn loop_by_id(&self, loop_id: u64) -> Option<&Arc<Shared>> {
        self.loops
            .iter()
            .filter_map(OnceLock::get)
            .find(|shared| shared.id() == loop_id)
    }

    /// `true` if a worker has a reason not to park: work in any queue (its own, the injection
    /// queue, or one it can steal from).
    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.queues.iter().any(|queue| !queue.is_empty())
    }

    /// Phase 1 of shutdown: cancels every `Send` task.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        lock(&self.tasks).0.cancel_owned();
    }

    /// Phase 2: tells every worker to shut its loop down and exit.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.loops
            .iter()
            .filter_map(OnceLock::get)
            .for_each(|shared| shared.unpark());
    }

    /// Phase 4, once every worker has exited: refuses further work, and completes what is left.
    fn close(&self) {
        *lock(&self.closed) = true;
        RUNTIMES.remove(self.id);
        let mut left: Vec<_> = self.injector.take_all().into();
        for queue in &self.queues {
            left.extend(std::iter::from_fn(|| queue.pop()));
        }
        for runnable in left {
            runnable.metadata().request_cancel(None);
            runnable.run();
        }
    }
}

/// A worker's place in its runtime: what its event loop holds to take part.
pub(crate) struct Slot {
    workers: Arc<Workers>,
    index: usize,
    /// The batch being run, kept to reuse its allocation.
    batch: RefCell<Vec<Runnable>>,
}

impl Slot {
    fn new(workers: Arc<Workers>, index: usize) -> Slot {
        Slot {
            workers,
            index,
            batch: RefCell::new(Vec::with_capacity(BATCH)),
        }
    }

    pub(crate) fn workers(&self) -> &Arc<Workers> {
        &self.workers
    }

    /// Makes this thread worker `index` of its runtime, reachable through `shared`.
    pub(crate) fn enter(&self, shared: &Arc<Shared>) {
        let _ = self.workers.loops[self.index].set(shared.clone());
        WORKER.with(|worker| worker.set((Arc::as_ptr(&self.workers), self.index)));
    }

    pub(crate) fn exit(&self) {
        let _ = WORKER.try_with(|worker| worker.set((std::ptr::null(), 0)));
    }

    /// Runs up to `BATCH` `Send` tasks: from this worker's queue, else the injection queue,
    /// else, when this batch found nothing at all, stolen from another worker.
    ///
    /// Tasks are taken from the queues one at a time: a task taken out of a queue can no longer
    /// be stolen, and a task that blocks its worker (a long computation, a blocking call) must
    /// not hold the tasks behind it hostage. What a steal or the injection queue gives beyond
    /// one task goes onto this worker's own queue, where others can still steal it. Returns how
    /// many ran.
    pub(crate) fn run_batch(&self) -> usize {
        let own = &self.workers.queues[self.index];
        for turn in 0..BATCH {
            // The injection queue gets a turn now and then, so that work from outside the
            // runtime is not starved by a worker that always has work of its own.
            let next = if turn % 8 == 7 {
                self.take_from_injector().or_else(|| own.pop())
            } else {
                own.pop().or_else(|| self.take_from_injector())
            };
            // Every turn so far ran a task (an empty turn ends the batch), so `turn == 0` means
            // nothing was found: only then is a steal worth its cost.
            let next = match next {
                Some(runnable) => Some(runnable),
                None if turn == 0 => self.steal(),
                None => None,
            };
            let Some(runnable) = next else { return turn };
            runnable.run();
        }
        BATCH
    }

    /// Takes a share of the injection queue: one task to run, the rest onto this worker's queue.
    fn take_from_injector(&self) -> Option<Runnable> {
        let workers = &*self.workers;
        if workers.injector.is_empty() {
            return None;
        }
        let mut batch = self.batch.take();
        // A fair share, so that the other workers find some too.
        let share = workers.injector.len() / workers.queues.len() + 1;
        workers.injector.pop_batch(&mut batch, share.min(BATCH));
        let first = self.keep_rest(&mut batch);
        self.batch.replace(batch);
        first
    }

    /// Steals half of another worker's queue: one task to run, the rest onto this worker's.
    fn steal(&self) -> Option<Runnable> {
        let queues = &self.workers.queues;
        let mut batch = self.batch.take();
        // Start at the next worker, so that thieves spread over their victims.
        for offset in 1..queues.len() {
            queues[(self.index + offset) % queues.len()].steal_half(&mut batch, BATCH);
            if !batch.is_empty() {
                break;
            }
        }
        let first = self.keep_rest(&mut batch);
        self.batch.replace(batch);
        first
    }

    /// Returns the first of `batch` and pushes the rest onto this worker's queue; wakes a
    /// parked worker if that leaves more than one task waiting here.
    fn keep_rest(&self, batch: &mut Vec<Runnable>) -> Option<Runnable> {
        if batch.is_empty() {
            return None;
        }
        let first = batch.remove(0);
        let mut waiting = 0;
        for runnable in batch.drain(..) {
            // SAFETY: a `Slot` is only used by its own worker's thread.
            waiting = unsafe { self.workers.push_local(self.index, runnable) };
        }
        if waiting > 1 {
            self.workers.wake_one();
        }
        Some(first)
    }

    /// Runs every `Send` task queued here or in the injection queue, until none is left: for
    /// the shutdown of this worker's loop.
    pub(crate) fn drain(&self) {
        while !self.workers.queues[self.index].is_empty() || !self.workers.injector.is_empty() {
            self.run_batch();
        }
    }

    /// `true` if this worker should not park: there is work to take, or the runtime is stopping.
    pub(crate) fn has_work(&self) -> bool {
        self.workers.has_work() || self.is_stopped()
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.workers.stopped.load(Ordering::SeqCst)
    }

    /// The first half of parking: see [`sleepers`]. Returns `false` if work turned up after
    /// all (then do not park).
    pub(crate) fn announce_sleep(&self) -> bool {
        self.workers.sleepers.announce(self.index);
        if self.has_work() {
            self.workers.sleepers.retract(self.index);
            return false;
        }
        true
    }

    pub(crate) fn woke(&self) {
        self.workers.sleepers.retract(self.index);
    }
}

/// Stops the workers when dropped, so that `thread::scope` can join them even when worker 0
/// unwinds.
struct StopOnDrop<'a>(&'a Workers);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Runs `future` on a new multi-threaded runtime: this thread becomes worker 0 and runs
/// `future` as its main task; `config.workers - 1` more threads run the other workers.
#[track_caller]
pub(crate) fn block_on<F: Future>(config: Config, future: F) -> F::Output {
    if crate::event_loop::EventLoop::is_running_here() {
        panic!("{}", event_loop::NESTED_RUN);
    }
    let workers = Arc::new(Workers::new(&config));
    RUNTIMES.insert(workers.id, &workers);
    let location = std::panic::Location::caller();
    let output = thread::scope(|scope| {
        let stop = StopOnDrop(&workers);
        for index in 1..config.workers {
            let slot = Slot::new(workers.clone(), index);
            let config = config.clone();
            thread::Builder::new()
                .name(format!("tether-worker-{index}"))
                .spawn_scoped(scope, move || event_loop::run_worker(config, slot))
                .expect("tether could not start a worker thread");
        }
        let slot = Slot::new(workers.clone(), 0);
        let output = event_loop::block_on_worker(config.clone(), slot, location, future);
        drop(stop);
        output
    });
    workers.close();
    event_loop::main_output(output)
}
