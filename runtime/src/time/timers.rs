//! The loop's timers, ordered by deadline.
//!
//! Armed timers live in a slab (their wakers, under reusable slots) and a binary heap of
//! `(deadline, sequence number, slot)` orders them. Disarming only empties the slot: the heap
//! entry goes stale and is thrown away when it reaches the top, or in a sweep once stale entries
//! outnumber live ones. So arming is O(log n) (O(1) for the common case of a deadline later than
//! the others), disarming is O(1) amortised, and firing is O(log n); the B-tree this replaces
//! paid a search and a node shuffle on every arm and disarm, which dominated arm-then-cancel
//! (timeouts that do not fire). Timers with the same deadline fire in the order they were armed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::Instant;

/// Identifies an armed timer: its slot, and the sequence number that tells this arming of the
/// slot from earlier and later ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    seq: u64,
}

/// The sequence number of an empty slot; armed timers count from 1.
const VACANT: u64 = 0;

/// When stale heap entries are swept: once there are more of them than this and than live ones.
const SWEEP_AT: usize = 64;

struct Slot {
    /// `VACANT`, or the sequence number of the timer armed here.
    seq: u64,
    waker: Option<Waker>,
}

/// A heap entry, ordered so that `BinaryHeap` (a max-heap) puts the earliest deadline, then the
/// earliest armed, on top.
struct Entry {
    deadline: Instant,
    seq: u64,
    slot: u32,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

#[derive(Default)]
pub(crate) struct Timers {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Every armed timer has exactly one entry here; disarmed and fired ones may leave a stale
    /// one, except on top: the top entry, if any, is always live (`next_deadline` relies on it).
    heap: BinaryHeap<Entry>,
    /// Armed timers.
    live: usize,
    /// The last sequence number handed out.
    seq: u64,
}

impl Timers {
    pub(crate) fn arm(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        self.seq += 1;
        let seq = self.seq;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Slot {
                    seq,
                    waker: Some(waker),
                };
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len())
                    .expect("fewer than 2^32 timers are armed at once");
                self.slots.push(Slot {
                    seq,
                    waker: Some(waker),
                });
                slot
            }
        };
        self.heap.push(Entry {
            deadline,
            seq,
            slot,
        });
        self.live += 1;
        TimerKey { slot, seq }
    }

    fn slot_mut(&mut self, key: TimerKey) -> Option<&mut Slot> {
        self.slots
            .get_mut(key.slot as usize)
            .filter(|slot| slot.seq == key.seq)
    }

    /// Points an armed timer at a new waker. Returns `false` if the timer is not armed (it fired).
    pub(crate) fn rearm(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.slot_mut(key).and_then(|slot| slot.waker.as_mut()) {
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
        let slot = self.slot_mut(key)?;
        let waker = slot.waker.take();
        slot.seq = VACANT;
        self.free.push(key.slot);
        self.live -= 1;
        self.drop_stale_top();
        let stale = self.heap.len() - self.live;
        if stale > SWEEP_AT && stale > self.live {
            let slots = &self.slots;
            self.heap
                .retain(|entry| slots[entry.slot as usize].seq == entry.seq);
        }
        waker
    }

    fn is_live(&self, entry: &Entry) -> bool {
        self.slots[entry.slot as usize].seq == entry.seq
    }

    /// Restores the invariant that the top entry is live.
    fn drop_stale_top(&mut self) {
        while self.heap.peek().is_some_and(|top| !self.is_live(top)) {
            self.heap.pop();
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|top| top.deadline)
    }

    /// Moves the wakers of every timer due at `now` into `due`, earliest first.
    pub(crate) fn take_due(&mut self, now: Instant, due: &mut Vec<Waker>) {
        while let Some(top) = self.heap.peek() {
            if top.deadline > now {
                break;
            }
            let slot = top.slot;
            self.heap.pop();
            let entry = &mut self.slots[slot as usize];
            entry.seq = VACANT;
            if let Some(waker) = entry.waker.take() {
                due.push(waker);
            }
            self.free.push(slot);
            self.live -= 1;
            self.drop_stale_top();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::task::{Wake, Waker};
    use std::time::{Duration, Instant};

    use super::Timers;

    /// A waker that records its number in a shared log when woken.
    struct Logged(usize, Arc<Mutex<Vec<usize>>>);

    impl Wake for Logged {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    #[test]
    fn timers_fire_by_deadline_then_arming_order_and_disarmed_ones_never() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let waker = |i| Waker::from(Arc::new(Logged(i, log.clone())));
        let mut timers = Timers::default();
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let late = timers.arm(t0 + 2 * second, waker(1000));
        let keys: Vec<_> = (0..200)
            .map(|i| timers.arm(t0 + second, waker(i)))
            .collect();
        for key in keys.iter().skip(1).step_by(2) {
            assert!(timers.disarm(*key).is_some());
            assert!(timers.disarm(*key).is_none(), "a timer is disarmed once");
        }
        assert_eq!(timers.len(), 101);
        assert_eq!(timers.next_deadline(), Some(t0 + second));

        let mut due = Vec::new();
        timers.take_due(t0, &mut due);
        assert!(due.is_empty(), "nothing is due before its deadline");
        timers.take_due(t0 + second, &mut due);
        due.drain(..).for_each(Waker::wake);
        let expected: Vec<usize> = (0..200).step_by(2).collect();
        assert_eq!(*log.lock().unwrap(), expected);
        assert!(
            !timers.rearm(keys[0], Waker::noop()),
            "a fired timer is not armed"
        );

        assert_eq!(timers.len(), 1);
        assert_eq!(timers.next_deadline(), Some(t0 + 2 * second));
        assert!(timers.rearm(late, Waker::noop()));
        assert!(timers.disarm(late).is_some());
        assert!(timers.is_empty());
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn arming_and_cancelling_leaves_no_pile_of_stale_entries() {
        let mut timers = Timers::default();
        let t0 = Instant::now();
        let keep = timers.arm(t0, Waker::noop().clone());
        let mut cancelled = Vec::new();
        for i in 0..10_000u64 {
            // Earlier than the ones before it, so its stale entry is not always on top.
            let key = timers.arm(t0 + Duration::from_secs(100_000 - i), Waker::noop().clone());
            cancelled.push(key);
            if i % 3 != 0 {
                drop(timers.disarm(key));
            }
        }
        assert_eq!(timers.len(), 1 + 3334);
        assert!(timers.heap.len() <= 2 * timers.len() + super::SWEEP_AT + 1);
        let mut due = Vec::new();
        timers.take_due(t0, &mut due);
        assert_eq!(due.len(), 1);
        assert!(!timers.rearm(keep, Waker::noop()));
        timers.take_due(t0 + Duration::from_secs(200_000), &mut due);
        assert_eq!(due.len(), 1 + 3334);
        assert!(timers.is_empty());
        assert!(cancelled.iter().all(|key| timers.disarm(*key).is_none()));
    }
}
