//! The table of live tasks an owner keeps so that it can cancel them all, or list them.
//!
//! The event loop keeps one with every live task: the ones created with `create_task` are its to
//! cancel at shutdown (so shutdown reaches a task whose handle was `mem::forget`-ed); group
//! children are listed for introspection but left to their group. Every task group keeps one
//! for its children.

use std::ptr::NonNull;

use super::header::Header;
use crate::util::slab::Slab;

/// One live task.
///
/// The header pointer is valid for as long as the entry exists: the entry is removed by the
/// task's `on_end` hook, which runs when the task's future is dropped, and async-task always
/// drops a task's future before it frees the allocation the header lives in. (A future that is
/// never dropped keeps its allocation alive, so its entry stays valid too.)
struct Entry {
    header: NonNull<Header>,
    /// This table's owner cancels the task when it shuts down.
    owned: bool,
}

/// The live tasks of one owner, under keys handed out by [`TaskTable::reserve`].
#[derive(Default)]
pub(crate) struct TaskTable {
    entries: Slab<Entry>,
    owned: usize,
}

impl TaskTable {
    /// Sets aside a key for a task about to be created (its clean-up hook needs the key before
    /// the task exists). Fill it with [`TaskTable::fill`] before the task first runs.
    pub(crate) fn reserve(&mut self) -> usize {
        self.entries.reserve()
    }

    /// Records a live task under a reserved key. `owned`: cancel it in [`cancel_owned`].
    ///
    /// [`cancel_owned`]: TaskTable::cancel_owned
    pub(crate) fn fill(&mut self, key: usize, header: &Header, owned: bool) {
        self.entries.fill(
            key,
            Entry {
                header: NonNull::from(header),
                owned,
            },
        );
        self.owned += usize::from(owned);
    }

    /// Forgets a task whose future has ended (or frees a reserved key).
    pub(crate) fn free(&mut self, key: usize) {
        if let Some(entry) = self.entries.remove(key) {
            self.owned -= usize::from(entry.owned);
        }
    }

    /// How many tasks this table's owner is responsible for.
    pub(crate) fn owned_len(&self) -> usize {
        self.owned
    }

    /// Every live task's header.
    pub(crate) fn headers(&self) -> impl Iterator<Item = &Header> {
        self.entries.iter().map(|entry| {
            // SAFETY: see `Entry`: the header lives at least as long as the entry.
            unsafe { entry.header.as_ref() }
        })
    }

    /// Asks every owned task to stop. Each one wakes and drops its future the next time its
    /// owner runs it.
    pub(crate) fn cancel_owned(&self) {
        for entry in self.entries.iter().filter(|entry| entry.owned) {
            // SAFETY: see `Entry`: the header lives at least as long as the entry.
            let header = unsafe { entry.header.as_ref() };
            header.request_cancel(None);
        }
    }
}
