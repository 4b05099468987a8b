//! # tether
//!
//! asyncio's coroutines and tasks for Rust, with one rule asyncio can only warn about enforced
//! by the compiler: **every running task has an owner.** A task is owned by the [`Task`] handle
//! [`create_task`] returns (drop it and the task is cancelled), by a task group (which joins its
//! children before its scope ends), or by a task set. No public API starts a task that nobody owns.
//!
//! ## asyncio → tether
//!
//! | asyncio | tether |
//! | --- | --- |
//! | `asyncio.run(main())` | [`tether::run(fut)`](run) |
//! | `async def main()` + `asyncio.run` | `#[tether::main] async fn main()` |
//! | test functions | `#[tether::test] async fn t()`, `#[tether::test(start_paused)]` on a virtual clock |
//! | `asyncio.run(main(), debug=True)` | `#[tether::main(debug)]`, [`Builder::debug`], `TETHER_DEBUG=1` |
//! | `await asyncio.sleep(s)` | [`tether::sleep(Duration)`](sleep)`.await` |
//! | `await asyncio.sleep(0)` | [`tether::yield_now()`](yield_now)`.await` or `sleep(Duration::ZERO)` |
//! | `loop.time()` | [`tether::time::Instant::now()`](time::Instant::now) |
//! | `asyncio.create_task(coro)` | [`tether::create_task(fut)`](create_task) `-> Task<T>` |
//! | `create_task(coro, name=, context=)`, eager start | [`task::Builder`]: `.name(..).context(..).eager(true).create_task(fut)` |
//! | "keep a reference to the task" | [`Task<T>`](Task) *is* the reference: dropping it cancels the task |
//! | `await task` | `task.await -> Result<T, TaskError>` |
//! | `task.cancel(msg)`, `cancelled()`, `done()` | [`Task::cancel_with`], [`Task::is_cancelled`], [`Task::is_finished`] |
//! | `task.result()`, `get_name()`, `add_done_callback` | [`Task::try_result`], [`Task::name`], [`Task::add_done_callback`] |
//! | `CancelledError`, a task's exception | [`TaskError::Cancelled`], [`TaskError::Panicked`] |
//! | `async with asyncio.TaskGroup() as tg` | [`task_group!`]`(\|tg\| ...)`, [`TaskGroup::scope`] |
//! | `tg.create_task(coro)` | [`TaskGroup::create_task`] `-> TaskHandle<T>` (children may borrow) |
//! | `ExceptionGroup` | [`GroupError`], a list of [`TaskFailure`]s |
//! | trio's `nursery.start`, anyio's `tg.start` | [`TaskGroup::start`]`(\|ready\| ...)`: returns the value the child passes to [`Ready::started`], or a [`StartError`] |
//! | asyncio 3.15's `tg.cancel()`, moro's `terminate` | [`TaskGroup::cancel`]: ends the group without failure ([`GroupError::is_cancelled`], [`GroupError::cancelled_as_none`]) |
//! | Kotlin's `supervisorScope` | `task_group!(supervise \|tg\| ...)`, [`TaskGroup::supervise`]: a child's failure cancels nothing; all are reported at the end |
//! | `background_tasks` set | [`TaskSet::new`], [`TaskSet::background`] |
//! | `asyncio.gather(a, b)`, `gather(*aws)` | [`gather!`]`(a, b)`, [`gather()`](fn@gather), [`try_gather`] |
//! | `asyncio.timeout(d)`, `wait_for`, `Timeout.reschedule` | [`timeout`], [`timeout_at`], [`time::timeout_scope`] |
//! | trio's `move_on_after`, `move_on_at` | [`move_on_after`], [`move_on_at`] `-> Option<T>` |
//! | trio's `current_effective_deadline()` | [`time::current_deadline`]: the earliest of every enclosing limit |
//! | `CancelledError` caught to clean up; trio's soft cancel; tokio-util's `CancellationToken` + `TaskTracker` | two-phase cancellation ([`graceful`]): [`Task::cancel_gracefully`]`(grace)`, [`TaskSet::shutdown_gracefully`]`(grace)`, [`TaskGroup::shutdown_gracefully`]`(grace)`; inside, [`cancellation_requested`]`().await`, [`is_cancellation_requested`]`()` |
//! | a `Semaphore` acquired by hand in every task (asyncio, tokio's `JoinSet`); trio's and anyio's `CapacityLimiter` | concurrency limits: [`task_group!`]`(limit = n, \|tg\| ...)` ([`group::GroupBuilder::limit`]), [`TaskSet::with_limit`]`(n)`; waiting children stay unpolled, in order; [`TaskGroup::create_task_when_free`] and [`TaskSet::spawn_when_free`] wait for a slot |
//! | Java's `anySuccessfulResultOrThrow`, happy eyeballs; tokio's `select_ok` | [`first_ok`]`(futures)`: the first `Ok` wins, [`AllFailed`] keeps every error |
//! | `asyncio.shield(aw)` | [`shield`]`(&mut task)` |
//! | `asyncio.wait(..., return_when=)`, `as_completed` | [`wait`]`(tasks, ReturnWhen::..)`, [`as_completed`] |
//! | `asyncio.Future` | [`Promise`], settled through a [`Resolver`] from any thread |
//! | `asyncio.to_thread(f)` | [`to_thread`]`(f)` |
//! | `call_soon_threadsafe`, `run_coroutine_threadsafe` | [`Handle::call_soon_threadsafe`], [`Handle::spawn_threadsafe`] |
//! | `contextvars.ContextVar`, `copy_context` | [`context::ContextVar`], [`context::copy_context`] |
//! | `current_task()`, `all_tasks()`, `pstree` | [`current_task`], [`all_tasks`], [`dump_tasks`] |
//! | `asyncio.Event`, `Lock`, `Semaphore`, `Condition`, `Barrier` | [`sync::Event`], [`sync::Lock`], [`sync::Semaphore`], [`sync::Condition`], [`sync::Barrier`] |
//! | `asyncio.Queue`, `PriorityQueue`, `LifoQueue` | [`queue::Queue`], [`queue::PriorityQueue`], [`queue::LifoQueue`] |
//! | `get_running_loop()` | [`Handle::current()`](Handle::current), [`Handle::try_current()`](Handle::try_current) |
//! | `asyncio.Runner` | [`Runtime`], configured by [`Builder`] |
//! | `asyncio.open_connection`, `start_server` | [`net::TcpStream::connect`], [`net::TcpListener::bind`] + `accept` |
//! | `create_datagram_endpoint`, `open_unix_connection` | [`net::UdpSocket`], [`net::UnixStream`], [`net::UnixListener`] |
//! | `loop.getaddrinfo` | [`net::lookup_host`] |
//! | files: `to_thread(path.read_bytes)`, aiofiles | [`fs::read`], [`fs::write`], [`fs::read_dir`] (a `Stream`), [`fs::File`] (buffered, `futures::io` traits) and the rest of [`fs`]; errors name the path |
//! | `loop.add_signal_handler(SIGINT, ...)` | [`signal::ctrl_c`], [`signal::unix::signal`] |
//! | `asyncio.create_subprocess_exec`, `create_subprocess_shell` | [`process::Command::spawn`] `-> Child`: the [`process::Child`] owns its process (dropping it kills and reaps it) |
//! | `proc.communicate(input)`, `wait()`, `returncode` | [`process::Child::output`], [`process::Child::wait`], [`process::Child::try_wait`] |
//! | `proc.kill()`, `terminate()`, `send_signal()`, `pid`; trio's `deliver_cancel` | [`process::Child::kill`], [`terminate`](process::Child::terminate), [`send_signal`](process::Child::send_signal), [`id`](process::Child::id); [`process::Child::terminate_gracefully`] |
//! | trio's `run_process(cmd, check=True)` | [`process::run`] `-> Result<Output, RunError>`, checked by default |
//! | `asyncio.wait(..., FIRST_COMPLETED)` on two awaitables | [`select!`], [`select_biased!`] |
//! | (no asyncio twin) several loops with work stealing | [`Builder::workers`], `#[tether::main(workers = N)]`, [`spawn`] for `Send` tasks |
//! | (no asyncio twin; tokio's `rng_seed` only steers `select!`) order-dependent bugs | [`schedule`]: `#[tether::test(shuffle)]`, `#[tether::test(explore = N)]`, [`Builder::shuffle`], [`Builder::schedule`], replayed with `TETHER_SEED` |
//! | (no asyncio twin) a group on several workers | [`TaskGroup::spawn`] (`'static + Send` children on any worker), `task_group!(send \|tg\| ...)` (a `Send` group) |
//!
//! ## Example
//!
//! ```
//! use std::time::Duration;
//!
//! async fn say_after(delay: Duration, what: &str) {
//!     tether::sleep(delay).await;
//!     println!("{what}");
//! }
//!
//! tether::run(async {
//!     let hello = tether::create_task(say_after(Duration::from_millis(10), "hello"));
//!     let world = tether::create_task(say_after(Duration::from_millis(20), "world"));
//!     hello.await.unwrap();
//!     world.await.unwrap();
//! });
//! ```
//!
//! ## Semantics worth knowing
//!
//! - **Coroutines are lazy.** A future does nothing until awaited. Inside `#[tether::main]` an
//!   un-awaited call is a compile error, not asyncio's "coroutine was never awaited" warning.
//! - **A dropped task handle is a compile error where it can be seen.** Inside
//!   `#[tether::main]`, `#[tether::test]` and [`#[tether::owned]`](macro@owned) (for any `fn`,
//!   `impl` block or inline module), `create_task(..);` and `let _ = create_task(..);` do not
//!   compile: both would drop the [`Task`] at once and cancel it. Elsewhere, deny
//!   `unused_must_use` for the crate.
//! - **Order.** On one loop, ready tasks run first in, first out, as asyncio's `call_soon` does:
//!   tasks start in the order they were created, and a woken task runs after those already
//!   ready. Workers differ by default (see [Scheduling order](#scheduling-order)).
//! - **Cancellation** is a drop: a cancelled task's future is dropped at its next await point, its
//!   destructors run, and only then does awaiting it report [`TaskError::Cancelled`].
//! - **Shutdown.** When [`run`] returns, every task still alive has been cancelled and dropped.
//! - **Panics** in a task are caught and returned as [`TaskError::Panicked`]; the loop goes on.
//! - **A cancelled group** ([`TaskGroup::cancel`], asyncio 3.15's `tg.cancel()`) reports no
//!   failure, but a body it cut short has no value to give: `task_group!` keeps its
//!   `Result<R, GroupError>` type, and that case is an error listing no failure
//!   ([`GroupError::is_cancelled`]); [`GroupError::cancelled_as_none`] reads it as asyncio's
//!   `async with` exiting without a result. Groups that never cancel keep a plain `R`.
//!
//! ## One loop or several
//!
//! [`run`] and `#[tether::main]` run one event loop on the calling thread, so tasks need not be
//! `Send`, as in asyncio. [`Builder::workers`] (`#[tether::main(workers = N)]`) runs one loop per
//! worker thread instead:
//!
//! - [`create_task`], task groups and sets make tasks that stay on the worker that made them:
//!   they may be `!Send`, and group children may borrow, exactly as on one loop.
//! - [`spawn`] makes a `Send` task that any worker may run: it goes to the queue of the worker
//!   that made or woke it, and a worker with nothing to do steals half of another's queue. A
//!   `!Send` future given to `spawn` does not compile.
//! - Timers, cancellation, context variables, introspection and shutdown keep their meaning:
//!   `run` returns once every task on every worker has been dropped and every worker has exited.
//!   The virtual clock (`start_paused`) needs a single loop.
//!
//! ```
//! # #[cfg(feature = "workers")] {
//! use std::time::Duration;
//!
//! let runtime = tether::Runtime::builder().workers(2).build();
//! let sums = runtime.run(async {
//!     // CPU-bound work in Send tasks, spread over both workers.
//!     let tasks: Vec<_> = (0..4u64)
//!         .map(|part| tether::spawn(async move { (part * 1000..(part + 1) * 1000).sum::<u64>() }))
//!         .collect();
//!     // Blocking calls go to the blocking pool, so no worker stalls.
//!     let slept = tether::to_thread(|| std::thread::sleep(Duration::from_millis(5)));
//!     slept.await.unwrap();
//!     let mut sums = Vec::new();
//!     for task in tasks {
//!         sums.push(task.await.unwrap());
//!     }
//!     sums
//! });
//! assert_eq!(sums.iter().sum::<u64>(), (0..4000).sum::<u64>());
//! # }
//! ```
//!
//! ### Scheduling order
//!
//! The single loop runs ready tasks first in, first out (asyncio's order), always. Each worker
//! keeps a **LIFO slot** by default, as tokio's workers do: the `Send` task that a worker's
//! running task has just woken or spawned runs next on that worker, ahead of the tasks already
//! queued there (which keep their order). The woken task usually reads what the waker just
//! wrote (a message, a released lock), still hot in this core's cache, and a request passed
//! from task to task is not queued behind everything else at each step. There is no global
//! order to keep on workers anyway: tasks move between threads.
//!
//! The slot never starves anyone: a worker runs at most 3 tasks in a row from it before one
//! from its queue (two tasks that wake each other cannot hold the queue back), a task that wakes
//! itself ([`yield_now`]) goes to the back of the queue, and an idle worker may take the task in
//! another's slot, so a task woken just before its worker got stuck in a long poll runs
//! elsewhere. [`Builder::lifo_slot`]`(false)` turns the slot off: every worker then runs its
//! tasks first in, first out.
//!
//! ## Naming: `create_task` and `spawn`
//!
//! One rule, everywhere: **`create_task`** makes a task that stays on the loop that made it
//! (its future may be `!Send`; group children made this way may borrow), and **`spawn`** makes
//! a `Send` task that any worker may run. So [`create_task`] and [`spawn`],
//! [`task::Builder::create_task`] and [`task::Builder::spawn`], [`TaskGroup::create_task`] and
//! [`TaskGroup::spawn`] (a `'static + Send` child on any worker), [`TaskSet::create_task`] and
//! [`TaskSet::spawn`]. On the single-threaded loop
//! the two make the same kind of task; `spawn` only adds the `Send` bound.
//!
//! ## I/O
//!
//! [`net`] has TCP, UDP and Unix sockets on the loop's own I/O driver: an idle loop blocks in
//! the poller (epoll through [mio](https://docs.rs/mio)) with the next timer's deadline as its
//! timeout, instead of parking its thread.
//!
//! - **Why mio.** One `epoll_wait` per driver turn and one `eventfd` write to wake a parked
//!   loop. The `polling` crate (async-io's) makes four syscalls per wait with a timeout on Linux
//!   (it arms a `timerfd` and re-arms its notifier each time), and a loop waits with a timeout
//!   whenever a timer is armed.
//! - **Edge-triggered readiness per socket** (tokio's design): a socket that stays ready costs
//!   no re-arm syscall, a read that fills less than its buffer has drained the socket and
//!   clears its readiness without a second read, and a `WouldBlock` clears only the readiness
//!   it saw (a tick keeps a newer event from being lost).
//! - **Wakes from other threads** go through the poller's waker only while the loop sits in
//!   the poller: a loop that is running pays one atomic swap, no syscall.
//! - **Workers.** The workers of a multi-threaded runtime share one poller, as tokio's do: a
//!   worker with nothing to do blocks in it if no other worker does, else on its thread. So a
//!   socket's readiness reaches whichever worker is idle, and the tasks it wakes run there,
//!   wherever the socket was accepted. (A poller per worker, tried first, left every event of
//!   a socket waiting for the worker that accepted it: on the echo benchmark with 2 workers,
//!   that worker made about 85% of the sends while the other idled.) A busy loop polls the
//!   driver every 61 tasks, unless another worker is polling it, so sockets are not starved by
//!   tasks that keep waking each other.
//! - **The virtual clock** (`start_paused`) jumps to the next timer only when the loop has
//!   nothing to run and the driver, polled without blocking, has no ready socket (tokio's
//!   auto-advance rule). So a read with a timeout on the virtual clock times out at once unless
//!   its data has already arrived; tests of real sockets on the virtual clock should not rely
//!   on a deadline timer while they wait for the network.
//! - **Files** ([`fs`]) have no readiness (epoll refuses regular files): their calls run on
//!   the blocking pool, and a [`fs::File`] buffers so that small reads and writes do not each
//!   cost a trip there. Its docs say what a cancelled write leaves in the file and what a drop
//!   does with buffered data.
//! - **Other I/O crates.** Runtime-agnostic crates (async-io, async-net, async-fs) work inside
//!   tether: their reactor runs on its own thread and wakes tether's wakers across threads.
//!   For subprocesses, [`process`] is on the loop's own driver (a pidfd per child) instead of
//!   async-process's reaper thread. The tokio ecosystem works through two features: with `tokio`,
//!   tether's streams implement tokio's `AsyncRead`/`AsyncWrite` natively, so crates that take
//!   a stream (tokio-postgres' `connect_raw`, tokio-tungstenite, tokio-rustls, tokio-util's
//!   codecs, redis-rs' `MultiplexedConnection::new`) take a tether stream as it is; with
//!   `tokio-bridge`, crates that need tokio's runtime (reqwest, sqlx) run inside a tokio
//!   context through `compat::tokio` or `#[tether::main(tokio)]` (see `Builder::tokio` for the
//!   cost, and for `tokio::spawn`, which there starts a task that no tether handle owns).
//!
//! ## Seeing inside a running program from outside
//!
//! The `tether` command-line tool (the workspace's `cli` package: `tether ps PID`,
//! `tether pstree PID`, `tether top PID`, `tether web PID`) lists the tasks of any running
//! tether program: no flag, no environment variable, no code in the program. It reads the
//! program's memory, as Python 3.14's `python -m asyncio ps` does: every tether program built
//! with the `inspect` feature (on by default) carries a small table in an ELF section of its
//! own (`.tether_inspect`) that says where each field
//! sits and lists the live event loops, the task each is polling and their task tables. So:
//!
//! - nothing runs in the program while nobody looks (no thread, no socket, no signal handler),
//!   and the program is never stopped to be read;
//! - it works while a loop is stuck in a long synchronous call: the stuck task is shown
//!   running, with how long and where it was created;
//! - the kernel allows the reads to the same user or root only (`process_vm_readv`'s ptrace
//!   check), and the tool refuses another user's process up front.
//!
//! What a program pays while nobody looks: a task's table slot holds its creation time (taken
//! from the last time its loop polled the I/O driver, not a clock read per task), a loop reads
//! the clock each time it polls its driver, and two switches cost one load each where they are
//! checked. The first attach turns both on: from then on waits are recorded as with
//! [`Builder::track_waits`] (a task parked before it shows no wait until it parks again) and
//! polls are timed. An in-process listener (Java's attach handshake, an endpoint checked with
//! `SO_PEERCRED`) was the alternative: it needs a thread or a handler to answer, and a stuck
//! loop cannot.
//!
//! ## Feature flags
//!
//! The core is always compiled: the event loop and the I/O driver it parks in, tasks
//! ([`create_task`], [`spawn`], [`Task`]), groups, sets, time, [`sync`], [`queue`], the
//! combinators, [`context`] variables, [`to_thread`], the macros, [`run`] and the diagnostics
//! ([`dump_tasks`], debug mode). The rest is behind features, as tokio's is. With
//! `default-features = false` a crate compiles the core alone; name the features it uses:
//! `tether = { version = "0.1", default-features = false, features = ["net"] }`.
//!
//! | feature | what it adds | default | tokio's |
//! | --- | --- | --- | --- |
//! | (none) | the core, above | always | `rt`, `macros`, `time`, `sync` |
//! | `net` | TCP, UDP and Unix sockets (`tether::net`) | on | `net` |
//! | `signal` | Unix signals (`tether::signal`): `ctrl_c`, `signal::unix::signal` | on | `signal` |
//! | `workers` | the multi-threaded flavor: `Builder::workers`, `#[tether::main(workers = N)]` | on | `rt-multi-thread` |
//! | `process` | child processes (`tether::process`); turns on `signal` (`SIGCHLD` where pidfds are missing) | on | `process` |
//! | `fs` | files (`tether::fs`), on the blocking pool | on | `fs` |
//! | `inspect` | the table the `tether` command-line tool reads in a running program (`tether ps PID`, `top`, `web`): a `.tether_inspect` section, each loop listed there, a creation stamp per task | on | (tokio-console's `console-subscriber`, a crate of its own, under `--cfg tokio_unstable`) |
//! | `hyper` | hyper 1's runtime traits on tether's streams, timers and tasks (`tether::hyper`); turns on `net` | off | (hyper-util's `tokio` feature) |
//! | `tokio` | tokio's `AsyncRead`/`AsyncWrite` on tether's streams, natively; turns on `net` | off | |
//! | `tokio-bridge` | `tokio`, plus `compat::tokio`, `Builder::tokio`, `#[tether::main(tokio)]`: a tokio runtime on a helper thread | off | |
//! | `tracing` | a span per task, events for cancellation, panics and slow polls | off | `tracing` (unstable) |
//!
//! The default set is tokio's `full`, less what tokio has and tether does not (`io-util`,
//! `io-std`, `parking_lot`). [`spawn`] is in the core, as `tokio::spawn` is in `rt`: on one loop
//! it is `create_task` with a `Send` bound, so a library that calls it works with or without
//! `workers`. `#[tether::main(workers = N)]` without the `workers` feature fails to compile with
//! an error that names the feature.
//!
//! ## Where tether departs from the usual design, on purpose
//!
//! - [`NoRunningLoop`] is a unit struct (with `thiserror`), not an enum: it has exactly one
//!   cause, and `Err(NoRunningLoop)` reads the same either way.
//! - [`TaskError::Cancelled`] carries the optional cancellation message as a field, so its
//!   pattern is `TaskError::Cancelled { .. }`.
//! - The multi-threaded flavor adds [`spawn`] for `Send` tasks instead of giving `create_task`
//!   a `Send` bound on workers: whether a future is `Send` is only known to the compiler, and
//!   asyncio's `create_task` (which tether keeps for `!Send` tasks on every flavor) must not
//!   change meaning with the runtime's configuration. The calling thread is worker 0 and runs
//!   the main future, which need not be `Send`.

#![warn(missing_docs, missing_debug_implementations)]
// The docs link to the areas behind features (`net`, `fs`, `Builder::workers`, ...) from the
// whole crate; with one of them off, those links have no target. They are checked where every
// feature is on (`.ci/run` builds the docs with `--all-features` and `-D warnings`).
#![cfg_attr(
    not(all(
        feature = "net",
        feature = "signal",
        feature = "workers",
        feature = "process",
        feature = "fs"
    )),
    allow(rustdoc::broken_intra_doc_links)
)]
#![doc(test(attr(deny(warnings))))]

// The layers, lowest first (CONTRIBUTING.md draws the tree): a folder imports only from the
// folders declared before it here. The public paths are re-exported below.

// Leaves.
pub mod context;
mod util;

// The task core, and what reads its records for people.
mod task_core;

mod diagnostics;

// What runs the tasks: the event loop, the workers, the I/O driver.
mod scheduler;

// The user-facing areas.
pub mod time;

pub mod task;

pub mod sync;

pub mod queue;

pub mod group;

mod set;

mod combinators;

mod runtime;

mod io;

pub use combinators::first_ok::{AllFailed, first_ok};
pub use combinators::gather::{gather, try_gather};
pub use combinators::wait::{
    AsCompleted, ReturnWhen, Shield, Wait, Waitable, Waited, as_completed, shield, wait,
};
pub use group::{
    CreateTaskError, GroupError, Ready, StartError, TaskFailure, TaskGroup, TaskHandle,
};
#[cfg(feature = "tokio-bridge")]
pub use io::compat;
#[cfg(feature = "fs")]
pub use io::fs;
#[cfg(feature = "hyper")]
pub use io::hyper;
#[cfg(feature = "net")]
pub use io::net;
#[cfg(all(unix, feature = "process"))]
pub use io::process;
#[cfg(all(unix, feature = "signal"))]
pub use io::signal;
pub use runtime::handle::{DumpError, Handle, LoopClosed, NoRunningLoop};
pub use runtime::schedule;
pub use runtime::to_thread::{BlockingError, to_thread};
pub use runtime::{Builder, Runtime, run};
pub use set::TaskSet;
pub use sync::promise::{Promise, PromiseError, Resolver, Settled};
// `graceful` lives in the task facade (two-phase cancellation of tasks) but is documented here,
// at the path it has always had; its items are listed at the root as re-exports of it.
#[doc(inline)]
pub use task::graceful;
#[doc(no_inline)]
pub use task::graceful::{
    CancellationRequested, cancellation_requested, is_cancellation_requested,
};
pub use task::introspect::{all_tasks, current_task, dump_tasks};
pub use task::{CancelHandle, Panic, Task, TaskError, TaskId, create_task, spawn, yield_now};
pub use time::{Elapsed, move_on_after, move_on_at, sleep, sleep_until, timeout, timeout_at};

pub use tether_macros::{main, owned, test};

/// Paths used by the macros' expansions, and read-outs for tether's own tests; not public API,
/// and not covered by semver.
///
/// The read-outs stay here, hidden, rather than behind a cargo feature: the behaviour tests
/// (`tests/`, `stress/`) are other packages of the workspace, and a feature they turned on
/// would be unified into every build of `tether` in the workspace (examples and benches too),
/// so it would gate nothing. What they expose is counts, no handle on the loop's internals.
/// What the `tether` command-line tool reads in a running program (see the `cli` package):
/// the published table's types and field indices. Not an API: it changes with every layout.
#[doc(hidden)]
pub mod __inspect {
    pub use crate::util::published::{
        Holder, LAYOUT, LoopRecord, MAGIC, Published, RemoteWait, SECTION, TableView, field,
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::combinators::join::MaybeDone;
    pub use tether_macros::{gather, select, select_biased, task_group};

    /// What `select!`'s expansion calls at run time.
    pub mod select_support {
        pub use crate::combinators::select::{is_terminated, shuffle};
    }

    /// The probe behind the macros' `let _ =` check.
    pub mod owning {
        pub use crate::task::owning::*;
    }

    /// `#[tether::main(workers = N)]` and `#[tether::test(workers = N)]` call this with the
    /// user's literal, spanned where it was written: without the `workers` feature, `usize`
    /// does not implement the bound, and the error there names the feature to turn on.
    pub fn workers<N: WorkersFeature>(builder: crate::Builder, count: N) -> crate::Builder {
        count.apply(builder)
    }

    /// A worker count, with the multi-threaded flavor compiled in.
    #[diagnostic::on_unimplemented(
        message = "`workers = N` needs tether's `workers` feature, which is off",
        label = "the multi-threaded flavor is not compiled in",
        note = "turn the feature on where tether is a dependency: `tether = {{ version = \"0.1\", features = [\"workers\"] }}` (a default feature, off under `default-features = false`); or remove `workers = N` to run on one loop"
    )]
    pub trait WorkersFeature {
        /// [`crate::Builder::workers`]`(self)`.
        fn apply(self, builder: crate::Builder) -> crate::Builder;
    }

    #[cfg(feature = "workers")]
    impl WorkersFeature for usize {
        #[track_caller]
        fn apply(self, builder: crate::Builder) -> crate::Builder {
            builder.workers(self)
        }
    }

    /// How many children a group runs per poll (for the fairness test).
    pub const GROUP_BATCH: usize = crate::group::BATCH;

    use crate::scheduler::event_loop::EventLoop;

    /// How many top-level tasks the running loop holds alive, the main task included (0 outside
    /// a loop). For tests that prove nothing is left behind.
    pub fn live_tasks() -> usize {
        EventLoop::with_current(EventLoop::live_tasks).unwrap_or(0)
    }

    /// Makes children spawned from now on watch their exit through `SIGCHLD` even where
    /// pidfds work, to test that path.
    #[cfg(all(unix, feature = "process"))]
    pub fn process_force_sigchld(on: bool) {
        crate::io::process::exit_watch::force_sigchld(on);
    }

    /// How many children were dropped while running and are not reaped yet.
    #[cfg(all(unix, feature = "process"))]
    pub fn process_orphans() -> usize {
        crate::io::process::reaper::orphans()
    }

    /// How many timers the running loop has armed (0 outside a loop).
    pub fn armed_timers() -> usize {
        EventLoop::with_current(EventLoop::armed_timers).unwrap_or(0)
    }
}
