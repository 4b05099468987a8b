//! The table of live tasks an owner keeps so that it can cancel them all, or list them.
//!
//! The event loop keeps one with every live task: the ones created with `create_task` are its to
//! cancel at shutdown (so shutdown reaches a task whose handle was `mem::forget`-ed); group
//! children are listed for introspection but left to their group. Every task group keeps one
//! for its children.

use std::ptr::NonNull;

use super::header::Header;
use crate::util::published::{TableView, recent_us};
use crate::util::slab::Slab;

/// One live task.
///
/// The header pointer is valid for as long as the entry exists: the entry is removed by the
/// task's `on_end` hook, which runs when the task's future is dropped, and async-task always
/// drops a task's future before it frees the allocation the header lives in. (A future that is
/// never dropped keeps its allocation alive, so its entry stays valid too.)
///
/// Outside tools read entries (`crate::util::published`): the header's address is the only
/// niche of the type, so a vacant slot (`None`) is a null header there.
struct Entry {
    header: NonNull<Header>,
    /// When the task was created, roughly (`CLOCK_MONOTONIC` µs; see `recent_us`), shifted
    /// left by one; the low bit says whether this table's owner cancels the task when it shuts
    /// down. One word for both keeps a slot at two words.
    stamp: u64,
}

impl Entry {
    fn owned(&self) -> bool {
        self.stamp & 1 != 0
    }
}

/// The live tasks of one owner, under keys handed out by [`TaskTable::reserve`].
///
/// `SHOWN`: the table is one outside tools read (a loop's, or a shard of the workers' `Send`
/// tasks, which together list every task): its slots are published and each entry is stamped
/// with its creation time. A group's table (its children are in their loop's table too) is
/// not, and pays for neither.
#[derive(Default)]
pub(crate) struct TaskTable<const SHOWN: bool = false> {
    entries: Slab<Entry>,
    owned: usize,
    /// Where the slots are, for outside tools.
    view: TableView,
}

/// A table outside tools read (see [`TaskTable`]).
pub(crate) type ShownTable = TaskTable<true>;

impl<const SHOWN: bool> TaskTable<SHOWN> {
    /// Sets aside a key for a task about to be created (its clean-up hook needs the key before
    /// the task exists). Fill it with [`TaskTable::fill`] before the task first runs.
    pub(crate) fn reserve(&mut self) -> usize {
        let key = self.entries.reserve();
        if SHOWN {
            let (slots, len) = self.entries.raw_slots();
            // Only a new slot moves or grows the slots (a freed key is reused in place).
            if key + 1 == len {
                self.view.set(slots.cast(), len);
            }
        }
        key
    }

    /// Where outside tools find this table's slots.
    pub(crate) fn view(&self) -> &TableView {
        &self.view
    }

    /// Records a live task under a reserved key. `owned`: cancel it in [`cancel_owned`].
    ///
    /// [`cancel_owned`]: TaskTable::cancel_owned
    pub(crate) fn fill(&mut self, key: usize, header: &Header, owned: bool) {
        self.entries.fill(
            key,
            Entry {
                header: NonNull::from(header),
                stamp: if SHOWN { recent_us() << 1 } else { 0 } | u64::from(owned),
            },
        );
        self.owned += usize::from(owned);
    }

    /// Forgets a task whose future has ended (or frees a reserved key).
    pub(crate) fn free(&mut self, key: usize) {
        if let Some(entry) = self.entries.remove(key) {
            self.owned -= usize::from(entry.owned());
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
        for entry in self.entries.iter().filter(|entry| entry.owned()) {
            // SAFETY: see `Entry`: the header lives at least as long as the entry.
            let header = unsafe { entry.header.as_ref() };
            header.request_cancel(None);
        }
    }
}

/// Publishes the layout of a table's slots, after checking what outside tools rely on: a
/// vacant slot holds a null header address.
pub(crate) fn publish_layout() {
    use crate::util::published::{field, set_field};
    type Slot = Option<Entry>;
    let header = std::mem::offset_of!(Entry, header);
    // A slot is an `Option<Entry>` whose `None` is the null header: then `Some` keeps the
    // entry at offset 0, and a `None`'s header word is zero. Checked on a real `None`.
    let vacant: Slot = None;
    // SAFETY: `Slot` is as large as `Entry` (asserted below), so reading the `u64` at the
    // header's offset stays inside `vacant`; if `None` is encoded in that word (the only niche
    // of `Entry`), the word is initialised.
    let word = unsafe {
        std::ptr::from_ref(&vacant)
            .cast::<u8>()
            .add(header)
            .cast::<u64>()
            .read_unaligned()
    };
    assert!(
        size_of::<Slot>() == size_of::<Entry>() && word == 0,
        "a vacant task-table slot holds a null header"
    );
    set_field(field::SLOT_SIZE, size_of::<Slot>());
    set_field(field::SLOT_HEADER, header);
    set_field(field::SLOT_CREATED, std::mem::offset_of!(Entry, stamp));
}
