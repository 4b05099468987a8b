//! The runtime's entry points: [`run`], [`Runtime`] and its [`Builder`] for a configured loop, the
//! `Handle` other threads reach a loop through (`handle`), the blocking pool's `to_thread`, and
//! seeded schedules (`schedule`, public as `tether::schedule`).

pub(crate) mod handle;
pub mod schedule;
pub(crate) mod to_thread;
#[cfg(feature = "tokio-bridge")]
pub(crate) mod tokio_bridge;

use std::future::Future;

use crate::scheduler::event_loop::{self, Config};

/// The message of the panic raised by a runtime with both several workers and the virtual clock.
const PAUSED_NEEDS_ONE_WORKER: &str = "start_paused (the virtual clock) needs the single-threaded loop: the clock may only jump when \
     every task is idle, which one loop can tell and several cannot; use workers(1) (the default) \
     or a real clock";

/// The message of the panic raised by a seeded schedule on several workers.
const SCHEDULE_NEEDS_ONE_WORKER: &str = "a seeded schedule (shuffle, explore, Strategy::Random or Strategy::Pct) needs the \
     single-threaded loop: with several workers, tasks run in parallel and their order is the \
     operating system's, so no seed could replay it; use workers(1) (the default) for this runtime";

/// Runs `future` to completion on a new event loop on this thread and returns its output:
/// asyncio's `asyncio.run(main())`.
///
/// When `future` finishes, every task still alive is cancelled and its future dropped before
/// `run` returns (destructors run), including tasks whose [`Task`](crate::Task) handle was
/// leaked with `mem::forget`. If `future` panics, the loop is shut down the same way and the
/// panic is resumed from `run`.
///
/// `future` need not be `'static`: it may borrow from the caller.
///
/// # Panics
///
/// Inside a running event loop (asyncio raises `RuntimeError` there): await the future instead.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let answer = tether::run(async {
///     tether::sleep(Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new().run(future)
}

/// A configured event loop runner: asyncio's `asyncio.Runner`.
///
/// Each call to [`Runtime::run`] starts a fresh loop on the calling thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::time::Instant;
///
/// let runtime = tether::Runtime::builder().start_paused(true).build();
/// let waited = runtime.run(async {
///     let start = Instant::now();
///     tether::sleep(Duration::from_secs(60)).await;
///     start.elapsed()
/// });
/// assert_eq!(waited, Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Runtime {
    config: Config,
    /// Enter the tokio bridge's context on every loop thread ([`Builder::tokio`]).
    #[cfg(feature = "tokio-bridge")]
    tokio: bool,
}

impl Runtime {
    /// A runtime with the default settings: real time.
    pub fn new() -> Runtime {
        Runtime::default()
    }

    /// Starts configuring a runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion on a new loop; see [`run`].
    ///
    /// # Panics
    ///
    /// Inside a running event loop.
    #[track_caller]
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !(self.config.start_paused && self.config.workers > 1),
            "{PAUSED_NEEDS_ONE_WORKER}"
        );
        let mut config = self.config.clone();
        config.debug = config.debug.with_env();
        // Every run has its own tokio bridge, started only if something uses it, and stopped
        // when the run ends, however it ends.
        #[cfg(feature = "tokio-bridge")]
        let _bridge = {
            let bridge = tokio_bridge::TokioBridge::new(self.tokio);
            config.extension = Some(bridge.clone());
            tokio_bridge::ShutdownOnDrop(bridge)
        };
        // The flavor: one loop on this thread, or several with work stealing.
        #[cfg(feature = "workers")]
        if config.workers > 1 {
            return crate::scheduler::workers::block_on(config, future);
        }
        event_loop::block_on(config, future)
    }
}

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// let runtime = tether::Runtime::builder().start_paused(true).build();
/// assert_eq!(runtime.run(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    config: Config,
    #[cfg(feature = "tokio-bridge")]
    tokio: bool,
}

impl Builder {
    /// The most workers a runtime accepts: [`workers`](Builder::workers) panics above it.
    ///
    /// Each worker is a thread; the workers share one I/O poller (three file descriptors: an
    /// epoll instance, a duplicate that other threads register through, and an eventfd waker).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tether::Builder::MAX_WORKERS, 16_384);
    /// ```
    pub const MAX_WORKERS: usize = 16_384;

    /// The default settings.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Runs the loop on a virtual clock that stands still while tasks run and jumps to the next
    /// timer whenever none is ready: long sleeps take no real time and times are exact. For
    /// tests; `#[tether::test(start_paused)]` sets it.
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.config.start_paused = paused;
        self
    }

    /// Debug mode (asyncio's `debug=True`): report polls that block the loop longer than the
    /// [slow-poll threshold](Builder::slow_poll_threshold), with the task's name and where it
    /// was created, and list the tasks still running when the loop shuts down. Also turned on
    /// by the environment variable `TETHER_DEBUG=1`, or `#[tether::main(debug)]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// #[derive(Clone, Default)]
    /// struct Captured(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Captured {
    ///     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
    ///         self.0.lock().unwrap().write(buf)
    ///     }
    ///     fn flush(&mut self) -> std::io::Result<()> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let captured = Captured::default();
    /// let runtime = tether::Runtime::builder()
    ///     .debug(true)
    ///     .slow_poll_threshold(Duration::from_millis(20))
    ///     .debug_output(captured.clone())
    ///     .build();
    /// runtime.run(async {
    ///     let blocking = tether::task::Builder::new().name("blocking").create_task(async {
    ///         std::thread::sleep(Duration::from_millis(50)); // blocks the loop
    ///     });
    ///     blocking.await.unwrap();
    /// });
    /// let report = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    /// assert!(report.contains("blocking (task #"), "{report}");
    /// ```
    pub fn debug(mut self, enabled: bool) -> Builder {
        self.config.debug.enabled = enabled;
        self
    }

    /// How long one poll may keep the loop busy before debug mode reports it (default 100 ms,
    /// asyncio's `slow_callback_duration`).
    pub fn slow_poll_threshold(mut self, threshold: std::time::Duration) -> Builder {
        self.config.debug.slow_poll = Some(threshold);
        self
    }

    /// Where debug mode writes its reports, instead of stderr.
    pub fn debug_output(mut self, output: impl std::io::Write + Send + 'static) -> Builder {
        self.config.debug.output = Some(std::sync::Arc::new(std::sync::Mutex::new(output)));
        self
    }

    /// The most threads [`to_thread`](crate::to_thread) runs blocking closures on at once
    /// (default 64); more work waits its turn.
    pub fn blocking_threads(mut self, threads: usize) -> Builder {
        self.config.blocking_threads = Some(threads);
        self
    }

    /// How many worker threads run tasks (default 1: the single-threaded loop, on the thread
    /// that calls [`Runtime::run`]).
    ///
    /// With `workers >= 2`, `run` starts `workers - 1` more threads, each with an event loop of
    /// its own, and the calling thread becomes the first worker (the main future runs there).
    /// Tasks started with [`spawn`](crate::spawn) must be `Send`; they go to the queue of the
    /// worker that made or woke them, and a worker with nothing to do steals from the others.
    /// Everything else keeps the single-threaded rules: tasks made with
    /// [`create_task`](crate::create_task), task groups and sets stay on the worker that made
    /// them (so they may be `!Send`, and group children may borrow).
    ///
    /// `run` returns once every task on every worker is gone and every worker thread has
    /// exited. The virtual clock ([`start_paused`](Builder::start_paused)) needs a single
    /// worker: `run` panics if both are set.
    ///
    /// `#[tether::main(workers = N)]` sets it.
    ///
    /// # Panics
    ///
    /// If `workers` is 0 (a runtime needs at least one worker) or more than
    /// [`Builder::MAX_WORKERS`] (16,384): each worker is an OS thread. tokio
    /// sets no upper bound on `worker_threads` (only 0 is refused); tether's idle workers cost
    /// a constant whatever their number (each looks at a few random queues, and only the first
    /// few wake up on their own), so the bound is only there to turn a typo into a clear panic
    /// rather than thousands of threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tether::Runtime::builder().workers(2).build();
    /// let threads = runtime.run(async {
    ///     let tasks: Vec<_> = (0..4)
    ///         .map(|_| {
    ///             tether::spawn(async {
    ///                 // Long enough that both workers get a share.
    ///                 std::thread::sleep(std::time::Duration::from_millis(20));
    ///                 std::thread::current().id()
    ///             })
    ///         })
    ///         .collect();
    ///     let mut threads = Vec::new();
    ///     for task in tasks {
    ///         threads.push(task.await.unwrap());
    ///     }
    ///     threads
    /// });
    /// assert_eq!(threads.len(), 4);
    /// ```
    #[cfg(feature = "workers")]
    #[track_caller]
    pub fn workers(mut self, workers: usize) -> Builder {
        assert!(
            workers > 0,
            "a runtime needs at least one worker: use workers(1) (the default) for the \
             single-threaded loop, or 2 or more for several loops with work stealing"
        );
        assert!(
            workers <= Builder::MAX_WORKERS,
            "Builder::workers({workers}): a runtime takes at most Builder::MAX_WORKERS \
             ({}) workers, each an OS thread; use about as many workers as CPU cores, and \
             to_thread for blocking work",
            Builder::MAX_WORKERS
        );
        self.config.workers = workers;
        self
    }

    /// Whether each worker keeps a LIFO slot (default `true`; only used with
    /// [`workers`](Builder::workers)`(n)` for `n >= 2`): the `Send` task a worker's running task
    /// has just woken or spawned runs next on that worker, ahead of the tasks already queued
    /// there, as on tokio's multi-threaded runtime. `false`: every worker runs its tasks first
    /// in, first out, as the single loop always does (asyncio's order).
    ///
    /// Why it is on: the task that wakes another usually leaves what the woken one reads (a
    /// message, a lock, its own new future) hot in this core's cache; a request handed from
    /// task to task is served without waiting behind the whole queue each time. Why you might
    /// turn it off: a woken task overtakes the ones queued before it, so tasks do not start in
    /// the order they were made or woken.
    ///
    /// Two bounds keep the slot from starving anyone. A worker runs at most 3 tasks in a row
    /// from its slot (tokio's bound), then one from its queue: two tasks that keep waking each
    /// other do not hold the queue back. And another worker may take the task in the slot when
    /// it finds no other work: a task woken just before its worker got stuck in a long poll
    /// (a long computation, a blocking call) is not held hostage (tokio's slot cannot be taken).
    /// A task that wakes itself (a [`yield_now`](crate::yield_now)) never goes into the slot: it
    /// lets the queued tasks run first.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::channel::oneshot;
    ///
    /// let runtime = tether::Runtime::builder().workers(2).lifo_slot(false).build();
    /// let rounds = runtime.run(async {
    ///     // A message passed from task to task: each one woken runs after those queued.
    ///     let (first_tx, mut rx) = oneshot::channel::<u32>();
    ///     let mut relays = Vec::new();
    ///     for _ in 0..10 {
    ///         let (tx, next_rx) = oneshot::channel();
    ///         relays.push(tether::spawn(async move { tx.send(rx.await.unwrap() + 1).unwrap() }));
    ///         rx = next_rx;
    ///     }
    ///     first_tx.send(0).unwrap();
    ///     rx.await.unwrap()
    /// });
    /// assert_eq!(rounds, 10);
    /// ```
    #[cfg(feature = "workers")]
    pub fn lifo_slot(mut self, enabled: bool) -> Builder {
        self.config.no_lifo_slot = !enabled;
        self
    }

    /// Records what each waiting task awaits (a task, a group, a lock and who holds it, an
    /// event, a semaphore, a queue, a promise, a timer), for [`dump_tasks`](crate::dump_tasks)
    /// and [`TaskInfo::awaiting`](crate::task::TaskInfo::awaiting). Off by default (then a wait
    /// costs one atomic load more); debug mode and `#[tether::test]` turn it on.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Event;
    ///
    /// let runtime = tether::Runtime::builder().track_waits(true).build();
    /// runtime.run(async {
    ///     static STARTED: Event = Event::named("started");
    ///     let waiter = tether::task::Builder::new()
    ///         .name("waiter")
    ///         .create_task(STARTED.wait());
    ///     tether::yield_now().await;
    ///     let tree = tether::dump_tasks();
    ///     assert!(tree.contains("waiter (Task-"), "{tree}");
    ///     assert!(tree.contains("awaiting Event \"started\""), "{tree}");
    ///     STARTED.set();
    ///     waiter.await.unwrap();
    /// });
    /// ```
    pub fn track_waits(mut self, enabled: bool) -> Builder {
        self.config.track_waits = enabled;
        self
    }

    /// Fails instead of hanging when the loop is deadlocked: if every task waits on something
    /// only another of its tasks could end (a task, a group, a lock, an event, a condition, a
    /// barrier, a semaphore, a queue), no timer is armed, no socket is registered, no blocking
    /// job runs and no other thread holds a way to wake the loop, [`Runtime::run`] panics with the wait-for report: which task waits on what,
    /// who holds each lock, and the cycle if there is one. `#[tether::test]` turns it on;
    /// debug mode prints the same report instead. Turns on [`track_waits`](Builder::track_waits).
    ///
    /// What the loop cannot see, it does not judge: a task parked on a future that hands its
    /// waker to another thread (a foreign reactor, a `Resolver` sent away) keeps the loop
    /// waiting, and debug mode reports the stall after 10 s instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Lock;
    ///
    /// static A: Lock = Lock::named("a");
    /// static B: Lock = Lock::named("b");
    ///
    /// let runtime = tether::Runtime::builder().detect_deadlocks(true).build();
    /// let outcome = std::panic::catch_unwind(|| {
    ///     runtime.run(async {
    ///         let _a = A.lock().await;
    ///         let other = tether::create_task(async {
    ///             let _b = B.lock().await;
    ///             tether::yield_now().await;
    ///             let _a = A.lock().await;
    ///         });
    ///         tether::yield_now().await;
    ///         let _b = B.lock().await; // each holds what the other wants
    ///         other.await.unwrap();
    ///     })
    /// });
    /// let report = *outcome.unwrap_err().downcast::<String>().unwrap();
    /// assert!(report.contains("deadlock"), "{report}");
    /// assert!(report.contains("cycle: "), "{report}");
    /// ```
    pub fn detect_deadlocks(mut self, enabled: bool) -> Builder {
        self.config.detect_deadlocks = enabled;
        self
    }

    /// Runs ready tasks in an order picked by a generator seeded with `seed`, instead of first
    /// in, first out: the same as [`schedule`](Builder::schedule)`(Strategy::Random { seed })`.
    /// See [`schedule`](crate::schedule) for what the order covers and how to replay it.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tether::Runtime::builder().shuffle(7).start_paused(true).build();
    /// assert_eq!(runtime.run(async { tether::schedule::current_seed() }), Some(7));
    /// ```
    pub fn shuffle(self, seed: u64) -> Builder {
        self.schedule(crate::scheduler::order::Strategy::Random { seed })
    }

    /// The order the loop runs ready tasks and same-deadline timers in (default
    /// [`Strategy::Fifo`](crate::schedule::Strategy::Fifo)); see [`schedule`](crate::schedule).
    ///
    /// # Panics
    ///
    /// [`build`](Builder::build) panics if a strategy other than FIFO is combined with
    /// [`workers`](Builder::workers)`(n)` for `n >= 2`: only one loop's order can be steered.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::schedule::Strategy;
    ///
    /// let runtime = tether::Runtime::builder().schedule(Strategy::pct(3)).build();
    /// assert_eq!(runtime.run(async { 2 + 2 }), 4);
    /// ```
    pub fn schedule(mut self, strategy: crate::scheduler::order::Strategy) -> Builder {
        self.config.schedule = strategy;
        self
    }

    /// Runs every loop of the runtime inside the context of a tokio runtime (feature
    /// `tokio-bridge`), so that crates that need tokio's runtime (reqwest, sqlx's
    /// `runtime-tokio`, anything calling `tokio::spawn`, `tokio::net` or `tokio::time`) work
    /// anywhere in the program with no call site wrapped: `#[tether::main(tokio)]`. Off by
    /// default; to enter the context around one future only, use
    /// [`tether::compat::tokio`](crate::compat::tokio).
    ///
    /// The tokio runtime is a current-thread runtime on one helper thread of its own, started
    /// when the run starts and shut down when it ends. Entering its context is done once per
    /// loop thread, not per poll, so a tether task pays nothing for it; a tokio resource
    /// (socket, timer) is driven by the helper thread, which wakes the tether task through its
    /// waker: a second reactor and a cross-thread wake per event, as async-compat has.
    ///
    /// **An escape from tether's ownership rule:** `tokio::spawn` inside this context starts a
    /// task on the helper runtime that no tether handle owns. tether cannot cancel it, join it,
    /// or list it in [`dump_tasks`](crate::dump_tasks); it is dropped when the run ends (after
    /// a grace of one second for tasks blocked in synchronous code). Prefer tether's own
    /// [`create_task`](crate::create_task) and groups for your tasks; the bridge is for crates
    /// that spawn internally.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = tether::Runtime::builder().tokio(true).build();
    /// runtime.run(async {
    ///     // A tokio timer, driven by the bridge's thread, awaited by a tether task.
    ///     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     // What a crate that spawns internally does: the task runs on the bridge.
    ///     let handle = tokio::spawn(async { 6 * 7 });
    ///     assert_eq!(handle.await.unwrap(), 42);
    /// });
    /// ```
    #[cfg(feature = "tokio-bridge")]
    pub fn tokio(mut self, enabled: bool) -> Builder {
        self.tokio = enabled;
        self
    }

    /// The configured runtime.
    ///
    /// # Panics
    ///
    /// If a seeded [`schedule`](Builder::schedule) is combined with several
    /// [`workers`](Builder::workers).
    #[track_caller]
    pub fn build(self) -> Runtime {
        assert!(
            self.config.workers <= 1
                || self.config.schedule == crate::scheduler::order::Strategy::Fifo,
            "{SCHEDULE_NEEDS_ONE_WORKER}"
        );
        Runtime {
            config: self.config,
            #[cfg(feature = "tokio-bridge")]
            tokio: self.tokio,
        }
    }
}
