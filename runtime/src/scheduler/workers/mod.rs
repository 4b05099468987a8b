//! The multi-threaded flavor: several event loops, one per worker thread, sharing `Send` tasks
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
//! - [`lifo_slot`]: room for one task beside the queue, the one the worker scheduled last (a
//!   task just woken or spawned by the running one), run next, ahead of the queue; on by
//!   default, off with [`Builder::lifo_slot(false)`](crate::Builder::lifo_slot);
//! - [`injector`]: the shared queue for tasks scheduled from outside the runtime, and for
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

mod injector;
mod lifo_slot;
mod local_queue;
mod sleepers;

#[cfg(all(test, loom))]
mod loom_models;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::thread;

use crate::scheduler::event_loop::{self, Config, EventLoop, Shared, Worker};
use crate::scheduler::io_driver::Poller;
use crate::task_core::header::Header;
use crate::task_core::raw::{FreeSlot, RawTask, Runnable, Spawn, TaskSlots, create};
use crate::task_core::table::ShownTable;
use crate::util::blocking::BlockingPool;
use crate::util::loom_facade::{AtomicBool, Mutex, Ordering, lock};
use crate::util::registry::Registry;
use injector::Injector;
use lifo_slot::LifoSlot;
use local_queue::LocalQueue;
use sleepers::{AfterSearch, Sleepers};

/// How many `Send` tasks a worker runs before it turns to its own loop again (timers, local
/// tasks, callbacks); also the most one steal takes.
const BATCH: usize = 32;

/// How many tasks in a row a worker takes from its LIFO slot before its queue gets a turn
/// (tokio's bound is the same, 3). Two tasks that wake each other would otherwise keep the slot
/// to themselves, and the tasks queued behind them would wait forever. While the bound is
/// reached, what the worker schedules goes to the back of its queue, as with the slot off.
const SLOT_RUNS: u32 = 3;

/// How many other workers' queues an idle worker looks at, at most, each time it looks for work
/// (to steal, or before it parks): a few, picked at random, as tokio and async-executor pick a
/// random starting victim. Scanning every queue made each idle look cost O(workers), and with
/// every idle worker looking, a runtime of 1,000 workers spent seconds on one task. With up to
/// `VICTIMS + 1` workers every queue is looked at, as before.
const VICTIMS: usize = 4;

/// How many workers (the first ones) also look for work every
/// [`IDLE_RECHECK`](crate::scheduler::event_loop::IDLE_RECHECK) when nobody
/// wakes them; the others sleep until woken or their next timer. This bounds the cost of idle
/// workers to a constant whatever their number; the few that look are enough to rescue a task
/// queued behind a worker stuck in a long poll.
const RECHECKERS: usize = 4;

thread_local! {
    /// The runtime and index of the worker running on this thread: null on any other thread.
    /// Read on every schedule of a `Send` task, so it is a plain `Cell`. Set and cleared by the
    /// worker's `Slot`, whose `Arc` keeps the runtime alive in between.
    static WORKER: Cell<(*const Workers, usize)> = const { Cell::new((std::ptr::null(), 0)) };

    /// How this worker schedules the tasks it wakes or spawns: into its LIFO slot, or to the
    /// back of its queue. Owned by the worker's `Slot`, read by [`schedule`].
    static LIFO: Lifo = const {
        Lifo {
            open: Cell::new(false),
            running: Cell::new(std::ptr::null()),
        }
    };
}

/// The worker's side of its LIFO slot, on its own thread (see [`LIFO`]).
struct Lifo {
    /// `true` while tasks go into the slot: the slot is on, and the worker has not run
    /// [`SLOT_RUNS`] tasks in a row from it.
    open: Cell<bool>,
    /// The header of the `Send` task this worker is running (null between tasks). A task that
    /// wakes itself (a yield, or a wake while it runs) is scheduled once its poll has returned,
    /// still inside its run: it goes to the back of the queue, never into the slot, so that
    /// a yield lets the tasks queued run first (tokio's rule for yields too).
    running: Cell<*const Header>,
}

/// How many times an idle worker yields its thread, looking for work after each, before it
/// parks (`Slot::look_before_parking`).
///
/// Parking costs a wake-up (a futex or `eventfd` write, and a thread switch on each side) when
/// work comes a moment later, and on bursts of small tasks it comes a moment later all the
/// time: with 2 workers, 100 runs of ping_pong (`workload tether-mt ping_pong 100` under
/// `perf stat`) made 14,679 `eventfd` writes and 29,372 context switches when idle workers
/// parked at once, and 17 and 92 with these yields. A yield hands the core to a thread that is
/// ready to run (on a loaded machine, often the other worker, which then queues the work); on
/// an idle core it returns at once, so a worker that finds nothing parks within microseconds.
/// It does not spin: 200 looks with a `spin_loop` hint between them burnt the core the other
/// worker needed on a loaded machine, and made ping_pong 1.2x slower than parking at once.
///
/// Yields are only tried while they pay (`YIELD_RETRY`): on the echo server's load, where
/// work comes from sockets, yielding at every idle moment handed the core to the load
/// generator: the server's context switches per 100,000 messages went from 8,000-14,000 to
/// 43,000-77,000 (`perf stat -p` on the server, 4 runs each); with the retry rule, 24,000-25,000. The sleeper protocol is untouched: the yields come before the
/// announcement, so a worker that parks still announces, looks, then parks.
const YIELDS_BEFORE_PARK: usize = 3;

/// After yields that found no work, how many idle looks park at once before yields are tried
/// again.
const YIELD_RETRY: u8 = 15;

/// How many keys of its own shard of the `Send` table a worker reserves in one locked step.
const SPARE_KEYS: usize = 16;

thread_local! {
    /// Keys of this worker's shard of the `Send` table, reserved ahead (`SPARE_KEYS` under one
    /// lock), so that creating a task takes the shard's lock once, to fill its slot, instead of
    /// twice. Tagged with the id of the runtime they belong to; handed back by `Slot::exit`.
    static SPARE: RefCell<(u64, Vec<usize>)> = const { RefCell::new((0, Vec::new())) };
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
            let into_slot = LIFO.with(|lifo| {
                lifo.open.get() && !std::ptr::eq(lifo.running.get(), runnable.metadata())
            });
            workers.schedule_on_worker(index, runnable, into_slot);
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
    /// Each worker's LIFO slot: the task it scheduled last, run next; another worker takes it
    /// only when every queue it looked at was empty.
    slots: Box<[LifoSlot<Runnable>]>,
    /// The slots are used (`Builder::lifo_slot`, on by default).
    lifo: bool,
    /// `Send` tasks scheduled by threads that are not workers, and the overflow of full
    /// worker queues.
    injector: Injector<Runnable>,
    /// Set by `close`; pushes onto the injector happen under it, so none slips in afterwards.
    closed: Mutex<bool>,
    sleepers: Sleepers,
    /// Each worker's loop, once it has started: what an unpark or a cross-worker timer
    /// disarm needs.
    loops: Box<[OnceLock<Arc<Shared>>]>,
    /// Every live `Send` task, owned by its handle: shutdown cancels them all. One shard per
    /// worker, each under its own lock (a task's key says its shard): a worker takes and frees
    /// the slots of the tasks it creates in its own shard, so the workers do not queue on one
    /// lock for every task they create and end.
    tasks: Box<[TableShard]>,
    shutting_down: AtomicBool,
    stopped: AtomicBool,
    /// One `to_thread` pool for all workers, so that its bound is the runtime's.
    blocking: Arc<BlockingPool>,
    /// The I/O poller of every worker: an idle worker blocks in it unless another does
    /// (`crate::scheduler::io_driver::driver`).
    poller: Arc<Poller>,
}

/// The table of `Send` tasks, shared by the workers.
struct SendTable(ShownTable);

/// One shard of the `Send` tasks' table, on cache lines of its own.
#[repr(align(128))]
struct TableShard(Mutex<SendTable>);

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
            slots: (0..n).map(|_| LifoSlot::new()).collect(),
            lifo: !config.no_lifo_slot,
            injector: Injector::new(),
            closed: Mutex::new(false),
            sleepers: Sleepers::new(n),
            loops: (0..n).map(|_| OnceLock::new()).collect(),
            tasks: (0..n)
                .map(|_| TableShard(Mutex::new(SendTable(ShownTable::default()))))
                .collect(),
            shutting_down: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            blocking: Arc::new(BlockingPool::new(
                config
                    .blocking_threads
                    .unwrap_or(crate::util::blocking::DEFAULT_THREADS),
            )),
            poller: event_loop::new_poller(),
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
        spawn.home = self.id;
        // SAFETY: the future, its output, the freer (an `Arc<Workers>`) and the schedule
        // function are all `Send + 'static`, so the runnable may be run and dropped on any thread.
        unsafe { create(self, future, &mut spawn, schedule, |_, outcome| outcome) }
    }

    /// Schedules a task of this runtime on worker `index`, which runs this thread: into its
    /// LIFO slot if `into_slot` (what was there goes to the back of the queue), else to the back
    /// of the queue. Wakes a parked worker if that leaves more than one task waiting here.
    fn schedule_on_worker(&self, index: usize, runnable: Runnable, into_slot: bool) {
        let waiting = if into_slot {
            match self.slots[index].replace(runnable) {
                // SAFETY: the caller found this thread to be worker `index` (`WORKER`), the
                // only thread that pushes onto its queue.
                Some(previous) => unsafe { self.push_local(index, previous) }.saturating_add(1),
                None => self.queues[index].len() + 1,
            }
        } else {
            // SAFETY: as above.
            unsafe { self.push_local(index, runnable) }
        };
        if waiting < 2 {
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
        self.free_slot(key);
        // After the free, every shard (this one included) is read under its lock: of two tasks
        // ending at once in two shards, the one whose free comes second in some shard's lock
        // order sees the other's, so the last to end sees none left.
        if self.shutting_down.load(Ordering::SeqCst) && self.live_tasks() == 0 {
            // Worker 0 may be parked, waiting for exactly this.
            if let Some(shared) = self.loops[0].get() {
                shared.unpark();
            }
        }
    }

    /// Sets aside a slot of the shared table: for a `Send` task, or a child of a `Send` group
    /// (listed for introspection, not owned: its group cancels it, not the runtime's shutdown).
    pub(crate) fn reserve_slot(&self) -> usize {
        // The shard of the worker creating the task (the first from outside the workers).
        let (here, index) = WORKER.try_with(Cell::get).unwrap_or((std::ptr::null(), 0));
        if !std::ptr::eq(here, self) {
            return self.reserve_in(0);
        }
        let spare = SPARE.try_with(|spare| {
            let (runtime, keys) = &mut *spare.borrow_mut();
            if *runtime != self.id {
                // Left by a runtime this thread was a worker of and did not exit cleanly:
                // reserved in that runtime's table, which is gone or never fills them.
                *runtime = self.id;
                keys.clear();
            }
            if keys.is_empty() {
                let mut shard = lock(&self.tasks[index].0);
                keys.extend((0..SPARE_KEYS).map(|_| self.key(index, shard.0.reserve())));
            }
            keys.pop()
        });
        match spare {
            Ok(Some(key)) => key,
            // This thread's locals are being torn down.
            _ => self.reserve_in(index),
        }
    }

    /// Reserves a slot in shard `shard`, under its lock; its key.
    fn reserve_in(&self, shard: usize) -> usize {
        let slot = lock(&self.tasks[shard].0).0.reserve();
        self.key(shard, slot)
    }

    /// The key of slot `slot` of shard `shard` (see `shard_of`).
    fn key(&self, shard: usize, slot: usize) -> usize {
        slot * self.tasks.len() + shard
    }

    /// `true` if a task waits in any worker's queue or slot, or the injection queue.
    fn any_queued(&self) -> bool {
        !self.injector.is_empty()
            || self.queues.iter().any(|queue| !queue.is_empty())
            || self.slots.iter().any(|slot| !slot.is_empty())
    }

    /// Frees the keys this thread reserved ahead (see `SPARE`), when it stops being a worker.
    fn return_spare_keys(&self) {
        let keys = SPARE
            .try_with(|spare| {
                let (runtime, keys) = &mut *spare.borrow_mut();
                if *runtime == self.id {
                    std::mem::take(keys)
                } else {
                    Vec::new()
                }
            })
            .unwrap_or_default();
        for key in keys {
            self.free_slot(key);
        }
    }

    /// The shard a key of `reserve_slot` is in, and its slot there (the inverse of `key`).
    fn shard_of(&self, key: usize) -> (&TableShard, usize) {
        let n = self.tasks.len();
        (&self.tasks[key % n], key / n)
    }

    /// Lists a task under a reserved key; `owned`: the runtime's shutdown cancels it.
    pub(crate) fn fill_slot(&self, key: usize, header: &Header, owned: bool) {
        let (shard, slot) = self.shard_of(key);
        lock(&shard.0).0.fill(slot, header, owned);
    }

    /// Takes a child of a `Send` group off the table: when its future ends.
    pub(crate) fn free_slot(&self, key: usize) {
        let (shard, slot) = self.shard_of(key);
        lock(&shard.0).0.free(slot);
    }

    /// `true` once the runtime has shut down: it runs nothing more.
    pub(crate) fn is_closed(&self) -> bool {
        *lock(&self.closed)
    }

    /// How many `Send` tasks are alive.
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks
            .iter()
            .map(|shard| lock(&shard.0).0.owned_len())
            .sum()
    }

    /// Calls `f` with the header of every live `Send` task.
    pub(crate) fn for_each_task(&self, f: &mut dyn FnMut(&Header)) {
        for shard in &self.tasks {
            lock(&shard.0).0.headers().for_each(&mut *f);
        }
    }

    /// The loop of the worker whose loop id is `loop_id`.
    pub(crate) fn loop_by_id(&self, loop_id: u64) -> Option<&Arc<Shared>> {
        self.loops
            .iter()
            .filter_map(OnceLock::get)
            .find(|shared| shared.id() == loop_id)
    }

    /// Phase 1 of shutdown: cancels every `Send` task.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        for shard in &self.tasks {
            lock(&shard.0).0.cancel_owned();
        }
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
        // Sockets made on the runtime fail from now on, as a single loop's do once it is gone.
        self.poller.handle().close();
        RUNTIMES.remove(self.id);
        let mut left: Vec<_> = self.injector.take_all().into();
        for (queue, slot) in self.queues.iter().zip(&self.slots) {
            left.extend(slot.take());
            left.extend(std::iter::from_fn(|| queue.pop()));
        }
        for runnable in left {
            runnable.metadata().request_cancel(None);
            runnable.run();
        }
    }
}

// The runtime owns its `Send` tasks: they take its shared table's slots.
impl TaskSlots for Arc<Workers> {
    type Freer = Arc<Workers>;

    fn reserve(&self) -> usize {
        self.reserve_slot()
    }

    fn fill(&self, key: usize, header: &Header) {
        self.fill_slot(key, header, true);
    }

    fn refuses(&self) -> bool {
        // Made by a destructor while the runtime shuts down: it never starts.
        self.shutting_down.load(Ordering::SeqCst)
    }

    fn freer(&self) -> Arc<Workers> {
        self.clone()
    }
}

impl FreeSlot for Arc<Workers> {
    fn free(self, header: &Header) {
        self.task_ended(header.slot());
    }
}

/// A worker's place in its runtime: what its event loop holds to take part.
pub(crate) struct Slot {
    workers: Arc<Workers>,
    index: usize,
    /// The batch being run, kept to reuse its allocation.
    batch: RefCell<Vec<Runnable>>,
    /// The state of the xorshift that picks steal victims.
    rng: Cell<u64>,
    /// The last yields before parking found work (`look_before_parking`).
    yields_pay: Cell<bool>,
    /// Idle looks that parked at once since yields last found nothing.
    yields_skipped: Cell<u8>,
    /// Tasks run in a row from the LIFO slot (see [`SLOT_RUNS`]).
    slot_runs: Cell<u32>,
}

impl Slot {
    fn new(workers: Arc<Workers>, index: usize) -> Slot {
        Slot {
            workers,
            index,
            batch: RefCell::new(Vec::with_capacity(BATCH)),
            // Any non-zero seed, different on each worker so thieves spread over their victims.
            rng: Cell::new((index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            yields_pay: Cell::new(true),
            yields_skipped: Cell::new(0),
            slot_runs: Cell::new(0),
        }
    }

    pub(crate) fn workers(&self) -> &Arc<Workers> {
        &self.workers
    }

    /// Makes this thread worker `index` of its runtime, reachable through `shared`.
    pub(crate) fn enter(&self, shared: &Arc<Shared>) {
        let _ = self.workers.loops[self.index].set(shared.clone());
        WORKER.with(|worker| worker.set((Arc::as_ptr(&self.workers), self.index)));
        self.slot_runs.set(0);
        LIFO.with(|lifo| lifo.open.set(self.workers.lifo));
    }

    pub(crate) fn exit(&self) {
        self.workers.return_spare_keys();
        let _ = WORKER.try_with(|worker| worker.set((std::ptr::null(), 0)));
        let _ = LIFO.try_with(|lifo| lifo.open.set(false));
    }

    /// Runs up to `BATCH` `Send` tasks: from this worker's LIFO slot (at most [`SLOT_RUNS`] in
    /// a row), else its queue, else the injection queue, else, when this batch found nothing at
    /// all, stolen from another worker.
    ///
    /// Tasks are taken from the queues one at a time: a task taken out of a queue can no longer
    /// be stolen, and a task that blocks its worker (a long computation, a blocking call) must
    /// not hold the tasks behind it hostage. What a steal or the injection queue gives beyond
    /// one task goes onto this worker's own queue, where others can still steal it. Returns how
    /// many ran.
    pub(crate) fn run_batch(&self) -> usize {
        if !self.workers.lifo {
            // Compiled without a look at the slot: with it off, a batch costs what it did
            // before there was one.
            return self.run_turns::<false>();
        }
        let ran = self.run_turns::<true>();
        // Wakes from outside a `Send` task (the loop's own tasks, timers, I/O) are not
        // self-wakes.
        LIFO.with(|lifo| lifo.running.set(std::ptr::null()));
        ran
    }

    /// The turns of [`run_batch`](Slot::run_batch); `SLOT`: the LIFO slot is on.
    fn run_turns<const SLOT: bool>(&self) -> usize {
        let own = &self.workers.queues[self.index];
        let slot = &self.workers.slots[self.index];
        for turn in 0..BATCH {
            let from_slot = if SLOT && self.slot_runs.get() < SLOT_RUNS {
                slot.take()
            } else {
                None
            };
            let next = match from_slot {
                Some(runnable) => {
                    let runs = self.slot_runs.get() + 1;
                    self.slot_runs.set(runs);
                    if runs == SLOT_RUNS {
                        // What this task wakes goes behind the queue, which runs next.
                        LIFO.with(|lifo| lifo.open.set(false));
                    }
                    Some(runnable)
                }
                None => {
                    // The injection queue gets a turn now and then, so that work from outside
                    // the runtime is not starved by a worker that always has work of its own.
                    let next = if turn % 8 == 7 {
                        self.take_from_injector().or_else(|| own.pop())
                    } else {
                        own.pop().or_else(|| self.take_from_injector())
                    };
                    // Every turn so far ran a task (an empty turn ends the batch), so
                    // `turn == 0` means nothing was found: only then is a steal worth its cost.
                    let next = match next {
                        Some(runnable) => Some(runnable),
                        None if turn == 0 => self.steal(),
                        None => None,
                    };
                    if SLOT && next.is_some() {
                        self.queue_ran();
                    }
                    // The slot past its bound, rather than nothing.
                    if SLOT {
                        next.or_else(|| slot.take())
                    } else {
                        next
                    }
                }
            };
            if turn == 0 {
                self.end_search(next.is_some());
            }
            let Some(runnable) = next else { return turn };
            if SLOT {
                LIFO.with(|lifo| lifo.running.set(runnable.metadata()));
            }
            runnable.run();
        }
        BATCH
    }

    /// A task from a queue (not the slot) is about to run: the slot may be used again.
    fn queue_ran(&self) {
        if self.slot_runs.get() >= SLOT_RUNS {
            LIFO.with(|lifo| lifo.open.set(self.workers.lifo));
        }
        self.slot_runs.set(0);
    }

    /// This worker has looked for work: if it was woken to search, and was the last searcher,
    /// passes the search on (see [`sleepers`]).
    fn end_search(&self, found: bool) {
        let workers = &*self.workers;
        match workers.sleepers.end_search(self.index, found) {
            AfterSearch::Nothing => {}
            // There may be more work than this worker takes: another sleeper looks too.
            AfterSearch::Notify => workers.wake_one(),
            // Work pushed while this worker searched woke nobody; it looked at a few queues
            // only, so every queue is looked at before the search ends empty-handed.
            AfterSearch::CheckAll => {
                if workers.any_queued() {
                    workers.wake_one();
                }
            }
        }
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

    /// The other workers this look for work visits: [`VICTIMS`] at most, consecutive from a
    /// random one (every other worker when there are no more than that); their indices.
    fn victims(&self) -> impl Iterator<Item = usize> {
        let n = self.workers.queues.len();
        let others = n - 1;
        let start = if others > VICTIMS {
            let mut x = self.rng.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.rng.set(x);
            (x % others as u64) as usize
        } else {
            0
        };
        let index = self.index;
        (0..others.min(VICTIMS)).map(move |i| (index + 1 + (start + i) % others) % n)
    }

    /// Steals half of another worker's queue: one task to run, the rest onto this worker's.
    /// When every queue looked at is empty, takes the task in one of their LIFO slots: its
    /// worker is busy running something else, maybe for long (see [`lifo_slot`]).
    fn steal(&self) -> Option<Runnable> {
        let workers = &*self.workers;
        let mut batch = self.batch.take();
        let mut looked = [0; VICTIMS];
        let mut count = 0;
        for victim in self.victims() {
            looked[count] = victim;
            count += 1;
            workers.queues[victim].steal_half(&mut batch, BATCH);
            if !batch.is_empty() {
                break;
            }
        }
        let first = self.keep_rest(&mut batch);
        self.batch.replace(batch);
        first.or_else(|| {
            looked[..count]
                .iter()
                .find_map(|&victim| workers.slots[victim].take())
        })
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
        let workers = &*self.workers;
        while !workers.queues[self.index].is_empty()
            || !workers.slots[self.index].is_empty()
            || !workers.injector.is_empty()
        {
            self.run_batch();
        }
    }

    /// `true` if this worker should not park: there is work to take (on its own queue, the
    /// injection queue, or the queues it would steal from now), or the runtime is stopping.
    pub(crate) fn has_work(&self) -> bool {
        let workers = &*self.workers;
        let waits =
            |index: usize| !workers.queues[index].is_empty() || !workers.slots[index].is_empty();
        waits(self.index)
            || !workers.injector.is_empty()
            || self.victims().any(waits)
            || self.is_stopped()
    }

    /// `true` if this worker looks for work every
    /// [`IDLE_RECHECK`](crate::scheduler::event_loop::IDLE_RECHECK) while idle.
    pub(crate) fn rechecks(&self) -> bool {
        self.index < RECHECKERS
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.workers.stopped.load(Ordering::SeqCst)
    }

    /// What an idle worker does before it announces that it sleeps: looks for work (its
    /// loop has just found its own inbox empty), then, if there is none and another worker may
    /// queue some, yields its thread [`YIELDS_BEFORE_PARK`] times, looking again after each (and
    /// at `local`, its loop's inbox). `true` if work turned up: then it does not park.
    pub(crate) fn look_before_parking(&self, local: &dyn Fn() -> bool) -> bool {
        if self.has_work() {
            return true;
        }
        if self.workers.queues.len() < 2 {
            return false;
        }
        // Only while yielding pays (see `YIELD_RETRY`).
        if !self.yields_pay.get() && self.yields_skipped.get() < YIELD_RETRY {
            self.yields_skipped.set(self.yields_skipped.get() + 1);
            return false;
        }
        self.yields_skipped.set(0);
        let found = (0..YIELDS_BEFORE_PARK).any(|_| {
            std::thread::yield_now();
            self.has_work() || local()
        });
        self.yields_pay.set(found);
        found
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

impl Worker for Slot {
    fn enter(&self, shared: &Arc<Shared>) {
        Slot::enter(self, shared);
    }
    fn exit(&self) {
        Slot::exit(self);
    }
    fn run_batch(&self) -> usize {
        Slot::run_batch(self)
    }
    fn drain(&self) {
        Slot::drain(self);
    }
    fn look_before_parking(&self, local: &dyn Fn() -> bool) -> bool {
        Slot::look_before_parking(self, local)
    }
    fn announce_sleep(&self) -> bool {
        Slot::announce_sleep(self)
    }
    fn woke(&self) {
        Slot::woke(self);
    }
    fn is_stopped(&self) -> bool {
        Slot::is_stopped(self)
    }
    fn rechecks(&self) -> bool {
        Slot::rechecks(self)
    }
    fn live_tasks(&self) -> usize {
        self.workers.live_tasks()
    }
    fn for_each_task(&self, f: &mut dyn FnMut(&Header)) {
        self.workers.for_each_task(f);
    }
    fn loop_by_id(&self, loop_id: u64) -> Option<Arc<Shared>> {
        self.workers.loop_by_id(loop_id).cloned()
    }
    fn begin_shutdown(&self) {
        self.workers.begin_shutdown();
    }
    fn stop(&self) {
        self.workers.stop();
    }
    fn poller(&self) -> Arc<Poller> {
        self.workers.poller.clone()
    }
    fn runtime_id(&self) -> u64 {
        self.workers.id
    }
    fn index(&self) -> usize {
        self.index
    }
    fn show_tables(&self, listed: &crate::task_core::inspect::ListedLoop) {
        // The shard lives as long as the runtime, which outlives this worker's loop.
        listed.show_table(1, &lock(&self.workers.tasks[self.index].0).0);
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The multi-threaded runtime `lp` is a worker of, if it is one.
pub(crate) fn of_loop(lp: &EventLoop) -> Option<&Arc<Workers>> {
    let slot = lp.worker()?.as_any().downcast_ref::<Slot>()?;
    Some(slot.workers())
}

/// The live multi-threaded runtime whose id is `id` (see `Shared::runtime`).
pub(crate) fn by_id(id: u64) -> Option<Arc<Workers>> {
    RUNTIMES.get(id)
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
    event_loop::refuse_nested_run();
    let workers = Arc::new(Workers::new(&config));
    RUNTIMES.insert(workers.id, &workers);
    let location = std::panic::Location::caller();
    let output = thread::scope(|scope| {
        let stop = StopOnDrop(&workers);
        for index in 1..config.workers {
            let slot = Box::new(Slot::new(workers.clone(), index));
            let config = config.clone();
            let blocking = workers.blocking().clone();
            thread::Builder::new()
                .name(format!("tether-worker-{index}"))
                .spawn_scoped(scope, move || {
                    event_loop::run_worker(config, slot, blocking)
                })
                .expect("tether could not start a worker thread");
        }
        let slot = Box::new(Slot::new(workers.clone(), 0));
        let blocking = workers.blocking().clone();
        let output = event_loop::block_on_worker(config.clone(), slot, blocking, location, future);
        drop(stop);
        output
    });
    workers.close();
    // As on one loop: a dropped file's last writes end before `run` returns.
    workers.blocking().wait_kept();
    event_loop::main_output(output)
}
