//! The table of live tasks an owner keeps so that it can cancel them all.
//!
//! The event loop keeps one for the tasks created with `create_task` (so shutdown reaches a task
//! whose handle was `mem::forget`-ed), and every task group keeps one for its children.

use std::ptr::NonNull;
use std::task::Waker;

use super::header::Header;
use crate::slab::Slab;

/// One live task: its waker keeps its allocation alive, so the header pointer stays valid for as
/// long as the entry exists.
struct Entry {
    header: NonNull<Header>,
    _keep_alive: Waker,
}

/// The live tasks of one owner, under keys handed out by [`TaskTable::reserve`].
#[derive(Default)]
pub(crate) struct TaskTable {
    entries: Slab<Entry>,
}

/// What [`TaskTable::remove`] hands back: drop it after releasing the table, since dropping it
/// may free the task and run arbitrary destructors.
pub(crate) struct Removed(#[allow(dead_code)] Option<Entry>);

impl TaskTable {
    /// Sets aside a key for a task about to be created (its clean-up hook needs the key before
    /// the task exists). Fill it with [`TaskTable::fill`] before the task first runs.
    pub(crate) fn reserve(&mut self) -> usize {
        self.entries.reserve()
    }

    /// Records a live task under a reserved key. `waker` must be the task's own waker, so that
    /// it keeps the allocation holding `header` alive.
    pub(crate) fn fill(&mut self, key: usize, header: &Header, waker: Waker) {
        self.entries.fill(
            key,
            Entry {
                header: NonNull::from(header),
                _keep_alive: waker,
            },
        );
    }

    /// Forgets a task whose future has ended.
    #[must_use = "drop the returned value after releasing the table"]
    pub(crate) fn remove(&mut self, key: usize) -> Removed {
        Removed(self.entries.remove(key))
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Asks every live task to stop. Each one wakes and drops its future the next time its
    /// owner runs it.
    pub(crate) fn cancel_all(&self) {
        for entry in self.entries.iter() {
            // SAFETY: the entry holds the task's own waker, which keeps the task's allocation
            // (and the header inside it) alive until the entry is removed.
            let header = unsafe { entry.header.as_ref() };
            header.request_cancel(None);
        }
    }
}
