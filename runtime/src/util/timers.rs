//! The loop's timers, ordered by deadline.
//!
//! Armed timers live in a slab (their wakers, under reusable slots), and `(deadline, sequence
//! number, slot)` entries order them. Most timers are armed with a deadline no earlier than the
//! last one (the same timeout or sleep, from a clock that only goes forward): those go at the
//! back of a sorted queue, and fire from its front, in O(1) and in memory order. The others go
//! into a binary heap (O(log n)); the earliest of the two fronts fires first. Disarming only
//! empties the slot: the entry goes stale and is thrown away when it reaches a front, or in a
//! sweep once stale entries outnumber live ones. The B-tree this replaces paid a search and a
//! node shuffle on every arm and disarm, which dominated arm-then-cancel (timeouts that do not
//! fire). Timers with the same deadline fire in the order they were armed.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
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

/// An entry of the queue or the heap. Its `Ord` is reversed, so that `BinaryHeap` (a max-heap)
/// puts the earliest deadline, then the earliest armed, on top.
struct Entry {
    deadline: Instant,
    seq: u64,
    slot: u32,
}

impl Entry {
    fn key(&self) -> (Instant, u64) {
        (self.deadline, self.seq)
    }
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
        other.key().cmp(&self.key())
    }
}

#[derive(Default)]
pub(crate) struct Timers {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Every armed timer has exactly one entry, here or in `heap`; disarmed ones may leave a
    /// stale one. Sorted, earliest first.
    queue: VecDeque<Entry>,
    /// The timers armed earlier than the back of `queue`.
    heap: BinaryHeap<Entry>,
    // The front of `queue` and the top of `heap` are always live: `next_deadline` and
    // `take_due` rely on it.
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
                let slot = u32::try_from(self.slots.len()).unwrap_or_else(|_| {
                    panic!(
                        "tether: 2^32 timers are armed at once on one event loop, the most \
                             it can hold (sleeps and timeouts each arm one while pending); \
                             drop the futures of those that are not needed"
                    )
                });
                self.slots.push(Slot {
                    seq,
                    waker: Some(waker),
                });
                slot
            }
        };
        let entry = Entry {
            deadline,
            seq,
            slot,
        };
        // `seq` only grows, so an entry no earlier than the back keeps the queue sorted.
        if self
            .queue
            .back()
            .is_none_or(|back| back.deadline <= deadline)
        {
            self.queue.push_back(entry);
        } else {
            self.heap.push(entry);
        }
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
        self.drop_stale_fronts();
        let stale = self.queue.len() + self.heap.len() - self.live;
        if stale > SWEEP_AT && stale > self.live {
            let slots = &self.slots;
            let live = |entry: &Entry| slots[entry.slot as usize].seq == entry.seq;
            self.queue.retain(live);
            self.heap.retain(live);
        }
        waker
    }

    fn is_live(&self, entry: &Entry) -> bool {
        self.slots[entry.slot as usize].seq == entry.seq
    }

    /// Restores the invariant that both fronts are live.
    fn drop_stale_fronts(&mut self) {
        while self.queue.front().is_some_and(|front| !self.is_live(front)) {
            self.queue.pop_front();
        }
        while self.heap.peek().is_some_and(|top| !self.is_live(top)) {
            self.heap.pop();
        }
    }

    /// The earliest entry, and whether it is the queue's (else the heap's).
    fn first(&self) -> Option<(&Entry, bool)> {
        match (self.queue.front(), self.heap.peek()) {
            (Some(front), Some(top)) if top.key() < front.key() => Some((top, false)),
            (Some(front), _) => Some((front, true)),
            (None, top) => top.map(|top| (top, false)),
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.first().map(|(entry, _)| entry.deadline)
    }

    /// Moves the wakers of every timer due at `now` into `due`, earliest first.
    pub(crate) fn take_due(&mut self, now: Instant, due: &mut Vec<Waker>) {
        self.take_due_with(now, |_, waker| due.push(waker));
    }

    /// Hands every timer due at `now` to `fire` with its deadline, earliest first.
    pub(crate) fn take_due_with(&mut self, now: Instant, mut fire: impl FnMut(Instant, Waker)) {
        while let Some((first, in_queue)) = self.first() {
            if first.deadline > now {
                break;
            }
            let slot = first.slot;
            let deadline = first.deadline;
            if in_queue {
                self.queue.pop_front();
            } else {
                self.heap.pop();
            }
            let entry = &mut self.slots[slot as usize];
            entry.seq = VACANT;
            if let Some(waker) = entry.waker.take() {
                fire(deadline, waker);
            }
            self.free.push(slot);
            self.live -= 1;
            self.drop_stale_fronts();
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
    fn deadlines_armed_out_of_order_fire_in_deadline_then_arming_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut timers = Timers::default();
        let t0 = Instant::now();
        let seconds = [5, 3, 5, 1, 4, 5, 2, 1, 6, 3];
        let keys: Vec<_> = seconds
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let waker = Waker::from(Arc::new(Logged(i, log.clone())));
                timers.arm(t0 + Duration::from_secs(*s), waker)
            })
            .collect();
        drop(timers.disarm(keys[3]));
        assert_eq!(timers.next_deadline(), Some(t0 + Duration::from_secs(1)));
        let mut due = Vec::new();
        timers.take_due(t0 + Duration::from_secs(3), &mut due);
        assert_eq!(timers.next_deadline(), Some(t0 + Duration::from_secs(4)));
        timers.take_due(t0 + Duration::from_secs(10), &mut due);
        due.drain(..).for_each(Waker::wake);
        assert_eq!(*log.lock().unwrap(), [7, 6, 1, 9, 4, 0, 2, 5, 8]);
        assert!(timers.is_empty());
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
        assert!(timers.queue.len() + timers.heap.len() <= 2 * timers.len() + super::SWEEP_AT + 1);
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
