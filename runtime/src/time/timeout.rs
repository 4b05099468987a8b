use std::cell::Cell;
use std::fmt;
use std::future::{Future, IntoFuture, poll_fn};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, sleep_until};

/// The error of a timeout whose deadline passed first.
///
/// The operation was cancelled (its future dropped) when the deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the deadline passed before the operation finished, so it was cancelled; allow more time or handle the timeout"
)]
pub struct Elapsed(());

/// Runs `future` with a time limit: asyncio's `async with asyncio.timeout(delay)` and
/// `asyncio.wait_for(aw, timeout)`.
///
/// Resolves to `Ok(output)`, or to `Err(Elapsed)` once `duration` has passed, in which case the
/// future is dropped (cancelled) when the timeout is dropped. If the future completes in the
/// same tick as the deadline, the output wins: nothing finished is thrown away.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tether::run(async {
///     let quick = tether::timeout(Duration::from_millis(50), async { 1 }).await;
///     assert_eq!(quick, Ok(1));
///     let slow = tether::timeout(Duration::from_millis(5), tether::sleep(Duration::from_secs(60))).await;
///     assert!(slow.is_err());
/// });
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    timeout_at(Instant::now().saturating_add(duration), future)
}

/// Runs `future` until `deadline`; see [`timeout`].
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        future: future.into_future(),
        deadline: Deadline::new(Some(deadline)),
    }
}

/// The future returned by [`timeout`] and [`timeout_at`]. Its deadline can be moved while it
/// runs ([`Timeout::reschedule`]); from inside the timed code, use [`timeout_scope`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    /// Structurally pinned: never moved while `Timeout` is pinned.
    future: F,
    deadline: Deadline,
}

impl<F> Timeout<F> {
    /// The current deadline, or `None` if it was removed.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.when
    }

    /// `true` once the deadline has passed and the timeout resolved to `Elapsed`.
    pub fn expired(&self) -> bool {
        self.deadline.expired
    }

    /// Moves the deadline, earlier or later; `None` removes it (asyncio's
    /// `Timeout.reschedule`).
    pub fn reschedule(self: Pin<&mut Self>, deadline: Option<Instant>) {
        self.project().1.reschedule(deadline);
    }

    /// The inner future back, for a timeout never pinned.
    pub fn into_inner(self) -> F {
        self.future
    }

    fn project(self: Pin<&mut Self>) -> (Pin<&mut F>, &mut Deadline) {
        // SAFETY: `future` is structurally pinned: `Timeout` never moves it while pinned (the
        // only way out is `into_inner`, which takes `self` by value and so needs an unpinned or
        // `Unpin` timeout), has no `Drop` impl, and is `Unpin` only when `F` is. `deadline` is
        // not pinned and is handed out as a plain `&mut`.
        unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.future), &mut this.deadline)
        }
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (future, deadline) = self.project();
        if let Poll::Ready(output) = under_deadline(deadline.when, || future.poll(cx)) {
            return Poll::Ready(Ok(output));
        }
        deadline.poll_elapsed(cx).map(|()| Err(Elapsed(())))
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.deadline.when)
            .field("expired", &self.deadline.expired)
            .finish_non_exhaustive()
    }
}

/// Runs `poll` with `deadline` pushed on the running code's deadlines, for
/// [`current_deadline`](super::current_deadline).
pub(super) fn under_deadline<R>(deadline: Option<Instant>, poll: impl FnOnce() -> R) -> R {
    crate::task_core::current::with_deadline(deadline.map(Instant::into_std), poll)
}

/// A deadline and the timer behind it.
struct Deadline {
    when: Option<Instant>,
    timer: Option<Sleep>,
    expired: bool,
}

impl Deadline {
    fn new(when: Option<Instant>) -> Deadline {
        Deadline {
            when,
            timer: when.map(sleep_until),
            expired: false,
        }
    }

    fn reschedule(&mut self, when: Option<Instant>) {
        if self.when == when {
            return;
        }
        self.when = when;
        match (when, &mut self.timer) {
            (Some(when), Some(timer)) => timer.reset(when),
            (Some(when), None) => self.timer = Some(sleep_until(when)),
            (None, _) => self.timer = None,
        }
    }

    fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.timer {
            Some(timer) => {
                let elapsed = Pin::new(timer).poll(cx);
                if elapsed.is_ready() {
                    self.expired = true;
                }
                elapsed
            }
            None => Poll::Pending,
        }
    }
}

/// The deadline of a [`timeout_scope`], as the timed code sees it: asyncio's `Timeout` context
/// manager object.
#[derive(Debug)]
pub struct TimeoutScope {
    when: Cell<Option<Instant>>,
}

impl TimeoutScope {
    /// The current deadline, or `None` if there is none (asyncio's `when()`).
    pub fn when(&self) -> Option<Instant> {
        self.when.get()
    }

    /// Moves the deadline; `None` removes it (asyncio's `reschedule()`).
    pub fn reschedule(&self, when: Option<Instant>) {
        self.when.set(when);
    }
}

/// Runs `body` under a deadline it can move itself: asyncio's
/// `async with asyncio.timeout(delay) as cm: ... cm.reschedule(...)`.
///
/// Resolves to the body's output, or `Err(Elapsed)` if the deadline (as last rescheduled)
/// passes first, in which case the body is dropped. A deadline of `None` waits forever.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::time::{Instant, timeout_scope};
///
/// tether::Runtime::builder().start_paused(true).build().run(async {
///     let start = Instant::now();
///     let result = timeout_scope(Some(Duration::from_secs(1)), async |cm| {
///         // Found more work than planned: give it more time.
///         cm.reschedule(Some(Instant::now() + Duration::from_secs(10)));
///         tether::sleep(Duration::from_secs(5)).await;
///         "done"
///     })
///     .await;
///     assert_eq!(result, Ok("done"));
///     assert_eq!(start.elapsed(), Duration::from_secs(5));
/// });
/// ```
pub async fn timeout_scope<F, R>(duration: Option<Duration>, body: F) -> Result<R, Elapsed>
where
    F: for<'a> AsyncFnOnce(&'a TimeoutScope) -> R,
{
    let scope = TimeoutScope {
        when: Cell::new(duration.map(|d| Instant::now().saturating_add(d))),
    };
    let mut deadline = Deadline::new(scope.when());
    let mut body = pin!(body(&scope));
    poll_fn(|cx| {
        if let Poll::Ready(output) = under_deadline(scope.when(), || body.as_mut().poll(cx)) {
            return Poll::Ready(Ok(output));
        }
        // The body (or a child it runs) may have moved the deadline during that poll.
        deadline.reschedule(scope.when());
        deadline.poll_elapsed(cx).map(|()| Err(Elapsed(())))
    })
    .await
}
