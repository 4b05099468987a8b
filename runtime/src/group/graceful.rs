//! Graceful shutdown of a group's children: [`TaskGroup::request_cancellation`] and
//! [`TaskGroup::shutdown_gracefully`], the group's form of two-phase cancellation.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use super::{Mode, TaskGroup};
use crate::task_core::header::Header;
use crate::util::waker_slot::WakerSlot;

impl<M: Mode> TaskGroup<'_, '_, M> {
    /// Asks every child of the group, and everything the children created, to stop gracefully:
    /// the first phase of [`shutdown_gracefully`](TaskGroup::shutdown_gracefully), without a
    /// deadline. Children made from now on start asked. Nothing is dropped; each child sees the
    /// request through [`is_cancellation_requested`](crate::is_cancellation_requested) and
    /// [`cancellation_requested`](crate::cancellation_requested).
    ///
    /// The body is not asked: it is the code that asks. A request made to the task running the
    /// group reaches the children too, as it reaches everything that task created.
    ///
    /// # Panics
    ///
    /// In a send group, if called from a thread that is not running the group.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let said = tether::task_group!(|tg| {
    ///         let worker = tg.create_task(async {
    ///             tether::cancellation_requested().await;
    ///             "flushed and closed"
    ///         });
    ///         tg.request_cancellation();
    ///         worker.await
    ///     });
    ///     assert_eq!(said.unwrap().unwrap(), "flushed and closed");
    /// });
    /// ```
    pub fn request_cancellation(&self) {
        self.check_owner();
        self.stop_requested.set(true);
        self.for_each_child(|header| {
            header.request_stop();
        });
    }

    /// `true` once [`request_cancellation`](TaskGroup::request_cancellation) (or
    /// [`shutdown_gracefully`](TaskGroup::shutdown_gracefully)) has been called on this group.
    pub fn is_cancellation_requested(&self) -> bool {
        self.check_owner();
        self.stop_requested.get()
    }

    /// Stops the group's children in two phases: asks each to stop
    /// ([`request_cancellation`](TaskGroup::request_cancellation)), gives them `grace` to
    /// finish, then cancels those still running and waits until their futures are dropped.
    /// Returns once every child that was running when it was called has ended.
    ///
    /// The body goes on afterwards, and the group may take new children (they start asked to
    /// stop). A child dropped at the deadline ends as cancelled, which is no failure of the
    /// group; a child that fails while it winds down fails the group as usual. To end the body
    /// as well, call [`cancel`](TaskGroup::cancel) after this, or return.
    ///
    /// The peers: trio and anyio cancel a nursery's scope at once (a grace period is a shielded
    /// scope written by hand), asyncio's `TaskGroup` has no graceful form, and tokio-util pairs
    /// a `CancellationToken` with a `TaskTracker` and a timeout.
    ///
    /// # Panics
    ///
    /// In a send group, if called from a thread that is not running the group.
    ///
    /// # Examples
    ///
    /// One worker says goodbye when asked; the other ignores the request and is dropped when
    /// the grace period is over:
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tether::Runtime::builder().start_paused(true).build().run(async {
    ///     let start = tether::time::Instant::now();
    ///     let outcome = tether::task_group!(|tg| {
    ///         let polite = tg.create_task(async {
    ///             tether::cancellation_requested().await;
    ///             "goodbye"
    ///         });
    ///         let stubborn = tg.create_task(tether::sleep(Duration::from_secs(3600)));
    ///         tg.shutdown_gracefully(Duration::from_secs(5)).await;
    ///         (polite.await.unwrap(), stubborn.await.unwrap_err().is_cancelled())
    ///     });
    ///     assert_eq!(outcome.unwrap(), ("goodbye", true));
    ///     assert_eq!(start.elapsed(), Duration::from_secs(5));
    /// });
    /// ```
    pub async fn shutdown_gracefully(&self, grace: Duration) {
        self.request_cancellation();
        if crate::time::timeout(grace, self.children_ended())
            .await
            .is_err()
        {
            // Not `cancel` (which ends the body too) nor `cancel_spread` (which refuses later
            // spread children): only the children running now are dropped.
            self.for_each_child(|header| {
                header.request_cancel(None);
            });
            self.children_ended().await;
        }
    }

    /// Calls `f` with the header of every child still running: scoped ones, then spread ones
    /// (their handles taken out of the lock first, as `f` may wake them).
    fn for_each_child(&self, mut f: impl FnMut(&Header)) {
        self.children.borrow().headers().for_each(&mut f);
        if let Some(spread) = self.spread.get() {
            for handle in spread.handles() {
                if let Some(header) = handle.header() {
                    f(header);
                }
            }
        }
    }

    /// Completes when every child running now has ended (its future finished or dropped).
    fn children_ended(&self) -> impl Future<Output = ()> + use<M> {
        let ended = Arc::new(Ended {
            left: AtomicUsize::new(1),
            waker: WakerSlot::new(),
        });
        let watch = |header: &Header| {
            ended.left.fetch_add(1, Ordering::AcqRel);
            let done = ended.clone();
            if header
                .add_callback(Box::new(move |_| done.end_one()))
                .is_err()
            {
                ended.end_one(); // It had already ended.
            }
        };
        self.for_each_child(watch);
        ended.end_one(); // The one the count started with, so it cannot reach 0 early.
        poll_fn(move |cx| {
            ended.waker.register(cx.waker());
            if ended.left.load(Ordering::Acquire) == 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

/// The children a [`TaskGroup::shutdown_gracefully`] waits for: how many are left, and who to
/// wake when none is.
struct Ended {
    left: AtomicUsize,
    waker: WakerSlot,
}

impl Ended {
    fn end_one(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.waker.wake();
        }
    }
}
