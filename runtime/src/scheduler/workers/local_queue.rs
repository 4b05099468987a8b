//! A worker's own run queue of `Send` tasks: a bounded ring that its worker pushes to without a
//! lock, and that any worker (its own included) takes from with one compare-and-swap.
//!
//! One producer, many consumers, first in first out. Positions only grow (a `usize` does not
//! wrap in practice); position `p` lives in slot `p % CAPACITY`. Each slot carries a sequence
//! number saying which position may be written there next, which is what keeps the producer
//! from overwriting a slot a consumer has claimed but not yet read:
//!
//! - the producer writes position `t` only when its slot says `t`, then publishes `tail = t + 1`;
//! - a consumer claims positions `h..h + n` below `tail` by moving `head` forward with a
//!   compare-and-swap, reads them, then marks each slot free for position `p + CAPACITY`.
//!
//! When the ring is full, the producer is told so and moves work to the runtime's shared
//! queue instead (see `Workers::push_local`).

use std::mem::MaybeUninit;

use crate::util::loom_facade::{AtomicUsize, Ordering, UnsafeCell};

/// Slots per worker. A power of two, so that a position's slot is a mask away.
const CAPACITY: usize = 256;
const MASK: usize = CAPACITY - 1;

/// Aligned to two cache lines: the workers' queues sit side by side in one slice, and each is
/// written on every push and pop by its own worker. Unaligned, two queues of 32 bytes shared a
/// line, and each worker's pushes took it from the other (the 2-worker yield row spent most of
/// its samples on the load of `tail`).
#[repr(align(128))]
pub(crate) struct LocalQueue<T> {
    slots: Box<[Slot<T>]>,
    /// The next position to take. Moved forward by consumers, with a compare-and-swap.
    head: AtomicUsize,
    /// The next position to write. Stored by the producer only.
    tail: AtomicUsize,
}

struct Slot<T> {
    /// The position that may be written here next. It stays `p` while position `p` is queued
    /// here, and becomes `p + CAPACITY` once a consumer has read it.
    seq: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: values of `T` move between threads through the queue (so `T: Send`), and a slot's
// value is only touched by the one thread that the protocol above gives it to: the producer
// before it publishes `tail`, a consumer after its compare-and-swap claimed the position.
unsafe impl<T: Send> Send for LocalQueue<T> {}
// SAFETY: as above; every shared access goes through atomics.
unsafe impl<T: Send> Sync for LocalQueue<T> {}

impl<T> LocalQueue<T> {
    pub(crate) fn new() -> LocalQueue<T> {
        LocalQueue {
            slots: (0..CAPACITY)
                .map(|position| Slot {
                    seq: AtomicUsize::new(position),
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                })
                .collect(),
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
        }
    }

    /// Pushes `item` at the back and returns the queue's new length, or gives `item` back if
    /// the ring is full.
    ///
    /// # Safety
    ///
    /// Only one thread, the queue's producer, may ever push (the worker that owns the queue).
    pub(crate) unsafe fn push(&self, item: T) -> Result<usize, T> {
        // Only this thread stores `tail`, so its own last store is the latest.
        let tail = self.tail.load(Ordering::Relaxed);
        let slot = &self.slots[tail & MASK];
        // Acquire: the consumer that freed this slot has finished reading it.
        if slot.seq.load(Ordering::Acquire) != tail {
            return Err(item);
        }
        // SAFETY: the slot is free for position `tail`, and only the producer (this thread,
        // by the caller's promise) writes; no consumer reads it before `tail` is published.
        slot.value.with_mut(|value| unsafe { (*value).write(item) });
        // Release: publishes the write above to the consumer that claims this position.
        self.tail.store(tail + 1, Ordering::Release);
        Ok(tail + 1 - self.head.load(Ordering::Relaxed).min(tail + 1))
    }

    /// Takes the oldest item.
    pub(crate) fn pop(&self) -> Option<T> {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let tail = self.tail.load(Ordering::Acquire);
            if tail == head {
                return None;
            }
            match self.head.compare_exchange_weak(
                head,
                head + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                // SAFETY: the compare-and-swap gave position `head` to this thread alone, and
                // `tail > head` (acquired) means the producer's write of it is visible.
                Ok(_) => return Some(unsafe { self.take(head) }),
                Err(now) => head = now,
            }
        }
    }

    /// Takes the oldest half of the queue (rounded up; at most `max`) into `batch`, in order.
    pub(crate) fn steal_half(&self, batch: &mut Vec<T>, max: usize) {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let tail = self.tail.load(Ordering::Acquire);
            let len = tail.wrapping_sub(head);
            if len == 0 || len > CAPACITY {
                // Empty, or `head` was read so long ago that it is stale: start again.
                if len == 0 {
                    return;
                }
                head = self.head.load(Ordering::Acquire);
                continue;
            }
            let take = len.div_ceil(2).min(max);
            match self.head.compare_exchange_weak(
                head,
                head + take,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: as in `pop`, for every claimed position.
                    batch
                        .extend((head..head + take).map(|position| unsafe { self.take(position) }));
                    return;
                }
                Err(now) => head = now,
            }
        }
    }

    /// Reads the item at a claimed position and frees its slot for the producer's next lap.
    ///
    /// # Safety
    ///
    /// `position` was claimed by this thread (a successful compare-and-swap of `head` past it)
    /// and is below a `tail` this thread has acquired.
    unsafe fn take(&self, position: usize) -> T {
        let slot = &self.slots[position & MASK];
        // SAFETY: the caller's claim makes this thread the slot's only reader, and the
        // producer wrote it before publishing `tail` past it.
        let item = slot
            .value
            .with_mut(|value| unsafe { (*value).assume_init_read() });
        // Release: the producer may reuse the slot once it sees this (its load acquires).
        slot.seq.store(position + CAPACITY, Ordering::Release);
        item
    }

    /// About how many items are queued (exact when nobody is pushing or taking).
    pub(crate) fn len(&self) -> usize {
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        tail.saturating_sub(head)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for LocalQueue<T> {
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{CAPACITY, LocalQueue};

    #[test]
    fn first_in_first_out_and_a_thief_takes_the_oldest_half() {
        let queue = LocalQueue::new();
        for n in 1..=5 {
            // SAFETY: this thread is the only producer.
            assert_eq!(unsafe { queue.push(n) }, Ok(n));
        }
        let mut stolen = Vec::new();
        queue.steal_half(&mut stolen, usize::MAX);
        assert_eq!(stolen, [1, 2, 3]);
        assert_eq!(queue.pop(), Some(4));
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.pop(), Some(5));
        assert_eq!(queue.pop(), None);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_full_ring_refuses_and_takes_again_once_drained() {
        let queue = LocalQueue::new();
        for n in 0..CAPACITY {
            // SAFETY: this thread is the only producer.
            assert!(unsafe { queue.push(n) }.is_ok());
        }
        // SAFETY: as above.
        assert_eq!(unsafe { queue.push(CAPACITY) }, Err(CAPACITY));
        let mut stolen = Vec::new();
        queue.steal_half(&mut stolen, 8);
        assert_eq!(stolen, (0..8).collect::<Vec<_>>());
        // Many laps around the ring.
        for n in CAPACITY..CAPACITY * 5 {
            // SAFETY: as above.
            assert!(unsafe { queue.push(n) }.is_ok());
            assert!(queue.pop().is_some());
        }
        assert_eq!(queue.len(), CAPACITY - 8);
    }

    #[test]
    fn dropping_the_queue_drops_what_it_holds() {
        let item = std::sync::Arc::new(());
        let queue = LocalQueue::new();
        for _ in 0..10 {
            // SAFETY: this thread is the only producer.
            assert!(unsafe { queue.push(item.clone()) }.is_ok());
        }
        drop(queue);
        assert_eq!(std::sync::Arc::strong_count(&item), 1);
    }
}
