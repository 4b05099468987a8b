//! Which workers are parked, so that new work wakes exactly one of them.
//!
//! The protocol that keeps a wake-up from being lost (the loom models check it):
//!
//! - A worker with nothing to do *announces* that it is going to sleep, then looks for work once
//!   more (its own queue, the injection queue, other workers' queues), and only then parks. If it
//!   finds work it *retracts* and runs it.
//! - Whoever makes work available pushes it first, then asks [`Sleepers::notify_one`] for a
//!   worker to unpark.
//!
//! The sleeper's announcement and the pusher's check are read-modify-writes of one counter, so
//! one of the two comes first and the other sees it: either the sleeper's last look finds the work, or the pusher finds the
//! sleeper and unparks it (and a thread's park token turns an unpark that comes before the park
//! into a park that returns at once).

use crate::loom_facade::{AtomicBool, AtomicUsize, Ordering};

pub(crate) struct Sleepers {
    asleep: Box<[AtomicBool]>,
    /// How many of `asleep` are set: lets the push path skip the scan with one load.
    count: AtomicUsize,
}

impl Sleepers {
    pub(crate) fn new(workers: usize) -> Sleepers {
        Sleepers {
            asleep: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            count: AtomicUsize::new(0),
        }
    }

    /// Worker `index` is about to park: after this, look for work once more before parking.
    pub(crate) fn announce(&self, index: usize) {
        if !self.asleep[index].swap(true, Ordering::SeqCst) {
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Worker `index` is awake again (found work, or was unparked or timed out).
    pub(crate) fn retract(&self, index: usize) {
        if self.asleep[index].swap(false, Ordering::SeqCst) {
            self.count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Claims one parked worker for the caller to unpark, if any is parked.
    pub(crate) fn notify_one(&self) -> Option<usize> {
        // A read-modify-write, not a load: it reads the latest count, and synchronises with the
        // sleeper's `announce`, so that either the sleeper's last look sees the pushed work or
        // this sees the sleeper. (A plain load, even `SeqCst`, leaves loom a lost wake-up.)
        if self.count.fetch_add(0, Ordering::SeqCst) == 0 {
            return None;
        }
        let index = self
            .asleep
            .iter()
            .position(|asleep| asleep.swap(false, Ordering::SeqCst))?;
        self.count.fetch_sub(1, Ordering::SeqCst);
        Some(index)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Sleepers;

    #[test]
    fn a_notification_claims_each_sleeper_once() {
        let sleepers = Sleepers::new(3);
        assert_eq!(sleepers.notify_one(), None);
        sleepers.announce(2);
        sleepers.announce(0);
        assert_eq!(sleepers.notify_one(), Some(0));
        sleepers.retract(0); // woken: retracting again changes nothing
        assert_eq!(sleepers.notify_one(), Some(2));
        assert_eq!(sleepers.notify_one(), None);
    }
}
