//! Graceful cancellation: ask first, drop later.
//!
//! Cancelling a task in tether is a drop: its future goes at its next await point. That is
//! the right last resort, and the wrong first step for a task that should finish what it has
//! in flight (answer the request it is reading, send a close frame, flush a file). Graceful
//! cancellation adds a first phase:
//!
//! 1. **Ask.** [`Task::request_cancellation`], [`Task::cancel_gracefully`],
//!    [`TaskSet::request_cancellation`](crate::TaskSet::request_cancellation) and
//!    [`TaskSet::shutdown_gracefully`](crate::TaskSet::shutdown_gracefully) set a flag. Nothing
//!    is dropped; the task's code sees the request through [`is_cancellation_requested`] (a
//!    cheap check) or [`cancellation_requested`] (a future to race against its work), and
//!    ends on its own terms.
//! 2. **Drop.** What has not finished when the grace period is over is cancelled the ordinary
//!    way: dropped at its next await point, destructors and all.
//!
//! A request reaches the task it is made to and everything that task owns: the tasks it
//! created (through [`create_task`](crate::create_task), [`spawn`](crate::spawn), its task
//! sets and its groups), and theirs, down the tree. It never reaches upwards or sideways.
//! Plain [`Task::cancel`] and dropping a handle keep their meaning: an immediate drop, with no
//! first phase.
//!
//! ## Compared with its peers
//!
//! - **asyncio's `CancelledError`** is raised inside the task at its next await; the task may
//!   catch it to clean up, and should re-raise. The clean-up code then runs *inside* the
//!   cancellation, and nothing bounds how long it takes. Here the request is a value the task
//!   reads while it runs normally, and the owner bounds the clean-up with `grace`.
//! - **trio's cancel scopes** (and `CancelScope.shield`, `move_on_after`) cancel everything
//!   inside a scope at its next checkpoint; a "soft" cancellation needs an extra event passed
//!   around by hand. tether's scopes are drops ([`timeout`](crate::timeout),
//!   [`move_on_after`](crate::move_on_after)); the graceful request is the built-in soft
//!   phase, propagated along ownership the way trio propagates cancellation along scopes.
//! - **tokio-util's `CancellationToken`** is the same idea as a value you create, clone into
//!   every task and check by hand, plus a `TaskTracker` to wait for them. Here every task has
//!   its token already, linked to its owners', and the owner that asks also does the waiting
//!   and the final drop.
//!
//! # Examples
//!
//! A worker that finishes its current item and says goodbye when asked:
//!
//! ```
//! use std::time::Duration;
//!
//! tether::run(async {
//!     let worker = tether::create_task(async {
//!         let mut done = 0;
//!         while !tether::is_cancellation_requested() {
//!             tether::sleep(Duration::from_millis(1)).await; // one unit of work
//!             done += 1;
//!         }
//!         done // the goodbye: a report of the work done
//!     });
//!     tether::sleep(Duration::from_millis(10)).await;
//!     let done = worker.cancel_gracefully(Duration::from_secs(1)).await.unwrap();
//!     assert!(done > 0);
//! });
//! ```

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Task, TaskError};
use crate::task_core::current::with_running;
use crate::task_core::header::Header;
use crate::task_core::stop::{StopNode, StopWait};

/// `true` if the running task, or any owner above it, has been asked to stop gracefully.
///
/// A few atomic loads (one per owner above the task); `false` outside a tether task. See the
/// [module docs](crate::graceful) for the two phases.
///
/// # Examples
///
/// ```
/// tether::run(async {
///     assert!(!tether::is_cancellation_requested());
///     let task = tether::create_task(async { tether::is_cancellation_requested() });
///     task.request_cancellation();
///     assert!(task.await.unwrap());
/// });
/// ```
pub fn is_cancellation_requested() -> bool {
    with_running(Header::is_stop_requested).unwrap_or(false)
}

/// Completes when the running task, or any owner above it, is asked to stop gracefully.
///
/// Race it against the work in flight (with [`select!`](crate::select!), or by polling both) to
/// notice the request while waiting. Outside a tether task nothing can ask, and it never
/// completes. The future watches the task that first polls it.
///
/// # Cancel safety
///
/// Cancel-safe: dropping it loses nothing, and a new one sees a request made meanwhile.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures::FutureExt;
///
/// tether::run(async {
///     let server = tether::create_task(async {
///         let mut stop = std::pin::pin!(tether::cancellation_requested().fuse());
///         loop {
///             tether::select! {
///                 _ = stop => return "sent a close frame",
///                 _ = tether::sleep(Duration::from_millis(1)).fuse() => {} // serve a client
///             }
///         }
///     });
///     tether::sleep(Duration::from_millis(5)).await;
///     let said = server.cancel_gracefully(Duration::from_secs(1)).await.unwrap();
///     assert_eq!(said, "sent a close frame");
/// });
/// ```
pub fn cancellation_requested() -> CancellationRequested {
    CancellationRequested {
        node: None,
        wait: StopWait::new(),
    }
}

/// The future returned by [`cancellation_requested`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct CancellationRequested {
    /// The watched task's own node, from the first poll on.
    node: Option<Arc<StopNode>>,
    wait: StopWait,
}

impl Future for CancellationRequested {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let node = match &this.node {
            Some(node) => node,
            None => {
                let watched = with_running(|header| {
                    (!header.is_stop_requested()).then(|| header.stop_node())
                });
                match watched {
                    None => return Poll::Pending,
                    Some(None) => return Poll::Ready(()),
                    Some(Some(node)) => this.node.insert(node),
                }
            }
        };
        if this.wait.poll(node, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl fmt::Debug for CancellationRequested {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationRequested")
            .field("requested", &self.node.as_ref().map(|n| n.is_requested()))
            .finish()
    }
}

impl<T> Task<T> {
    /// Asks the task, and everything it owns, to stop gracefully: the first phase of
    /// [`Task::cancel_gracefully`], without a deadline. Nothing is dropped; the task sees the
    /// request through [`is_cancellation_requested`] and [`cancellation_requested`].
    ///
    /// Returns `false`, and does nothing, if the task has already finished.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let task = tether::create_task(async {
    ///         tether::cancellation_requested().await;
    ///         "stopped when asked"
    ///     });
    ///     assert!(task.request_cancellation());
    ///     assert_eq!(task.await.unwrap(), "stopped when asked");
    /// });
    /// ```
    pub fn request_cancellation(&self) -> bool {
        self.header().request_stop()
    }

    /// Asks the task to stop, gives it `grace` to finish, then cancels it if it has not, and
    /// returns its outcome: two-phase cancellation.
    ///
    /// The result is the task's own output if it finished within `grace` (returning normally
    /// after the request, say with a report of what it did), or [`TaskError::Cancelled`] if it
    /// had to be dropped at the deadline, in which case its destructors have run by the time
    /// this returns. Dropping the returned future drops the task, which cancels it at once.
    ///
    /// # Examples
    ///
    /// A task that ignores the request is dropped when the grace period is over:
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tether::Runtime::builder().start_paused(true).build().run(async {
    ///     let stubborn = tether::create_task(tether::sleep(Duration::from_secs(3600)));
    ///     let start = tether::time::Instant::now();
    ///     let outcome = stubborn.cancel_gracefully(Duration::from_secs(5)).await;
    ///     assert!(outcome.unwrap_err().is_cancelled());
    ///     assert_eq!(start.elapsed(), Duration::from_secs(5));
    /// });
    /// ```
    pub async fn cancel_gracefully(mut self, grace: Duration) -> Result<T, TaskError> {
        self.request_cancellation();
        let finished = crate::time::timeout(grace, poll_fn(|cx| self.poll_finished(cx))).await;
        if finished.is_err() {
            self.cancel();
        }
        self.await
    }
}
