//! The table an outside tool (`tether ps PID`, the `cli` package) reads to find the tasks of a
//! running program: what asyncio 3.14's `_Py_DebugOffsets` is to `python -m asyncio ps`.
//!
//! The tool reads the program's memory (`process_vm_readv`, which the kernel allows to the same
//! user or root only) and never stops it. So the program pays nothing while nobody looks: no
//! thread, no socket, no signal handler. What the tool needs is laid out here:
//!
//! - [`PUBLISHED`], in an ELF section of its own (`.tether_inspect`) that the tool finds in the
//!   binary's section headers (they survive `strip`), so no symbol table is needed;
//! - in it, where each field the tool reads sits in tether's own types (`fields`, filled the
//!   first time a loop starts: some offsets are measured on std's types, whose layout is not
//!   stable), the list of live loops ([`LoopRecord`]), and the recorded waits ([`RemoteWait`]);
//! - two switches the tool may set by writing to this memory: record what tasks wait for, and
//!   count polls and busy time. Both cost one load where they are checked while off.
//!
//! Everything here is plain integers: the tool is another process and must never follow a
//! pointer it has not read and checked itself. Values that change while the program runs are
//! atomics, written with relaxed stores: the tool copies them at an arbitrary moment, and
//! tolerates what it reads being torn or stale (it checks every record it follows).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The table's first bytes.
pub const MAGIC: [u8; 8] = *b"TETHER\0\x01";

/// The version of this layout: changes whenever a published type or a field's meaning does.
pub const LAYOUT: u32 = 1;

/// The section the table lives in.
pub const SECTION: &str = ".tether_inspect";

/// What a tool finds at the start of the `.tether_inspect` section.
#[repr(C)]
#[derive(Debug)]
pub struct Published {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`LAYOUT`].
    pub layout: u32,
    /// `size_of::<Published>()`.
    pub size: u32,
    /// The crate version, `version_len` bytes of UTF-8.
    pub version: [u8; 32],
    pub version_len: u32,
    /// Waits are recorded while this is nonzero (one load, where a wait is about to be
    /// recorded). Its low 32 bits count the live loops whose program asked (`track_waits`,
    /// debug mode, tests); a tool that wants waits recorded sets its high 32 bits, with a
    /// 4-byte write of its own: the loops' increments never carry into that half, and an atomic
    /// read-modify-write of the word cannot interleave with a store to it, so neither undoes
    /// the other.
    pub recording: AtomicU64,
    /// Set to nonzero by a tool: count each task's polls and the time spent in them.
    pub count_polls: AtomicU32,
    /// When a tool first set a switch (`CLOCK_MONOTONIC` ns; the tool writes it).
    pub switched_on_ns: AtomicU64,
    /// Nonzero once `fields` is filled.
    pub ready: AtomicU64,
    /// Of the list of loops: odd while the list changes (a tool reads it again then).
    pub loops_generation: AtomicU64,
    /// The address of an array of `loops_len` addresses of [`LoopRecord`]s.
    pub loops: AtomicU64,
    pub loops_len: AtomicU64,
    /// The address of an array of `waits_len` [`RemoteWait`]s (a vacant one has `task` 0).
    pub waits: AtomicU64,
    pub waits_len: AtomicU64,
    /// The address of an array of `holders_len` [`Holder`]s: who holds each held `Lock`.
    pub holders: AtomicU64,
    pub holders_len: AtomicU64,
    /// Offsets and sizes, indexed by the constants of [`field`].
    pub fields: [AtomicU64; field::COUNT],
}

/// Indices of [`Published::fields`].
pub mod field {
    /// In a task header: the id (`u64`, never 0).
    pub const HEADER_ID: usize = 0;
    /// The parent's id (`u64`, 0: none).
    pub const HEADER_PARENT: usize = 1;
    /// The owner's kind (`u8`: 0 handle, 1 group, 2 set).
    pub const HEADER_OWNER_KIND: usize = 2;
    /// The owning group's id (`u64`).
    pub const HEADER_OWNER_GROUP: usize = 3;
    /// The task running the owning group (`u64`, 0: none).
    pub const HEADER_OWNER_RUNNER: usize = 4;
    /// The address of the creation site's `Location` (`u64`).
    pub const HEADER_LOCATION: usize = 5;
    /// The state byte (`u8`: bit 0 cancel requested, bit 1 finished, bit 6 stop requested).
    pub const HEADER_STATE: usize = 6;
    /// The address of the task's rarely used fields, under a mutex (`u64`, 0: none yet).
    pub const HEADER_EXTRAS: usize = 7;
    /// From the mutex's address to the fields it guards.
    pub const EXTRAS_DATA: usize = 8;
    /// In those fields: the name (an `Option<String>`; see `STRING_*`).
    pub const EXTRAS_NAME: usize = 9;
    /// Polls counted (`u64`).
    pub const EXTRAS_POLLS: usize = 10;
    /// Time spent polling, counted (`u64` ns).
    pub const EXTRAS_BUSY: usize = 11;
    /// In a `String`: the address of its bytes, their length, its capacity (all `u64`). An
    /// `Option<String>` is as large as a `String` (`STRING_OPTION_NICHE` is 1; else names are
    /// not published), and is `None` when the capacity is above `isize::MAX` or the address
    /// is null (std's niches).
    pub const STRING_PTR: usize = 12;
    pub const STRING_LEN: usize = 13;
    pub const STRING_CAP: usize = 14;
    pub const STRING_OPTION_NICHE: usize = 15;
    /// In a `core::panic::Location`: the file name's address and length (`u64`), the line and
    /// column (`u32`).
    pub const LOCATION_FILE_PTR: usize = 16;
    pub const LOCATION_FILE_LEN: usize = 17;
    pub const LOCATION_LINE: usize = 18;
    pub const LOCATION_COLUMN: usize = 19;
    /// A task table's slot: its size, and in it the header's address (`u64`, 0 in a vacant
    /// slot) and a word whose bits above the lowest say when the task was created
    /// (`CLOCK_MONOTONIC` µs).
    pub const SLOT_SIZE: usize = 20;
    pub const SLOT_HEADER: usize = 21;
    pub const SLOT_CREATED: usize = 22;
    /// How many indices there are.
    pub const COUNT: usize = 24;
}

/// One live event loop, as [`Published::loops`] lists it. Lives as long as its loop.
#[repr(C)]
#[derive(Debug)]
pub struct LoopRecord {
    /// [`LoopRecord::MAGIC`]: a tool checks it before trusting the rest.
    pub magic: u64,
    pub id: u64,
    /// The multi-threaded runtime it is a worker of (0: a single loop).
    pub runtime: u64,
    /// Its index among the runtime's workers (`u64::MAX`: none).
    pub worker: u64,
    /// The kernel id of its thread.
    pub thread_id: u64,
    pub started_ns: u64,
    /// The address of the cell that holds the address of the task being polled on the loop's
    /// thread (0 between polls).
    pub running: u64,
    /// The last time the loop looked at its I/O driver (`CLOCK_MONOTONIC` ns): it does so at
    /// least every few dozen polls, so a poll that began long after this has not begun.
    pub recent_ns: AtomicU64,
    /// The addresses of the [`TableView`]s of the tables listing the loop's tasks (0: none):
    /// its own, and on a worker its shard of the runtime's `Send` tasks.
    pub tables: [AtomicU64; 2],
}

impl LoopRecord {
    pub const MAGIC: u64 = u64::from_le_bytes(*b"tetherLP");
}

/// Where a task table's slots are: an array of `len` slots of `SLOT_SIZE` bytes.
#[repr(C)]
#[derive(Debug, Default)]
pub struct TableView {
    pub slots: AtomicU64,
    pub len: AtomicU64,
}

impl TableView {
    pub(crate) fn set(&self, slots: *const u8, len: usize) {
        self.slots.store(slots.addr() as u64, Ordering::Relaxed);
        self.len.store(len as u64, Ordering::Relaxed);
    }
}

/// One recorded wait, as plain integers (`crate::task_core::awaiting::Awaiting` encoded).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RemoteWait {
    /// The waiting task's id; 0: a vacant record.
    pub task: u64,
    /// Waits are numbered as they start: a task's latest is the one shown.
    pub seq: u64,
    /// What kind of wait: see [`RemoteWait::TASK`] and the others.
    pub kind: u32,
    /// A lock, semaphore, ... (see `SyncKind`, in declaration order from 0), or for I/O, 0
    /// readable, 1 writable.
    pub detail: u32,
    /// The task's or group's id, the primitive's address, the file descriptor or the pid.
    pub id: u64,
    /// A `&'static str` in the program: a primitive's name or an I/O resource's kind (0: none).
    pub text: u64,
    pub text_len: u64,
    /// A timer's deadline (`CLOCK_MONOTONIC` ns).
    pub deadline_ns: u64,
    /// I/O: the local and peer addresses as text; a process: its command line.
    pub local: [u8; 64],
    pub peer: [u8; 64],
    pub local_len: u8,
    pub peer_len: u8,
}

impl RemoteWait {
    pub const TASK: u32 = 1;
    pub const GROUP: u32 = 2;
    pub const SYNC: u32 = 3;
    pub const PROMISE: u32 = 4;
    pub const TIMER: u32 = 5;
    pub const IO: u32 = 6;
    pub const PROCESS: u32 = 7;

    pub(crate) const VACANT: RemoteWait = RemoteWait {
        task: 0,
        seq: 0,
        kind: 0,
        detail: 0,
        id: 0,
        text: 0,
        text_len: 0,
        deadline_ns: 0,
        local: [0; 64],
        peer: [0; 64],
        local_len: 0,
        peer_len: 0,
    };
}

/// Who holds a `Lock`: the lock's address and the holder's task id.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub object: u64,
    pub task: u64,
}

const fn version() -> ([u8; 32], u32) {
    let text = env!("CARGO_PKG_VERSION").as_bytes();
    let mut bytes = [0; 32];
    let mut at = 0;
    while at < text.len() && at < bytes.len() {
        bytes[at] = text[at];
        at += 1;
    }
    (bytes, at as u32)
}

#[allow(clippy::declare_interior_mutable_const)]
const UNSET: AtomicU64 = AtomicU64::new(0);

/// The table. `#[used]` keeps it in the object file; the runtime's own reads of it (every loop
/// registers here) keep the linker from dropping its section. Without the `inspect` feature it
/// is an ordinary static: the switches a program sets itself (wait records for its own deadlock
/// reports) still live here, and no tool can find it.
#[cfg_attr(feature = "inspect", used)]
#[cfg_attr(feature = "inspect", unsafe(link_section = ".tether_inspect"))]
pub static PUBLISHED: Published = Published {
    magic: MAGIC,
    layout: LAYOUT,
    size: size_of::<Published>() as u32,
    version: version().0,
    version_len: version().1,
    recording: AtomicU64::new(0),
    count_polls: AtomicU32::new(0),
    switched_on_ns: AtomicU64::new(0),
    ready: AtomicU64::new(0),
    loops_generation: AtomicU64::new(0),
    loops: AtomicU64::new(0),
    loops_len: AtomicU64::new(0),
    waits: AtomicU64::new(0),
    waits_len: AtomicU64::new(0),
    holders: AtomicU64::new(0),
    holders_len: AtomicU64::new(0),
    fields: [UNSET; field::COUNT],
};

/// Whether waits are recorded: a program's loop asked, or a tool did.
#[inline]
pub(crate) fn recording_waits() -> bool {
    PUBLISHED.recording.load(Ordering::Relaxed) != 0
}

/// One more (`true`) or one fewer live loop records waits because its program asked.
pub(crate) fn count_recording_loop(more: bool) {
    if more {
        PUBLISHED.recording.fetch_add(1, Ordering::Relaxed);
    } else {
        PUBLISHED.recording.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether a tool asked for polls to be counted.
#[inline]
pub(crate) fn counting_polls() -> bool {
    // Without the section no tool can ask.
    cfg!(feature = "inspect") && PUBLISHED.count_polls.load(Ordering::Relaxed) != 0
}

/// `CLOCK_MONOTONIC` now, in nanoseconds: the clock a tool in another process reads too.
pub(crate) fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; both clocks used exist on every Linux.
    unsafe { libc::clock_gettime(clock, &mut now) };
    (now.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(now.tv_nsec as u64)
}

/// The last time any loop looked at its I/O driver, in µs: what a task's creation is stamped
/// with (a clock read per task would cost more than the rest of creating it).
static RECENT_US: AtomicU64 = AtomicU64::new(0);

/// The time a loop last refreshed (see [`RECENT_US`]), read for a creation stamp.
#[inline]
pub(crate) fn recent_us() -> u64 {
    if !cfg!(feature = "inspect") {
        return 0;
    }
    RECENT_US.load(Ordering::Relaxed)
}

/// Reads the clock and records it as the recent time; returns it (in ns). The coarse clock
/// (the kernel's last tick, a few ms at most behind `CLOCK_MONOTONIC`, on the same timeline)
/// is enough for these stamps, and cheaper to read.
pub(crate) fn refresh_recent() -> u64 {
    let now = clock_ns(libc::CLOCK_MONOTONIC_COARSE);
    RECENT_US.store(now / 1000, Ordering::Relaxed);
    now
}

/// Sets field `index` to `value`.
pub(crate) fn set_field(index: usize, value: usize) {
    PUBLISHED.fields[index].store(value as u64, Ordering::Relaxed);
}

/// Publishes where an array lives (`pair` is one of the table's address/length pairs).
pub(crate) fn set_array(pair: (&AtomicU64, &AtomicU64), at: usize, len: usize) {
    pair.0.store(at as u64, Ordering::Relaxed);
    pair.1.store(len as u64, Ordering::Relaxed);
}

/// The live loops' records, by address: the list [`Published::loops`] points at.
static LOOPS: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());

/// Adds (`true`) or removes a loop's record from the published list.
pub(crate) fn list_loop(record: &LoopRecord, add: bool) {
    let address = std::ptr::from_ref(record).addr() as u64;
    let mut loops = LOOPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Odd while the list changes: a tool that saw it odd, or saw it change while it read, reads
    // the list again.
    PUBLISHED.loops_generation.fetch_add(1, Ordering::Release);
    if add {
        loops.push(address);
    } else {
        loops.retain(|&listed| listed != address);
    }
    set_array(
        (&PUBLISHED.loops, &PUBLISHED.loops_len),
        loops.as_ptr().addr(),
        loops.len(),
    );
    PUBLISHED.loops_generation.fetch_add(1, Ordering::Release);
}

/// Marks the fields as filled.
pub(crate) fn mark_ready() {
    PUBLISHED.ready.store(1, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::SECTION;

    /// The names of the sections of this test's own executable (64-bit little-endian ELF).
    fn own_sections() -> Vec<String> {
        let file = std::fs::read("/proc/self/exe").expect("the test reads its own executable");
        let u16_at = |at: usize| usize::from(u16::from_le_bytes([file[at], file[at + 1]]));
        let u64_at = |at: usize| {
            let bytes: [u8; 8] = file[at..at + 8].try_into().expect("eight bytes");
            u64::from_le_bytes(bytes) as usize
        };
        let u32_at = |at: usize| {
            let bytes: [u8; 4] = file[at..at + 4].try_into().expect("four bytes");
            u32::from_le_bytes(bytes) as usize
        };
        assert_eq!(&file[..4], b"\x7fELF");
        let (table, entry, count, names) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
        let names_at = u64_at(table + names * entry + 0x18);
        (0..count)
            .map(|index| {
                let name = names_at + u32_at(table + index * entry);
                let end = file[name..].iter().position(|&byte| byte == 0).unwrap_or(0);
                String::from_utf8_lossy(&file[name..name + end]).into_owned()
            })
            .collect()
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "reads the test's own executable, which Miri does not have"
    )]
    fn the_section_is_in_the_binary_exactly_when_the_feature_is_on() {
        // A loop lists itself there: the runtime's own use, as in a real program.
        crate::run(async {});
        let sections = own_sections();
        assert!(sections.iter().any(|name| name == ".text"), "{sections:?}");
        assert_eq!(
            sections.iter().any(|name| name == SECTION),
            cfg!(feature = "inspect"),
            "{sections:?}"
        );
    }
}
