//! A loop's clock: the real one, or a virtual one that jumps to the next timer when idle.

use std::cell::Cell;
use std::time::{Duration, Instant};

pub(crate) struct Clock {
    paused: bool,
    start: Instant,
    /// How far a paused clock has advanced past `start`.
    advanced: Cell<Duration>,
    /// The real clock's last reading: no later than now, and known without a system call.
    last: Cell<Instant>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Clock {
        let start = Instant::now();
        Clock {
            paused,
            start,
            advanced: Cell::new(Duration::ZERO),
            last: Cell::new(start),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    pub(crate) fn now(&self) -> Instant {
        if self.paused {
            self.start + self.advanced.get()
        } else {
            let now = Instant::now();
            self.last.set(now);
            now
        }
    }

    /// A time no later than [`Clock::now`], without reading the system clock: for a check that
    /// may err on the side of "not yet" (a timer not yet due is armed, and the loop fires it
    /// when it is).
    pub(crate) fn now_or_earlier(&self) -> Instant {
        if self.paused {
            self.start + self.advanced.get()
        } else {
            self.last.get()
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
