//! [`TaskSet`]: the owner for `'static` work that outlives any scope.

mod members;

use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::sync::limit::{Limited, Limiter, ReopenOnDrop, Slot, granted};
use crate::task::owning::{OwnsTask, WouldCancel};
use crate::task::{Builder, Owner, TaskError, TaskId};
use crate::task_core::raw::Spawn;
use members::Members;

/// A set of owned tasks: asyncio's `background_tasks` pattern, with ownership.
///
/// The set owns each task it starts until the task finishes or the set lets it go. Dropping the
/// set cancels every task still in it. Unlike a task group, a set has no scope: its tasks are
/// `'static` and the set can be stored, moved and returned.
///
/// As everywhere in tether, [`create_task`](TaskSet::create_task) starts a task that stays on
/// the loop that made it (it may hold `!Send` data), and [`spawn`](TaskSet::spawn) a `Send`
/// task that any worker of a [multi-threaded runtime](crate::Builder::workers) may run. On the
/// single-threaded loop the two are the same.
///
/// - [`TaskSet::new`] keeps each finished task's outcome until [`join_next`](TaskSet::join_next)
///   takes it, in completion order (tokio's `JoinSet`).
/// - [`TaskSet::background`] discards each outcome as its task finishes, so the set's memory
///   stays flat however many tasks pass through it (asyncio's `add_done_callback(discard)`).
///   Its `join_next` waits for the set to empty and returns `None`.
///
/// Either kind may have a concurrency limit ([`with_limit`](TaskSet::with_limit)): at most `n`
/// of its tasks run at once, the others wait unpolled in creation order.
///
/// # Examples
///
/// ```
/// use tether::TaskSet;
///
/// tether::run(async {
///     let mut set = TaskSet::new();
///     for i in 0..3 {
///         set.create_task(async move { i * 2 });
///     }
///     let mut outputs = set.join_all().await.into_iter().map(Result::unwrap).collect::<Vec<_>>();
///     outputs.sort();
///     assert_eq!(outputs, [0, 2, 4]);
/// });
/// ```
///
/// A set only takes `'static` futures: they may outlive the code that spawned them.
///
/// ```compile_fail
/// tether::run(async {
///     let local = String::from("borrowed");
///     let mut set = tether::TaskSet::new();
///     set.create_task(async { println!("{}", &local) });
/// });
/// ```
pub struct TaskSet<T> {
    /// Declared before `members`, so dropped first: the limit closes before the members are
    /// cancelled, and no queued member starts in between.
    limit: Option<SetLimit>,
    members: Members<T>,
}

/// A set's [`Limiter`], closed when the set is dropped.
struct SetLimit(Arc<Limiter>);

impl Drop for SetLimit {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl<T: 'static> TaskSet<T> {
    /// A set that keeps each outcome until [`join_next`](TaskSet::join_next) takes it.
    pub fn new() -> TaskSet<T> {
        TaskSet {
            limit: None,
            members: Members::new(true),
        }
    }

    /// A set that discards each outcome as its task finishes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// tether::run(async {
    ///     let done = Rc::new(Cell::new(0));
    ///     let mut background = tether::TaskSet::background();
    ///     for _ in 0..10 {
    ///         let done = done.clone();
    ///         background.create_task(async move { done.set(done.get() + 1) });
    ///     }
    ///     assert!(background.join_next().await.is_none());
    ///     assert_eq!(done.get(), 10);
    ///     assert!(background.is_empty());
    /// });
    /// ```
    pub fn background() -> TaskSet<T> {
        TaskSet {
            limit: None,
            members: Members::new(false),
        }
    }

    /// This set, with a concurrency limit: at most `limit` of its tasks run at once.
    ///
    /// A task started beyond the limit ([`create_task`](TaskSet::create_task) and
    /// [`spawn`](TaskSet::spawn) stay synchronous) waits, unpolled, until a running one ends;
    /// waiting tasks start in the order they were made. A waiting task is a member like any
    /// other: [`len`](TaskSet::len) counts it, cancelling it (or shutting the set down, or
    /// dropping the set) drops its future without ever polling it, and a task asked to stop
    /// gracefully ([`request_cancellation`](TaskSet::request_cancellation)) before its turn
    /// never starts. A slot is freed when a task's future has been dropped: it returned,
    /// panicked or was cancelled.
    ///
    /// To make the producer wait instead of queueing without bound, use
    /// [`create_task_when_free`](TaskSet::create_task_when_free) or
    /// [`spawn_when_free`](TaskSet::spawn_when_free).
    ///
    /// This is trio's and anyio's `CapacityLimiter`, and tokio's `Semaphore` acquired inside
    /// each `JoinSet` task, built into the set: the limit covers the tasks, and a waiting task
    /// holds no permit future of its own.
    ///
    /// # Panics
    ///
    /// If `limit` is 0 (no task could ever run), or if the set already holds tasks (they would
    /// not count against the limit).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// tether::run(async {
    ///     let running = Rc::new(Cell::new(0));
    ///     let most = Rc::new(Cell::new(0));
    ///     let mut set = tether::TaskSet::new().with_limit(2);
    ///     for _ in 0..10 {
    ///         let (running, most) = (running.clone(), most.clone());
    ///         set.create_task(async move {
    ///             running.set(running.get() + 1);
    ///             most.set(most.get().max(running.get()));
    ///             tether::yield_now().await;
    ///             running.set(running.get() - 1);
    ///         });
    ///     }
    ///     assert_eq!(set.len(), 10);
    ///     set.join_all().await;
    ///     assert_eq!(most.get(), 2);
    /// });
    /// ```
    #[track_caller]
    pub fn with_limit(mut self, limit: usize) -> TaskSet<T> {
        assert!(
            self.is_empty(),
            "TaskSet::with_limit on a set that holds tasks: its running tasks would not count \
             against the limit; set the limit on a new set (`TaskSet::new().with_limit(n)`)"
        );
        self.limit = Some(SetLimit(Limiter::new(limit)));
        self
    }

    /// The set's concurrency limit, if it has one ([`with_limit`](TaskSet::with_limit)).
    pub fn limit(&self) -> Option<usize> {
        self.limit.as_ref().map(|limit| limit.0.limit())
    }

    /// How many of the set's tasks wait for a free slot (always 0 without a limit).
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let mut set = tether::TaskSet::background().with_limit(1);
    ///     set.create_task(tether::yield_now());
    ///     set.create_task(tether::yield_now());
    ///     assert_eq!(set.waiting(), 1);
    ///     set.join_next().await;
    ///     assert_eq!(set.waiting(), 0);
    /// });
    /// ```
    pub fn waiting(&self) -> usize {
        self.limit.as_ref().map_or(0, |limit| limit.0.queued())
    }

    /// A place in the limit's queue for a new member, if the set has a limit.
    fn take_slot(&self) -> Option<Slot> {
        self.limit.as_ref().map(|limit| limit.0.slot())
    }

    /// Like [`create_task`](TaskSet::create_task), but first waits until the set's limit
    /// ([`with_limit`](TaskSet::with_limit)) lets the task run at once: the producer feels the
    /// back-pressure, instead of queueing tasks without bound. The wait is in line with the
    /// tasks already waiting, first come, first served. On a set without a limit, it starts the
    /// task at once.
    ///
    /// # Cancel safety
    ///
    /// If the returned future is dropped before the task is made, `future` is dropped unpolled
    /// and its place in the queue goes to the next in line.
    ///
    /// # Panics
    ///
    /// Outside a running event loop, as [`create_task`](crate::create_task) does.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let done = std::rc::Rc::new(std::cell::Cell::new(0));
    ///     let mut set = tether::TaskSet::background().with_limit(4);
    ///     for _ in 0..100 {
    ///         let done = done.clone();
    ///         // Waits while four jobs run: never more than four tasks in the set.
    ///         set.create_task_when_free(async move {
    ///             tether::yield_now().await;
    ///             done.set(done.get() + 1);
    ///         })
    ///         .await;
    ///         assert!(set.len() <= 4);
    ///     }
    ///     set.join_next().await;
    ///     assert_eq!(done.get(), 100);
    /// });
    /// ```
    #[track_caller]
    pub fn create_task_when_free<F>(&mut self, future: F) -> impl Future<Output = TaskId> + '_
    where
        F: Future<Output = T> + 'static,
    {
        let spawn = Builder::new().into_spawn(Owner::Set, Location::caller());
        let slot = self.take_slot();
        async move {
            let slot = granted(slot).await;
            self.start_local_in(future, slot, spawn)
        }
    }

    /// Like [`spawn`](TaskSet::spawn), but first waits for a free slot, as
    /// [`create_task_when_free`](TaskSet::create_task_when_free) does.
    ///
    /// # Cancel safety
    ///
    /// As [`create_task_when_free`](TaskSet::create_task_when_free).
    ///
    /// # Panics
    ///
    /// Outside a running event loop, as [`tether::spawn`](crate::spawn) does.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// let runtime = tether::Runtime::builder().workers(2).build();
    /// let total = runtime.run(async {
    ///     let mut set = tether::TaskSet::new().with_limit(2);
    ///     let mut total = 0;
    ///     for chunk in 0..8u64 {
    ///         set.spawn_when_free(async move { (chunk * 1000..(chunk + 1) * 1000).sum::<u64>() })
    ///             .await;
    ///         // Take what has finished, so the set holds at most a few outcomes.
    ///         while set.len() > 2 {
    ///             total += set.join_next().await.unwrap().unwrap();
    ///         }
    ///     }
    ///     total + set.join_all().await.into_iter().map(Result::unwrap).sum::<u64>()
    /// });
    /// assert_eq!(total, (0..8000u64).sum::<u64>());
    /// # }
    /// ```
    #[track_caller]
    pub fn spawn_when_free<F>(&mut self, future: F) -> impl Future<Output = TaskId> + '_
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        let spawn = Builder::new().into_spawn(Owner::Set, Location::caller());
        let slot = self.take_slot();
        async move {
            let slot = granted(slot).await;
            self.start_send_in(future, slot, spawn)
        }
    }

    /// Starts `future` as a task owned by this set, on this loop: asyncio's
    /// `background_tasks.add(asyncio.create_task(coro))`. The task stays on the loop (the
    /// worker) that made it, so it may hold `!Send` data (`Rc`, `RefCell` guards across an
    /// await); [`spawn`](TaskSet::spawn) makes a `Send` one that any worker may run.
    ///
    /// # Panics
    ///
    /// Outside a running event loop, as [`create_task`](crate::create_task) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// tether::run(async {
    ///     let mut set = tether::TaskSet::new();
    ///     let shared = Rc::new(20);
    ///     set.create_task(async move { *shared + 1 });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 21);
    /// });
    /// ```
    #[track_caller]
    pub fn create_task<F>(&mut self, future: F) -> TaskId
    where
        F: Future<Output = T> + 'static,
    {
        self.create_task_with(Builder::new(), future)
    }

    /// Like [`TaskSet::create_task`], configured by a [`Builder`] (name, context, eager start).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::task::Builder;
    ///
    /// tether::run(async {
    ///     let mut set = tether::TaskSet::new();
    ///     set.create_task_with(Builder::new().name("indexer"), async { 1 });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn create_task_with<F>(&mut self, builder: Builder, future: F) -> TaskId
    where
        F: Future<Output = T> + 'static,
    {
        let spawn = builder.into_spawn(Owner::Set, Location::caller());
        self.start_local_in(future, self.take_slot(), spawn)
    }

    /// Starts a `create_task` member that takes `slot` under the set's limit (`None`: no limit).
    fn start_local_in<F>(&mut self, future: F, slot: Option<Slot>, spawn: Spawn) -> TaskId
    where
        F: Future<Output = T> + 'static,
    {
        match slot {
            None => self.members.start_local(future, spawn),
            Some(slot) => self.members.start_local(Limited::new(future, slot), spawn),
        }
    }

    /// Starts `future` as a `Send` task owned by this set, that any worker of a
    /// [multi-threaded runtime](crate::Builder::workers) may run, as
    /// [`tether::spawn`](crate::spawn) does. On the single-threaded loop it is the same as
    /// [`create_task`](TaskSet::create_task).
    ///
    /// # Panics
    ///
    /// Outside a running event loop, as [`tether::spawn`](crate::spawn) does.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// let runtime = tether::Runtime::builder().workers(2).build();
    /// let total = runtime.run(async {
    ///     let mut set = tether::TaskSet::new();
    ///     for range in [0..500_000u64, 500_000..1_000_000u64] {
    ///         set.spawn(async move { range.sum::<u64>() });
    ///     }
    ///     set.join_all().await.into_iter().map(Result::unwrap).sum::<u64>()
    /// });
    /// assert_eq!(total, 499_999_500_000);
    /// # }
    /// ```
    ///
    /// A future that is not `Send` does not compile (use `create_task` for it):
    ///
    /// ```compile_fail
    /// tether::run(async {
    ///     let mut set = tether::TaskSet::new();
    ///     let shared = std::rc::Rc::new(1);
    ///     set.spawn(async move { *shared });
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> TaskId
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        self.spawn_with(Builder::new(), future)
    }

    /// Like [`TaskSet::spawn`], configured by a [`Builder`] (name, context, eager start).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// use tether::task::Builder;
    ///
    /// tether::Runtime::builder().workers(2).build().run(async {
    ///     let mut set = tether::TaskSet::background();
    ///     set.spawn_with(Builder::new().name("flush"), async {});
    ///     assert!(set.join_next().await.is_none());
    ///     assert!(set.is_empty());
    /// });
    /// # }
    /// ```
    #[track_caller]
    pub fn spawn_with<F>(&mut self, builder: Builder, future: F) -> TaskId
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        let spawn = builder.into_spawn(Owner::Set, Location::caller());
        self.start_send_in(future, self.take_slot(), spawn)
    }

    /// Starts a `spawn` member that takes `slot` under the set's limit (`None`: no limit).
    fn start_send_in<F>(&mut self, future: F, slot: Option<Slot>, spawn: Spawn) -> TaskId
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        match slot {
            None => self.members.start_send(future, spawn),
            Some(slot) => self.members.start_send(Limited::new(future, slot), spawn),
        }
    }

    /// How many tasks the set holds: running ones, ones waiting for a slot under the set's
    /// [limit](TaskSet::with_limit), and (for [`TaskSet::new`]) finished ones whose outcome has
    /// not been taken.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// `true` if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the next task to finish and returns its outcome; `None` when the set is empty.
    ///
    /// On a [`background`](TaskSet::background) set, outcomes are not kept: this waits until the
    /// set is empty and returns `None`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the returned future is dropped, no outcome is lost.
    pub async fn join_next(&mut self) -> Option<Result<T, TaskError>> {
        poll_fn(|cx| self.members.poll_next(cx)).await
    }

    /// Waits for every task and returns their outcomes in completion order (empty for a
    /// background set).
    pub async fn join_all(&mut self) -> Vec<Result<T, TaskError>> {
        let mut outcomes = Vec::with_capacity(self.len());
        while let Some(outcome) = self.join_next().await {
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Cancels every task and waits until all have stopped (their futures dropped). Outcomes
    /// are discarded.
    pub async fn shutdown(&mut self) {
        let (_reopen, _) = self.cancel_all();
        while self.join_next().await.is_some() {}
    }

    /// Cancels every task. A limited set stops handing out slots first, so that no waiting
    /// task starts while the others are being cancelled, until the returned guard is dropped
    /// (the shutdown is over, or its future was dropped): tasks made after that run again.
    /// Also returns how many tasks had not finished.
    fn cancel_all(&self) -> (Option<ReopenOnDrop>, usize) {
        let reopen = self.limit.as_ref().map(|limit| {
            limit.0.close();
            ReopenOnDrop(limit.0.clone())
        });
        let mut running = 0;
        self.members.for_each(|task| {
            running += usize::from(task.cancel());
        });
        (reopen, running)
    }

    /// Asks every task in the set, and what each owns, to stop gracefully (see
    /// [`graceful`](crate::graceful)); nothing is dropped. Tasks added later are not asked.
    pub fn request_cancellation(&self) {
        self.members.for_each(|task| {
            task.request_cancellation();
        });
    }

    /// Two-phase shutdown: asks every task to stop, waits up to `grace` for all of them to
    /// finish, then cancels those still running and waits until their futures are dropped.
    /// Returns how many had to be cancelled. Outcomes are discarded, as by
    /// [`shutdown`](TaskSet::shutdown); to keep them, call
    /// [`request_cancellation`](TaskSet::request_cancellation) and
    /// [`join_next`](TaskSet::join_next) yourself.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tether::Runtime::builder().start_paused(true).build().run(async {
    ///     let mut set = tether::TaskSet::new();
    ///     set.spawn(async { tether::cancellation_requested().await }); // leaves when asked
    ///     set.spawn(tether::sleep(Duration::from_secs(3600))); // ignores the request
    ///     let cancelled = set.shutdown_gracefully(Duration::from_secs(2)).await;
    ///     assert_eq!(cancelled, 1);
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown_gracefully(&mut self, grace: Duration) -> usize {
        self.request_cancellation();
        let drained =
            crate::time::timeout(grace, async { while self.join_next().await.is_some() {} }).await;
        if drained.is_ok() {
            return 0;
        }
        let (_reopen, running) = self.cancel_all();
        while self.join_next().await.is_some() {}
        running
    }
}

impl<T: 'static> Default for TaskSet<T> {
    fn default() -> Self {
        TaskSet::new()
    }
}

// Dropping a set cancels its members: `let _ =` on one is rejected (`crate::task::owning`).
impl<T> OwnsTask for TaskSet<T> {
    type Verdict = WouldCancel;
}

impl<T> fmt::Debug for TaskSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskSet")
            .field("mode", &self.members.kind())
            .field("len", &self.members.len())
            .field("limit", &self.limit.as_ref().map(|limit| limit.0.limit()))
            .finish()
    }
}
