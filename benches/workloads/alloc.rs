//! A counting global allocator: the system allocator plus counters that are only updated while
//! counting is switched on (one relaxed load per allocation otherwise, for every runtime alike).
//!
//! Install it in a binary with
//! `#[global_allocator] static ALLOC: Counting = Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// The counting allocator.
#[derive(Debug)]
pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

#[inline]
fn on_alloc(size: usize) {
    if ON.load(Relaxed) {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOCATED.fetch_add(size as u64, Relaxed);
    }
}

#[inline]
fn on_free(size: usize) {
    if ON.load(Relaxed) {
        FREED.fetch_add(size as u64, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees are ours; the counters have no effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_free(layout.size());
        // SAFETY: `ptr` was allocated by `System` (every allocation here is) with `layout`, as
        // our caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_free(layout.size());
        on_alloc(new_size);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::realloc`'s contract;
        // `ptr` came from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What was allocated and freed while counting was on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocs: u64,
    /// Bytes handed out.
    pub allocated: u64,
    /// Bytes given back.
    pub freed: u64,
}

impl Counts {
    /// Growth of the heap in use over the window, in bytes (negative if it shrank).
    pub fn in_use_delta(&self) -> i64 {
        self.allocated as i64 - self.freed as i64
    }
}

/// Runs `f` with counting on and returns what it allocated and freed (all threads count).
pub fn count<R>(f: impl FnOnce() -> R) -> (R, Counts) {
    let start = start_counting();
    let out = f();
    (out, stop_counting(start))
}

/// Switches counting on; pass the result to [`stop_counting`].
pub fn start_counting() -> Counts {
    let start = snapshot();
    ON.store(true, Relaxed);
    start
}

/// Switches counting off and returns the counts since `start`.
pub fn stop_counting(start: Counts) -> Counts {
    ON.store(false, Relaxed);
    let end = snapshot();
    Counts {
        allocs: end.allocs - start.allocs,
        allocated: end.allocated - start.allocated,
        freed: end.freed - start.freed,
    }
}

fn snapshot() -> Counts {
    Counts {
        allocs: ALLOCS.load(Relaxed),
        allocated: ALLOCATED.load(Relaxed),
        freed: FREED.load(Relaxed),
    }
}
