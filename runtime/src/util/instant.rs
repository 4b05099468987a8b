//! The value of a point in time on a loop's clock. Reading the running loop's clock
//! (`Instant::now`) needs the loop, so that half is in `crate::time`.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A point in time on the running loop's clock.
///
/// Inside a loop started with `start_paused` (as `#[tether::test(start_paused)]` does) the clock
/// is virtual: it stands still while tasks run and jumps to the next timer when every task is
/// waiting. Everywhere else it is [`std::time::Instant`]. Use this type, not the standard one, for
/// anything compared with tether's timers, so that paused tests see consistent time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::time::Instant;
///
/// tether::Runtime::builder().start_paused(true).build().run(async {
///     let start = Instant::now();
///     tether::sleep(Duration::from_secs(3600)).await;
///     // An hour passed on the virtual clock, in no time at all.
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// `self + duration`, or `None` if that is not representable.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// `self + duration`, capped at a point far enough ahead (about 30 years) to mean "never".
    ///
    /// This is how `sleep(Duration::MAX)` gets a deadline without overflowing.
    pub fn saturating_add(&self, duration: Duration) -> Instant {
        const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);
        self.checked_add(duration.min(FAR)).unwrap_or(*self)
    }

    /// The standard-library instant behind this one.
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// Wraps a standard-library instant. On a paused clock it is read as a point on the
    /// virtual timeline, which started at the real time the loop started.
    #[inline]
    pub fn from_std(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// On overflow, as `std::time::Instant` does; use [`Instant::saturating_add`] to cap instead.
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0 + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0 - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero, as `std::time::Instant` does.
    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}
