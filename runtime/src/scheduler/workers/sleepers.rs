//! Which workers are parked, so that new work wakes exactly one of them, and which workers were
//! woken to look for work and have not looked yet (*searching*), so that work queued meanwhile
//! wakes nobody more: the searcher finds it.
//!
//! The protocol that keeps a wake-up from being lost (the loom models check it):
//!
//! - A worker with nothing to do *announces* that it is going to sleep, then looks for work once
//!   more (its own queue, the injection queue, other workers' queues), and only then parks. If it
//!   finds work it *retracts* and runs it.
//! - Whoever makes work available pushes it first, then asks [`Sleepers::notify_one`] for a
//!   worker to unpark. While a worker it claimed is still searching, the next pushers claim
//!   none (tokio's `num_searching` rule): the searcher will find their work, and if there is
//!   more than it takes, it wakes the next sleeper itself. Without the rule, each task queued
//!   behind busy workers while the woken one was on its way woke one more sleeper, so a burst
//!   of tasks woke as many workers as it had tasks, most of them to find nothing left.
//! - A searcher looks once ([`Sleepers::end_search`] after its first look): if it found work
//!   and was the last searcher, it notifies one more sleeper (there may be more work than one
//!   worker takes); if it found none and was the last, it looks at every queue, and notifies one
//!   sleeper if any holds work.
//!
//! The sleeper's announcement and the pusher's check are read-modify-writes of one counter, so
//! one of the two comes first and the other sees it: either the sleeper's last look finds the
//! work, or the pusher finds the sleeper and unparks it (and a thread's park token turns an
//! unpark that comes before the park into a park that returns at once). In the same way a
//! pusher that skips the notification because `searching` is non-zero and the searcher's
//! decrement are read-modify-writes of `searching`: the decrement comes after, so the searcher's
//! look after it sees the pushed work.

use crate::util::loom_facade::{AtomicBool, AtomicUsize, Ordering};

pub(crate) struct Sleepers {
    asleep: Box<[AtomicBool]>,
    /// How many of `asleep` are set: lets the push path skip the scan with one load.
    count: AtomicUsize,
    /// Set by `notify_one` for the worker it claims, cleared by that worker's `end_search`
    /// (once per batch it runs: a line of its own, not shared with the other workers' flags).
    searching: Box<[Padded]>,
    /// How many of `searching` are set.
    searchers: AtomicUsize,
}

#[repr(align(128))]
struct Padded(AtomicBool);

/// What a searcher that has looked must do next (see [`Sleepers::end_search`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterSearch {
    /// Nothing: it was not searching, or other searchers are still looking.
    Nothing,
    /// It found work and was the last searcher: notify one more sleeper.
    Notify,
    /// It found nothing and was the last searcher: look at every queue, and notify a sleeper
    /// if one holds work.
    CheckAll,
}

impl Sleepers {
    pub(crate) fn new(workers: usize) -> Sleepers {
        Sleepers {
            asleep: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            count: AtomicUsize::new(0),
            searching: (0..workers)
                .map(|_| Padded(AtomicBool::new(false)))
                .collect(),
            searchers: AtomicUsize::new(0),
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
        // Only the worker itself sets its flag: if it reads clear, a notifier has claimed it
        // (and counted it out), and there is nothing to undo. The load spares the shared line
        // a write on the loop's I/O path, which retracts on every turn.
        if self.asleep[index].load(Ordering::Relaxed)
            && self.asleep[index].swap(false, Ordering::SeqCst)
        {
            self.count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Claims one parked worker for the caller to unpark, if any is parked and no worker woken
    /// earlier is still searching (that one will find the caller's work).
    pub(crate) fn notify_one(&self) -> Option<usize> {
        // Read-modify-writes, not loads: they read the latest counts, and synchronise with the
        // sleeper's `announce` and the searcher's `end_search`, so that either their next look
        // sees the pushed work or this sees them. (A plain load, even `SeqCst`, leaves loom a
        // lost wake-up.)
        // `count` first: while every worker is busy, a push costs this one read-modify-write.
        if self.count.fetch_add(0, Ordering::SeqCst) == 0 {
            return None;
        }
        if self.searchers.fetch_add(0, Ordering::SeqCst) > 0 {
            return None;
        }
        let index = self
            .asleep
            .iter()
            .position(|asleep| asleep.swap(false, Ordering::SeqCst))?;
        self.count.fetch_sub(1, Ordering::SeqCst);
        // Counted before the caller unparks it, so that no pusher in between wakes another.
        if !self.searching[index].0.swap(true, Ordering::SeqCst) {
            self.searchers.fetch_add(1, Ordering::SeqCst);
        }
        Some(index)
    }

    /// Worker `index` has looked for work (`found`: and found some). Says what it must do next.
    pub(crate) fn end_search(&self, index: usize, found: bool) -> AfterSearch {
        // A swap, not a load first: a stale "not searching" would leave `searchers` counting a
        // worker that goes to sleep, and every later notification would be skipped.
        if !self.searching[index].0.swap(false, Ordering::SeqCst) {
            return AfterSearch::Nothing;
        }
        if self.searchers.fetch_sub(1, Ordering::SeqCst) != 1 {
            AfterSearch::Nothing
        } else if found {
            AfterSearch::Notify
        } else {
            AfterSearch::CheckAll
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{AfterSearch, Sleepers};

    #[test]
    fn a_notification_claims_each_sleeper_once() {
        let sleepers = Sleepers::new(3);
        assert_eq!(sleepers.notify_one(), None);
        sleepers.announce(2);
        sleepers.announce(0);
        assert_eq!(sleepers.notify_one(), Some(0));
        sleepers.retract(0); // woken: retracting again changes nothing
        assert_eq!(sleepers.end_search(0, true), AfterSearch::Notify);
        assert_eq!(sleepers.notify_one(), Some(2));
        assert_eq!(sleepers.end_search(2, true), AfterSearch::Notify);
        assert_eq!(sleepers.notify_one(), None);
    }

    #[test]
    fn no_one_more_is_woken_while_a_woken_worker_searches() {
        let sleepers = Sleepers::new(3);
        sleepers.announce(1);
        sleepers.announce(2);
        assert_eq!(sleepers.notify_one(), Some(1));
        // Worker 1 has not looked yet: it will find what is queued meanwhile.
        assert_eq!(sleepers.notify_one(), None);
        // A worker that was not woken has no search to end.
        assert_eq!(sleepers.end_search(0, true), AfterSearch::Nothing);
        assert_eq!(sleepers.end_search(1, false), AfterSearch::CheckAll);
        assert_eq!(sleepers.end_search(1, false), AfterSearch::Nothing);
        assert_eq!(sleepers.notify_one(), Some(2));
    }
}
