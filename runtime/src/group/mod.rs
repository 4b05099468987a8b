//! Task groups: asyncio's `TaskGroup`, with children that may borrow.
//!
//! [`task_group!`](crate::task_group) (or [`TaskGroup::scope`]) runs a body that creates
//! children with [`TaskGroup::create_task`]. The scope ends only when the body and every child
//! have finished. If any of them panics (or, in the fallible form, returns `Err`), the group
//! cancels all the others, waits for them, and resolves to a [`GroupError`] naming every failure.
//!
//! # Starting, cancelling, supervising
//!
//! - [`TaskGroup::start`] (trio's `nursery.start`) starts a child and waits until it reports,
//!   through its [`Ready`] token, that it is ready (a server bound its socket), with a value.
//! - [`TaskGroup::cancel`] (asyncio 3.15's `tg.cancel()`) ends the group early without
//!   failure: see there for what the group then evaluates to.
//! - A supervising group, `task_group!(supervise |tg| ...)` ([`TaskGroup::supervise`],
//!   Kotlin's `supervisorScope`), records a child's failure without cancelling anything, and
//!   reports every failure at the end.
//!
//! # Scoped children
//!
//! A child may borrow anything that outlives the `task_group!`, as a thread spawned with
//! [`std::thread::scope`] may: no `'static` bound, no `Arc`. It may not borrow a local of the body,
//! and the `&TaskGroup` it captures cannot escape the scope. Both are checked by the compiler
//! through the `'scope` lifetime, which is invariant.
//!
//! A child runs only while its group is alive and being driven, and the group drops every
//! child's future before its scope ends, even when the scope's future is dropped early; a
//! leaked scope leaks its children with it, without ever running them again. So a child never
//! touches what it borrows after that is gone.
//!
//! # Send groups
//!
//! `task_group!(send |tg| ...)` (and `send try`; [`TaskGroup::scope_send`],
//! [`TaskGroup::try_scope_send`]) opens a group of mode [`Sendable`], whose scope future is
//! `Send` when its body is: it may run inside [`tether::spawn`](crate::spawn) on a
//! multi-threaded runtime, and move between workers between two polls. Its `create_task`
//! children must be `Send`, with `Send` outputs; they may still borrow from outside the group
//! (what they borrow must then be `Sync`). They still run only inside their group's poll, on
//! whichever worker polls it: the whole group, children included, moves as one `Send` future.
//!
//! # Borrowing, concurrency, parallelism: pick two
//!
//! - [`TaskGroup::create_task`] children may **borrow** and run **concurrently**: they interleave
//!   at their await points. But they run inside their group's poll, so on the group's worker,
//!   one at a time: no parallelism.
//! - [`TaskGroup::spawn`] children ("spread" children) run **concurrently** and in **parallel**:
//!   each is a `Send` task, as [`tether::spawn`](crate::spawn) makes, that any worker of a
//!   [multi-threaded runtime](crate::Builder::workers) may run, so a group's children can use
//!   every core. In exchange they must be `'static + Send`: no borrowing (share with `Arc`).
//!   They are children all the same: owned by the group (introspection shows
//!   [`Owner::Group`](crate::task::Owner)), joined before the scope ends, cancelled when the
//!   group fails or ends, and their panic (or `Err`) fails the group.
//! - Plain sequential code (or scoped threads, rayon-style `join`/`scope`) has **borrowing** and
//!   **parallelism**, but no concurrency: nothing else runs on a thread while it waits.
//!
//! On the single-threaded loop there is no parallelism to be had: `spawn` is then simply a
//! child that must be `'static + Send`, run by the loop like a top-level task.
//!
//! ## Spread children and a dropped scope
//!
//! When the group ends normally, or fails, the scope waits for its spread children as for the
//! others: it does not resolve until every spread child's task has finished, wherever it ran:
//! its future has been dropped (it returned, or was cancelled and its destructors ran), and its
//! handle reports the outcome.
//!
//! When the scope's future is *dropped* before it finished (a `select!` that lost, a timeout, the
//! task awaiting it cancelled), its teardown runs inside a destructor, which cannot await. It
//! drops every scoped child before it returns, as above. Spread children it only **asks to
//! stop** (each is cancelled, and one that is just starting cancels itself at its first poll); it
//! does **not wait** for their futures to be dropped. Waiting would mean blocking a worker until
//! a task on another worker (or on this one: on the single-threaded loop, or queued here) got
//! its turn, which can deadlock. This is sound because a spread child is `'static`: it borrows
//! nothing the scope could take away. What it does mean: after a dropped scope, a spread child
//! may still be running its last poll, or be about to drop its future (its destructors run a
//! little later, on some worker), and a failure it reports then goes nowhere. Code that must see
//! a spread child's destructors finish should let the group end instead of dropping it (cancel
//! it, or make the body return), or keep the child's handle (it does not borrow the group) and
//! await it.
//!
//! # Concurrency limits
//!
//! `task_group!(limit = n, |tg| ...)` ([`GroupBuilder::limit`]) runs at most `n` children at
//! once, `create_task` and `spawn` children alike; the others wait, unpolled, in the order they
//! were made, and start as running ones end. `create_task` stays synchronous; a producer that
//! must not run ahead awaits [`TaskGroup::create_task_when_free`] instead. A waiting child is
//! owned like any other: a failure of the group, the end of its scope or its handle's `cancel`
//! drops its future without ever polling it. This is trio's `CapacityLimiter` (or a semaphore
//! every child acquires by hand, in asyncio and tokio) built into the group, so that waiting
//! children cost no poll and no permit future, and their order is the order of creation.
//!
//! ```
//! let urls: Vec<String> = (0..20).map(|n| format!("https://example.test/{n}")).collect();
//! let fetched = tether::run(async {
//!     tether::task_group!(limit = 4, |tg| {
//!         let pages: Vec<_> = urls
//!             .iter()
//!             .map(|url| tg.create_task(async move { url.len() })) // at most 4 at a time
//!             .collect();
//!         tether::gather(pages).await.into_iter().map(Result::unwrap).sum::<usize>()
//!     })
//! });
//! assert!(fetched.unwrap() > 0);
//! ```
//!
//! # Stack depth
//!
//! A child runs inside its group's poll, so nested groups poll nested on the stack: about 1.8 KiB
//! a level in an optimised build (1,000 levels take about 1.8 MiB, near a spawned thread's 2 MiB
//! default). Programs that nest groups hundreds deep want a larger stack, or a `TaskSet`.
//!
//! # Fairness
//!
//! Each poll of the scope runs at most 128 children, then yields to the event loop if more
//! are ready, so one busy group cannot starve the rest of the loop.

mod builder;
mod cancel;
mod create;
mod error;
mod graceful;
mod handle;
mod limit;
mod listing;
mod macros;
mod mode;
mod owner;
mod queue;
mod scope;
mod seeded;
mod spread;
mod start;
mod supervise;

use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use builder::GroupBuilder;
pub use error::{CreateTaskError, GroupError, TaskFailure};
pub use handle::TaskHandle;
pub use mode::{Child, Fallible, Mode, Plain, Sendable};
pub(crate) use scope::BATCH;
pub use scope::SendBody;
pub use start::{Ready, Start, StartError};

use crate::sync::limit::{Limiter, Slot};
use crate::task::{GroupId, TaskId};
use crate::task_core::raw::running_id;
use crate::task_core::table::TaskTable;
use queue::GroupQueue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Accepting children.
    Open,
    /// Something failed: the rest is being cancelled.
    Cancelling,
    /// The scope is ending: children are being dropped.
    Closed,
}

/// A task group: the owner of the tasks created with [`TaskGroup::create_task`].
///
/// A `TaskGroup` is only ever seen as `&'scope TaskGroup<'scope, 'env>` inside
/// [`task_group!`](crate::task_group) or [`TaskGroup::scope`]. `'env` is what the children may
/// borrow from; `'scope` is the group's own lifetime.
///
/// # Examples
///
/// Children borrow from the enclosing function:
///
/// ```
/// use std::cell::Cell;
///
/// let hits = Cell::new(0);
/// let urls = vec!["a", "b", "c"];
/// tether::run(async {
///     tether::task_group!(|tg| {
///         for url in &urls {
///             let hits = &hits;
///             tg.create_task(async move {
///                 tether::yield_now().await;
///                 hits.set(hits.get() + url.len());
///             });
///         }
///     })
///     .unwrap();
/// });
/// assert_eq!(hits.get(), 3);
/// ```
///
/// A child may not borrow a local of the body, which dies before the children do:
///
/// ```compile_fail
/// tether::run(async {
///     tether::task_group!(|tg| {
///         let local = String::from("body");
///         tg.create_task(async { println!("{}", &local) });
///     })
/// });
/// ```
///
/// Nor can the group escape its scope:
///
/// ```compile_fail
/// tether::run(async {
///     let mut escaped = None;
///     tether::task_group!(|tg| {
///         escaped = Some(tg);
///     });
/// });
/// ```
pub struct TaskGroup<'scope, 'env: 'scope, M: Mode = Plain> {
    id: GroupId,
    /// The task running the group's scope, for introspection.
    runner: Option<TaskId>,
    queue: Arc<GroupQueue>,
    children: RefCell<TaskTable>,
    state: Cell<State>,
    /// Non-zero while the group is dropping a child's or the body's future: a `create_task` made
    /// by a destructor then drops its future quietly instead of panicking out of a destructor.
    dropping: Cell<u32>,
    failures: RefCell<Vec<TaskFailure<M::Error>>>,
    /// Set by [`TaskGroup::cancel`]: the group is ending early, and that is no failure.
    cancelled: Cell<bool>,
    /// Set by [`TaskGroup::request_cancellation`]: children start asked to stop gracefully.
    stop_requested: Cell<bool>,
    /// A supervising group (`task_group!(supervise |tg| ...)`): a child's failure is recorded,
    /// not a reason to cancel the rest.
    supervising: bool,
    /// What the group shares with its spread children (`TaskGroup::spawn`), made at the first.
    spread: OnceCell<Arc<spread::Spread<M::Error>>>,
    /// The concurrency limit ([`GroupBuilder::limit`]), shared by scoped and spread children.
    limit: Option<Arc<Limiter>>,
    /// [`Sendable`] groups only: the token ([`thread_token`]) of the thread polling (or tearing
    /// down) the group right now, 0 between polls. Every public entry point compares it with
    /// the caller's own.
    poller: AtomicU64,
    /// Invariant in `'scope` and `'env`: a covariant `'scope` would let children borrow
    /// locals of the body.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl<'scope, 'env, M: Mode> TaskGroup<'scope, 'env, M> {
    fn new() -> Self {
        TaskGroup {
            id: GroupId::next(),
            runner: running_id(),
            queue: Arc::new(GroupQueue::default()),
            children: RefCell::new(TaskTable::default()),
            state: Cell::new(State::Open),
            dropping: Cell::new(0),
            failures: RefCell::new(Vec::new()),
            cancelled: Cell::new(false),
            stop_requested: Cell::new(false),
            supervising: false,
            spread: OnceCell::new(),
            limit: None,
            poller: AtomicU64::new(0),
            scope: PhantomData,
            env: PhantomData,
        }
    }

    /// How many children are still running (spread children until their future is dropped),
    /// counting those waiting for a slot under the group's [limit](GroupBuilder::limit).
    pub fn len(&self) -> usize {
        self.check_owner();
        self.scoped_len() + self.spread.get().map_or(0, |spread| spread.live())
    }

    /// How many scoped children (`create_task`) are still running.
    fn scoped_len(&self) -> usize {
        self.children.borrow().owned_len()
    }

    /// Asks every spread child to stop.
    fn cancel_spread(&self) {
        if let Some(spread) = self.spread.get() {
            spread.cancel_all();
        }
    }

    /// Collects what the spread children reported (failures fail the group); returns how many
    /// are alive.
    fn collect_spread(&self) -> usize {
        let Some(spread) = self.spread.get() else {
            return 0;
        };
        let (failures, live) = spread.take();
        for failure in failures {
            self.fail_child(failure);
        }
        live
    }

    /// `true` if no child is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The group's id, as [`all_tasks`](crate::all_tasks) and [`dump_tasks`](crate::dump_tasks)
    /// show it.
    pub fn id(&self) -> GroupId {
        self.check_owner();
        self.id
    }

    /// `true` once the group has stopped accepting children: something failed (in a group that
    /// does not supervise), it was [cancelled](TaskGroup::cancel), or the scope is ending.
    pub fn is_shutting_down(&self) -> bool {
        self.check_owner();
        self.state.get() != State::Open
    }

    /// The group's concurrency limit, if it has one (see [`GroupBuilder::limit`]).
    pub fn limit(&self) -> Option<usize> {
        self.check_owner();
        self.limit.as_ref().map(|limit| limit.limit())
    }

    /// How many children wait for a free slot under the group's limit (always 0 without a
    /// limit). They are counted by [`len`](TaskGroup::len) too.
    pub fn waiting(&self) -> usize {
        self.check_owner();
        self.limit.as_ref().map_or(0, |limit| limit.queued())
    }

    /// A place in the limit's queue for a new child, if the group has a limit.
    fn take_slot(&self) -> Option<Slot> {
        self.limit.as_ref().map(|limit| limit.slot())
    }

    /// Stops starting children that wait for a slot: everything is being cancelled, and none
    /// may start meanwhile (a cancelled running child frees its slot).
    fn close_limit(&self) {
        if let Some(limit) = &self.limit {
            limit.close();
        }
    }

    /// Records a failure and starts cancelling everything else.
    fn fail(&self, failure: TaskFailure<M::Error>) {
        self.failures.borrow_mut().push(failure);
        if self.state.get() == State::Open {
            self.state.set(State::Cancelling);
            self.close_limit();
            self.children.borrow().cancel_owned();
            self.cancel_spread();
        }
    }
}

impl<M: Mode> fmt::Debug for TaskGroup<'_, '_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.check_owner();
        f.debug_struct("TaskGroup")
            .field("children", &self.len())
            .field("state", &self.state.get())
            .field("limit", &self.limit.as_ref().map(|limit| limit.limit()))
            .field("failures", &self.failures.borrow().len())
            .finish()
    }
}
