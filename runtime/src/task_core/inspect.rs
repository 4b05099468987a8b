//! The task core's part of what outside tools read (`crate::util::published`): the layout of
//! headers, table slots and the std types in them, measured once, and each loop's record.

use std::sync::Once;
use std::sync::atomic::Ordering;

use super::header::Header;
use crate::util::published::{self, LoopRecord, field, set_field};

/// Fills the published layout, once per process.
fn publish_layout() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        Header::publish_layout();
        super::table::publish_layout();
        publish_string_layout();
        publish_location_layout();
        published::mark_ready();
    });
}

/// Where a `String` keeps its bytes' address, length and capacity, and whether an
/// `Option<String>`'s `None` is a capacity above `isize::MAX`: std does not promise a layout,
/// so it is measured on real values (three distinct ones, so that each word is told apart).
fn publish_string_layout() {
    let mut text = String::with_capacity(23);
    text.push_str("measured");
    let words = words_of(&text);
    let find = |value: usize| words.iter().position(|&word| word == value);
    let (Some(ptr), Some(len), Some(cap)) = (
        find(text.as_ptr().addr()),
        find(text.len()),
        find(text.capacity()),
    ) else {
        // Names are then not published (`STRING_OPTION_NICHE` stays 0).
        return;
    };
    set_field(field::STRING_PTR, ptr * 8);
    set_field(field::STRING_LEN, len * 8);
    set_field(field::STRING_CAP, cap * 8);
    let none: Option<String> = None;
    // A `None` must be told apart by the capacity word alone: std encodes it there today (a
    // capacity never exceeds `isize::MAX`); if that changes, names are not published.
    let niche = size_of::<Option<String>>() == size_of::<String>()
        && words_of(&none)[cap] > isize::MAX as usize;
    set_field(field::STRING_OPTION_NICHE, usize::from(niche));
}

/// Where a `Location` keeps its file name, line and column, measured on one whose line and
/// column differ (so that each is told apart).
fn publish_location_layout() {
    let here = std::panic::Location::caller();
    let words = words_of(here);
    let file = here.file();
    let (Some(ptr), Some(len)) = (
        words.iter().position(|&word| word == file.as_ptr().addr()),
        words.iter().position(|&word| word == file.len()),
    ) else {
        return;
    };
    // The line and column are 32-bit: found among the halves of the other words.
    let halves: Vec<u32> = words
        .iter()
        .flat_map(|&word| [word as u32, (word >> 32) as u32])
        .collect();
    let (Some(line), Some(column)) = (
        halves.iter().position(|&half| half == here.line()),
        halves.iter().position(|&half| half == here.column()),
    ) else {
        return;
    };
    if here.line() == here.column() {
        return;
    }
    set_field(field::LOCATION_FILE_PTR, ptr * 8);
    set_field(field::LOCATION_FILE_LEN, len * 8);
    set_field(field::LOCATION_LINE, line * 4);
    set_field(field::LOCATION_COLUMN, column * 4);
}

/// The machine words of `value`, which must be made of initialised words only (no padding).
fn words_of<T>(value: &T) -> Vec<usize> {
    let count = size_of::<T>() / size_of::<usize>();
    (0..count)
        .map(|at| {
            // SAFETY: `at` words into `value` are inside it (`count` whole words fit), and the
            // callers pass values made of pointer-sized integers and pointers with no padding
            // (a `String`, an `Option<String>` whose niche is its capacity word, a `Location`
            // of a pointer, a length and two `u32`s); `read_unaligned` needs no alignment.
            unsafe {
                std::ptr::from_ref(value)
                    .cast::<usize>()
                    .add(at)
                    .read_unaligned()
            }
        })
        .collect()
}

/// A loop's entry in the published list, for as long as the loop lives.
#[derive(Debug)]
pub(crate) struct ListedLoop {
    record: Box<LoopRecord>,
}

impl ListedLoop {
    /// Lists the loop `id` (a worker of `runtime`, at `worker`, or a single loop: 0 and
    /// `None`) that runs on this thread.
    pub(crate) fn new(id: u64, runtime: u64, worker: Option<usize>) -> ListedLoop {
        publish_layout();
        let now = published::refresh_recent();
        let record = Box::new(LoopRecord {
            magic: LoopRecord::MAGIC,
            id,
            runtime,
            worker: worker.map_or(u64::MAX, |index| index as u64),
            // SAFETY: `gettid` has no preconditions.
            thread_id: unsafe { libc::gettid() } as u64,
            started_ns: now,
            running: super::current::running_cell() as u64,
            recent_ns: now.into(),
            tables: Default::default(),
        });
        published::list_loop(&record, true);
        ListedLoop { record }
    }

    /// Publishes where the table `which` (0: the loop's own, 1: a worker's shard of the `Send`
    /// tasks) keeps its slots.
    pub(crate) fn show_table(&self, which: usize, table: &super::table::TaskTable) {
        let view = std::ptr::from_ref(table.view()).addr() as u64;
        self.record.tables[which].store(view, Ordering::Relaxed);
    }

    /// Records that the loop looked at its I/O driver now (see `LoopRecord::recent_ns`).
    #[inline]
    pub(crate) fn refresh(&self) {
        let now = published::refresh_recent();
        self.record.recent_ns.store(now, Ordering::Relaxed);
    }
}

impl Drop for ListedLoop {
    fn drop(&mut self) {
        published::list_loop(&self.record, false);
    }
}
