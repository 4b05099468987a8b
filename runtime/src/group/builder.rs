//! [`GroupBuilder`]: a group's options, set before it opens.

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;

use super::scope::{enter, enter_send};
use super::supervise::Policy;
use super::{Fallible, GroupError, Plain, SendBody, Sendable, TaskGroup};
use crate::sync::limit::{Limiter, ZERO_LIMIT};

/// The options of a task group, set before it opens; then one of the scope methods (the same
/// as [`TaskGroup`]'s) runs the group. `task_group!(limit = n, |tg| ...)` writes
/// `TaskGroup::builder().limit(n).scope(async |tg| ...).await` for you.
///
/// # Examples
///
/// ```
/// use tether::TaskGroup;
///
/// let pages = ["a", "bb", "ccc", "dddd"];
/// let total = tether::run(async {
///     TaskGroup::builder()
///         .limit(2)
///         .scope(async |tg| {
///             let sizes: Vec<_> =
///                 pages.iter().map(|page| tg.create_task(async move { page.len() })).collect();
///             assert_eq!(tg.waiting(), 2); // two run, two wait their turn
///             let mut total = 0;
///             for size in sizes {
///                 total += size.await.unwrap();
///             }
///             total
///         })
///         .await
/// });
/// assert_eq!(total.unwrap(), 10);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a GroupBuilder does nothing until one of its scope methods runs the group"]
pub struct GroupBuilder {
    limit: Option<NonZeroUsize>,
}

impl TaskGroup<'static, 'static, Plain> {
    /// A [`GroupBuilder`], to open a group with options (a concurrency limit).
    pub fn builder() -> GroupBuilder {
        GroupBuilder::default()
    }
}

impl GroupBuilder {
    /// At most `limit` children of the group run at once (scoped ones, from
    /// [`create_task`](TaskGroup::create_task), and spread ones, from
    /// [`spawn`](TaskGroup::spawn), count alike); trio's and anyio's `CapacityLimiter`, built
    /// into the group.
    ///
    /// A child made beyond the limit (`create_task` and `spawn` stay synchronous) waits,
    /// unpolled, until a running one's future has been dropped (it returned, panicked or was
    /// cancelled); waiting children start in the order they were made. A waiting child is a
    /// child like any other: the group owns it and joins it, [`len`](TaskGroup::len) counts
    /// it, its handle can be awaited and cancelled (its future is then dropped without ever
    /// being polled), and when the group fails or ends early every waiting child is dropped
    /// unpolled, none started meanwhile. A child asked to stop gracefully before its turn
    /// never starts.
    ///
    /// A producer that must not run ahead of the children uses
    /// [`create_task_when_free`](TaskGroup::create_task_when_free) (or
    /// [`spawn_when_free`](TaskGroup::spawn_when_free)), which waits for a free slot.
    ///
    /// # Panics
    ///
    /// If `limit` is 0: no child could ever run. (`task_group!(limit = 0, ...)` is refused at
    /// compile time.)
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    ///
    /// let (running, most) = (Cell::new(0), Cell::new(0));
    /// tether::run(async {
    ///     tether::task_group!(limit = 3, |tg| {
    ///         for _ in 0..20 {
    ///             tg.create_task(async {
    ///                 running.set(running.get() + 1);
    ///                 most.set(most.get().max(running.get()));
    ///                 tether::yield_now().await;
    ///                 running.set(running.get() - 1);
    ///             });
    ///         }
    ///     })
    ///     .unwrap();
    /// });
    /// assert_eq!(most.get(), 3);
    /// ```
    #[track_caller]
    pub fn limit(mut self, limit: usize) -> GroupBuilder {
        self.limit = Some(NonZeroUsize::new(limit).expect(ZERO_LIMIT));
        self
    }

    fn limiter(&self) -> Option<Arc<Limiter>> {
        self.limit.map(|limit| Limiter::new(limit.get()))
    }

    /// [`TaskGroup::scope`] with these options.
    pub fn scope<'env, F, R>(self, body: F) -> impl Future<Output = Result<R, GroupError>>
    where
        F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, Plain>) -> R,
    {
        enter(body, Policy::FailFast, self.limiter())
    }

    /// [`TaskGroup::try_scope`] with these options.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::TaskGroup;
    ///
    /// let result = tether::run(async {
    ///     TaskGroup::builder()
    ///         .limit(1)
    ///         .try_scope(async |tg| {
    ///             tg.create_task(async { Err::<(), _>("disk full") });
    ///             // Waits behind the first child, which fails the group: never runs.
    ///             tg.create_task(async { unreachable!("dropped unpolled") as Result<(), _> });
    ///         })
    ///         .await
    /// });
    /// assert_eq!(result.unwrap_err().into_failures().len(), 1);
    /// ```
    pub fn try_scope<'env, E, F, R>(self, body: F) -> impl Future<Output = Result<R, GroupError<E>>>
    where
        F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, Fallible<E>>) -> R,
    {
        enter(body, Policy::FailFast, self.limiter())
    }

    /// [`TaskGroup::scope_send`] with these options.
    pub fn scope_send<'env, F, R>(self, body: F) -> impl Future<Output = Result<R, GroupError>>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Plain>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body, Policy::FailFast, self.limiter())
    }

    /// [`TaskGroup::try_scope_send`] with these options.
    pub fn try_scope_send<'env, E, F, R>(
        self,
        body: F,
    ) -> impl Future<Output = Result<R, GroupError<E>>>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Fallible<E>>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body, Policy::FailFast, self.limiter())
    }
    /// [`TaskGroup::supervise`] with these options: a supervising group (a child's failure
    /// cancels nothing), what `task_group!(limit = n, supervise |tg| ...)` expands to.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::TaskGroup;
    ///
    /// let outcome = tether::run(async {
    ///     TaskGroup::builder()
    ///         .limit(1)
    ///         .supervise(async |tg| {
    ///             tg.create_task(async { panic!("alone") });
    ///             tg.create_task(async { 2 }).await.unwrap() // still runs, after the first
    ///         })
    ///         .await
    /// });
    /// assert_eq!(outcome.unwrap_err().failures().len(), 1);
    /// ```
    pub fn supervise<'env, F, R>(self, body: F) -> impl Future<Output = Result<R, GroupError>>
    where
        F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, Plain>) -> R,
    {
        enter(body, Policy::Supervise, self.limiter())
    }

    /// [`TaskGroup::try_supervise`] with these options.
    pub fn try_supervise<'env, E, F, R>(
        self,
        body: F,
    ) -> impl Future<Output = Result<R, GroupError<E>>>
    where
        F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, Fallible<E>>) -> R,
    {
        enter(body, Policy::Supervise, self.limiter())
    }

    /// [`TaskGroup::supervise_send`] with these options.
    pub fn supervise_send<'env, F, R>(self, body: F) -> impl Future<Output = Result<R, GroupError>>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Plain>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body, Policy::Supervise, self.limiter())
    }

    /// [`TaskGroup::try_supervise_send`] with these options.
    pub fn try_supervise_send<'env, E, F, R>(
        self,
        body: F,
    ) -> impl Future<Output = Result<R, GroupError<E>>>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Fallible<E>>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body, Policy::Supervise, self.limiter())
    }
}
