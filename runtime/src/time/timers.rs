//! The loop's timers, ordered by deadline.
//!
//! A B-tree keyed by `(deadline, sequence number)`: arming, disarming and firing are O(log n),
//! and timers with the same deadline fire in the order they were armed.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::Instant;

/// Identifies an armed timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    deadline: Instant,
    seq: u64,
}

#[derive(Default)]
pub(crate) struct Timers {
    armed: BTreeMap<TimerKey, Waker>,
    next_seq: u64,
}

impl Timers {
    pub(crate) fn arm(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = TimerKey {
            deadline,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.armed.insert(key, waker);
        key
    }

    /// Points an armed timer at a new waker. Returns `false` if the timer is not armed (it fired).
    pub(crate) fn rearm(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.armed.get_mut(&key) {
            Some(armed) => {
                if !armed.will_wake(waker) {
                    armed.clone_from(waker);
                }
                true
            }
            None => false,
        }
    }

    /// Disarms a timer. The waker is returned so that it is dropped after the borrow ends.
    #[must_use = "drop the returned waker after releasing the timers"]
    pub(crate) fn disarm(&mut self, key: TimerKey) -> Option<Waker> {
        self.armed.remove(&key)
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.armed.first_key_value().map(|(key, _)| key.deadline)
    }

    /// Moves the wakers of every timer due at `now` into `due`, earliest first.
    pub(crate) fn take_due(&mut self, now: Instant, due: &mut Vec<Waker>) {
        while let Some(entry) = self.armed.first_entry() {
            if entry.key().deadline > now {
                break;
            }
            due.push(entry.remove());
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }
}
