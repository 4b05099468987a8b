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
/// `Option<String>` is a `String` with a niche for `None`: std does not promise a layout, so it
/// is measured on a real value (three distinct words, so that each is told apart).
fn publish_string_layout() {
    let mut text = String::with_capacity(23);
    text.push_str("measured");
    let words = words_of(&text);
    let (Some(ptr), Some(len), Some(cap)) = (
        index_of(&words, text.as_ptr().addr()),
        index_of(&words, text.len()),
        index_of(&words, text.capacity()),
    ) else {
        // Names are then not published (`STRING_OPTION_NICHE` stays 0).
        return;
    };
    set_field(field::STRING_PTR, ptr * 8);
    set_field(field::STRING_LEN, len * 8);
    set_field(field::STRING_CAP, cap * 8);
    // A `None` is told apart by a capacity above `isize::MAX` (std's niche for it today) or a
    // null address (the other niche a `String` has): the tool checks both. Reading a `None`'s
    // words here to check which would read bytes a `None` leaves uninitialised.
    let niche = size_of::<Option<String>>() == size_of::<String>();
    set_field(field::STRING_OPTION_NICHE, usize::from(niche));
}

/// Where a `Location` keeps its file name, line and column, measured on one whose line and
/// column differ (so that each is told apart).
fn publish_location_layout() {
    let here = std::panic::Location::caller();
    if here.line() == here.column() {
        return;
    }
    let words = words_of(here);
    let file = here.file();
    let (Some(ptr), Some(len)) = (
        index_of(&words, file.as_ptr().addr()),
        index_of(&words, file.len()),
    ) else {
        return;
    };
    // The line and column are 32-bit: found among the halves of the other words.
    let halves: Vec<usize> = words
        .iter()
        .flat_map(|&word| [word & 0xffff_ffff, word >> 32])
        .collect();
    let (Some(line), Some(column)) = (
        index_of(&halves, here.line() as usize),
        index_of(&halves, here.column() as usize),
    ) else {
        return;
    };
    set_field(field::LOCATION_FILE_PTR, ptr * 8);
    set_field(field::LOCATION_FILE_LEN, len * 8);
    set_field(field::LOCATION_LINE, line * 4);
    set_field(field::LOCATION_COLUMN, column * 4);
}

/// Where `value` is among `words`.
fn index_of(words: &[usize], value: usize) -> Option<usize> {
    words.iter().position(|&word| word == value)
}

/// The machine words of `value`, which must be made of initialised words only (no padding).
fn words_of<T>(value: &T) -> Vec<usize> {
    let count = size_of::<T>() / size_of::<usize>();
    (0..count)
        .map(|at| {
            // SAFETY: `at` words into `value` are inside it (`count` whole words fit), and the
            // callers pass values made of pointer-sized integers and pointers with no padding
            // (a `String`, a `Location` of a pointer, a length and two `u32`s);
            // `read_unaligned` needs no alignment.
            unsafe {
                std::ptr::from_ref(value)
                    .cast::<usize>()
                    .add(at)
                    .read_unaligned()
            }
        })
        .collect()
}

/// A loop's entry in the published list, for as long as the loop lives (none without the
/// `inspect` feature).
#[derive(Debug)]
pub(crate) struct ListedLoop {
    record: Option<Box<LoopRecord>>,
}

impl ListedLoop {
    /// Lists the loop `id` (a worker of `runtime`, at `worker`, or a single loop: 0 and
    /// `None`) that runs on this thread.
    pub(crate) fn new(id: u64, runtime: u64, worker: Option<usize>) -> ListedLoop {
        if !cfg!(feature = "inspect") {
            return ListedLoop { record: None };
        }
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
        ListedLoop {
            record: Some(record),
        }
    }

    /// Publishes where the table `which` (0: the loop's own, 1: a worker's shard of the `Send`
    /// tasks) keeps its slots.
    pub(crate) fn show_table(&self, which: usize, table: &super::table::ShownTable) {
        if let Some(record) = &self.record {
            let view = std::ptr::from_ref(table.view()).addr() as u64;
            record.tables[which].store(view, Ordering::Relaxed);
        }
    }

    /// Records that the loop looked at its I/O driver now (see `LoopRecord::recent_ns`).
    #[inline]
    pub(crate) fn refresh(&self) {
        if let Some(record) = &self.record {
            let now = published::refresh_recent();
            record.recent_ns.store(now, Ordering::Relaxed);
            super::current::refresh_timing();
        }
    }
}

impl Drop for ListedLoop {
    fn drop(&mut self) {
        if let Some(record) = &self.record {
            published::list_loop(record, false);
        }
    }
}

// The layout is published only with the `inspect` feature.
#[cfg(feature = "inspect")]
#[cfg(test)]
mod tests {
    use crate::util::published::{PUBLISHED, field};
    use std::sync::atomic::Ordering;

    /// Reads a `T` at `offset` bytes into `base`, as the tool does in another process.
    fn at<T: Copy, B>(base: &B, offset: u64) -> T {
        // SAFETY: the published offsets point inside `base` at a `T` (what this test checks:
        // the values read are the ones the runtime's own accessors give).
        unsafe {
            std::ptr::from_ref(base)
                .cast::<u8>()
                .add(offset as usize)
                .cast::<T>()
                .read_unaligned()
        }
    }

    fn field(index: usize) -> u64 {
        PUBLISHED.fields[index].load(Ordering::Relaxed)
    }

    #[test]
    fn the_published_offsets_read_back_a_task_as_the_runtime_sees_it() {
        crate::run(async {
            let task = crate::task::Builder::new()
                .name("published")
                .create_task(async {});
            assert_eq!(PUBLISHED.ready.load(Ordering::Relaxed), 1);
            let header = task.header();
            assert_eq!(
                at::<u64, _>(header, field(field::HEADER_ID)),
                header.id.as_u64()
            );
            let parent: u64 = at(header, field(field::HEADER_PARENT));
            assert_eq!(parent, header.parent.map_or(0, |id| id.as_u64()));
            assert_eq!(at::<u8, _>(header, field(field::HEADER_OWNER_KIND)), 0);
            // The creation site, through the measured `Location` layout.
            let location: &std::panic::Location<'static> =
                at(header, field(field::HEADER_LOCATION));
            assert_eq!(location, header.location);
            let line: u32 = at(location, field(field::LOCATION_LINE));
            let column: u32 = at(location, field(field::LOCATION_COLUMN));
            let len: usize = at(location, field(field::LOCATION_FILE_LEN));
            assert_eq!(
                (line, column, len),
                (location.line(), location.column(), location.file().len())
            );
            // The name, through the extras' mutex and the measured `String` layout.
            assert_eq!(field(field::STRING_OPTION_NICHE), 1);
            let extras: *const u8 = at(header, field(field::HEADER_EXTRAS));
            assert!(!extras.is_null());
            {
                let guard = header.extras_for_test();
                let name: &Option<String> = &guard.name;
                let name_offset = field(field::EXTRAS_NAME);
                assert_eq!(
                    std::ptr::from_ref(name).addr(),
                    extras.addr() + (field(field::EXTRAS_DATA) + name_offset) as usize
                );
                let text = name.as_ref().expect("named");
                assert_eq!(
                    at::<usize, _>(text, field(field::STRING_LEN)),
                    "published".len()
                );
                assert_eq!(
                    at::<usize, _>(text, field(field::STRING_PTR)),
                    text.as_ptr().addr()
                );
            }
            task.await.unwrap();
        });
    }
}
