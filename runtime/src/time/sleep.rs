use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use crate::scheduler::event_loop::EventLoop;
use crate::util::timers::TimerKey;

/// Waits for `duration` on the running loop's clock: asyncio's `await asyncio.sleep(seconds)`.
///
/// `sleep(Duration::ZERO)` lets every other ready task run once, as `asyncio.sleep(0)` does, and
/// costs what [`yield_now`](crate::yield_now) costs: it reads no clock and arms no timer.
/// Durations too long to represent (up to `Duration::MAX`) sleep for about 30 years.
///
/// # Panics
///
/// When a sleep of more than zero is polled outside a running event loop.
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
#[inline]
pub fn sleep(duration: Duration) -> Sleep {
    if duration.is_zero() {
        // asyncio's `sleep(0)` idiom: a plain yield. The deadline is read only if asked for.
        return Sleep::new(When::Now);
    }
    Sleep::new(When::At(Instant::now().saturating_add(duration)))
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
    Sleep::new(When::At(deadline))
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// Its timer is armed the first time it is polled and disarmed when it completes or is dropped,
/// so a dropped `Sleep` leaves nothing behind in the loop.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: When,
    armed: Option<Armed>,
    yielded: bool,
    /// The sleeping task's record of this wait (see `crate::task_core::awaiting`).
    record: crate::task_core::awaiting::WaitRecord,
}

/// When a [`Sleep`] is due.
#[derive(Debug, Clone, Copy)]
enum When {
    /// At once: `sleep(Duration::ZERO)`, which only yields.
    Now,
    /// At this point of the loop's clock.
    At(Instant),
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
    #[inline]
    fn new(deadline: When) -> Sleep {
        Sleep {
            deadline,
            armed: None,
            yielded: false,
            record: crate::task_core::awaiting::WaitRecord::new(),
        }
    }

    /// When this sleep completes. A `sleep(Duration::ZERO)` is due at once: its deadline is the
    /// time of this call.
    pub fn deadline(&self) -> Instant {
        match self.deadline {
            When::Now => Instant::now(),
            When::At(deadline) => deadline,
        }
    }

    /// `true` once the deadline has passed on the running loop's clock.
    pub fn is_elapsed(&self) -> bool {
        match self.deadline {
            When::Now => true,
            When::At(deadline) => Instant::now() >= deadline,
        }
    }

    /// Moves the deadline, earlier or later, even while the sleep is being awaited.
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = When::At(deadline);
        self.yielded = false;
    }

    #[inline]
    fn disarm(&mut self) {
        if let Some(armed) = self.armed.take() {
            EventLoop::with_current(|lp| armed.disarm(lp));
        }
    }

    /// The poll of a sleep with a deadline: arms, re-arms or completes its timer.
    fn poll_until(&mut self, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let ready = EventLoop::with_current(|lp| {
            if let Some(armed) = self.armed {
                if armed.loop_id == lp.id() {
                    // Armed here: the loop fires timers once due, so an armed timer is a
                    // pending sleep (no clock read) and a missing one has fired.
                    if lp.timers.borrow_mut().rearm(armed.key, cx.waker()) {
                        return false;
                    }
                    // Fired: nothing left to disarm, so no second trip to the loop below.
                    self.armed = None;
                    self.yielded = true;
                    return true;
                }
                // Armed on another worker, and the task has moved here since: move the timer.
                armed.disarm(lp);
                self.armed = None;
            }
            // The clock was read when this sleep's deadline was computed, most likely: no
            // second read. A deadline passed since the last reading is armed, and fires at the
            // loop's next turn, as soon as the yield below would have completed it.
            if lp.clock.now_or_earlier() >= deadline.into_std() {
                return true;
            }
            let key = lp
                .timers
                .borrow_mut()
                .arm(deadline.into_std(), cx.waker().clone());
            self.armed = Some(Armed {
                loop_id: lp.id(),
                key,
            });
            false
        })
        .unwrap_or_else(|| panic!("{NO_LOOP}"));
        if !ready {
            return self.record.track(Poll::Pending, || {
                crate::task_core::awaiting::Awaiting::Timer { deadline }
            });
        }
        if self.armed.is_none() && !self.yielded {
            // Due at the first poll: yield once anyway, as asyncio.sleep(0) does.
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.disarm();
        self.record
            .track(Poll::Ready(()), || unreachable!("only ends a wait"))
    }
}

impl Future for Sleep {
    type Output = ();

    // Inlined, so that `sleep(Duration::ZERO)` compiles to what `yield_now` does.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match this.deadline {
            When::Now if this.yielded => Poll::Ready(()),
            When::Now => {
                // `sleep(Duration::ZERO)`: yield once, exactly as `yield_now` does.
                this.yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            // Due when first polled (or fired) and yielded once since: the deadline has not
            // moved (`reset` clears `yielded`), and the clock only goes forward, so it is still
            // due.
            When::At(_) if this.yielded && this.armed.is_none() => Poll::Ready(()),
            When::At(deadline) => this.poll_until(deadline, cx),
        }
    }
}

impl Drop for Sleep {
    #[inline]
    fn drop(&mut self) {
        self.disarm();
    }
}
