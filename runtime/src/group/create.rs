//! Creating a child: admission, the one creation path for scoped children, and the public
//! `create_task` family.

use std::future::Future;

use super::listing::Listing;
use super::mode::sealed::Token;
use super::{Child, CreateTaskError, Mode, State, TaskFailure, TaskGroup, TaskHandle};
use crate::sync::limit::{Limited, Slot};
use crate::task::{Builder, Owner, Task, TaskError};
use crate::task_core::header::Header;
use crate::task_core::raw::{FreeSlot, Spawn, TaskSlots, create};

pub(super) enum Admission {
    Open,
    /// Refused; a destructor asked, so drop the future quietly.
    Quiet,
    Refused(CreateTaskError),
}

impl Admission {
    /// Whether the child is to be made quietly (and cancelled before it runs), or the refusal
    /// (the caller's future is then dropped unpolled as the caller returns).
    pub(super) fn quiet(self) -> Result<bool, CreateTaskError> {
        match self {
            Admission::Open => Ok(false),
            Admission::Quiet => Ok(true),
            Admission::Refused(refusal) => Err(refusal),
        }
    }
}

impl<'scope, 'env, M: Mode> TaskGroup<'scope, 'env, M> {
    /// Whether a new child may start. `quiet_refusal`: the caller cannot report a refusal (a
    /// `create_task` run by a destructor during the group's clean-up), so refuse quietly.
    #[track_caller]
    pub(super) fn admit(&self, quiet_refusal: bool) -> Admission {
        self.check_owner();
        let refusal = match self.state.get() {
            State::Open => return Admission::Open,
            State::Cancelling if self.cancelled.get() => CreateTaskError::Cancelled,
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
    pub(super) fn create<F>(
        &'scope self,
        future: F,
        quiet_refusal: bool,
        builder: Builder,
        location: &'static std::panic::Location<'static>,
    ) -> Result<TaskHandle<F::Value>, CreateTaskError>
    where
        F: Child<'scope, M>,
    {
        self.create_in(future, self.take_slot(), quiet_refusal, builder, location)
    }

    /// [`create`](Self::create), for a child that takes `slot` under the group's limit (`None`:
    /// no limit).
    pub(super) fn create_in<F>(
        &'scope self,
        future: F,
        slot: Option<Slot>,
        quiet_refusal: bool,
        builder: Builder,
        location: &'static std::panic::Location<'static>,
    ) -> Result<TaskHandle<F::Value>, CreateTaskError>
    where
        F: Child<'scope, M>,
    {
        let quiet = self.admit(quiet_refusal).quiet()?;
        let settle = |output, token| F::settle(output, token);
        Ok(match slot {
            None => self.create_child(future, settle, quiet, builder, location),
            Some(slot) => {
                self.create_child(Limited::new(future, slot), settle, quiet, builder, location)
            }
        })
    }

    /// The one creation path of scoped children: `future` is the child's future (a [`Child`]
    /// of the group, or one wrapped in [`Limited`]), `settle` its [`Child::settle`].
    fn create_child<G, T>(
        &'scope self,
        future: G,
        settle: fn(G::Output, Token) -> Result<T, M::Error>,
        quiet: bool,
        builder: Builder,
        location: &'static std::panic::Location<'static>,
    ) -> TaskHandle<T>
    where
        G: Future + 'scope,
    {
        let owner = Owner::Group {
            group: self.id,
            runner: self.runner,
        };
        let mut spawn: Spawn = builder.into_spawn(owner, location);
        spawn.stop_requested = self.stop_requested.get();
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
        // Why a child may borrow for `'scope` (no `'static` bound):
        //
        // 1. It is an `async_task` task made with `spawn_unchecked`, whose schedule function
        //    owns nothing but an `Arc` of the group's queue: waking a child, from any thread, at
        //    any time, only pushes its `Runnable` onto that queue, so wakers may outlive the
        //    group.
        // 2. Only the group's own scope future pops that queue and runs what it finds, while it
        //    is being polled (`poll_scope`): a child runs only while its group is alive and
        //    being driven, on the thread polling it.
        // 3. The scope future's `Teardown` drops every child's future before the scope's
        //    future finishes dropping; a leaked scope leaks its queue and table, which keep the
        //    futures, never run again (see `Teardown`).
        // 4. A child's output may borrow too. It stays in the task's allocation until the
        //    `TaskHandle` reads it or drops it, and the handle's type carries the output's
        //    lifetimes, so the compiler keeps the handle inside them.
        //
        // SAFETY: by 1-4, the future, the freer (`ChildSlots`) and the finish hook, which
        // borrow for `'scope`, are dropped while what they borrow lives, or never. Unless the
        // group is `Sendable`, the scope future is not `Send`, so a `!Send` future stays on its
        // thread; a `Sendable` group's children are `Send` (with `Send` outputs: `Child`), and
        // the freer and the finish hook hold only `&self`, which is `Sync` then, and `Send`
        // data (a `Listing`); see `owner.rs`. `G` is the child's future or a `Limited` of it,
        // which is `Send` when the child is (its `Slot` is `Send`).
        let raw = unsafe {
            create(
                &slots,
                future,
                &mut spawn,
                move |runnable| queue.push(runnable),
                move |header, outcome| {
                    self.settle(header, outcome.map(|output| settle(output, Token(()))))
                },
            )
        };
        TaskHandle::new(Task::from_raw(raw))
    }

    /// A child's outcome: an `Err` it returned, or a panic, fails the group.
    fn settle<T>(
        &self,
        header: &Header,
        outcome: Result<Result<T, M::Error>, TaskError>,
    ) -> Result<T, TaskError> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                self.fail_child(TaskFailure::Failed {
                    task: header.name(),
                    error,
                });
                Err(TaskError::Failed)
            }
            Err(error) => {
                self.record_panic(header, &error);
                Err(error)
            }
        }
    }

    fn record_panic(&self, header: &Header, error: &TaskError) {
        if let TaskError::Panicked(panic) = error {
            self.fail_child(TaskFailure::Panicked {
                task: header.name(),
                panic: panic.clone(),
            });
        }
    }
}

impl<'scope, 'env, M: Mode> TaskGroup<'scope, 'env, M> {
    /// Starts `future` as a child of this group: asyncio's `tg.create_task(coro)`.
    ///
    /// The group owns the child and waits for it before its scope ends; the returned handle is
    /// for reading the output or cancelling, and may be dropped freely. The child may borrow
    /// anything that outlives the group, and may capture `tg` to create siblings. If it panics,
    /// the group cancels everything else and fails.
    ///
    /// What a child must be depends on the group's mode ([`Child`]): in a fallible group
    /// (`task_group!(try |tg| ...)`) it returns `Result<T, E>`, an `Err(e)` fails the group as a
    /// panic does (`e` goes into the [`GroupError`](crate::GroupError), this handle reports
    /// [`TaskError::Failed`]), and the handle yields the `T`; in a send group
    /// (`task_group!(send |tg| ...)`) it must be `Send`, with a `Send` output, and what it
    /// borrows must be `Sync`.
    ///
    /// # Panics
    ///
    /// If the group is shutting down (a task failed) or closing: the future is dropped without
    /// running. Use [`TaskGroup::try_create_task`] to get the refusal as an error. A destructor
    /// run by the group's own clean-up is never panicked at: its new task is dropped quietly.
    /// In a send group, if called from a thread that is not running the group (see
    /// [`TaskGroup::scope_send`]).
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
    ///
    /// In a fallible group:
    ///
    /// ```
    /// use tether::TaskFailure;
    ///
    /// let result = tether::run(async {
    ///     tether::task_group!(try |tg| {
    ///         let one = tg.create_task(async { Ok(1) });
    ///         assert_eq!(one.await.unwrap(), 1);
    ///         tg.create_task(async { Err::<i32, _>("no route to host") });
    ///     })
    /// });
    /// let failures = result.unwrap_err().into_failures();
    /// assert!(matches!(&failures[0], TaskFailure::Failed { error: "no route to host", .. }));
    /// ```
    #[track_caller]
    pub fn create_task<F>(&'scope self, future: F) -> TaskHandle<F::Value>
    where
        F: Child<'scope, M>,
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
    pub fn create_task_with<F>(&'scope self, builder: Builder, future: F) -> TaskHandle<F::Value>
    where
        F: Child<'scope, M>,
    {
        let location = std::panic::Location::caller();
        or_panic(self.create(future, true, builder, location))
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
    ) -> Result<TaskHandle<F::Value>, CreateTaskError>
    where
        F: Child<'scope, M>,
    {
        self.try_create_task_with(Builder::new(), future)
    }

    /// Like [`TaskGroup::try_create_task`], configured by a [`Builder`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::task::Builder;
    ///
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         let handle = tg
    ///             .try_create_task_with(Builder::new().name("five"), async { 5 })
    ///             .expect("the group is open");
    ///         assert_eq!(handle.name(), "five");
    ///         assert_eq!(handle.await.unwrap(), 5);
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn try_create_task_with<F>(
        &'scope self,
        builder: Builder,
        future: F,
    ) -> Result<TaskHandle<F::Value>, CreateTaskError>
    where
        F: Child<'scope, M>,
    {
        self.create(future, false, builder, std::panic::Location::caller())
    }
}

/// The handle of a child the caller asked for with a panicking method (`create_task`, `spawn`).
#[track_caller]
pub(super) fn or_panic<T>(created: Result<TaskHandle<T>, CreateTaskError>) -> TaskHandle<T> {
    match created {
        Ok(handle) => handle,
        Err(refusal) => panic!("{refusal}"),
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
    fn free(self, header: &Header) {
        let (group, listing) = self;
        group.children.borrow_mut().free(header.slot());
        if let Some(listing) = listing {
            listing.remove();
        }
    }
}
