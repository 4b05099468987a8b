//! Graceful stop requests: the first phase of a two-phase cancellation.
//!
//! A request does not touch the task's future; it sets a flag the task's own code reads
//! (`is_cancellation_requested`) or awaits (`cancellation_requested`). Requests flow down the
//! tree of owners: a task sees a request made to it or to any owner above it.
//!
//! The cost is paid by those who use it. A task's header holds one word for this: the node of
//! the owner above it (`None` for a top-level task), and a bit of its state for a request made
//! to the task itself. A task gets a node of its own only when it starts owning tasks (its first
//! child, once), or when its code waits for a request; children share it as their parent node.
//! Reading walks the chain of parent nodes, one atomic load per owner; nothing is pushed down
//! the tree when a request is made, so a request costs the same however many tasks it reaches.
//!
//! Phase two (dropping what has not finished by the grace deadline) is the ordinary `cancel`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use crate::slab::Slab;

/// A point of the owner tree that can be asked to stop: a task that owns tasks (and, through
/// the same type, any owner that joins the tree later, such as a group).
pub(crate) struct StopNode {
    requested: AtomicBool,
    parent: Option<Arc<StopNode>>,
    /// Code waiting for a request to this node or any node below it.
    waiters: Mutex<Slab<Waker>>,
}

impl StopNode {
    /// A node below `parent`, already requested if `requested`.
    pub(crate) fn new(parent: Option<Arc<StopNode>>, requested: bool) -> Arc<StopNode> {
        Arc::new(StopNode {
            requested: AtomicBool::new(requested),
            parent,
            waiters: Mutex::new(Slab::default()),
        })
    }

    /// `true` if this node or any node above it has been asked to stop.
    pub(crate) fn is_requested(&self) -> bool {
        let mut node = self;
        loop {
            if node.requested.load(Ordering::Acquire) {
                return true;
            }
            match &node.parent {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    /// Asks this node, and so everything below it, to stop; wakes whoever waits for that.
    pub(crate) fn request(&self) {
        if self.requested.swap(true, Ordering::AcqRel) {
            return;
        }
        // Taken out under the lock, woken outside it: a waker may run arbitrary code.
        let woken: Vec<Waker> = {
            let mut waiters = lock(&self.waiters);
            let taken = std::mem::take(&mut *waiters);
            taken.iter().cloned().collect()
        };
        woken.into_iter().for_each(Waker::wake);
    }

    /// Registers `waker` (or replaces the one under `key`) to be woken by a request to this node.
    /// Returns its key, and whether a request was already there: the flag is read under the
    /// lock `request` empties the waiters under, so no wake-up is lost between the two.
    fn register(&self, key: Option<usize>, waker: &Waker) -> (usize, bool) {
        let mut waiters = lock(&self.waiters);
        // Once requested, a node takes no waiter again: `request` emptied its slab for good, so
        // an old key is never reused for someone else.
        if self.requested.load(Ordering::Acquire) {
            return (key.unwrap_or(usize::MAX), true);
        }
        match key.and_then(|key| waiters.get_mut(key)) {
            Some(slot) => {
                if !slot.will_wake(waker) {
                    *slot = waker.clone();
                }
                (key.expect("found under it"), false)
            }
            None => {
                let key = waiters.reserve();
                waiters.fill(key, waker.clone());
                (key, false)
            }
        }
    }

    fn deregister(&self, key: usize) {
        let waker = lock(&self.waiters).remove(key);
        drop(waker);
    }
}

fn lock(waiters: &Mutex<Slab<Waker>>) -> MutexGuard<'_, Slab<Waker>> {
    waiters.lock().unwrap_or_else(|p| p.into_inner())
}

/// A registration of one waker on a node and every node above it, for code waiting for a
/// request. Deregisters itself when dropped.
pub(crate) struct StopWait {
    registered: Vec<(Arc<StopNode>, usize)>,
}

impl StopWait {
    pub(crate) fn new() -> StopWait {
        StopWait {
            registered: Vec::new(),
        }
    }

    /// Registers `waker` on `node` and on every node above it; `true` if a request is already
    /// there.
    pub(crate) fn poll(&mut self, node: &Arc<StopNode>, waker: &Waker) -> bool {
        if self.registered.is_empty() {
            let mut next = Some(node);
            while let Some(node) = next {
                self.registered.push((node.clone(), usize::MAX));
                next = node.parent.as_ref();
            }
        }
        let mut requested = false;
        for (node, key) in &mut self.registered {
            let (new_key, seen) = node.register((*key != usize::MAX).then_some(*key), waker);
            *key = new_key;
            requested |= seen;
        }
        requested
    }
}

impl Drop for StopWait {
    fn drop(&mut self) {
        for (node, key) in self.registered.drain(..) {
            if key != usize::MAX {
                node.deregister(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StopNode;

    #[test]
    fn a_request_reaches_every_node_below_and_none_above() {
        let root = StopNode::new(None, false);
        let middle = StopNode::new(Some(root.clone()), false);
        let leaf = StopNode::new(Some(middle.clone()), false);
        middle.request();
        assert!(leaf.is_requested());
        assert!(middle.is_requested());
        assert!(!root.is_requested());
    }
}
