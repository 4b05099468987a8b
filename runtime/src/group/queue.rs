//! Where a group's children go when they are woken.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::task_core::raw::Runnable;
use crate::util::waker_slot::WakerSlot;

/// The ready queue of one group's children: their schedule function pushes here (from any
/// thread), and only the group's own future pops and runs what is here.
#[derive(Default)]
pub(crate) struct GroupQueue {
    runnables: Mutex<VecDeque<Runnable>>,
    /// The waker of the task polling the group's future.
    waker: WakerSlot,
}

impl GroupQueue {
    pub(crate) fn push(&self, runnable: Runnable) {
        self.lock().push_back(runnable);
        self.wake();
    }

    pub(crate) fn pop(&self) -> Option<Runnable> {
        self.lock().pop_front()
    }

    /// Pops the runnable `choose` picks among those queued (given the queue; returns an index).
    pub(crate) fn pop_chosen(
        &self,
        choose: impl FnOnce(&VecDeque<Runnable>) -> usize,
    ) -> Option<Runnable> {
        let mut queue = self.lock();
        if queue.is_empty() {
            return None;
        }
        let at = choose(&queue);
        queue.remove(at)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Wakes the task polling the group's future (a spread child ended or failed).
    ///
    /// That waker is user code (whatever polls the group's future): its panic is reported, not
    /// unwound into the child's schedule function, which may be running inside the group's
    /// teardown, cancelling the other children.
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.waker.take() {
            crate::scheduler::event_loop::wake_contained(waker);
        }
    }

    pub(crate) fn register(&self, waker: &std::task::Waker) {
        self.waker.register(waker);
    }

    /// Stops children woken from now on from waking the group's task (it is running them).
    pub(crate) fn unregister(&self) {
        if let Some(waker) = self.waker.take() {
            crate::task_core::error::contain_panic(|| "a waker".to_owned(), || drop(waker));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Runnable>> {
        crate::util::loom_facade::lock(&self.runnables)
    }
}
