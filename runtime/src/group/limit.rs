//! Back-pressure under a group's concurrency limit: `create_task_when_free` and
//! `spawn_when_free`, which wait for a free slot before they make the child.

use std::future::Future;

use super::create::or_panic;
use super::{Child, Mode, TaskGroup, TaskHandle};
use crate::sync::limit::granted;
use crate::task::Builder;

impl<'scope, 'env, M: Mode> TaskGroup<'scope, 'env, M> {
    /// Like [`create_task`](TaskGroup::create_task), but first waits until the group's limit
    /// ([`GroupBuilder::limit`](crate::group::GroupBuilder::limit),
    /// `task_group!(limit = n, ...)`) lets the child run at once, so that a producer feels the
    /// back-pressure instead of queueing children without bound. The wait is in line with the
    /// children already waiting, first come, first served. In a group without a limit it makes
    /// the child at once.
    ///
    /// A child that calls this holds a slot itself while it waits: with every slot held by
    /// such children, none can ever be freed. Produce from the body, or from a child that runs
    /// outside the limit's count (there is none in a limited group: use a second group).
    ///
    /// # Cancel safety
    ///
    /// If the returned future is dropped before the child is made, `future` is dropped
    /// unpolled, and its place in the queue goes to the next in line.
    ///
    /// # Panics
    ///
    /// As [`create_task`](TaskGroup::create_task): if the group is shutting down or closing
    /// when the slot comes (the future is then dropped unpolled).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    ///
    /// let done = Cell::new(0);
    /// tether::run(async {
    ///     tether::task_group!(limit = 4, |tg| {
    ///         for _ in 0..100 {
    ///             tg.create_task_when_free(async {
    ///                 tether::yield_now().await;
    ///                 done.set(done.get() + 1);
    ///             })
    ///             .await;
    ///             // The producer never runs more than four children ahead.
    ///             assert!(tg.len() <= 4 && tg.waiting() == 0);
    ///         }
    ///     })
    ///     .unwrap();
    /// });
    /// assert_eq!(done.get(), 100);
    /// ```
    #[track_caller]
    // It yields the child's handle, which is awaitable: the caller awaits the slot, not the child.
    #[allow(clippy::async_yields_async)]
    pub fn create_task_when_free<F>(
        &'scope self,
        future: F,
    ) -> impl Future<Output = TaskHandle<F::Value>> + 'scope
    where
        F: Child<'scope, M>,
    {
        let location = std::panic::Location::caller();
        let slot = self.take_slot();
        async move {
            let slot = granted(slot).await;
            or_panic(self.create_in(future, slot, true, Builder::new(), location))
        }
    }

    /// Like [`spawn`](TaskGroup::spawn), but first waits for a free slot, as
    /// [`create_task_when_free`](TaskGroup::create_task_when_free) does.
    ///
    /// # Cancel safety
    ///
    /// As [`create_task_when_free`](TaskGroup::create_task_when_free).
    ///
    /// # Panics
    ///
    /// As [`spawn`](TaskGroup::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// let runtime = tether::Runtime::builder().workers(2).build();
    /// let total = runtime.run(async {
    ///     tether::task_group!(limit = 2, |tg| {
    ///         let mut halves = Vec::new();
    ///         for range in [0..500_000u64, 500_000..1_000_000u64] {
    ///             halves.push(tg.spawn_when_free(async move { range.sum::<u64>() }).await);
    ///         }
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
    #[track_caller]
    // As `create_task_when_free`: the handle is the output.
    #[allow(clippy::async_yields_async)]
    pub fn spawn_when_free<F>(
        &'scope self,
        future: F,
    ) -> impl Future<Output = TaskHandle<F::Value>> + 'scope
    where
        F: Child<'scope, M> + Send + 'static,
        F::Value: Send + 'static,
        M::Error: Send + 'static,
    {
        let location = std::panic::Location::caller();
        let slot = self.take_slot();
        async move {
            let slot = granted(slot).await;
            or_panic(self.create_spread_in(future, slot, true, Builder::new(), location))
        }
    }
}
