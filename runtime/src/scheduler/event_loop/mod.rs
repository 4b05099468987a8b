//! The single-threaded event loop: ready queue, cross-thread wake path, timers, parking, shutdown.
//!
//! One `EventLoop` exists per call to `run`, on the calling thread, reachable through a
//! thread-local while it runs. Tasks are `async_task` tasks whose schedule function pushes their
//! `Runnable` onto the loop's ready queue when woken on the loop's thread, or into the loop's
//! [`inbox`] (and unparks the loop) when woken from any other thread. An idle loop blocks in its
//! I/O driver's poller (`crate::scheduler::io_driver`), with the next timer's deadline as the timeout; the unpark
//! of a wake from another thread goes through the poller's waker, and costs a syscall only
//! while the loop sits in the poller. A loop may also be one
//! worker of a multi-threaded runtime (`crate::scheduler::workers`): then it runs that runtime's `Send`
//! tasks too, between its own.

mod extension;
mod inbox;
mod worker;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use crate::scheduler::io_driver::{Parker, Poller};
use crate::task_core::current::{self, LoopHooks};
use crate::task_core::error::{TaskError, contain_panic};
use crate::task_core::header::Header;
use crate::task_core::info::Owner;
use crate::task_core::raw::{FreeSlot, RawTask, Runnable, Spawn, TaskSlots, create};
use crate::task_core::table::ShownTable;
use crate::util::blocking::BlockingPool;
use crate::util::clock::Clock;
use crate::util::registry::Registry;
use crate::util::timers::Timers;
pub(crate) use extension::RunExtension;
use inbox::Inbox;
pub(crate) use worker::{IDLE_RECHECK, Worker};

thread_local! {
    /// The loop running on this thread (null: none). The `Enter` that set it holds the loop's
    /// `Rc` and clears it before letting go, so the loop outlives every read (see `running_loop`).
    /// A plain pointer rather than a `RefCell<Option<Rc>>`: this is read on every schedule,
    /// spawn and timer, and a cell of a pointer has no borrow flag and no destructor to check.
    static CURRENT: Cell<*const EventLoop> = const { Cell::new(ptr::null()) };
}

/// The loop running on this thread, if any, for as long as the caller's stack frame.
///
/// Only `Enter` sets and clears `CURRENT`, and a loop is never entered from inside a loop
/// (`run` refuses), so nothing a caller does while it holds the reference can end the loop it
/// points to: the `Enter` that keeps it alive belongs to a frame below the caller's.
#[inline]
fn running_loop<'a>() -> Option<&'a EventLoop> {
    let lp = CURRENT.try_with(Cell::get).ok()?;
    // SAFETY: non-null only between `Enter::new` and `Enter::drop`, while `Enter` holds the
    // loop's `Rc`; see above for why the reference does not outlive that.
    (!lp.is_null()).then(|| unsafe { &*lp })
}

/// Every live loop's shared part, by id: how a wake from another thread finds a task's loop.
/// Tasks do not hold their loop (see `schedule`); the running loop is found through `CURRENT`,
/// and only wakes from other threads come here.
static LOOPS: Registry<Shared> = Registry::new();

/// The schedule function of every top-level task of a single-threaded loop, or of a worker's
/// `create_task` tasks: the ready queue when the task's loop runs on this thread, else that
/// loop's injection queue. A plain `fn`, so that async-task does not clone and drop the task's
/// waker around each call, as it does for a schedule function that captures anything.
pub(crate) fn schedule(runnable: Runnable) {
    let home = runnable.metadata().home;
    let Some(runnable) = push_to_current(home, runnable) else {
        return;
    };
    match LOOPS.get(home) {
        Some(shared) => shared.inject(runnable),
        // The loop is gone, and with it every task's future (async-task schedules no task
        // whose future was dropped): unreachable in practice. Leak rather than drop a `!Send`
        // future on the wrong thread.
        None => std::mem::forget(runnable),
    }
}

/// Puts `runnable` on the ready queue if loop `id` runs on this thread; gives it back if not.
fn push_to_current(id: u64, runnable: Runnable) -> Option<Runnable> {
    // `running_loop` uses `try_with`: a waker may fire while this thread's locals are torn down.
    match running_loop() {
        Some(lp) if lp.shared.id == id => {
            lp.ready.borrow_mut().push_back(runnable);
            None
        }
        _ => Some(runnable),
    }
}

/// The part of a loop other threads can reach: where their wake-ups go.
pub(crate) struct Shared {
    id: u64,
    /// The pool `to_thread` runs closures on.
    blocking: Arc<BlockingPool>,
    inbox: Inbox<Runnable, Callback>,
    /// The loop's I/O driver, as resources reach it: registration.
    io: Arc<crate::scheduler::io_driver::Handle>,
    /// How other threads wake the loop.
    parker: Parker,
    /// The id of the multi-threaded runtime this loop is a worker of (0: none): where work
    /// submitted from other threads through a `Handle` goes, to be spread over the workers.
    /// An id, not a reference, since the runtime holds this loop's `Shared`.
    #[cfg(feature = "workers")]
    runtime: u64,
}

pub(crate) use crate::task_core::callbacks::Callback;

impl Shared {
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// `true` if this loop is the one running on the calling thread.
    pub(crate) fn is_current(&self) -> bool {
        running_loop().is_some_and(|lp| lp.shared.id == self.id)
    }

    /// `true` once the loop has finished and shut down.
    pub(crate) fn is_closed(&self) -> bool {
        self.inbox.is_closed()
    }

    /// Puts `runnable` on the ready queue if this loop runs on the calling thread; gives it
    /// back otherwise.
    fn push_local(&self, runnable: Runnable) -> Option<Runnable> {
        push_to_current(self.id, runnable)
    }

    /// Runs `callback` on this loop soon, from any thread. Gives it back if the loop has closed.
    pub(crate) fn call_soon(&self, callback: Callback) -> Result<(), Callback> {
        if let Some(lp) = running_loop().filter(|lp| lp.shared.id == self.id && !lp.closing.get()) {
            // Callbacks queued by other threads before this one run before it (FIFO).
            lp.take_injected();
            lp.soon.borrow_mut().push_back(callback);
            return Ok(());
        }
        self.inbox.push_callback(callback)?;
        self.unpark();
        Ok(())
    }

    fn inject(&self, runnable: Runnable) {
        if let Err(runnable) = self.try_inject(runnable) {
            // Unreachable in practice: shutdown drops every task's future before closing, and
            // async-task never schedules a task whose future is gone. Should it happen anyway,
            // leaking is the only safe move: dropping the runnable here could drop a `!Send`
            // future on the wrong thread.
            std::mem::forget(runnable);
        }
    }

    /// Queues a runnable from another thread; gives it back if the loop has closed.
    fn try_inject(&self, runnable: Runnable) -> Result<(), Runnable> {
        self.inbox.push_runnable(runnable)?;
        self.unpark();
        Ok(())
    }

    /// The schedule function of a task submitted from another thread (its future is `Send`).
    /// Once the loop has closed, the task is cancelled and run here, so it ends with
    /// `Cancelled` instead of waiting forever.
    pub(crate) fn schedule_send(self: &Arc<Self>, runnable: Runnable) {
        let Some(runnable) = self.push_local(runnable) else {
            return;
        };
        if let Err(runnable) = self.try_inject(runnable) {
            runnable.metadata().request_cancel(None);
            runnable.run();
        }
    }

    pub(crate) fn blocking(&self) -> &Arc<BlockingPool> {
        &self.blocking
    }

    /// The id of the multi-threaded runtime this loop is a worker of (0: none).
    #[cfg(feature = "workers")]
    pub(crate) fn runtime(&self) -> u64 {
        self.runtime
    }

    /// Wakes the loop's thread if it is parked (or makes its next park return at once).
    pub(crate) fn unpark(&self) {
        self.parker.unpark();
    }

    /// The loop's I/O driver, for registering resources.
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    pub(crate) fn io(&self) -> &Arc<crate::scheduler::io_driver::Handle> {
        &self.io
    }
}

/// How a loop is configured; see [`Builder`](crate::Builder).
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    pub(crate) start_paused: bool,
    /// The bound of the blocking pool (`None`: the default).
    pub(crate) blocking_threads: Option<usize>,
    /// How many worker threads: 1 is the single-threaded loop, and so is 0, the value until
    /// [`Builder::workers`](crate::Builder::workers) sets it (which refuses 0).
    pub(crate) workers: usize,
    /// Workers run the tasks they wake or spawn in the order they are queued, with no LIFO slot
    /// (`Builder::lifo_slot(false)`); the single loop has none either way.
    #[cfg(feature = "workers")]
    pub(crate) no_lifo_slot: bool,
    pub(crate) debug: crate::diagnostics::debug::DebugConfig,
    /// The order ready tasks run in (FIFO unless a seeded schedule is asked for).
    pub(crate) schedule: crate::scheduler::order::Strategy,
    /// Record what each task waits for (`crate::task_core::awaiting`); debug mode does too.
    pub(crate) track_waits: bool,
    /// Panic with the wait-for report when the loop is deadlocked (`crate::diagnostics::deadlock`).
    pub(crate) detect_deadlocks: bool,
    /// What an upper layer attached to this run (see `extension`).
    pub(crate) extension: Option<Arc<dyn RunExtension>>,
}

pub(crate) struct EventLoop {
    shared: Arc<Shared>,
    ready: RefCell<VecDeque<Runnable>>,
    /// Callbacks to run before the next batch of tasks.
    soon: RefCell<VecDeque<Callback>>,
    pub(crate) timers: RefCell<Timers>,
    due: RefCell<Vec<Waker>>,
    pub(crate) clock: Clock,
    tasks: RefCell<ShownTable>,
    shutting_down: Cell<bool>,
    debug: crate::diagnostics::debug::DebugConfig,
    /// Set once shutdown has run its last callbacks: later ones are refused.
    closing: Cell<bool>,
    /// This loop's place in a multi-threaded runtime, if it is a worker of one.
    worker: Option<Box<dyn Worker>>,
    /// The poller the loop blocks in when idle (on a worker: unless another worker does).
    poller: Arc<Poller>,
    /// How many tasks have run since the driver was last polled: a busy loop polls it every
    /// [`IO_INTERVAL`] tasks, so that sockets are not starved by tasks that keep waking.
    since_io: Cell<usize>,
    /// A seeded schedule (`crate::schedule`); `None` runs FIFO with no extra work.
    order: Option<RefCell<crate::scheduler::order::Order>>,
    /// Keeps wait recording on while the loop lives, if it was asked for.
    tracking: Option<crate::task_core::awaiting::Tracking>,
    /// Panic on a deadlock (tests) instead of only reporting it (debug mode).
    detect_deadlocks: bool,
    /// Debug mode has reported this idle spell already.
    idle_reported: Cell<bool>,
    /// What an upper layer attached to this run, entered on this loop's thread while it runs.
    extension: Option<Arc<dyn RunExtension>>,
    /// This loop in the list outside tools read (`crate::util::published`).
    listed: crate::task_core::inspect::ListedLoop,
}

/// How many tasks a loop runs between two polls of its I/O driver when it never goes idle
/// (tokio's `event_interval`).
const IO_INTERVAL: usize = 61;

/// The message of the panic raised by `run` inside a running loop.
pub(crate) const NESTED_RUN: &str = "tether::run cannot be called from inside a running event loop; \
     await the future instead (or spawn it with tether::create_task)";

impl EventLoop {
    fn new(
        config: Config,
        worker: Option<Box<dyn Worker>>,
        blocking: Arc<BlockingPool>,
    ) -> Rc<EventLoop> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let runtime = worker.as_ref().map_or(0, |worker| worker.runtime_id());
        let listed = crate::task_core::inspect::ListedLoop::new(
            id,
            runtime,
            worker.as_ref().map(|worker| worker.index()),
        );
        let poller = worker
            .as_ref()
            .map_or_else(new_poller, |worker| worker.poller());
        let lp = Rc::new(EventLoop {
            shared: Arc::new(Shared {
                id,
                inbox: Inbox::new(),
                io: poller.handle().clone(),
                parker: Parker::new(poller.handle().clone()),
                blocking,
                #[cfg(feature = "workers")]
                runtime,
            }),
            ready: RefCell::new(VecDeque::new()),
            soon: RefCell::new(VecDeque::new()),
            timers: RefCell::new(Timers::default()),
            due: RefCell::new(Vec::new()),
            clock: Clock::new(config.start_paused),
            tasks: RefCell::new(ShownTable::default()),
            shutting_down: Cell::new(false),
            debug: config.debug.clone(),
            closing: Cell::new(false),
            worker,
            poller,
            since_io: Cell::new(0),
            order: crate::scheduler::order::Order::new(config.schedule).map(RefCell::new),
            tracking: (config.track_waits || config.debug.enabled || config.detect_deadlocks)
                .then(crate::task_core::awaiting::Tracking::start),
            detect_deadlocks: config.detect_deadlocks,
            idle_reported: Cell::new(false),
            extension: config.extension,
            listed,
        });
        lp.listed.show_table(0, &lp.tasks.borrow());
        if let Some(worker) = &lp.worker {
            worker.show_tables(&lp.listed);
        }
        LOOPS.insert(lp.shared.id, &lp.shared);
        lp
    }

    /// This loop's place in a multi-threaded runtime, if it is a worker of one.
    #[cfg(feature = "workers")]
    pub(crate) fn worker(&self) -> Option<&dyn Worker> {
        self.worker.as_deref()
    }

    /// Calls `f` with the loop running on this thread, if any.
    ///
    /// No `Rc` clone (this is on the path of every spawn and timer); `f` may call
    /// `with_current` again.
    #[inline]
    pub(crate) fn with_current<R>(f: impl FnOnce(&EventLoop) -> R) -> Option<R> {
        running_loop().map(f)
    }

    pub(crate) fn is_running_here() -> bool {
        running_loop().is_some()
    }

    /// What an upper layer attached to this loop's run, if anything.
    #[cfg_attr(not(feature = "tokio-bridge"), allow(dead_code))]
    pub(crate) fn extension(&self) -> Option<&Arc<dyn RunExtension>> {
        self.extension.as_ref()
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn id(&self) -> u64 {
        self.shared.id
    }

    /// Creates a top-level task owned by its returned handle and recorded in the loop's table.
    ///
    /// # Safety
    ///
    /// If `F` is not `'static`, the caller must make sure the loop shuts down (which drops every
    /// recorded task's future) before anything `F` borrows goes away.
    pub(crate) unsafe fn spawn<F: Future>(
        &self,
        future: F,
        mut spawn: Spawn,
    ) -> RawTask<F::Output> {
        spawn.home = self.shared.id;
        // SAFETY: the runnable is only run on this thread, by this loop, and only dropped here or
        // (never, see `inject`) elsewhere; a future that is not `'static` is the caller's promise.
        unsafe { create(self, future, &mut spawn, schedule, |_, outcome| outcome) }
    }

    /// Sets aside a slot of the loop's table, for a task listed here but owned elsewhere (a
    /// group child), or adopted (see [`EventLoop::adopt`]).
    pub(crate) fn reserve_slot(&self) -> usize {
        self.tasks.borrow_mut().reserve()
    }

    /// Takes a task submitted from another thread into the loop's table, as one it owns.
    /// Returns its key, and whether the loop is shutting down (then the task must not start).
    pub(crate) fn adopt(&self, header: &Header) -> (usize, bool) {
        let key = self.reserve_slot();
        self.fill_slot(key, header, true);
        (key, self.shutting_down.get())
    }

    /// Lists a task under a reserved key. `owned`: the loop cancels it at shutdown (a group
    /// child is listed for introspection only: its group owns it). [`EventLoop::free_slot`] it
    /// when its future ends.
    pub(crate) fn fill_slot(&self, key: usize, header: &Header, owned: bool) {
        self.tasks.borrow_mut().fill(key, header, owned);
    }

    pub(crate) fn free_slot(&self, key: usize) {
        self.tasks.borrow_mut().free(key);
    }

    /// Frees `key` in the table of the loop `id`, if that loop is the one running on this
    /// thread: how an owner that knows a loop by its id, not by a reference, gives a slot back.
    /// Anywhere else it does nothing: the loop is on another thread (never, for the owners that
    /// call this), or gone, and with it its table.
    pub(crate) fn free_slot_of(id: u64, key: usize) {
        EventLoop::with_current(|lp| {
            if lp.shared.id == id {
                lp.free_slot(key);
            }
        });
    }

    /// Calls `f` with every live task's header: this loop's, and on a worker, the runtime's
    /// `Send` tasks.
    pub(crate) fn for_each_task(&self, mut f: impl FnMut(&Header)) {
        self.tasks.borrow().headers().for_each(&mut f);
        if let Some(worker) = &self.worker {
            worker.for_each_task(&mut f);
        }
    }

    /// The time on this loop's clock (virtual under `start_paused`).
    pub(crate) fn now(&self) -> crate::util::instant::Instant {
        crate::util::instant::Instant::from_std(self.clock.now())
    }

    /// Snapshots of every live task (`for_each_task`), oldest first, with what each awaits when
    /// this loop records waits.
    pub(crate) fn task_infos(&self) -> Vec<crate::task_core::info::TaskInfo> {
        let mut infos = crate::diagnostics::listing::infos(|f| self.for_each_task(f));
        if self.tracks_waits() {
            crate::diagnostics::listing::fill_awaiting(&mut infos);
        }
        infos
    }

    /// Runs the loop until `done` says so (it is asked after each batch).
    fn run_until(&self, done: impl Fn() -> bool) {
        loop {
            self.take_injected();
            self.fire_timers();
            self.run_callbacks();
            // One batch: what is ready now. Tasks woken by this batch run in the next one,
            // after the timers and injected wake-ups that came due meanwhile (asyncio's order).
            let batch = self.ready.borrow().len();
            let mut ran = match &self.order {
                Some(order) => {
                    crate::scheduler::order::run_batch(order, &self.ready, batch);
                    batch
                }
                None => self.run_ready(batch),
            };
            if let Some(worker) = &self.worker {
                ran += worker.run_batch();
            }
            self.since_io.set(self.since_io.get() + ran);
            if self.since_io.get() >= IO_INTERVAL {
                self.poll_io(|poller, _, wakers| poller.poll_now(wakers));
            }
            if done() {
                return;
            }
            if self.ready.borrow().is_empty() && self.soon.borrow().is_empty() {
                self.park();
            }
        }
    }

    /// Runs up to `max` tasks from the ready queue, first in first out (those they wake count
    /// too), until it is empty. Returns how many ran.
    fn run_ready(&self, max: usize) -> usize {
        for ran in 0..max {
            let next = self.ready.borrow_mut().pop_front();
            let Some(runnable) = next else { return ran };
            runnable.run();
        }
        max
    }

    /// Runs one turn of the I/O driver (`turn` says how long it may block) and wakes the tasks
    /// of the resources it found ready. Returns how many resources were ready.
    fn poll_io(
        &self,
        turn: impl FnOnce(&Poller, &Parker, &mut dyn FnMut(Waker)) -> usize,
    ) -> usize {
        self.since_io.set(0);
        // A waker is anybody's code: one that panics is reported, and the others still fire
        // (and the poller's lock, held meanwhile, is not poisoned). A worker that parked is
        // still counted asleep while the wakers run, as tokio's worker is still listed among
        // the sleepers when it notifies after its park: if the tasks queued here claim it, it
        // becomes the searcher itself (no syscall), and passes the search on when it takes
        // its first task (`workers::sleepers`).
        let mut wake = |waker: Waker| wake_contained(waker);
        let ready = turn(&self.poller, &self.shared.parker, &mut wake);
        self.listed.refresh();
        ready
    }

    fn take_injected(&self) {
        let Some((runnables, callbacks)) = self.shared.inbox.take() else {
            return;
        };
        self.ready.borrow_mut().extend(runnables);
        self.soon.borrow_mut().extend(callbacks);
    }

    /// Runs the callbacks queued so far (not those they queue in turn). A panicking callback is
    /// reported on stderr and the loop goes on.
    fn run_callbacks(&self) {
        let batch = self.soon.borrow().len();
        for _ in 0..batch {
            let next = self.soon.borrow_mut().pop_front();
            let Some(callback) = next else { break };
            run_callback(callback);
        }
    }

    fn fire_timers(&self) {
        if self.timers.borrow().is_empty() {
            // No clock read when nothing is armed: it is the most expensive step of an
            // iteration that only runs tasks.
            return;
        }
        if let Some(order) = &self.order {
            return self.fire_timers_ordered(order);
        }
        let mut due = self.due.take();
        self.timers
            .borrow_mut()
            .take_due(self.clock.now(), &mut due);
        // Wake outside the borrow: a waker may run code that touches the timers. A waker is
        // anybody's code: one that panics is reported, and the others still fire.
        for waker in due.drain(..) {
            wake_contained(waker);
        }
        self.due.replace(due);
    }

    /// `fire_timers` under a seeded schedule: timers due at the same deadline fire in an order
    /// the seed picks.
    fn fire_timers_ordered(&self, order: &RefCell<crate::scheduler::order::Order>) {
        let mut due = Vec::new();
        self.timers
            .borrow_mut()
            .take_due_with(self.clock.now(), |deadline, waker| {
                due.push((deadline, waker))
            });
        order.borrow_mut().permute_timers(&mut due);
        for (_, waker) in due {
            wake_contained(waker);
        }
    }

    /// The loop's scheduling strategy.
    pub(crate) fn schedule_strategy(&self) -> crate::scheduler::order::Strategy {
        self.order
            .as_ref()
            .map_or(crate::scheduler::order::Strategy::Fifo, |order| {
                order.borrow().strategy()
            })
    }

    /// Whether this loop records what its tasks wait for.
    pub(crate) fn tracks_waits(&self) -> bool {
        self.tracking.is_some()
    }

    /// The seeded schedule, if the loop runs one (for group queues to pick from).
    pub(crate) fn order(&self) -> Option<&RefCell<crate::scheduler::order::Order>> {
        self.order.as_ref()
    }

    /// Waits for something to do: I/O, the next timer or a wake-up from another thread.
    fn park(&self) {
        if self.shared.inbox.has_pending() {
            return;
        }
        if let Some(worker) = &self.worker {
            let inbox = || self.shared.inbox.has_pending();
            if worker.look_before_parking(&inbox) || !worker.announce_sleep() {
                return;
            }
        }
        self.park_until_timer();
        if let Some(worker) = &self.worker {
            worker.woke();
        }
    }

    /// Blocks in the I/O driver until the next timer is due (or I/O, or a wake-up comes).
    ///
    /// On the virtual clock, time jumps to the next timer only when nothing else can happen
    /// first: the driver is polled without blocking, and only if no resource was ready does the
    /// clock advance (tokio's auto-advance rule). So a read with a timeout on a paused clock
    /// times out at once if its peer has not written yet.
    fn park_until_timer(&self) {
        let next = self.timers.borrow().next_deadline();
        // Only a few workers look for work on their own every IDLE_RECHECK (see `rechecks`).
        let idle = self
            .worker
            .as_ref()
            .filter(|worker| worker.rechecks())
            .map(|_| IDLE_RECHECK);
        match next {
            // The deadlock check sees one loop's tasks: the single loop only (an idle worker's
            // tasks may be waiting on another worker's).
            None if self.tracking.is_some() && self.worker.is_none() => self.park_idle(),
            None => {
                self.poll_io(|poller, parker, wakers| poller.park(parker, idle, wakers));
            }
            Some(deadline) if self.clock.is_paused() => {
                if self.poll_io(|poller, _, wakers| poller.poll_now(wakers)) == 0 {
                    self.clock.advance_to(deadline);
                }
            }
            Some(deadline) => {
                let now = self.clock.now();
                let mut timeout = deadline.saturating_duration_since(now);
                if let Some(idle) = idle {
                    timeout = timeout.min(idle);
                }
                self.poll_io(|poller, parker, wakers| poller.park(parker, Some(timeout), wakers));
            }
        }
    }

    /// Parks with no timer armed while waits are recorded: first asks whether this is a
    /// deadlock (`crate::diagnostics::deadlock`), which fails a test or is reported in debug mode; if the
    /// loop cannot tell, debug mode reports the stall after a while and parks on.
    fn park_idle(&self) {
        let infos = self.task_infos();
        let idle = crate::diagnostics::deadlock::Idle {
            tasks: &infos,
            blocking_idle: self.shared.blocking.is_idle(),
            // This loop's own reference is the only one: no `Handle`, no `Promise`; and no
            // socket or signal is registered with its driver.
            no_outside_wakers: Arc::strong_count(&self.shared) == 1
                && !self.shared.inbox.has_pending()
                && !self.shared.io.has_registrations(),
            now: self.now(),
        };
        if let Some(report) = crate::diagnostics::deadlock::check(&idle) {
            if self.detect_deadlocks {
                panic!("{report}");
            }
            if self.debug.enabled && !self.idle_reported.replace(true) {
                self.debug.write(&report);
            }
            self.poll_io(|poller, parker, wakers| poller.park(parker, None, wakers));
            return;
        }
        if !self.debug.enabled || self.idle_reported.get() {
            self.poll_io(|poller, parker, wakers| poller.park(parker, None, wakers));
            return;
        }
        self.poll_io(|poller, parker, wakers| {
            poller.park(
                parker,
                Some(crate::diagnostics::deadlock::STALL_REPORT_AFTER),
                wakers,
            )
        });
        let still_idle = self.ready.borrow().is_empty()
            && self.soon.borrow().is_empty()
            && !self.shared.inbox.has_pending();
        if still_idle {
            let infos = self.task_infos();
            if crate::diagnostics::deadlock::may_be_stalled(&infos)
                && !self.idle_reported.replace(true)
            {
                self.debug.write(&crate::diagnostics::deadlock::report(
                    &infos,
                    self.now(),
                    crate::diagnostics::deadlock::STALLED,
                ));
            }
        }
    }

    /// Cancels every task still alive and runs each one last time, so that its future is dropped
    /// (and its destructors run) here, before `run` returns. Destructors may create tasks or
    /// wake others; the loop goes on until the table is empty.
    fn shutdown(&self) {
        self.shutting_down.set(true);
        if self.debug.enabled && self.tasks.borrow().owned_len() > 0 {
            let infos = self.task_infos();
            crate::diagnostics::debug::report_unfinished(&self.debug, &infos, self.now());
        }
        loop {
            self.tasks.borrow().cancel_owned();
            self.take_injected();
            self.run_ready(usize::MAX);
            if let Some(worker) = &self.worker {
                worker.drain();
            }
            // Done callbacks of the tasks just cancelled still run, once.
            while !self.soon.borrow().is_empty() {
                self.run_callbacks();
            }
            if self.tasks.borrow().owned_len() == 0 {
                break;
            }
            // A task is being woken by another thread right now: its runnable is on its way to
            // the injection queue. Wait for it.
            self.poll_io(|poller, parker, wakers| {
                poller.park(parker, Some(Duration::from_millis(1)), wakers)
            });
        }
        self.closing.set(true);
        let (runnables, callbacks) = self.shared.inbox.close();
        // Tasks submitted from another thread (`Handle::spawn_threadsafe`) just before the loop
        // closed, not yet started (so not in the table the loop above waited on): run each once,
        // cancelled, so that it ends as `Cancelled`. Dropping the runnable instead would close
        // the task without an outcome, and its `Task` would panic when awaited.
        for runnable in runnables {
            runnable.metadata().request_cancel(None);
            runnable.run();
        }
        // Accepted from another thread just before the loop closed: still run, once.
        callbacks.into_iter().for_each(run_callback);
        let timers = self.timers.take();
        drop(timers);
    }

    /// How many top-level tasks are alive (their futures not yet dropped): this loop's, and on
    /// a worker, the runtime's `Send` tasks.
    pub(crate) fn live_tasks(&self) -> usize {
        let send = self.worker.as_ref().map_or(0, |worker| worker.live_tasks());
        self.tasks.borrow().owned_len() + send
    }

    /// Disarms a timer armed on another worker of this loop's runtime (a `Send` task armed it
    /// there, and has moved here since): that worker does it, soon.
    pub(crate) fn disarm_elsewhere(&self, loop_id: u64, key: crate::util::timers::TimerKey) {
        let Some(shared) = self
            .worker
            .as_ref()
            .and_then(|worker| worker.loop_by_id(loop_id))
        else {
            // Another runtime's timer: it fires once, harmlessly, when due.
            return;
        };
        let _ = shared.call_soon(Box::new(move || {
            EventLoop::with_current(|lp| {
                let waker = lp.timers.borrow_mut().disarm(key);
                drop(waker);
            });
        }));
    }

    /// How many timers are armed.
    pub(crate) fn armed_timers(&self) -> usize {
        self.timers.borrow().len()
    }
}

// The loop owns the tasks it creates: they take its table's slots.
impl TaskSlots for EventLoop {
    type Freer = OnItsLoop;

    fn reserve(&self) -> usize {
        self.reserve_slot()
    }

    fn fill(&self, key: usize, header: &Header) {
        self.fill_slot(key, header, true);
    }

    fn refuses(&self) -> bool {
        // Created by a destructor during shutdown: it never starts.
        self.shutting_down.get()
    }

    fn freer(&self) -> OnItsLoop {
        OnItsLoop
    }
}

/// Frees a loop task's slot in its loop's table, found as the loop running on this thread whose
/// id is the task's home: nothing for the hook to carry (every loop task's hook is empty).
///
/// A loop task's future is dropped on its loop's thread: it is not `Send`, and its runnable is
/// run or dropped only there. While the loop is alive, that happens under the loop's `Enter`:
/// as it runs, and in `shutdown`, which returns only once the table holds none of the tasks it
/// owns. A future dropped later (its last waker dropped after the run) finds no loop, or
/// another loop under another id, and has no entry left to free.
pub(crate) struct OnItsLoop;

impl FreeSlot for OnItsLoop {
    fn free(self, header: &Header) {
        EventLoop::free_slot_of(header.home, header.slot());
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        LOOPS.remove(self.shared.id);
    }
}

/// Wakes `waker`, reporting a panic from it on stderr instead of unwinding into the loop.
pub(crate) fn wake_contained(waker: Waker) {
    contain_panic(|| "a waker".to_owned(), || waker.wake());
}

/// Runs one callback, reporting a panic on stderr instead of unwinding into the loop.
fn run_callback(callback: Callback) {
    contain_panic(|| "a callback".to_owned(), callback);
}

/// Panics with [`NESTED_RUN`] if a loop runs on this thread.
#[track_caller]
pub(crate) fn refuse_nested_run() {
    if EventLoop::is_running_here() {
        panic!("{NESTED_RUN}");
    }
}

/// Runs `future` to completion on a new single-threaded loop on this thread, then shuts the
/// loop down.
#[track_caller]
pub(crate) fn block_on<F: Future>(config: Config, future: F) -> F::Output {
    refuse_nested_run();
    let blocking = Arc::new(BlockingPool::new(
        config
            .blocking_threads
            .unwrap_or(crate::util::blocking::DEFAULT_THREADS),
    ));
    let lp = EventLoop::new(config, None, blocking.clone());
    let output = run_main(&lp, std::panic::Location::caller(), future);
    // Work handed to the pool to finish after its owner went (a dropped file's last writes)
    // ends before `run` returns.
    blocking.wait_kept();
    main_output(output)
}

/// A poller for a loop, or for the workers of a runtime to share.
pub(crate) fn new_poller() -> Arc<Poller> {
    Arc::new(Poller::new().unwrap_or_else(|error| {
        panic!(
            "tether could not create its I/O poller (epoll and eventfd): {error}; every loop, \
             and every multi-threaded runtime, holds three file descriptors: raise the \
             open-file limit (ulimit -n)"
        )
    }))
}

/// Runs worker 0 of a multi-threaded runtime on this thread, with `future` as its main task.
/// Returns once the `Send` tasks and this worker's own tasks are gone and the other workers
/// have been told to stop.
#[cfg(feature = "workers")]
pub(crate) fn block_on_worker<F: Future>(
    config: Config,
    worker: Box<dyn Worker>,
    blocking: Arc<BlockingPool>,
    location: &'static std::panic::Location<'static>,
    future: F,
) -> Result<F::Output, TaskError> {
    let lp = EventLoop::new(config, Some(worker), blocking);
    run_main(&lp, location, future)
}

/// Runs one of the other workers of a multi-threaded runtime until the runtime stops.
#[cfg(feature = "workers")]
pub(crate) fn run_worker(config: Config, worker: Box<dyn Worker>, blocking: Arc<BlockingPool>) {
    let lp = EventLoop::new(config, Some(worker), blocking);
    extension::within(lp.extension.as_ref(), || {
        let guard = Enter::new(lp.clone());
        lp.run_until(|| lp.worker.as_ref().is_some_and(|worker| worker.is_stopped()));
        lp.shutdown();
        drop(guard);
    });
}

fn run_main<F: Future>(
    lp: &Rc<EventLoop>,
    location: &'static std::panic::Location<'static>,
    future: F,
) -> Result<F::Output, TaskError> {
    extension::within(lp.extension.as_ref(), || {
        run_main_here(lp, location, future)
    })
}

/// `run_main`, inside the run's extension if it has one.
fn run_main_here<F: Future>(
    lp: &Rc<EventLoop>,
    location: &'static std::panic::Location<'static>,
    future: F,
) -> Result<F::Output, TaskError> {
    let guard = Enter::new(lp.clone());
    // SAFETY: `future` may borrow from the caller. The loop is shut down before this function
    // returns, by `shutdown` below or, if anything unwinds, by `Enter::drop`; shutdown drops the
    // future of every task in the table, this one included.
    let main = MainTask(Some(unsafe {
        lp.spawn(future, Spawn::new(Owner::Handle, location))
    }));
    lp.run_until(|| main.is_finished());
    if let Some(worker) = &lp.worker {
        // The `Send` tasks go first, while every worker still runs (see `workers`).
        worker.begin_shutdown();
        lp.run_until(|| worker.live_tasks() == 0);
    }
    lp.shutdown();
    if let Some(worker) = &lp.worker {
        worker.stop();
    }
    drop(guard);
    main.output()
}

/// The main task of `run`, owned as a `Task` owns its task: dropped (when something unwinds),
/// it cancels the task through tether's own path.
struct MainTask<T>(Option<RawTask<T>>);

impl<T> MainTask<T> {
    fn is_finished(&self) -> bool {
        self.0.as_ref().is_some_and(|raw| raw.is_finished())
    }

    /// The outcome of the finished main task.
    fn output(mut self) -> Result<T, TaskError> {
        let mut raw = self.0.take().expect("the main task is taken once");
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut raw).poll(&mut cx) {
            Poll::Ready(outcome) => outcome.map(crate::task_core::raw::Contained::into_inner),
            Poll::Pending => unreachable!("the main task has finished: run_until returned"),
        }
    }
}

impl<T> Drop for MainTask<T> {
    fn drop(&mut self) {
        if let Some(raw) = self.0.take() {
            raw.metadata().request_cancel(None);
            raw.detach();
        }
    }
}

/// The value of `run`: the main task's output, or its panic resumed.
pub(crate) fn main_output<T>(output: Result<T, TaskError>) -> T {
    match output {
        Ok(value) => value,
        Err(TaskError::Panicked(panic)) => panic.resume(),
        Err(error) => panic!("the main task of tether::run ended without a value: {error}"),
    }
}

/// Makes a loop the current one for this thread, for as long as it lives.
struct Enter {
    lp: Rc<EventLoop>,
}

impl Enter {
    fn new(lp: Rc<EventLoop>) -> Enter {
        CURRENT.with(|c| c.set(Rc::as_ptr(&lp)));
        if let Some(worker) = &lp.worker {
            worker.enter(&lp.shared);
        }
        current::install(Some(LoopHooks {
            slow_poll: lp.debug.slow_poll(),
            report_slow_poll,
            call_soon,
        }));
        Enter { lp }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        if thread::panicking() && !self.lp.shutting_down.get() {
            // Something unwound out of the loop itself: still drop every task's future before
            // the borrowed data of `block_on`'s caller can go away.
            self.lp.shutdown();
        }
        current::install(None);
        if let Some(worker) = &self.lp.worker {
            worker.exit();
        }
        let _ = CURRENT.try_with(|c| c.set(ptr::null()));
    }
}

/// The task core's slow-poll hook: reports to the running loop's debug output.
fn report_slow_poll(header: &Header, took: Duration, threshold: Duration) {
    EventLoop::with_current(|lp| {
        crate::diagnostics::debug::report_slow_poll(&lp.debug, header, took, threshold)
    });
}

/// The task core's `call_soon` hook: the running loop's `call_soon`.
fn call_soon(callback: Callback) -> Result<(), Callback> {
    let mut callback = Some(callback);
    EventLoop::with_current(|lp| lp.shared.call_soon(callback.take().expect("taken once")))
        .unwrap_or_else(|| Err(callback.take().expect("no loop: not taken")))
}
