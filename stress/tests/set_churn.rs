//! A `TaskSet::background()` churning a million tasks keeps its memory flat.
//!
//! Unlike tests/tests/set_memory.rs (waves of identical tasks, drained empty each time), the set
//! here is kept topped up to a steady population while tasks finish in random order, and the
//! tasks vary: they return a buffer (discarded), sleep on timers, panic, time out, await a child
//! task, or run a small group. A counting global allocator measures, for each chunk of the run,
//! the bytes and blocks in use once the set has drained, and the peak bytes while it churned.
//! After a warm-up, all three must stay within a small band: nothing accumulates per task.
//!
//! The allocator counts every allocation of this test binary, so it holds this one test only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use tether::{Runtime, TaskSet};
use tether_stress::{Seed, XorShift, count, quiet_panics};

struct Counting;

static BYTES: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(bytes: isize) {
    let now = BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator with the caller's arguments; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size() as isize);
            BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size() as isize);
            BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (so by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            grew(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One member of the set: what it does is drawn from `rng`. Outputs are discarded by the set.
async fn member(mut rng: XorShift) -> Vec<u8> {
    match rng.below(10) {
        0..4 => {
            tether::yield_now().await;
            vec![7; 64]
        }
        4 | 5 => {
            tether::sleep(ms(rng.below(4))).await;
            Vec::new()
        }
        6 => {
            tether::yield_now().await;
            panic!("stress: a background member failed");
        }
        7 => tether::timeout(ms(1), tether::sleep(ms(2 + rng.below(2))))
            .await
            .map_or_else(|_| vec![0; 8], |()| Vec::new()),
        8 => tether::create_task(async { vec![1; 16] })
            .await
            .expect("the child returns"),
        _ => {
            let total = std::cell::Cell::new(0);
            tether::task_group!(|tg| {
                for _ in 0..2 {
                    tg.create_task(async {
                        tether::yield_now().await;
                        total.set(total.get() + 1);
                    });
                }
            })
            .expect("the group's children return");
            vec![0; total.get()]
        }
    }
}

struct Sample {
    drained_bytes: isize,
    drained_blocks: isize,
    peak: isize,
}

#[test]
fn a_background_set_churning_a_million_tasks_stays_flat() {
    quiet_panics();
    let seed = Seed::new("set churn", 0x5E7_C4A2);
    let total = count(1_000_000, 400);
    let population = count(1_000, 20);
    let chunks = if cfg!(miri) { 8 } else { 50 };
    let per_chunk = total.div_ceil(chunks);
    let mut rng = seed.rng();
    let samples = Runtime::builder()
        .start_paused(true)
        .build()
        .run(async move {
            let mut set = TaskSet::background();
            let mut samples = Vec::with_capacity(chunks);
            for _ in 0..chunks {
                PEAK.store(BYTES.load(Ordering::Relaxed), Ordering::Relaxed);
                let mut spawned = 0;
                while spawned < per_chunk {
                    while set.len() < population && spawned < per_chunk {
                        set.create_task(member(rng.fork()));
                        spawned += 1;
                    }
                    // Let the set churn: some members finish, their slots are reused next round.
                    if rng.chance(200) {
                        tether::sleep(ms(1)).await;
                    } else {
                        tether::yield_now().await;
                    }
                }
                assert!(set.join_next().await.is_none());
                assert!(set.is_empty());
                for _ in 0..3 {
                    tether::yield_now().await;
                }
                assert_eq!(tether::__private::live_tasks(), 1);
                assert_eq!(tether::__private::armed_timers(), 0);
                samples.push(Sample {
                    drained_bytes: BYTES.load(Ordering::Relaxed),
                    drained_blocks: BLOCKS.load(Ordering::Relaxed),
                    peak: PEAK.load(Ordering::Relaxed),
                });
            }
            samples
        });
    let settled = &samples[samples.len() / 5..];
    let band = |pick: fn(&Sample) -> isize| {
        let values = settled.iter().map(pick);
        (values.clone().min().unwrap(), values.max().unwrap())
    };
    let (bytes_low, bytes_high) = band(|s| s.drained_bytes);
    let (blocks_low, blocks_high) = band(|s| s.drained_blocks);
    let (peak_low, peak_high) = band(|s| s.peak);
    let report = format!(
        "{} tasks (population {population}), seed {:#x}: drained {bytes_low}..={bytes_high} bytes \
         in {blocks_low}..={blocks_high} blocks; churning peak {peak_low}..={peak_high} bytes",
        chunks * per_chunk,
        seed.value()
    );
    eprintln!("{report}");
    // Drained, the set and the loop hold only what they keep for reuse: a few KiB of jitter
    // (queue and slab capacities settle; nothing grows per task).
    assert!(bytes_high - bytes_low <= 16 << 10, "{report}");
    assert!(blocks_high - blocks_low <= 64, "{report}");
    // Churning, the peak depends on how many members are mid-flight at once; it must not creep.
    assert!(peak_high - peak_low <= peak_low / 8, "{report}");
}
