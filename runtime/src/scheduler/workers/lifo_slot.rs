//! A worker's LIFO slot: room for one `Send` task, the one its worker scheduled last, which the
//! worker runs next, ahead of its queue.
//!
//! Why: a task that wakes another (a message sent, a lock released, a task spawned) usually
//! leaves the data the woken task reads hot in this core's cache; running the woken task at
//! once, rather than behind everything queued, reads it while it is still there. tokio's
//! workers have the same slot.
//!
//! Unlike tokio's, the slot may be emptied by another worker. Its owner runs it next unless the
//! task running now keeps the worker busy for long (a long computation, a blocking call); then
//! the task in the slot would wait for as long, on a runtime where other workers are idle. So
//! the slot is one atomic pointer that every party changes with a swap: its worker puts a task
//! in (getting the previous one back, to queue it) and takes it out, and an idle worker that
//! found every queue it looked at empty takes it as a last resort (`Slot::steal`). Whoever's
//! swap returns the task owns it; nothing else is shared. On x86 a swap costs about what a
//! queue push costs; the owner's take reads the pointer first, so an empty slot costs a plain
//! load.

use std::marker::PhantomData;
use std::ptr::{NonNull, null_mut};

use crate::util::loom_facade::{AtomicPtr, Ordering};

/// A value that is one pointer, and can be turned into it and back: what the slot holds.
pub(crate) trait Pointer: Sized {
    fn into_ptr(self) -> NonNull<()>;
    /// # Safety
    ///
    /// `ptr` came from [`into_ptr`](Pointer::into_ptr), and is turned back only once.
    unsafe fn from_ptr(ptr: NonNull<()>) -> Self;
}

impl Pointer for crate::task_core::raw::Runnable {
    fn into_ptr(self) -> NonNull<()> {
        self.into_raw()
    }

    unsafe fn from_ptr(ptr: NonNull<()>) -> Self {
        // SAFETY: forwarded to the caller: `ptr` is a runnable's, turned back once.
        unsafe { Self::from_raw(ptr) }
    }
}

/// On cache lines of its own: its worker writes it on most schedules, and the slots of all the
/// workers sit side by side in one slice.
#[repr(align(128))]
pub(crate) struct LifoSlot<T: Pointer> {
    /// Null when empty. Every change is a swap, so the one who swaps a task out owns it.
    task: AtomicPtr<()>,
    _holds: PhantomData<T>,
}

// SAFETY: a task moves between threads through the slot (so `T: Send`), and each one is
// owned by exactly one party at a time: the swap that takes it out of the slot gives it to
// one thread alone.
unsafe impl<T: Pointer + Send> Send for LifoSlot<T> {}
// SAFETY: as above; the slot is only touched through atomic swaps and loads.
unsafe impl<T: Pointer + Send> Sync for LifoSlot<T> {}

impl<T: Pointer> LifoSlot<T> {
    pub(crate) fn new() -> LifoSlot<T> {
        LifoSlot {
            task: AtomicPtr::new(null_mut()),
            _holds: PhantomData,
        }
    }

    /// Puts `item` in the slot and returns what was there, if anything (taken out: the caller
    /// owns it). Called by the slot's worker only (others only take).
    pub(crate) fn replace(&self, item: T) -> Option<T> {
        // SeqCst, as everything here: a worker that is about to park reads the slot after
        // announcing it (`Slot::has_work`), like the queues; on x86 a swap is as strong anyway.
        let previous = self.task.swap(item.into_ptr().as_ptr(), Ordering::SeqCst);
        // SAFETY: a non-null pointer in the slot came from `into_ptr`, and this swap took it
        // out, so no one else turns it back.
        NonNull::new(previous).map(|ptr| unsafe { T::from_ptr(ptr) })
    }

    /// Takes the task out of the slot, if one is there: its worker, or another that steals it.
    pub(crate) fn take(&self) -> Option<T> {
        // A load first: an empty slot (the common case when the queue is what runs) is
        // a plain read, not a locked instruction that takes the cache line.
        if self.task.load(Ordering::SeqCst).is_null() {
            return None;
        }
        let taken = self.task.swap(null_mut(), Ordering::SeqCst);
        // SAFETY: as in `replace`: this swap took the pointer out of the slot.
        NonNull::new(taken).map(|ptr| unsafe { T::from_ptr(ptr) })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.task.load(Ordering::SeqCst).is_null()
    }
}

impl<T: Pointer> Drop for LifoSlot<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}
