//! A worker's run queue of `Send` tasks: its owner pushes and pops at the front and back, idle
//! workers steal half of it.
//!
//! A mutex around a `VecDeque`, with the length mirrored in an atomic so that an idle worker
//! can look for work without taking any lock. The lock is held for a push or a pop, or for the
//! copy of half the queue in a steal: briefly, and rarely contended.

use std::collections::VecDeque;

use super::primitives::{AtomicUsize, Mutex, Ordering, lock};

pub(crate) struct RunQueue<T> {
    items: Mutex<VecDeque<T>>,
    /// `items.len()`, readable without the lock. Exact whenever the lock is free.
    len: AtomicUsize,
}

impl<T> RunQueue<T> {
    pub(crate) fn new() -> RunQueue<T> {
        RunQueue {
            items: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    pub(crate) fn push(&self, item: T) {
        let mut items = lock(&self.items);
        items.push_back(item);
        self.len.store(items.len(), Ordering::SeqCst);
    }

    /// Pushes every item of `items`, in order, under one lock.
    pub(crate) fn push_all(&self, items: impl Iterator<Item = T>) {
        let mut queue = lock(&self.items);
        queue.extend(items);
        self.len.store(queue.len(), Ordering::SeqCst);
    }

    /// Moves up to `max` items, oldest first, to the end of `batch`.
    pub(crate) fn pop_batch(&self, batch: &mut Vec<T>, max: usize) {
        if self.is_empty() {
            return;
        }
        let mut items = lock(&self.items);
        let take = items.len().min(max);
        batch.extend(items.drain(..take));
        self.len.store(items.len(), Ordering::SeqCst);
    }

    /// Moves half of this queue (rounded up; at most `max`) to `batch`: the newest items, so
    /// the owner keeps running the oldest ones, in order. The stolen items keep their order too.
    pub(crate) fn steal_half(&self, batch: &mut Vec<T>, max: usize) {
        if self.is_empty() {
            return;
        }
        let mut items = lock(&self.items);
        let take = items.len().div_ceil(2).min(max);
        let from = items.len() - take;
        batch.extend(items.drain(from..));
        self.len.store(items.len(), Ordering::SeqCst);
    }

    /// Empties the queue.
    pub(crate) fn take_all(&self) -> VecDeque<T> {
        let mut items = lock(&self.items);
        self.len.store(0, Ordering::SeqCst);
        std::mem::take(&mut *items)
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::RunQueue;

    #[test]
    fn the_owner_pops_oldest_first_and_a_thief_takes_the_newest_half() {
        let queue = RunQueue::new();
        (1..=5).for_each(|n| queue.push(n));
        let mut stolen = Vec::new();
        queue.steal_half(&mut stolen, usize::MAX);
        assert_eq!(stolen, [3, 4, 5]);
        let mut mine = Vec::new();
        queue.pop_batch(&mut mine, 1);
        assert_eq!(mine, [1]);
        assert_eq!(queue.len(), 1);
        queue.pop_batch(&mut mine, 10);
        assert_eq!(mine, [1, 2]);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_steal_is_bounded() {
        let queue = RunQueue::new();
        (0..100).for_each(|n| queue.push(n));
        let mut stolen = Vec::new();
        queue.steal_half(&mut stolen, 8);
        assert_eq!(stolen, (92..100).collect::<Vec<_>>());
        assert_eq!(queue.take_all().len(), 92);
        assert_eq!(queue.len(), 0);
    }
}
