use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use super::timers::TimerKey;
use crate::event_loop::EventLoop;

/// Waits for `duration` on the running loop's clock: asyncio's `await asyncio.sleep(seconds)`.
///
/// `sleep(Duration::ZERO)` lets every other ready task run once, as `asyncio.sleep(0)` does.
/// Durations too long to represent (up to `Duration::MAX`) sleep for about 30 years.
///
/// # Panics
///
/// When polled outside a running event loop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tether::run(async {
///     println!("hello");
///     tether::sleep(Duration::from_millis(10)).await;
///     println!("world");
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().saturating_add(duration))
}

/// Waits until `deadline` on the running loop's clock.
///
/// A deadline already past lets every other ready task run once, then completes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::time::Instant;
///
/// tether::run(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     tether::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// Its timer is armed the first time it is polled and disarmed when it completes or is dropped,
/// so a dropped `Sleep` leaves nothing behind in the loop.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    armed: Option<Armed>,
    yielded: bool,
    /// The sleeping task's record of this wait (see `crate::awaiting`).
    record: crate::awaiting::WaitRecord,
}

#[derive(Debug, Clone, Copy)]
struct Armed {
    loop_id: u64,
    key: TimerKey,
}

impl Armed {
    fn disarm(self, lp: &EventLoop) {
        if lp.id() == self.loop_id {
            let waker = lp.timers.borrow_mut().disarm(self.key);
            drop(waker);
        } else {
            lp.disarm_elsewhere(self.loop_id, self.key);
        }
    }
}

/// The message of the panic raised by polling a timer outside a loop.
const NO_LOOP: &str = "a tether timer (sleep, sleep_until, timeout, wait with a time limit) was polled outside a running tether event loop; \
     await it inside tether::run, #[tether::main] or #[tether::test]";

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            armed: None,
            yielded: false,
            record: crate::awaiting::WaitRecord::new(),
        }
    }

    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// `true` once the deadline has passed on the running loop's clock.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline, earlier or later, even while the sleep is being awaited.
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = deadline;
        self.yielded = false;
    }

    fn disarm(&mut self) {
        if let Some(armed) = self.armed.take() {
            EventLoop::with_current(|lp| armed.disarm(lp));
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let ready = EventLoop::with_current(|lp| {
            if let Some(armed) = this.armed {
                if armed.loop_id == lp.id() {
                    // Armed here: the loop fires timers once due, so an armed timer is a
                    // pending sleep (no clock read) and a missing one has fired.
                    if lp.timers.borrow_mut().rearm(armed.key, cx.waker()) {
                        return false;
                    }
                    // Fired: nothing left to disarm, so no second trip to the loop below.
                    this.armed = None;
                    this.yielded = true;
                    return true;
                }
                // Armed on another worker, and the task has moved here since: move the timer.
                armed.disarm(lp);
                this.armed = None;
            }
            // The clock was read when this sleep's deadline was computed, most likely: no
            // second read. A deadline passed since the last reading is armed, and fires at the
            // loop's next turn, as soon as the yield below would have completed it.
            if lp.clock.now_or_earlier() >= this.deadline.into_std() {
                return true;
            }
            let key = lp
                .timers
                .borrow_mut()
                .arm(this.deadline.into_std(), cx.waker().clone());
            this.armed = Some(Armed {
                loop_id: lp.id(),
                key,
            });
            false
        })
        .unwrap_or_else(|| panic!("{NO_LOOP}"));
        if !ready {
            let deadline = this.deadline;
            return this
                .record
                .track(Poll::Pending, || crate::task::Awaiting::Timer { deadline });
        }
        if this.armed.is_none() && !this.yielded {
            // Due at the first poll: yield once anyway, as asyncio.sleep(0) does.
            this.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.disarm();
        this.record
            .track(Poll::Ready(()), || unreachable!("only ends a wait"))
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}
