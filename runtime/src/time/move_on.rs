//! [`move_on_after`] and [`move_on_at`]: a time limit whose expiry is not an error.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Timeout, timeout_at};

/// Runs `future` for at most `duration`, then moves on: trio's `with move_on_after(d):`.
///
/// Resolves to `Some(output)`, or to `None` once `duration` has passed, in which case the
/// future is dropped (cancelled, destructors and all) when this future is. The same as
/// [`timeout`](crate::timeout) with `.ok()`, for code where running out of time is an
/// expected way to stop (a best-effort refresh, a poll for more input) rather than a failure.
/// Inside, [`current_deadline`](super::current_deadline) sees the deadline; moves-on and
/// timeouts nest, and the earliest deadline wins.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tether::Runtime::builder().start_paused(true).build().run(async {
///     let start = tether::time::Instant::now();
///     let refreshed = tether::move_on_after(Duration::from_secs(1), async {
///         tether::sleep(Duration::from_secs(5)).await; // a refresh that takes too long
///         "fresh"
///     })
///     .await;
///     assert_eq!(refreshed.unwrap_or("stale"), "stale");
///     assert_eq!(start.elapsed(), Duration::from_secs(1));
///     assert_eq!(tether::move_on_after(Duration::from_secs(1), async { 3 }).await, Some(3));
/// });
/// ```
pub fn move_on_after<F: IntoFuture>(duration: Duration, future: F) -> MoveOn<F::IntoFuture> {
    move_on_at(Instant::now().saturating_add(duration), future)
}

/// Runs `future` until `deadline` at the latest, then moves on; see [`move_on_after`] (trio's
/// `move_on_at`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::time::Instant;
///
/// tether::Runtime::builder().start_paused(true).build().run(async {
///     let deadline = Instant::now() + Duration::from_secs(2);
///     let mut read = Vec::new();
///     // Gather what arrives before the deadline.
///     for chunk in 0.. {
///         let next = tether::move_on_at(deadline, async {
///             tether::sleep(Duration::from_millis(700)).await;
///             chunk
///         });
///         match next.await {
///             Some(chunk) => read.push(chunk),
///             None => break,
///         }
///     }
///     assert_eq!(read, [0, 1]);
/// });
/// ```
pub fn move_on_at<F: IntoFuture>(deadline: Instant, future: F) -> MoveOn<F::IntoFuture> {
    MoveOn {
        inner: timeout_at(deadline, future),
    }
}

/// The future returned by [`move_on_after`] and [`move_on_at`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct MoveOn<F> {
    inner: Timeout<F>,
}

impl<F> MoveOn<F> {
    /// The current deadline, or `None` if it was removed.
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.deadline()
    }

    /// `true` once the deadline has passed and this resolved to `None` (trio's
    /// `cancelled_caught`).
    pub fn moved_on(&self) -> bool {
        self.inner.expired()
    }

    /// Moves the deadline, earlier or later; `None` removes it.
    pub fn reschedule(self: Pin<&mut Self>, deadline: Option<Instant>) {
        self.inner().reschedule(deadline);
    }

    fn inner(self: Pin<&mut Self>) -> Pin<&mut Timeout<F>> {
        // SAFETY: `inner` is structurally pinned: `MoveOn` has no `Drop` impl, never moves it
        // while pinned, and is `Unpin` only when `Timeout<F>` is.
        unsafe { self.map_unchecked_mut(|this| &mut this.inner) }
    }
}

impl<F: Future> Future for MoveOn<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.inner().poll(cx).map(Result::ok)
    }
}

impl<F> fmt::Debug for MoveOn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoveOn")
            .field("deadline", &self.deadline())
            .field("moved_on", &self.moved_on())
            .finish_non_exhaustive()
    }
}
