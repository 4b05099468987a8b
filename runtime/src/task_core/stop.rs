//! Graceful stop requests: the first phase of a two-phase cancellation.
//!
//! A request does not touch the task's future; it sets a flag the task's own code reads
//! (`is_cancellation_requested`) or awaits (`cancellation_requested`). Requests flow down the
//! tree of owners: a task sees a request made to it or to any owner above it.
//!
//! The cost is paid by those who use it. A task's header holds one word for this, a
//! [`StopSlot`], and a bit of its state for a request made to the task itself. The slot starts
//! with the node of the owner above the task (empty for a top-level task). A task gets a node of
//! its own only when it starts owning tasks (one allocation, at its first child), or when its
//! code waits for a request; the node takes the owner's place in the slot and becomes the
//! parent node of every child. Reading walks the chain of parent nodes, one atomic load per
//! owner; nothing is pushed down the tree when a request is made, so a request costs the same
//! however many tasks it reaches.
//!
//! Phase two (dropping what has not finished by the grace deadline) is the ordinary `cancel`.

use std::cell::RefCell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering, fence};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use crate::util::loom_facade::lock;
use crate::util::slab::Slab;

/// A point of the owner tree that can be asked to stop: a task that owns tasks (and, through
/// the same type, any owner that joins the tree later, such as a group).
///
/// Every field is an atomic or under a lock, so a node is changed through a shared `Arc`:
/// reusing a spare node and letting go of one take no read-modify-write of the `Arc`'s counts
/// beyond the one every `Arc` drop pays.
pub(crate) struct StopNode {
    requested: AtomicBool,
    /// The owner has finished: nobody can ask this node any more (a request to a finished task
    /// is refused), so a node that is closed and not requested only passes on what is above it.
    closed: AtomicBool,
    /// The node above, of which this one owns a strong count (`Arc::into_raw`); null at the top.
    /// Set when the node is made (or reused) and taken when it is let go of, each time by the
    /// node's only holder; read while the node is alive, by anyone.
    parent: AtomicPtr<StopNode>,
    /// Code waiting for a request to this node or any node below it.
    waiters: Mutex<Slab<Waker>>,
}

thread_local! {
    /// Nodes whose last holder let go on this thread, kept for the next task here that makes
    /// one: a program that creates tasks from tasks makes a node per creating task, and a node
    /// from here costs a fraction of an allocation and a free.
    static SPARE: RefCell<Vec<Arc<StopNode>>> = const { RefCell::new(Vec::new()) };
}

/// How many spare nodes a thread keeps at most (about 80 bytes each).
const SPARE_MAX: usize = 1024;

/// The raw form of an optional node, as `parent` keeps it.
fn into_raw(node: Option<Arc<StopNode>>) -> *mut StopNode {
    node.map_or(ptr::null_mut(), |node| Arc::into_raw(node).cast_mut())
}

impl StopNode {
    /// A node below `parent`, already requested if `requested`.
    pub(crate) fn new(parent: Option<Arc<StopNode>>, requested: bool) -> Arc<StopNode> {
        let spare = SPARE
            .try_with(|spare| spare.borrow_mut().pop())
            .ok()
            .flatten();
        if let Some(node) = spare {
            // A spare is held by nothing else (see `release`), so nobody reads these stores
            // before the node is handed out, which publishes them.
            node.requested.store(requested, Ordering::Relaxed);
            node.closed.store(false, Ordering::Relaxed);
            node.parent.store(into_raw(parent), Ordering::Relaxed);
            return node;
        }
        Arc::new(StopNode {
            requested: AtomicBool::new(requested),
            closed: AtomicBool::new(false),
            parent: AtomicPtr::new(into_raw(parent)),
            waiters: Mutex::new(Slab::default()),
        })
    }

    /// The node above this one, if any, borrowed for as long as this one is.
    fn parent(&self) -> Option<&StopNode> {
        let parent = self.parent.load(Ordering::Acquire);
        // SAFETY: a non-null `parent` is a node this one holds a strong count of, given up only
        // by `release` or `drop`, which have this node to themselves (nobody else borrows it).
        (!parent.is_null()).then(|| unsafe { &*parent })
    }

    /// A new strong count of the node above this one, if any.
    fn parent_arc(&self) -> Option<Arc<StopNode>> {
        let parent = self.parent.load(Ordering::Acquire);
        (!parent.is_null()).then(|| {
            // SAFETY: as in `parent`; the count made here is the returned `Arc`'s.
            unsafe {
                Arc::increment_strong_count(parent);
                Arc::from_raw(parent)
            }
        })
    }

    /// Lets go of `node`: if that was its last holder, it becomes a spare of this thread (and
    /// its parent is let go of the same way).
    fn release(node: Arc<StopNode>) {
        let mut next = Some(node);
        while let Some(node) = next.take() {
            // Nothing makes a `Weak` of a node, so one strong count means this is the only
            // holder, for good: nobody can reach the node to clone it. (A plain load: `get_mut`
            // would cost a read-modify-write.)
            if Arc::strong_count(&node) != 1 {
                return; // Held elsewhere too: dropping this count is all.
            }
            // The count was read relaxed: this orders every former holder's use of the node
            // (which came before its `Release` decrement) before the writes below, as the
            // acquire of `Arc::get_mut` would. A compiler barrier only, on x86.
            fence(Ordering::Acquire);
            // The only holder: a load and a store, no read-modify-write.
            let parent = node.parent.load(Ordering::Acquire);
            node.parent.store(ptr::null_mut(), Ordering::Relaxed);
            // SAFETY: the count `parent` owned, taken out of it just above.
            next = (!parent.is_null()).then(|| unsafe { Arc::from_raw(parent) });
            // Every waker on a node belongs to a `StopWait`, which holds the node until it has
            // taken its waker out again, so a node with one holder has none.
            debug_assert!(lock(&node.waiters).is_empty(), "a waiter without its node");
            let _ = SPARE.try_with(|spare| {
                let mut spare = spare.borrow_mut();
                if spare.len() < SPARE_MAX {
                    spare.push(node);
                }
            });
        }
    }

    /// `true` if this node or any node above it has been asked to stop.
    pub(crate) fn is_requested(&self) -> bool {
        let mut node = self;
        loop {
            if node.requested.load(Ordering::Acquire) {
                return true;
            }
            match node.parent() {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    /// The first node from `node` up that can still matter to a task below it: not closed, or
    /// requested. A new node links there, so a chain of owners that have finished (a task that
    /// creates its successor and ends, again and again) is not kept alive link by link.
    fn live_ancestor(mut node: Option<Arc<StopNode>>) -> Option<Arc<StopNode>> {
        loop {
            match node {
                Some(n)
                    if n.closed.load(Ordering::Acquire) && !n.requested.load(Ordering::Acquire) =>
                {
                    node = n.parent_arc();
                }
                _ => return node,
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

impl Drop for StopNode {
    fn drop(&mut self) {
        let parent = *self.parent.get_mut();
        if !parent.is_null() {
            // SAFETY: the count `parent` owns, given up once, here.
            StopNode::release(unsafe { Arc::from_raw(parent) });
        }
    }
}

/// A task's one word of the owner tree: the node its requests come from, which is first its
/// owner's node and, once the task has made its own, that node (whose parent is the owner's).
///
/// The low bit of the pointer says which. The slot owns one strong count of the node it holds;
/// when the task makes its own node, the owner's count moves into that node's `parent`. Only
/// the task itself, while it runs, makes its node (`own_node`), so the slot changes at most
/// once; any thread may read it while the header is alive (`request_own`).
pub(crate) struct StopSlot {
    node: AtomicPtr<StopNode>,
}

/// The low bit of a [`StopSlot`]'s pointer: the node is the task's own.
const OWN: usize = 1;

impl StopSlot {
    /// A slot below `parent`'s node (`None`: a top-level task).
    pub(crate) fn new(parent: Option<Arc<StopNode>>) -> StopSlot {
        StopSlot {
            node: AtomicPtr::new(parent.map_or(ptr::null_mut(), |p| Arc::into_raw(p).cast_mut())),
        }
    }

    /// The node the slot holds, and whether it is the task's own.
    fn load(&self) -> (*const StopNode, bool) {
        let tagged = self.node.load(Ordering::SeqCst);
        (
            tagged.map_addr(|a| a & !OWN).cast_const(),
            tagged.addr() & OWN != 0,
        )
    }

    /// `true` if a node the slot reaches (the task's own, or an owner's above it) has been
    /// asked to stop.
    pub(crate) fn is_requested(&self) -> bool {
        let (node, _) = self.load();
        // SAFETY: a non-null pointer is a node the slot holds a count of, and the slot lives as
        // long as `&self`; it is replaced only by `own_node`, which keeps the old node alive as
        // the new one's parent.
        !node.is_null() && unsafe { &*node }.is_requested()
    }

    /// The task's own node, made now if it has none. Called only by the task itself, while it
    /// runs (so never twice at once). `requested` reads the task's own request bit: it is read
    /// again after the node is in place, so a request made meanwhile (which sets the bit, then
    /// reads the slot: `request_own`) reaches the node one way or the other.
    pub(crate) fn own_node(&self, requested: impl Fn() -> bool) -> Arc<StopNode> {
        let (node, own) = self.load();
        if own {
            // SAFETY: the slot holds a count of its own node, alive as long as `&self`; the
            // new count is the returned `Arc`'s.
            return unsafe {
                Arc::increment_strong_count(node);
                Arc::from_raw(node)
            };
        }
        // SAFETY: a non-null pointer is the owner's node, whose count the slot owns: it moves
        // into the new node's `parent`, as the slot stops holding it below.
        let parent = (!node.is_null()).then(|| unsafe { Arc::from_raw(node) });
        let new = StopNode::new(StopNode::live_ancestor(parent), requested());
        let raw = Arc::into_raw(new.clone()).cast_mut();
        // SeqCst with the bit's read below and with `request_own`'s: of a request and this
        // store, at least one sees the other.
        self.node.store(raw.map_addr(|a| a | OWN), Ordering::SeqCst);
        if requested() {
            new.request();
        }
        new
    }

    /// Marks the task's own node, if it has one, as closed: its task has finished.
    pub(crate) fn close_own(&self) {
        if let (node, true) = self.load() {
            // SAFETY: as in `request_own`.
            unsafe { &*node }.closed.store(true, Ordering::Release);
        }
    }

    /// Asks the task's own node, if it has one, to stop (the task's request bit is already set).
    pub(crate) fn request_own(&self) {
        if let (node, true) = self.load() {
            // SAFETY: the task's own node, which the slot holds a count of for as long as the
            // slot lives (it never changes again once it is the task's own).
            unsafe { &*node }.request();
        }
    }
}

impl Drop for StopSlot {
    fn drop(&mut self) {
        let node = self.node.get_mut().map_addr(|a| a & !OWN).cast_const();
        if node.is_null() {
            return;
        }
        // SAFETY: the slot's own count of the node it holds, given up once. Most often a node
        // shared by the creator's other children, which `release` only lets go of.
        StopNode::release(unsafe { Arc::from_raw(node) });
    }
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
            let mut next = Some(node.clone());
            while let Some(node) = next {
                next = node.parent_arc();
                self.registered.push((node, usize::MAX));
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
    use std::ptr;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::{StopNode, StopSlot};

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

    #[test]
    fn a_new_node_skips_the_finished_owners_above_it() {
        let root = StopNode::new(None, false);
        let finished = StopNode::new(Some(root.clone()), false);
        finished.closed.store(true, Ordering::Release);
        let slot = StopSlot::new(Some(finished.clone()));
        let own = slot.own_node(|| false);
        assert!(ptr::eq(own.parent().unwrap(), Arc::as_ptr(&root)));
        // The finished owner's node is no longer held by anything below it.
        assert_eq!(Arc::strong_count(&finished), 1);
        root.request();
        assert!(own.is_requested());
    }

    #[test]
    fn a_finished_owner_that_was_asked_stays_in_the_chain() {
        let asked = StopNode::new(None, true);
        asked.closed.store(true, Ordering::Release);
        let slot = StopSlot::new(Some(asked.clone()));
        assert!(slot.own_node(|| false).is_requested());
    }

    #[test]
    fn a_node_let_go_of_is_reused_fresh() {
        let parent = StopNode::new(None, false);
        let slot = StopSlot::new(None);
        let own = slot.own_node(|| true);
        assert!(own.is_requested());
        let address = Arc::as_ptr(&own);
        own.closed.store(true, Ordering::Release);
        drop(own);
        drop(slot); // the last holder: the node becomes a spare of this thread
        let again = StopNode::new(Some(parent.clone()), false);
        assert_eq!(Arc::as_ptr(&again), address, "the spare is taken first");
        assert!(!again.is_requested(), "nothing of its last use is left");
        assert!(!again.closed.load(Ordering::Acquire));
        parent.request();
        assert!(again.is_requested(), "and it hangs below its new parent");
    }

    #[test]
    fn a_request_made_before_the_own_node_reaches_it() {
        let slot = StopSlot::new(None);
        assert!(slot.own_node(|| true).is_requested());
        slot.request_own();
        assert!(slot.is_requested());
    }
}
