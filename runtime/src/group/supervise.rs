//! Supervising groups: a child's failure is recorded, and its siblings keep running (Kotlin's
//! `supervisorScope`).

use super::scope::{enter, enter_send};
use super::{Fallible, GroupError, Mode, Plain, SendBody, Sendable, TaskFailure, TaskGroup};

/// What a child's failure does to the rest of its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Policy {
    /// asyncio's `TaskGroup`: the first failure cancels everything else.
    FailFast,
    /// Kotlin's `supervisorScope`: a child's failure is recorded and nothing else is cancelled.
    Supervise,
}

impl<M: Mode> TaskGroup<'_, '_, M> {
    pub(super) fn with_policy(policy: Policy) -> Self {
        let mut group = Self::new();
        group.supervising = policy == Policy::Supervise;
        group
    }

    /// A child failed (panicked, or returned `Err` in a fallible group). A supervising group
    /// records it and lets the rest run on; any other group fails, cancelling the rest.
    pub(super) fn fail_child(&self, failure: TaskFailure<M::Error>) {
        if self.supervising {
            self.failures.borrow_mut().push(failure);
        } else {
            self.fail(failure);
        }
    }
}

impl<'env> TaskGroup<'env, 'env, Plain> {
    /// Runs `body` with a supervising group: a child that panics does not cancel its siblings
    /// or the body (Kotlin's `supervisorScope`). `task_group!(supervise |tg| ...)` calls it.
    ///
    /// The scope still ends only when the body and every child have finished, and every
    /// failure is still reported at the end: the group resolves to `Ok` with the body's output
    /// if nothing failed, and otherwise to a [`GroupError`] that names each failed child (its
    /// [`task_names`](GroupError::task_names)), in the order they failed. The group keeps
    /// accepting children after a failure.
    ///
    /// The body is not supervised: if the body itself panics, the group cancels every child and
    /// fails, as a plain group does ("the scope failed", as in Kotlin). Cancelling a child
    /// (through its handle) is not a failure, in any group.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use tether::task::Builder;
    ///
    /// let served = Cell::new(0);
    /// let result = tether::run(async {
    ///     tether::task_group!(supervise |tg| {
    ///         tg.create_task_with(Builder::new().name("flaky"), async { panic!("bad request") });
    ///         tg.create_task(async {
    ///             tether::yield_now().await;
    ///             served.set(served.get() + 1); // still runs: a sibling's panic cancels nothing
    ///         });
    ///     })
    /// });
    /// assert_eq!(served.get(), 1);
    /// let error = result.unwrap_err();
    /// assert_eq!(error.task_names().collect::<Vec<_>>(), ["flaky"]);
    /// ```
    pub async fn supervise<F, R>(body: F) -> Result<R, GroupError>
    where
        F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, Plain>) -> R,
    {
        enter(body, Policy::Supervise, None).await
    }
}

impl<'env, E> TaskGroup<'env, 'env, Fallible<E>> {
    /// [`TaskGroup::supervise`] for children that return `Result<T, E>`: a child's `Err` (or
    /// panic) is recorded and its siblings keep running; every `E` is in the [`GroupError`] at
    /// the end. `task_group!(supervise try |tg| ...)` calls it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::TaskFailure;
    /// use tether::task::Builder;
    ///
    /// let result = tether::run(async {
    ///     tether::task_group!(supervise try |tg| {
    ///         let a = tg.create_task_with(Builder::new().name("a"), async { Err::<u8, _>("refused") });
    ///         let b = tg.create_task_with(Builder::new().name("b"), async { Ok(2) });
    ///         let c = tg.create_task_with(Builder::new().name("c"), async { Err::<u8, _>("reset") });
    ///         assert!(a.await.is_err() && c.await.is_err());
    ///         b.await.unwrap() // the body goes on after its children failed
    ///     })
    /// });
    /// let failures = result.unwrap_err().into_failures();
    /// assert!(matches!(&failures[..], [
    ///     TaskFailure::Failed { error: "refused", .. },
    ///     TaskFailure::Failed { error: "reset", .. },
    /// ]));
    /// ```
    pub async fn try_supervise<F, R>(body: F) -> Result<R, GroupError<E>>
    where
        F: for<'scope> AsyncFnOnce(&'scope TaskGroup<'scope, 'env, Fallible<E>>) -> R,
    {
        enter(body, Policy::Supervise, None).await
    }
}

impl<'env> TaskGroup<'env, 'env, Sendable<Plain>> {
    /// [`TaskGroup::supervise`] for a group that is itself `Send`, as
    /// [`TaskGroup::scope_send`]. `task_group!(send supervise |tg| ...)` calls it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// let runtime = tether::Runtime::builder().workers(2).build();
    /// let result = runtime.run(async {
    ///     tether::spawn(async {
    ///         tether::task_group!(send supervise |tg| {
    ///             tg.create_task(async { panic!("one bad child") });
    ///             tg.create_task(async { 2 }).await.unwrap()
    ///         })
    ///         .map_err(|error| error.failures().len())
    ///     })
    ///     .await
    ///     .unwrap()
    /// });
    /// assert_eq!(result, Err(1));
    /// # }
    /// ```
    pub async fn supervise_send<F, R>(body: F) -> Result<R, GroupError>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Plain>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body, Policy::Supervise, None).await
    }
}

impl<'env, E> TaskGroup<'env, 'env, Sendable<Fallible<E>>> {
    /// [`TaskGroup::try_supervise`] for a group that is itself `Send`, as
    /// [`TaskGroup::scope_send`]. `task_group!(send supervise try |tg| ...)` calls it.
    pub async fn try_supervise_send<F, R>(body: F) -> Result<R, GroupError<E>>
    where
        F: for<'scope> FnOnce(
            &'scope TaskGroup<'scope, 'env, Sendable<Fallible<E>>>,
        ) -> SendBody<'scope, R>,
    {
        enter_send(body, Policy::Supervise, None).await
    }
}
