//! The runtime's shared queue of `Send` tasks: what threads outside the runtime schedule, and
//! what overflows a worker's own queue.
//!
//! A mutex around a `VecDeque`, with the length mirrored in an atomic so that an idle worker
//! can look for work without taking any lock. Any thread may push; workers take shares of it
//! into their own queues (`Slot::take_from_injector`), so the lock is taken rarely and briefly.

use std::collections::VecDeque;

use crate::util::loom_facade::{AtomicUsize, Mutex, Ordering, lock};

pub(crate) struct Injector<T> {
    items: Mutex<VecDeque<T>>,
    /// `items.len()`, readable without the lock. Exact whenever the lock is free.
    ///
    /// Release stores and acquire loads are enough for the park protocol: what orders a push
    /// before a sleeper's last look is the pusher's read-modify-write of the sleeper count,
    /// which comes after the push (see `sleepers`).
    len: AtomicUsize,
}

impl<T> Injector<T> {
    pub(crate) fn new() -> Injector<T> {
        Injector {
            items: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    /// Pushes `item` at the back; returns the queue's new length.
    pub(crate) fn push(&self, item: T) -> usize {
        let mut items = lock(&self.items);
        items.push_back(item);
        self.len.store(items.len(), Ordering::Release);
        items.len()
    }

    /// Pushes every item of `items`, in order, under one lock.
    pub(crate) fn push_all(&self, items: impl Iterator<Item = T>) {
        let mut queue = lock(&self.items);
        queue.extend(items);
        self.len.store(queue.len(), Ordering::Release);
    }

    /// Moves up to `max` items, oldest first, to the end of `batch`.
    pub(crate) fn pop_batch(&self, batch: &mut Vec<T>, max: usize) {
        if self.is_empty() {
            return;
        }
        let mut items = lock(&self.items);
        let take = items.len().min(max);
        batch.extend(items.drain(..take));
        self.len.store(items.len(), Ordering::Release);
    }

    /// Empties the queue.
    pub(crate) fn take_all(&self) -> VecDeque<T> {
        let mut items = lock(&self.items);
        self.len.store(0, Ordering::Release);
        std::mem::take(&mut *items)
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Injector;

    #[test]
    fn first_in_first_out_in_batches() {
        let queue = Injector::new();
        (1..=3).for_each(|n| {
            queue.push(n);
        });
        queue.push_all(4..=5);
        let mut taken = Vec::new();
        queue.pop_batch(&mut taken, 2);
        assert_eq!(taken, [1, 2]);
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.take_all(), [3, 4, 5]);
        assert!(queue.is_empty());
    }
}
