//! Reading the running loop's clock: the half of [`Instant`] that needs the loop (the value
//! itself is a leaf, in `crate::util::instant`, so that the task core can hold one).

use std::time::Duration;

use crate::scheduler::event_loop::EventLoop;
pub use crate::util::instant::Instant;

impl Instant {
    /// The current time on the running loop's clock, or the system's monotonic clock outside a
    /// loop.
    pub fn now() -> Instant {
        Instant::from_std(
            EventLoop::with_current(|lp| lp.clock.now()).unwrap_or_else(std::time::Instant::now),
        )
    }

    /// Time passed since `self`, on the same clock as [`Instant::now`].
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }
}
