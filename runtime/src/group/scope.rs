//! The scope driver: opens a group, polls its body and children, and tears it down.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::owner::{Polling, thread_token};
use super::supervise::Policy;
use super::{Fallible, GroupError, Mode, Plain, Sendable, State, TaskFailure, TaskGroup};
use crate::sync::limit::Limiter;
use crate::task::Panic;

/// How many children a group runs per poll before it lets the event loop run other tasks.
pub(crate) const BATCH: usize = 128;

/// The name a failure of the group's body is reported under.
const BODY: &str = "body";

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
        enter(body, Policy::FailFast, None).await
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
        enter(body, Policy::FailFast, None).await
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
    /// # #[cfg(feature = "workers")] {
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
    /// # }
    /// ```
    pub async fn scope_send<F, R>(body: F) -> Result<R, GroupError>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Plain>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body, Policy::FailFast, None).await
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
        enter_send(body, Policy::FailFast, None).await
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
pub(super) async fn enter_send<'env, M, F, R>(
    body: F,
    policy: Policy,
    limit: Option<Arc<Limiter>>,
) -> Result<R, GroupError<M::Error>>
where
    M: Mode,
    F: for<'scope> FnOnce(&'scope TaskGroup<'scope, 'env, M>) -> SendBody<'scope, R>,
{
    let mut group = TaskGroup::with_policy(policy);
    group.limit = limit;
    let mut driver = pin!(drive(&group, body(&group)));
    // As in `enter`.
    let _teardown = Teardown { group: &group };
    driver.as_mut().await
}

/// Runs a group scope: the body, its children, and the guard that drops them.
pub(super) async fn enter<'env, M, F, R>(
    body: F,
    policy: Policy,
    limit: Option<Arc<Limiter>>,
) -> Result<R, GroupError<M::Error>>
where
    M: Mode,
    F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, M>) -> R,
{
    let mut group = TaskGroup::with_policy(policy);
    group.limit = limit;
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
    let mut record = crate::task_core::awaiting::WaitRecord::new();
    poll_fn(|cx| {
        let poll = group.poll_scope(cx, body.as_mut(), &mut output);
        // Once the body has returned, the task only waits for the children.
        if output.is_some() {
            return record.track(poll, || crate::task_core::awaiting::Awaiting::Group {
                id: group.id,
            });
        }
        poll
    })
    .await;
    group.state.set(State::Closed);
    let failures = group.failures.take();
    match output {
        Some(output) if failures.is_empty() => Ok(output),
        None if failures.is_empty() => {
            debug_assert!(
                group.cancelled.get(),
                "a group without failures drops an unfinished body only when cancelled"
            );
            Err(GroupError::cancelled())
        }
        _ => Err(GroupError::new(failures)),
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
//
// This guard is what makes borrowing children sound. A future that borrows must never be
// polled or dropped after what it borrows is gone; a waker can outlive anything, and a scope's
// future can be leaked with `mem::forget` so that no destructor tells the children to stop.
// So children are scheduled through their group (see `create`): they run only inside
// `poll_scope`. When the scope future is dropped, this guard cancels every child and runs each
// one last time, which drops the child's future, before the body is dropped and before the
// drop returns; the group's table of live children (each entry holding the child's waker) must
// be empty before `teardown` returns. If the scope future is leaked instead, its queue and
// table are leaked with it: the children's futures stay inside their allocations, which the
// queue and table keep alive, and nothing ever runs or drops them again.
//
// `TaskGroup` has no `Drop` of its own: the drop checker would reject the self-borrow
// `&'scope TaskGroup<'scope, '_>`.
struct Teardown<'a, 'scope, 'env, M: Mode> {
    group: &'a TaskGroup<'scope, 'env, M>,
}

impl<M: Mode> Drop for Teardown<'_, '_, '_, M> {
    fn drop(&mut self) {
        self.group.teardown();
    }
}

impl<M: Mode> TaskGroup<'_, '_, M> {
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
        let mut batch = super::seeded::group_batch(limit, || self.queue.len());
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
    /// none of those is left. Spread children are only asked to stop (see the group module
    /// docs, "Spread children and a dropped scope").
    fn teardown(&self) {
        if M::CHECKED {
            // Never cleared: the body's future, dropped right after this, may still call the
            // group from its destructors, and then the group is gone.
            self.poller.store(thread_token(), Ordering::Relaxed);
        }
        self.state.set(State::Closed);
        self.close_limit();
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
