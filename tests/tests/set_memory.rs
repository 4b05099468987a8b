//! A TaskSet that has run a million short tasks holds no memory for them: a background set as
//! they finish, a set that keeps outcomes once `join_next` has taken them.
//!
//! A counting allocator measures the bytes in use after each wave of tasks: the figure must stay
//! flat once the set's slab and the loop's queues have reached their working size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which we forward.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The counter is the process's: the tests take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_background_set_holds_no_memory_for_finished_tasks() {
    assert_flat(&bytes_in_use_after_each_wave(false));
}

#[test]
fn a_set_whose_outcomes_are_taken_holds_no_memory_for_them() {
    assert_flat(&bytes_in_use_after_each_wave(true));
}

#[test]
fn a_background_set_that_only_spawns_holds_no_memory_for_finished_tasks() {
    // The members of the last wave may or may not have been taken in when a wave is measured
    // (they are, at the next `spawn`), and the other worker's transient buffers come and go
    // under load (tens of kB, seen on a loaded 2-core machine): the figure moves, but must not
    // grow with the tasks. The bound is what a leak of 16 bytes per task over the later half of
    // the waves would add; the leak this guards against kept a whole task (about 245 bytes).
    let (in_use, waves, per_wave) = bytes_in_use_while_only_spawning();
    let (early, late) = in_use[in_use.len() / 10..].split_at(in_use.len() / 2);
    let (early_max, late_max) = (early.iter().max().unwrap(), late.iter().max().unwrap());
    let bound = (waves / 2 * per_wave * 16) as isize;
    assert!(
        late_max - early_max < bound,
        "the most bytes in use grew from {early_max} to {late_max} over {} waves (bound: {bound})",
        in_use.len()
    );
}

/// A server's accept loop: a background set on two workers to which members are only ever
/// added (`spawn`), never joined nor counted; the bytes in use after each wave has ended.
fn bytes_in_use_while_only_spawning() -> (Vec<isize>, usize, usize) {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (waves, per_wave) = if cfg!(miri) { (20, 20) } else { (200, 500) };
    let runtime = tether::Runtime::builder().workers(2).build();
    runtime.run(async move {
        let mut set = tether::TaskSet::background();
        let ended = Arc::new(AtomicUsize::new(0));
        let mut in_use = Vec::with_capacity(waves);
        for wave in 1..=waves {
            for i in 0..per_wave {
                let ended = ended.clone();
                set.spawn(async move {
                    tether::yield_now().await;
                    drop(vec![i as u8; 64]);
                    ended.fetch_add(1, Ordering::SeqCst);
                });
            }
            while ended.load(Ordering::SeqCst) < wave * per_wave {
                tether::yield_now().await;
            }
            in_use.push(IN_USE.load(Ordering::Relaxed));
        }
        set.shutdown().await;
        (in_use, waves, per_wave)
    })
}

/// Runs waves of short tasks through one set, a background set or (`keep`) one whose
/// outcomes `join_next` takes; the bytes in use after each wave.
fn bytes_in_use_after_each_wave(keep: bool) -> Vec<isize> {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let (waves, per_wave) = if cfg!(miri) { (20, 50) } else { (1000, 1000) };
    tether::run(async move {
        let mut set = if keep {
            tether::TaskSet::new()
        } else {
            tether::TaskSet::background()
        };
        let mut in_use = Vec::with_capacity(waves);
        for _ in 0..waves {
            for i in 0..per_wave {
                set.create_task(async move {
                    tether::yield_now().await;
                    vec![i as u8; 64]
                });
            }
            let mut taken = 0;
            while let Some(outcome) = set.join_next().await {
                assert_eq!(outcome.unwrap().len(), 64);
                taken += 1;
            }
            assert_eq!(taken, if keep { per_wave } else { 0 });
            assert!(set.is_empty());
            in_use.push(IN_USE.load(Ordering::Relaxed));
        }
        in_use
    })
}

/// Once the first tenth of the waves has grown the set and the loop to their working size, the
/// bytes in use after each wave stay within a page.
fn assert_flat(in_use: &[isize]) {
    let settled = &in_use[in_use.len() / 10..];
    let (low, high) = (settled.iter().min().unwrap(), settled.iter().max().unwrap());
    assert!(
        high - low < 4096,
        "after {} waves of tasks, bytes in use drifted from {low} to {high}",
        in_use.len()
    );
}
