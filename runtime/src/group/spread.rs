//! Spread children: `'static + Send` children of a group that run on any worker
//! ([`TaskGroup::spawn`]).
//!
//! A spread child is a `Send` task made the way [`tether::spawn`](crate::spawn) makes one, so it
//! is scheduled on the workers' queues rather than through the group's queue, and runs in
//! parallel with its group. What keeps it a child of the group is a wrapper around its future,
//! [`SpreadFuture`], and state the two share across threads, [`Spread`]:
//!
//! - the group counts its live spread children; the count goes down only when a child's task
//!   has finished (by a done callback: its future has been dropped, its outcome is recorded and
//!   its handle says it is finished), and the group's scope does not end while it is above
//!   zero: a real join, on success, failure and cancellation alike;
//! - a panic (or, in a fallible group, an `Err`) is caught by the wrapper, handed to the group
//!   (which then cancels everything else and lists it in its [`GroupError`](crate::GroupError)),
//!   and re-raised so that the task's own handle reports it too;
//! - the group keeps a [`CancelHandle`] of each live spread child to cancel it, and a flag that
//!   a spread child reads at every poll, so that one that was not reached yet (still being
//!   created) cancels itself instead of running on.

use std::collections::HashMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use super::create::or_panic;
use super::mode::sealed::Token;
use super::queue::GroupQueue;
use super::{Child, CreateTaskError, Mode, TaskFailure, TaskGroup, TaskHandle};
use crate::sync::limit::{Limited, Slot};
use crate::task::{Builder, CancelHandle, Owner, Panic, Task, TaskId};
use crate::task_core::current;
use crate::task_core::error::OwnerFailure;
use crate::task_core::header::Header;
use crate::task_core::raw::running_id;
use crate::task_core::supervise::drop_in_place;

/// What a group shares with its spread children.
pub(crate) struct Spread<E> {
    /// Where the group's own task is woken from.
    queue: Arc<GroupQueue>,
    /// Set once the group stops being open: every spread child still running is to stop.
    cancelling: AtomicBool,
    state: Mutex<State<E>>,
}

struct State<E> {
    /// Spread children whose task has not finished yet.
    live: usize,
    next_key: u64,
    /// The children being made or alive, each with its cancel handle once its task exists.
    children: HashMap<u64, Option<CancelHandle>>,
    /// Failures the group has not collected yet.
    failures: Vec<TaskFailure<E>>,
}

impl<E> Spread<E> {
    pub(crate) fn new(queue: Arc<GroupQueue>) -> Spread<E> {
        Spread {
            queue,
            cancelling: AtomicBool::new(false),
            state: Mutex::new(State {
                live: 0,
                next_key: 0,
                children: HashMap::new(),
                failures: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        crate::util::loom_facade::lock(&self.state)
    }

    /// A key for a child about to be made.
    fn reserve(&self) -> u64 {
        let mut state = self.lock();
        let key = state.next_key;
        state.next_key += 1;
        state.children.insert(key, None);
        key
    }

    /// Counts child `key`, whose task now exists, until the task finishes; cancels it at once if
    /// the group is already cancelling.
    ///
    /// Called by the group's own task, inside its poll: the group cannot look at the count
    /// between the task's creation and this.
    fn start<T>(self: &Arc<Self>, key: u64, task: &Task<T>)
    where
        E: Send + 'static,
    {
        let handle = task.cancel_handle();
        let cancel = {
            let mut state = self.lock();
            state.live += 1;
            state.children.insert(key, Some(handle.clone()));
            // Read under the lock: `cancel_all` sets the flag before it takes the lock, so
            // either it sees this handle or this sees the flag.
            self.cancelling.load(Ordering::SeqCst)
        };
        if cancel {
            handle.cancel();
        }
        // Counted before the callback exists: it may run at once, on another thread.
        let spread = self.clone();
        task.add_done_callback(move |_| spread.ended(key));
    }

    /// Child `key`'s task has finished: uncounts it and wakes the group.
    fn ended(&self, key: u64) {
        let handle = {
            let mut state = self.lock();
            state.live -= 1;
            state.children.remove(&key)
        };
        drop(handle);
        self.queue.wake();
    }

    /// Asks every spread child to stop, now and from now on (idempotent).
    pub(crate) fn cancel_all(&self) {
        self.cancelling.store(true, Ordering::SeqCst);
        let handles = self.handles();
        // Outside the lock: cancelling wakes the task, and a wake may run it right here (a
        // closed runtime completes a cancellation on the waking thread), which locks again.
        for handle in handles {
            handle.cancel();
        }
    }

    /// Hands a failure to the group and wakes it.
    fn fail(&self, failure: TaskFailure<E>) {
        self.lock().failures.push(failure);
        self.queue.wake();
    }

    /// The failures not collected yet, and how many children are alive: read together, so that
    /// a count of zero comes with every failure (a child records its failure before it ends).
    pub(crate) fn take(&self) -> (Vec<TaskFailure<E>>, usize) {
        let mut state = self.lock();
        (std::mem::take(&mut state.failures), state.live)
    }

    /// `true` if the group must look again: a failure came in, or a child ended, since `take`
    /// said `live` were alive.
    pub(crate) fn has_news(&self, live: usize) -> bool {
        let state = self.lock();
        !state.failures.is_empty() || state.live < live
    }

    /// The handles of the children still running.
    pub(crate) fn handles(&self) -> Vec<CancelHandle> {
        self.lock().children.values().flatten().cloned().collect()
    }

    pub(crate) fn live(&self) -> usize {
        self.lock().live
    }

    fn id_of(&self, key: u64) -> Option<TaskId> {
        self.lock()
            .children
            .get(&key)
            .and_then(|handle| handle.as_ref()?.id())
    }
}

/// The future of a spread child's task: the user's future, reporting to the group.
struct SpreadFuture<F: Future, T, E> {
    /// Structurally pinned; `None` once it has ended (returned, panicked or been dropped).
    future: Option<F>,
    /// Turns the future's output into the task's output, or into a failure of the group.
    settle: fn(F::Output) -> Result<T, E>,
    /// The task's id, learnt at its first poll.
    id: Option<TaskId>,
    spread: Arc<Spread<E>>,
    /// This child's key in `spread`.
    key: u64,
}

/// The name of the task being polled (or dropped) on this thread.
fn running_name() -> Option<String> {
    current::with_running(Header::name)
}

impl<F: Future, T, E> SpreadFuture<F, T, E> {
    /// Hands `panic` to the group, then ends the task with that same panic.
    fn raise(&self, panic: Panic) -> ! {
        self.spread.fail(TaskFailure::Panicked {
            task: running_name().unwrap_or_else(|| "a spread child".to_owned()),
            panic: panic.clone(),
        });
        resume_unwind(Box::new(panic))
    }
}

impl<F: Future, T, E> Future for SpreadFuture<F, T, E> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // SAFETY: only `future` is pinned structurally: it is never moved out of `self`, only
        // pinned in place below and dropped in place (`drop_in_place` assigns `None` over it). The
        // other fields are never pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if this.id.is_none() {
            this.id = running_id();
        }
        if this.spread.cancelling.load(Ordering::SeqCst) {
            // The group is cancelling, and its request may not have reached this task yet (it
            // was being created): make it now. It wakes this task, whose wrapper then drops
            // this future without polling it again.
            if current::with_running(|header| header.request_cancel(None)).is_some() {
                return Poll::Pending;
            }
        }
        let Some(future) = this.future.as_mut() else {
            unreachable!("a finished task is never polled again: async-task stops at Ready");
        };
        // SAFETY: `future` lives in `self`, which is pinned, and stays there until it is dropped
        // in place (see above).
        let future = unsafe { Pin::new_unchecked(future) };
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                if let Some(panic) = drop_in_place(&mut this.future) {
                    this.raise(panic);
                }
                match (this.settle)(output) {
                    Ok(value) => Poll::Ready(value),
                    Err(error) => {
                        this.spread.fail(TaskFailure::Failed {
                            task: running_name().unwrap_or_else(|| "a spread child".to_owned()),
                            error,
                        });
                        // Ends the task as `TaskError::Failed`; no panic hook runs.
                        resume_unwind(Box::new(OwnerFailure))
                    }
                }
            }
            Err(payload) => {
                // A second panic, from the destructors of the future that panicked, is dropped
                // in favour of the first, as for any task.
                let _ = drop_in_place(&mut this.future);
                this.raise(Panic::new(payload))
            }
        }
    }
}

impl<F: Future, T, E> Drop for SpreadFuture<F, T, E> {
    /// The future is dropped unfinished: cancelled. A panic from its destructors is a failure
    /// of the group, and of the task when the task's wrapper is dropping it (it catches it).
    fn drop(&mut self) {
        if self.future.is_none() {
            return;
        }
        let Some(panic) = drop_in_place(&mut self.future) else {
            return;
        };
        let id = self.id.or_else(|| self.spread.id_of(self.key));
        let ours = id.is_some() && running_id() == id;
        let task = match (ours, id) {
            (true, _) => running_name(),
            (false, Some(id)) => Some(format!("Task-{id}")),
            (false, None) => None,
        };
        self.spread.fail(TaskFailure::Panicked {
            task: task.unwrap_or_else(|| "a spread child".to_owned()),
            panic: panic.clone(),
        });
        if ours && !std::thread::panicking() {
            // This task is being cancelled by tether's task wrapper, which catches this and
            // reports the same panic through the task's handle.
            resume_unwind(Box::new(panic));
        }
    }
}

impl<'scope, 'env, M: Mode> TaskGroup<'scope, 'env, M> {
    /// The state shared with spread children, made at the first spread child.
    fn spread_state(&self) -> &Arc<Spread<M::Error>> {
        self.spread
            .get_or_init(|| Arc::new(Spread::new(self.queue.clone())))
    }

    /// Creates a spread child, or refuses and drops `future` unpolled.
    fn create_spread<F>(
        &self,
        future: F,
        quiet_refusal: bool,
        builder: Builder,
        location: &'static std::panic::Location<'static>,
    ) -> Result<TaskHandle<F::Value>, CreateTaskError>
    where
        F: Child<'scope, M> + Send + 'static,
        F::Value: Send + 'static,
        M::Error: Send + 'static,
    {
        self.create_spread_in(future, self.take_slot(), quiet_refusal, builder, location)
    }

    /// [`create_spread`](Self::create_spread), for a child that takes `slot` under the group's
    /// limit (`None`: no limit).
    pub(super) fn create_spread_in<F>(
        &self,
        future: F,
        slot: Option<Slot>,
        quiet_refusal: bool,
        builder: Builder,
        location: &'static std::panic::Location<'static>,
    ) -> Result<TaskHandle<F::Value>, CreateTaskError>
    where
        F: Child<'scope, M> + Send + 'static,
        F::Value: Send + 'static,
        M::Error: Send + 'static,
    {
        let quiet = self.admit(quiet_refusal).quiet()?;
        let settle = |output| F::settle(output, Token(()));
        Ok(match slot {
            None => self.start_spread(future, settle, quiet, builder, location),
            Some(slot) => {
                self.start_spread(Limited::new(future, slot), settle, quiet, builder, location)
            }
        })
    }

    /// The one creation path of spread children: `future` is the child's future (or one
    /// wrapped in [`Limited`]), `settle` its [`Child::settle`].
    fn start_spread<G, T>(
        &self,
        future: G,
        settle: fn(G::Output) -> Result<T, M::Error>,
        quiet: bool,
        builder: Builder,
        location: &'static std::panic::Location<'static>,
    ) -> TaskHandle<T>
    where
        G: Future + Send + 'static,
        T: Send + 'static,
        M::Error: Send + 'static,
    {
        let spread = self.spread_state();
        if quiet {
            // Asked for by a destructor during clean-up: the child cancels itself at its first
            // poll, without polling `future`.
            spread.cancel_all();
        }
        let key = spread.reserve();
        let wrapped = SpreadFuture {
            future: Some(future),
            settle,
            id: None,
            spread: spread.clone(),
            key,
        };
        let owner = Owner::Group {
            group: self.id,
            runner: self.runner,
        };
        let mut spawn = builder.into_spawn(owner, location);
        spawn.eager &= !quiet;
        spawn.stop_requested = self.stop_requested.get();
        let task = crate::task::spawn_send(wrapped, spawn);
        spread.start(key, &task);
        TaskHandle::new(task)
    }
}

impl<'scope, 'env, M: Mode> TaskGroup<'scope, 'env, M> {
    /// Starts `future` as a child of this group that may run on any worker, in parallel with
    /// the group and its other children.
    ///
    /// A [`create_task`](TaskGroup::create_task) child runs inside its group's poll, on the
    /// group's worker: it may borrow, but never runs at the same time as the group. A `spawn`
    /// child is a `Send` task like those of [`tether::spawn`](crate::spawn): it must be
    /// `'static + Send` (it borrows nothing), and in return any idle worker may run it. It is
    /// still the group's child in every other way: the group owns it, its panic (or, in a
    /// fallible group, its `Err`) fails the group (cancelling the others, listed in the
    /// [`GroupError`](crate::GroupError)), a failure or the end of the group cancels it, and
    /// the scope does not end until its future has been dropped. The one exception is a scope
    /// future dropped before it finished: see
    /// ["Spread children and a dropped scope"](crate::group#spread-children-and-a-dropped-scope).
    ///
    /// On the single-threaded loop it is a `'static` child like any other.
    ///
    /// The returned handle does not own the task: dropping it leaves the task to the group.
    ///
    /// # Panics
    ///
    /// If the group is shutting down or closing (as [`create_task`](TaskGroup::create_task));
    /// [`try_spawn`](TaskGroup::try_spawn) returns the refusal instead. Outside a running
    /// event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// let runtime = tether::Runtime::builder().workers(2).build();
    /// let total = runtime.run(async {
    ///     tether::task_group!(|tg| {
    ///         let halves = [0..500_000u64, 500_000..1_000_000u64]
    ///             .map(|range| tg.spawn(async move { range.sum::<u64>() }));
    ///         let mut total = 0;
    ///         for half in halves {
    ///             total += half.await.unwrap();
    ///         }
    ///         total
    ///     })
    /// });
    /// assert_eq!(total.unwrap(), 499_999_500_000);
    /// # }
    /// ```
    ///
    /// In a fallible group:
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// use tether::TaskFailure;
    ///
    /// let result = tether::Runtime::builder().workers(2).build().run(async {
    ///     tether::task_group!(try |tg| {
    ///         tg.spawn(async { Ok(1) });
    ///         tg.spawn(async { Err::<i32, _>("checksum mismatch") });
    ///     })
    /// });
    /// let failures = result.unwrap_err().into_failures();
    /// assert!(matches!(&failures[0], TaskFailure::Failed { error: "checksum mismatch", .. }));
    /// # }
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> TaskHandle<F::Value>
    where
        F: Child<'scope, M> + Send + 'static,
        F::Value: Send + 'static,
        M::Error: Send + 'static,
    {
        self.spawn_with(Builder::new(), future)
    }

    /// Like [`TaskGroup::spawn`], configured by a [`Builder`] (name, context, eager start).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// use tether::task::Builder;
    ///
    /// tether::Runtime::builder().workers(2).build().run(async {
    ///     tether::task_group!(|tg| {
    ///         let child = tg.spawn_with(Builder::new().name("checksum"), async { 7 });
    ///         assert_eq!(child.name(), "checksum");
    ///         assert_eq!(child.await.unwrap(), 7);
    ///     })
    ///     .unwrap();
    /// });
    /// # }
    /// ```
    #[track_caller]
    pub fn spawn_with<F>(&self, builder: Builder, future: F) -> TaskHandle<F::Value>
    where
        F: Child<'scope, M> + Send + 'static,
        F::Value: Send + 'static,
        M::Error: Send + 'static,
    {
        let location = std::panic::Location::caller();
        or_panic(self.create_spread(future, true, builder, location))
    }

    /// Like [`TaskGroup::spawn`], but a refusal is returned as an error (the future is dropped
    /// without running) instead of a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// tether::Runtime::builder().workers(2).build().run(async {
    ///     tether::task_group!(|tg| {
    ///         let handle = tg.try_spawn(async { 5 }).expect("the group is open");
    ///         assert_eq!(handle.await.unwrap(), 5);
    ///     })
    ///     .unwrap();
    /// });
    /// # }
    /// ```
    #[track_caller]
    pub fn try_spawn<F>(&self, future: F) -> Result<TaskHandle<F::Value>, CreateTaskError>
    where
        F: Child<'scope, M> + Send + 'static,
        F::Value: Send + 'static,
        M::Error: Send + 'static,
    {
        self.try_spawn_with(Builder::new(), future)
    }

    /// Like [`TaskGroup::try_spawn`], configured by a [`Builder`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// use tether::task::Builder;
    ///
    /// tether::Runtime::builder().workers(2).build().run(async {
    ///     tether::task_group!(try |tg| {
    ///         let parse = async { "7".parse::<u8>() };
    ///         let handle = tg
    ///             .try_spawn_with(Builder::new().name("parse"), parse)
    ///             .expect("the group is open");
    ///         assert_eq!(handle.name(), "parse");
    ///         assert_eq!(handle.await.unwrap(), 7);
    ///     })
    ///     .unwrap();
    /// });
    /// # }
    /// ```
    #[track_caller]
    pub fn try_spawn_with<F>(
        &self,
        builder: Builder,
        future: F,
    ) -> Result<TaskHandle<F::Value>, CreateTaskError>
    where
        F: Child<'scope, M> + Send + 'static,
        F::Value: Send + 'static,
        M::Error: Send + 'static,
    {
        self.create_spread(future, false, builder, std::panic::Location::caller())
    }
}
