//! A loop's clock: the real one, or a virtual one that jumps to the next timer when idle.

use std::cell::Cell;
use std::time::{Duration, Instant};

pub(crate) struct Clock {
    paused: bool,
    start: Instant,
    /// How far a paused clock has advanced past `start`.
    advanced: Cell<Duration>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Clock {
        Clock {
            paused,
            start: Instant::now(),
            advanced: Cell::new(Duration::ZERO),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    pub(crate) fn now(&self) -> Instant {
        if self.paused {
            self.start + self.advanced.get()
        } else {
            Instant::now()
        }
    }

    /// Moves a paused clock forward to `deadline` (never backwards).
    pub(crate) fn advance_to(&self, deadline: Instant) {
        debug_assert!(self.paused, "only a paused clock is moved by hand");
        if let Some(ahead) = deadline.checked_duration_since(self.start) {
            if ahead > self.advanced.get() {
                self.advanced.set(ahead);
            }
        }
    }
}
