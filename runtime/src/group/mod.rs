//! Task groups: asyncio's `TaskGroup`, with children that may borrow.
//!
//! [`task_group!`](crate::task_group) (or [`TaskGroup::scope`]) runs a body that creates
//! children with [`TaskGroup::create_task`]. The scope ends only when the body and every child
//! have finished. If any of them panics (or, in the fallible form, returns `Err`), the group
//! cancels all the others, waits for them, and resolves to a [`GroupError`] naming every failure.
//!
//! # Scoped children
//!
//! A child may borrow anything that outlives the `task_group!`, as a thread spawned with
//! [`std::thread::scope`] may: no `'static` bound, no `Arc`. It may not borrow a local of the body,
//! and the `&TaskGroup` it captures cannot escape the scope. Both are checked by the compiler
//! through the `'scope` lifetime, which is invariant.
//!
//! ## Why this is sound
//!
//! A future that borrows must never be polled or dropped after what it borrows is gone. Tasks
//! make that hard, because a waker can outlive anything, and a scope's future can be leaked with
//! `mem::forget` so that no destructor tells the children to stop. tether's answer: children are
//! scheduled *through their group*.
//!
//! 1. Each child is an `async_task` task made with `spawn_unchecked`. Its schedule function owns
//!    nothing but an `Arc` of the group's queue: waking a child, from any thread, at any time,
//!    only pushes its `Runnable` onto that queue.
//! 2. Only the group's own scope future pops that queue and runs what it finds, while it is being
//!    polled: a child runs only while its group is alive and being driven.
//! 3. When the scope future is dropped, a guard in it cancels every child and runs each one last
//!    time, which drops the child's future, before the body is dropped and before the drop
//!    returns. The group also keeps a table of its live children (each entry holding the child's
//!    waker) and does not return until the table is empty.
//! 4. If the scope future is leaked instead, its queue and table are leaked with it: the children's
//!    futures stay inside their allocations, which the queue and table keep alive, and nothing
//!    ever runs or drops them again. Leaking is safe; touching borrowed data after it died is
//!    what must not happen, and it cannot.
//! 5. A child's output may borrow too. It stays in the task's allocation until the
//!    [`TaskHandle`] reads it or drops it, and the handle's type carries the output's
//!    lifetimes, so the compiler keeps the handle inside them.
//!
//! `TaskGroup` has no `Drop` of its own (the drop checker would reject the self-borrow
//! `&'scope TaskGroup<'scope, '_>`); the clean-up lives in a guard inside the scope future.
//!
//! The scope future of a plain group is not `Send`: children run on the thread that polls their
//! group. (Spread children, below, are the exception: they borrow nothing, so they may run
//! anywhere.) A send group, next, is `Send` as a whole.
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
//! Why this is sound, on top of the argument above:
//!
//! 1. A `Sendable` group is `Send` and `Sync` by `unsafe impl`: its state is in `Cell`s and
//!    `RefCell`s, and its children table holds raw pointers to task headers (which are `Sync`).
//! 2. Its state is only ever touched by the thread polling (or dropping) the scope future. The
//!    group's internals run only there. Every public method (`create_task*`, `spawn*`, `len`,
//!    `is_empty`, `id`, `is_shutting_down`, `Debug`) first checks that the calling thread is
//!    that one, and panics otherwise: each poll of the scope stores its thread's token (unique
//!    per thread, forever) in the group and clears it when the poll ends, and the teardown
//!    stores it for good. A thread reads its own token back only between its store and its
//!    clear (only it stores that token, and coherence orders its own accesses), and two polls
//!    never overlap (they need the pinned future exclusively). So a `&tg` smuggled to another
//!    thread (a [`std::thread::scope`] thread made by the body: `&tg` cannot outlive the body's
//!    poll) panics before it touches anything.
//! 3. Between polls the group moves only inside its task's future, which the runtime hands
//!    from worker to worker with the synchronisation any `Send` task gets.
//! 4. The children are `Send`, so running them on the next worker is fine; their `on_end` and
//!    `finish` hooks hold only `&TaskGroup` (`Sync`) and where the child is listed for
//!    introspection: a plain group lists its children in its loop's table (thread-bound), a
//!    send group on a worker in the runtime's shared table (behind a mutex), so
//!    [`all_tasks`](crate::all_tasks) shows them either way.
//!
//! The body is a boxed `Send` future (a [`SendBody`]): rustc cannot yet prove an `async`
//! closure's future `Send` for every lifetime of its `&TaskGroup` argument, so the macro
//! writes `|tg| Box::pin(async { ... })` instead (one allocation per send group), capturing
//! what the body uses as the `async` closure would.
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

mod error;
mod handle;
mod queue;
mod seeded;
mod spread;

use std::cell::{Cell, OnceCell, RefCell};
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

pub use error::{CreateTaskError, GroupError, TaskFailure};
pub use handle::TaskHandle;

use crate::event_loop::EventLoop;
use crate::task::header::Header;
use crate::task::raw::{FreeSlot, Spawn, TaskSlots, create, running_id};
use crate::task::table::TaskTable;
use crate::task::{Builder, GroupId, Owner, Panic, Task, TaskError, TaskId};
use queue::GroupQueue;

/// How many children a group runs per poll before it lets the event loop run other tasks.
pub(crate) const BATCH: usize = 128;

/// The name a failure of the group's body is reported under.
const BODY: &str = "body";

/// The two kinds of group: children return anything ([`Plain`]), or `Result<T, E>` and the first
/// `Err` fails the group ([`Fallible`]).
pub trait Mode: sealed::Sealed {
    /// What a child's `Err` holds: `Infallible` for a plain group.
    type Error;
}

mod sealed {
    pub trait Sealed {
        /// A [`Sendable`](super::Sendable) group: every public entry point checks that it runs
        /// on the thread polling the group (see the module docs). A constant, so that the
        /// other modes compile the check away.
        const CHECKED: bool = false;
    }
    impl Sealed for super::Plain {}
    impl<E> Sealed for super::Fallible<E> {}
    impl Sealed for super::Sendable<super::Plain> {
        const CHECKED: bool = true;
    }
    impl<E> Sealed for super::Sendable<super::Fallible<E>> {
        const CHECKED: bool = true;
    }
}

/// The mode of a plain group, made by `task_group!(|tg| ...)`.
#[derive(Debug)]
pub enum Plain {}

/// The mode of a fallible group, made by `task_group!(try |tg| ...)`: children return
/// `Result<T, E>`.
#[derive(Debug)]
pub struct Fallible<E>(PhantomData<fn() -> E>);

impl Mode for Plain {
    type Error = Infallible;
}

impl<E> Mode for Fallible<E> {
    type Error = E;
}

/// The mode of a group that is itself `Send`, made by `task_group!(send |tg| ...)`
/// (`Sendable<Plain>`) or `task_group!(send try |tg| ...)` (`Sendable<Fallible<E>>`): its
/// children must be `Send`, and its scope future is `Send` when its body's is, so that it may
/// run inside [`tether::spawn`](crate::spawn) on a multi-threaded runtime. See
/// ["Send groups"](crate::group#send-groups).
#[derive(Debug)]
pub struct Sendable<M>(PhantomData<fn() -> M>);

impl Mode for Sendable<Plain> {
    type Error = Infallible;
}

impl<E> Mode for Sendable<Fallible<E>> {
    type Error = E;
}

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
    /// What the group shares with its spread children (`TaskGroup::spawn`), made at the first.
    spread: OnceCell<Arc<spread::Spread<M::Error>>>,
    /// [`Sendable`] groups only: the token ([`thread_token`]) of the thread polling (or tearing
    /// down) the group right now, 0 between polls. Every public entry point compares it with
    /// the caller's own.
    poller: AtomicU64,
    /// Invariant in `'scope` and `'env`: a covariant `'scope` would let children borrow
    /// locals of the body.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl<'env> TaskGroup<'env, 'env, Plain> {
    /// Runs `body` with a new group and waits for the body and all its children:
    /// `async with asyncio.TaskGroup() as tg:`. [`task_group!`](crate::task_group) is the
    /// usual way to call it.
    ///
    /// Resolves to the body's output, or to a [`GroupError`] if the body or any child panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::TaskGroup;
    ///
    /// let data = [1, 2, 3];
    /// let sum = tether::run(async {
    ///     TaskGroup::scope(async |tg| {
    ///         let handles: Vec<_> = data.iter().map(|x| tg.create_task(async move { x * 10 })).collect();
    ///         let mut sum = 0;
    ///         for handle in handles {
    ///             sum += handle.await.unwrap();
    ///         }
    ///         sum
    ///     })
    ///     .await
    /// });
    /// assert_eq!(sum.unwrap(), 60);
    /// ```
    pub async fn scope<F, R>(body: F) -> Result<R, GroupError>
    where
        F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, Plain>) -> R,
    {
        enter(body).await
    }
}

impl<'env, E> TaskGroup<'env, 'env, Fallible<E>> {
    /// Like [`TaskGroup::scope`], for children that return `Result<T, E>`: the first `Err` fails
    /// the group exactly as a panic does, and the [`GroupError`] keeps every `E`.
    /// `task_group!(try |tg| ...)` calls it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::{TaskFailure, TaskGroup};
    ///
    /// let result = tether::run(async {
    ///     TaskGroup::try_scope(async |tg| {
    ///         tg.create_task(async { Ok(1) });
    ///         tg.create_task(async { Err::<i32, _>("no route to host") });
    ///     })
    ///     .await
    /// });
    /// let failures = result.unwrap_err().into_failures();
    /// assert!(matches!(&failures[0], TaskFailure::Failed { error: "no route to host", .. }));
    /// ```
    ///
    /// # Known limitation
    ///
    /// Passing the future of an `async fn` that borrows an argument *and* whose error type holds
    /// a `'static` lifetime (`&'static str`, `Cow<'static, str>`) straight to `create_task` is
    /// rejected by rustc 1.95 ("borrowed for `'static`"): the compiler ties the borrow to the
    /// error's `'static`. Wrap the call in an `async` block, which compiles as expected:
    ///
    /// ```
    /// async fn fetch(url: &str) -> Result<usize, &'static str> {
    ///     Ok(url.len())
    /// }
    ///
    /// let url = String::from("https://example.test");
    /// tether::run(async {
    ///     tether::task_group!(try |tg| {
    ///         // Not `tg.create_task(fetch(&url))`: see above.
    ///         tg.create_task(async { fetch(&url).await });
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    pub async fn try_scope<F, R>(body: F) -> Result<R, GroupError<E>>
    where
        F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, Fallible<E>>) -> R,
    {
        enter(body).await
    }
}

impl<'env> TaskGroup<'env, 'env, Sendable<Plain>> {
    /// Like [`TaskGroup::scope`], for a group that is itself `Send`: its children must be
    /// `Send` (they may still borrow, from outside the group, what is `Sync`), and the future
    /// this returns is `Send` when the body's future is. `task_group!(send |tg| ...)` calls it.
    /// See ["Send groups"](crate::group#send-groups).
    ///
    /// # Panics
    ///
    /// The group may only be used by the task that opened it, while that task runs it: a
    /// method of `tg` called from another thread (say, a [`std::thread::scope`] thread the body
    /// made) panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::TaskGroup;
    ///
    /// let runtime = tether::Runtime::builder().workers(2).build();
    /// let sum = runtime.run(async {
    ///     tether::spawn(async {
    ///         let data = vec![1, 2, 3];
    ///         let data = &data;
    ///         // What `task_group!(send |tg| ...)` writes for you.
    ///         TaskGroup::scope_send(|tg| {
    ///             Box::pin(async move {
    ///                 let handles: Vec<_> =
    ///                     data.iter().map(|x| tg.create_task(async move { x * 10 })).collect();
    ///                 let mut sum = 0;
    ///                 for handle in handles {
    ///                     sum += handle.await.unwrap();
    ///                 }
    ///                 sum
    ///             })
    ///         })
    ///         .await
    ///     })
    ///     .await
    ///     .unwrap()
    /// });
    /// assert_eq!(sum.unwrap(), 60);
    /// ```
    pub async fn scope_send<F, R>(body: F) -> Result<R, GroupError>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Plain>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body).await
    }
}

impl<'env, E> TaskGroup<'env, 'env, Sendable<Fallible<E>>> {
    /// [`TaskGroup::try_scope`] for a group that is itself `Send`, as
    /// [`TaskGroup::scope_send`]. `task_group!(send try |tg| ...)` calls it.
    pub async fn try_scope_send<F, R>(body: F) -> Result<R, GroupError<E>>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Fallible<E>>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body).await
    }
}

// SAFETY: (the argument is in the module docs, "Send groups") a `Sendable` group's children
// are `Send` futures with `Send` outputs; its cells are only touched by the thread polling (or
// tearing down) the group, which every public entry point checks (`check_owner`), and the
// group moves between threads only with the task that owns it, between two of its polls,
// which the runtime orders (as for any `Send` future). The children table's raw pointers are
// to task headers, which are `Sync`. Its failures hold `E`s, hence `E: Send`.
unsafe impl Send for TaskGroup<'_, '_, Sendable<Plain>> {}
// SAFETY: as for `Send` above: a `&TaskGroup` used on a thread that is not polling the group
// panics before touching anything.
unsafe impl Sync for TaskGroup<'_, '_, Sendable<Plain>> {}
// SAFETY: as for `Sendable<Plain>`.
unsafe impl<E: Send> Send for TaskGroup<'_, '_, Sendable<Fallible<E>>> {}
// SAFETY: as for `Sendable<Plain>`.
unsafe impl<E: Send> Sync for TaskGroup<'_, '_, Sendable<Fallible<E>>> {}

/// This thread's token for a [`Sendable`] group's owner check: never 0, and never the same for
/// two threads of the process, alive or dead.
fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        // Const-initialised and without a destructor: usable until the thread is gone, even
        // from other thread-locals' destructors.
        static TOKEN: Cell<u64> = const { Cell::new(0) };
    }
    TOKEN.with(|token| {
        if token.get() == 0 {
            token.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        token.get()
    })
}

/// Why a [`Sendable`] group refused a call.
#[derive(Debug, thiserror::Error)]
#[error(
    "a TaskGroup may only be used from the task that opened it, while that task runs it: this \
     call came from another thread (a std::thread::scope thread, say). Create the group's \
     children from its body or its children; for work on other threads, hand it to tg.spawn or \
     tether::to_thread and await the handle in the group"
)]
struct NotTheOwner;

/// Marks the group as polled by this thread for one poll ([`Sendable`] groups only).
struct Polling<'a, 'scope, 'env, M: Mode> {
    group: &'a TaskGroup<'scope, 'env, M>,
}

impl<'a, 'scope, 'env, M: Mode> Polling<'a, 'scope, 'env, M> {
    fn enter(group: &'a TaskGroup<'scope, 'env, M>) -> Self {
        if M::CHECKED {
            group.poller.store(thread_token(), Ordering::Relaxed);
        }
        Polling { group }
    }
}

impl<M: Mode> Drop for Polling<'_, '_, '_, M> {
    fn drop(&mut self) {
        if M::CHECKED {
            self.group.poller.store(0, Ordering::Relaxed);
        }
    }
}

/// The body of a [`Sendable`] group, as [`TaskGroup::scope_send`] takes it: a boxed `Send`
/// future, which `task_group!(send |tg| ...)` makes.
///
/// Boxed because rustc (1.95) cannot yet prove an `async` closure's future `Send` for every
/// lifetime of its `&TaskGroup` argument, which a `Send` scope future needs ("implementation of
/// `Send` is not general enough"); a boxed `dyn Future + Send` states it once. One allocation
/// per send group.
pub type SendBody<'scope, R> = Pin<Box<dyn Future<Output = R> + Send + 'scope>>;

/// [`enter`] for a [`Sendable`] group, whose body is a [`SendBody`].
async fn enter_send<'env, M, F, R>(body: F) -> Result<R, GroupError<M::Error>>
where
    M: Mode,
    F: for<'scope> FnOnce(&'scope TaskGroup<'scope, 'env, M>) -> SendBody<'scope, R>,
{
    let group = TaskGroup::new();
    let mut driver = pin!(drive(&group, body(&group)));
    // As in `enter`.
    let _teardown = Teardown { group: &group };
    driver.as_mut().await
}

/// Runs a group scope: the body, its children, and the guard that drops them.
async fn enter<'env, M, F, R>(body: F) -> Result<R, GroupError<M::Error>>
where
    M: Mode,
    F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, M>) -> R,
{
    let group = TaskGroup::new();
    let mut driver = pin!(drive(&group, body(&group)));
    // Declared after the driver, so dropped before it: when this future is dropped early, every
    // child's future is dropped first, then the body (inside the driver), then the group.
    let _teardown = Teardown { group: &group };
    driver.as_mut().await
}

async fn drive<'scope, 'env, M, B>(
    group: &'scope TaskGroup<'scope, 'env, M>,
    body: B,
) -> Result<B::Output, GroupError<M::Error>>
where
    M: Mode,
    B: Future,
{
    let mut body = pin!(Some(body));
    let mut output = None;
    let mut record = crate::task::awaiting::WaitRecord::new();
    poll_fn(|cx| {
        let poll = group.poll_scope(cx, body.as_mut(), &mut output);
        // Once the body has returned, the task only waits for the children.
        if output.is_some() {
            return record.track(poll, || crate::task::Awaiting::Group { id: group.id });
        }
        poll
    })
    .await;
    group.state.set(State::Closed);
    let failures = group.failures.take();
    if failures.is_empty() {
        Ok(output.expect(
            "the body finished: a group without failures drops its body only after it returns",
        ))
    } else {
        Err(GroupError::new(failures))
    }
}

/// `true` once the body has been dropped.
///
/// Asked through a mutable reborrow, never through `&Option<B>`: a shared reference covering a
/// suspended body future would, under Stacked Borrows, invalidate the references that future
/// holds into itself (Miri reports its next poll as undefined behaviour).
fn body_gone<B>(body: Pin<&mut Option<B>>) -> bool {
    body.as_pin_mut().is_none()
}

/// Drops every child's future when the scope's future is dropped.
struct Teardown<'a, 'scope, 'env, M: Mode> {
    group: &'a TaskGroup<'scope, 'env, M>,
}

impl<M: Mode> Drop for Teardown<'_, '_, '_, M> {
    fn drop(&mut self) {
        self.group.teardown();
    }
}

enum Admission {
    Open,
    /// Refused; a destructor asked, so drop the future quietly.
    Quiet,
    Refused(CreateTaskError),
}

impl Admission {
    /// Whether the child is to be made quietly (and cancelled before it runs), or the refusal
    /// (the caller's future is then dropped unpolled as the caller returns).
    fn quiet(self) -> Result<bool, CreateTaskError> {
        match self {
            Admission::Open => Ok(false),
            Admission::Quiet => Ok(true),
            Admission::Refused(refusal) => Err(refusal),
        }
    }
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
            spread: OnceCell::new(),
            poller: AtomicU64::new(0),
            scope: PhantomData,
            env: PhantomData,
        }
    }

    /// Panics unless the caller is the thread polling (or tearing down) this group. Compiled
    /// away but for [`Sendable`] groups.
    ///
    /// Sound with `Relaxed`: only this thread ever stores its own token, and it clears it
    /// (stores 0) before its poll ends, so by coherence it reads its token back only between
    /// the two, inside its own poll, when no other thread may poll the group.
    #[track_caller]
    fn check_owner(&self) {
        if M::CHECKED && self.poller.load(Ordering::Relaxed) != thread_token() {
            panic!("{NotTheOwner}");
        }
    }

    /// How many children are still running (spread children until their future is dropped).
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
            self.fail(failure);
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

    /// `true` once the group has stopped accepting children: something failed, or the scope is
    /// ending.
    pub fn is_shutting_down(&self) -> bool {
        self.check_owner();
        self.state.get() != State::Open
    }

    /// Whether a new child may start. `quiet_refusal`: the caller cannot report a refusal (a
    /// `create_task` run by a destructor during the group's clean-up), so refuse quietly.
    #[track_caller]
    fn admit(&self, quiet_refusal: bool) -> Admission {
        self.check_owner();
        let refusal = match self.state.get() {
            State::Open => return Admission::Open,
            State::Cancelling => CreateTaskError::ShuttingDown,
            State::Closed => CreateTaskError::Closed,
        };
        if quiet_refusal && (self.dropping.get() > 0 || std::thread::panicking()) {
            Admission::Quiet
        } else {
            Admission::Refused(refusal)
        }
    }

    /// Creates a child, or refuses and drops `future` unpolled.
    fn create<F, T, Fin>(
        &'scope self,
        future: F,
        finish: Fin,
        quiet_refusal: bool,
        builder: Builder,
        location: &'static std::panic::Location<'static>,
    ) -> Result<TaskHandle<T>, CreateTaskError>
    where
        F: Future + 'scope,
        Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> Result<T, TaskError> + 'scope,
    {
        let quiet = self.admit(quiet_refusal).quiet()?;
        let owner = Owner::Group {
            group: self.id,
            runner: self.runner,
        };
        let mut spawn: Spawn = builder.into_spawn(owner, location);
        let slots = ChildSlots {
            group: self,
            // Listed for introspection, and taken off the list when it ends: in the loop's
            // table, or for a `Sendable` group on a worker, in the runtime's shared table (its
            // children move between threads with it, and a loop's table is only for the loop's
            // thread).
            listing: Listing::new(M::CHECKED),
            quiet,
        };
        let queue = self.queue.clone();
        // SAFETY: (the argument is in the module docs) the future, the freer (`ChildSlots`) and
        // `finish` borrow for `'scope`, and they are dropped before the scope's future finishes
        // dropping (`Teardown`) or never (a leaked scope leaks its queue and table, which keep
        // them). The runnable only ever goes to this group's queue, which only the scope future
        // runs and drains, on the thread polling it. Unless the group is `Sendable`, the scope
        // future is not `Send`, so a `!Send` future stays on its thread; a `Sendable` group's
        // children are `Send` (with `Send` outputs), and the freer and `finish` hold only
        // `&self`, which is `Sync` then, and `Send` data (a `Listing`). The schedule function
        // owns an `Arc` of the queue, so wakers may outlive the group.
        let raw = unsafe {
            create(
                &slots,
                future,
                &mut spawn,
                move |runnable| queue.push(runnable),
                finish,
            )
        };
        Ok(TaskHandle::new(Task::from_raw(raw)))
    }

    fn create_or_panic<F, T, Fin>(
        &'scope self,
        future: F,
        finish: Fin,
        builder: Builder,
        location: &'static std::panic::Location<'static>,
    ) -> TaskHandle<T>
    where
        F: Future + 'scope,
        Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> Result<T, TaskError> + 'scope,
    {
        match self.create(future, finish, true, builder, location) {
            Ok(handle) => handle,
            Err(refusal) => panic!("{refusal}"),
        }
    }

    /// A fallible child's outcome: an `Err` fails the group.
    fn settle<T>(
        &self,
        header: &Header,
        outcome: Result<Result<T, M::Error>, TaskError>,
    ) -> Result<T, TaskError> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                self.fail(TaskFailure::Failed {
                    task: header.name(),
                    error,
                });
                Err(TaskError::Failed)
            }
            Err(error) => {
                self.record_panic(header, &Err::<(), _>(error.clone()));
                Err(error)
            }
        }
    }

    /// Records a failure and starts cancelling everything else.
    fn fail(&self, failure: TaskFailure<M::Error>) {
        self.failures.borrow_mut().push(failure);
        if self.state.get() == State::Open {
            self.state.set(State::Cancelling);
            self.children.borrow().cancel_owned();
            self.cancel_spread();
        }
    }

    fn record_panic(&self, header: &Header, outcome: &Result<impl Sized, TaskError>) {
        if let Err(TaskError::Panicked(panic)) = outcome {
            self.fail(TaskFailure::Panicked {
                task: header.name(),
                panic: panic.clone(),
            });
        }
    }

    /// One poll of the scope: the body, then a batch of children.
    fn poll_scope<B: Future>(
        &self,
        cx: &mut Context<'_>,
        mut body: Pin<&mut Option<B>>,
        output: &mut Option<B::Output>,
    ) -> Poll<()> {
        let _polling = Polling::enter(self);
        // Children woken while this poll runs them need not wake this task: it drains the
        // queue below and re-registers before returning.
        self.queue.unregister();
        if self.state.get() == State::Open {
            if let Some(future) = body.as_mut().as_pin_mut() {
                match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(Poll::Ready(value)) => {
                        *output = Some(value);
                        self.drop_body(body.as_mut());
                    }
                    Ok(Poll::Pending) => {}
                    Err(payload) => {
                        self.fail(TaskFailure::Panicked {
                            task: BODY.to_owned(),
                            panic: Panic::new(payload),
                        });
                    }
                }
            }
        }
        self.run_children(BATCH);
        let spread_live = self.collect_spread();
        if self.state.get() != State::Open {
            // asyncio cancels the body of a failed group; here that means dropping it.
            self.drop_body(body.as_mut());
        }
        if body_gone(body.as_mut()) && self.scoped_len() == 0 && spread_live == 0 {
            return Poll::Ready(());
        }
        self.queue.register(cx.waker());
        let spread_news = self
            .spread
            .get()
            .is_some_and(|spread| spread.has_news(spread_live));
        if !self.queue.is_empty() || spread_news {
            // More ready children than one batch, or a spread child failed or ended while this
            // poll ran (its wake found no waker): let the loop run others, then come back.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    fn drop_body<B>(&self, mut body: Pin<&mut Option<B>>) {
        if body_gone(body.as_mut()) {
            return;
        }
        self.dropping.set(self.dropping.get() + 1);
        let dropped = catch_unwind(AssertUnwindSafe(|| body.set(None)));
        self.dropping.set(self.dropping.get() - 1);
        if let Err(payload) = dropped {
            self.fail(TaskFailure::Panicked {
                task: BODY.to_owned(),
                panic: Panic::new(payload),
            });
        }
    }

    /// Runs up to `limit` ready children.
    fn run_children(&self, limit: usize) {
        // Under a seeded schedule, each child is picked among those queued when this batch
        // began (see `crate::schedule`); FIFO otherwise.
        let mut batch = seeded::group_batch(limit, || self.queue.len());
        for _ in 0..limit {
            let next = match &mut batch {
                None => self.queue.pop(),
                Some(batch) if batch.is_done() => None,
                Some(batch) => self.queue.pop_chosen(|queue| batch.choose(queue)),
            };
            let Some(runnable) = next else {
                break;
            };
            let cancelled = runnable.metadata().is_cancel_requested();
            if cancelled {
                self.dropping.set(self.dropping.get() + 1);
            }
            runnable.run();
            if cancelled {
                self.dropping.set(self.dropping.get() - 1);
            }
        }
    }

    /// Cancels every child and runs each scoped one until its future is dropped; returns when
    /// none of those is left. Spread children are only asked to stop (see the module docs).
    fn teardown(&self) {
        if M::CHECKED {
            // Never cleared: the body's future, dropped right after this, may still call the
            // group from its destructors, and then the group is gone.
            self.poller.store(thread_token(), Ordering::Relaxed);
        }
        self.state.set(State::Closed);
        self.cancel_spread();
        self.dropping.set(self.dropping.get() + 1);
        loop {
            self.children.borrow().cancel_owned();
            while let Some(runnable) = self.queue.pop() {
                runnable.run();
            }
            if self.scoped_len() == 0 {
                break;
            }
            // A child is being woken on another thread: its runnable is on its way here.
            std::thread::yield_now();
        }
        self.dropping.set(self.dropping.get() - 1);
    }
}

impl<'scope, 'env> TaskGroup<'scope, 'env, Plain> {
    /// Starts `future` as a child of this group: asyncio's `tg.create_task(coro)`.
    ///
    /// The group owns the child and waits for it before its scope ends; the returned handle is
    /// for reading the output or cancelling, and may be dropped freely. The child may borrow
    /// anything that outlives the group, and may capture `tg` to create siblings. If it panics,
    /// the group cancels everything else and fails.
    ///
    /// # Panics
    ///
    /// If the group is shutting down (a task failed) or closing: the future is dropped without
    /// running. Use [`TaskGroup::try_create_task`] to get the refusal as an error. A destructor
    /// run by the group's own clean-up is never panicked at: its new task is dropped quietly.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::RefCell;
    ///
    /// let log = RefCell::new(Vec::new());
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         tg.create_task(async {
    ///             log.borrow_mut().push("parent");
    ///             tg.create_task(async { log.borrow_mut().push("sibling") });
    ///         });
    ///     })
    ///     .unwrap();
    /// });
    /// assert_eq!(*log.borrow(), ["parent", "sibling"]);
    /// ```
    #[track_caller]
    pub fn create_task<F>(&'scope self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + 'scope,
    {
        self.create_task_with(Builder::new(), future)
    }

    /// Like [`TaskGroup::create_task`], configured by a [`Builder`] (name, context, eager
    /// start).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::task::Builder;
    ///
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         let child = tg.create_task_with(Builder::new().name("child"), async { 1 });
    ///         assert_eq!(child.name(), "child");
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn create_task_with<F>(&'scope self, builder: Builder, future: F) -> TaskHandle<F::Output>
    where
        F: Future + 'scope,
    {
        let location = std::panic::Location::caller();
        self.create_or_panic(
            future,
            move |header, outcome| {
                self.record_panic(header, &outcome);
                outcome
            },
            builder,
            location,
        )
    }

    /// Like [`TaskGroup::create_task`], but a refusal is returned as an error (the future is
    /// dropped without running) instead of a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         let handle = tg.try_create_task(async { 5 }).expect("the group is open");
    ///         assert_eq!(handle.await.unwrap(), 5);
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn try_create_task<F>(
        &'scope self,
        future: F,
    ) -> Result<TaskHandle<F::Output>, CreateTaskError>
    where
        F: Future + 'scope,
    {
        self.create(
            future,
            move |header, outcome| {
                self.record_panic(header, &outcome);
                outcome
            },
            false,
            Builder::new(),
            std::panic::Location::caller(),
        )
    }
}

impl<'scope, 'env, E: 'scope> TaskGroup<'scope, 'env, Fallible<E>> {
    /// Starts a fallible child. If it returns `Err(e)`, the group fails as if it had panicked:
    /// `e` goes into the group's [`GroupError`], and this handle reports
    /// [`TaskError::Failed`].
    ///
    /// # Panics
    ///
    /// As [`TaskGroup::create_task`] for plain groups.
    #[track_caller]
    pub fn create_task<F, T>(&'scope self, future: F) -> TaskHandle<T>
    where
        F: Future<Output = Result<T, E>> + 'scope,
    {
        self.create_task_with(Builder::new(), future)
    }

    /// Like [`create_task`](TaskGroup::create_task), configured by a [`Builder`].
    #[track_caller]
    pub fn create_task_with<F, T>(&'scope self, builder: Builder, future: F) -> TaskHandle<T>
    where
        F: Future<Output = Result<T, E>> + 'scope,
    {
        let location = std::panic::Location::caller();
        self.create_or_panic(
            future,
            move |header, outcome| self.settle(header, outcome),
            builder,
            location,
        )
    }

    /// Like [`create_task`](TaskGroup::create_task), but a refusal is returned as an error.
    #[track_caller]
    pub fn try_create_task<F, T>(&'scope self, future: F) -> Result<TaskHandle<T>, CreateTaskError>
    where
        F: Future<Output = Result<T, E>> + 'scope,
    {
        self.create(
            future,
            move |header, outcome| self.settle(header, outcome),
            false,
            Builder::new(),
            std::panic::Location::caller(),
        )
    }
}

impl<'scope, 'env> TaskGroup<'scope, 'env, Sendable<Plain>> {
    /// [`TaskGroup::create_task`] for a `Send` group: the child must be `Send`, and so must its
    /// output. It may borrow from outside the group, like any child: what it borrows must then
    /// be `Sync`.
    ///
    /// # Panics
    ///
    /// As [`TaskGroup::create_task`]; and if called from a thread that is not running the
    /// group (see [`TaskGroup::scope_send`]).
    #[track_caller]
    pub fn create_task<F>(&'scope self, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'scope,
        F::Output: Send,
    {
        self.create_task_with(Builder::new(), future)
    }

    /// [`TaskGroup::create_task_with`] for a `Send` group.
    #[track_caller]
    pub fn create_task_with<F>(&'scope self, builder: Builder, future: F) -> TaskHandle<F::Output>
    where
        F: Future + Send + 'scope,
        F::Output: Send,
    {
        let location = std::panic::Location::caller();
        self.create_or_panic(
            future,
            move |header, outcome| {
                self.record_panic(header, &outcome);
                outcome
            },
            builder,
            location,
        )
    }

    /// [`TaskGroup::try_create_task`] for a `Send` group.
    #[track_caller]
    pub fn try_create_task<F>(
        &'scope self,
        future: F,
    ) -> Result<TaskHandle<F::Output>, CreateTaskError>
    where
        F: Future + Send + 'scope,
        F::Output: Send,
    {
        self.create(
            future,
            move |header, outcome| {
                self.record_panic(header, &outcome);
                outcome
            },
            false,
            Builder::new(),
            std::panic::Location::caller(),
        )
    }
}

impl<'scope, 'env, E: Send + 'scope> TaskGroup<'scope, 'env, Sendable<Fallible<E>>> {
    /// The fallible [`TaskGroup::create_task`] for a `Send` group: the child must be `Send`,
    /// and so must its output.
    ///
    /// # Panics
    ///
    /// As [`TaskGroup::create_task`] for plain `Send` groups.
    #[track_caller]
    pub fn create_task<F, T>(&'scope self, future: F) -> TaskHandle<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'scope,
        T: Send,
    {
        self.create_task_with(Builder::new(), future)
    }

    /// Like [`create_task`](TaskGroup::create_task), configured by a [`Builder`].
    #[track_caller]
    pub fn create_task_with<F, T>(&'scope self, builder: Builder, future: F) -> TaskHandle<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'scope,
        T: Send,
    {
        let location = std::panic::Location::caller();
        self.create_or_panic(
            future,
            move |header, outcome| self.settle(header, outcome),
            builder,
            location,
        )
    }

    /// Like [`create_task`](TaskGroup::create_task), but a refusal is returned as an error.
    #[track_caller]
    pub fn try_create_task<F, T>(&'scope self, future: F) -> Result<TaskHandle<T>, CreateTaskError>
    where
        F: Future<Output = Result<T, E>> + Send + 'scope,
        T: Send,
    {
        self.create(
            future,
            move |header, outcome| self.settle(header, outcome),
            false,
            Builder::new(),
            std::panic::Location::caller(),
        )
    }
}

/// The slot a new child takes: in its group's table, and listed on the loop (or the runtime)
/// for introspection.
struct ChildSlots<'scope, 'env, M: Mode> {
    group: &'scope TaskGroup<'scope, 'env, M>,
    listing: Option<Listing>,
    /// Asked for by a destructor during clean-up: the task never runs; the clean-up drops it
    /// with the rest.
    quiet: bool,
}

impl<'scope, 'env, M: Mode> TaskSlots for ChildSlots<'scope, 'env, M> {
    type Freer = (&'scope TaskGroup<'scope, 'env, M>, Option<Listing>);

    fn reserve(&self) -> usize {
        self.group.children.borrow_mut().reserve()
    }

    fn fill(&self, key: usize, header: &Header) {
        self.group.children.borrow_mut().fill(key, header, true);
        if let Some(listing) = &self.listing {
            listing.fill(header);
        }
    }

    fn refuses(&self) -> bool {
        self.quiet
    }

    fn freer(&self) -> Self::Freer {
        (self.group, self.listing.clone())
    }
}

impl<M: Mode> FreeSlot for (&TaskGroup<'_, '_, M>, Option<Listing>) {
    fn free(self, key: usize) {
        let (group, listing) = self;
        group.children.borrow_mut().free(key);
        if let Some(listing) = listing {
            listing.remove();
        }
    }
}

impl<M: Mode> fmt::Debug for TaskGroup<'_, '_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.check_owner();
        f.debug_struct("TaskGroup")
            .field("children", &self.len())
            .field("state", &self.state.get())
            .field("failures", &self.failures.borrow().len())
            .finish()
    }
}

/// Where a group child is listed for introspection (`all_tasks`, `dump_tasks`); the group
/// itself owns the child, so nothing cancels it through this entry.
#[derive(Clone)]
enum Listing {
    /// In the table of the loop `id`, touched only on that loop's thread: where every group
    /// that never leaves its thread lists its children.
    Loop { id: u64, key: usize },
    /// In the shared table of a multi-threaded runtime: for a `Sendable` group on a worker,
    /// whose children may end on another worker than the one that made them.
    Workers {
        workers: Arc<crate::workers::Workers>,
        key: usize,
    },
}

impl Listing {
    /// Reserves an entry on the running loop (`None` outside one).
    fn new(moves_between_threads: bool) -> Option<Listing> {
        EventLoop::with_current(|lp| match crate::workers::of_loop(lp) {
            Some(workers) if moves_between_threads => {
                let workers = workers.clone();
                let key = workers.reserve_slot();
                Listing::Workers { workers, key }
            }
            _ => Listing::Loop {
                id: lp.id(),
                key: lp.reserve_slot(),
            },
        })
    }

    fn fill(&self, header: &Header) {
        match self {
            Listing::Loop { id, key } => {
                EventLoop::with_current(|lp| {
                    if lp.id() == *id {
                        lp.fill_slot(*key, header, false);
                    }
                });
            }
            Listing::Workers { workers, key } => workers.fill_slot(*key, header, false),
        }
    }

    fn remove(self) {
        match self {
            Listing::Loop { id, key } => {
                // On the loop's own thread: the group never left it. (After the loop is gone,
                // there is no table left to clean.)
                EventLoop::with_current(|lp| {
                    if lp.id() == id {
                        lp.free_slot(key);
                    }
                });
            }
            Listing::Workers { workers, key } => workers.free_slot(key),
        }
    }
}
