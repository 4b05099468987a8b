//! Where a queue keeps its items: the one thing that differs between [`Queue`](super::Queue),
//! [`PriorityQueue`](super::PriorityQueue) and [`LifoQueue`](super::LifoQueue).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A container's size, known whatever the items are (a heap needs `Ord` only to order them).
pub(crate) trait Len {
    fn len(&self) -> usize;
}

/// An ordered container of items.
pub(crate) trait Store<T>: Len {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    /// Takes every item out (for an immediate shutdown).
    fn take_all(&mut self) -> Vec<T>;
}

/// First in, first out.
#[derive(Debug)]
pub(crate) struct Fifo<T>(VecDeque<T>);

/// Last in, first out.
#[derive(Debug)]
pub(crate) struct Lifo<T>(Vec<T>);

/// Smallest first.
#[derive(Debug)]
pub(crate) struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T> Fifo<T> {
    pub(crate) const fn new() -> Fifo<T> {
        Fifo(VecDeque::new())
    }
}

impl<T> Lifo<T> {
    pub(crate) const fn new() -> Lifo<T> {
        Lifo(Vec::new())
    }
}

impl<T> Priority<T> {
    pub(crate) const fn new() -> Priority<T> {
        Priority(BinaryHeap::new())
    }
}

impl<T> Store<T> for Fifo<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }

    fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0).into()
    }
}

impl<T> Store<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }
}

impl<T: Ord> Store<T> for Priority<T> {
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }

    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }

    fn take_all(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
            .into_iter()
            .map(|Reverse(item)| item)
            .collect()
    }
}

impl<T> Len for Fifo<T> {
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Len for Lifo<T> {
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Len for Priority<T> {
    fn len(&self) -> usize {
        self.0.len()
    }
}
