//! loom models of the work-stealing path: the run queue under a concurrent thief, and the
//! park/notify protocol of [`sleepers`](super::sleepers) (no wake-up lost).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p tether --lib --release workers::loom`. loom
//! explores every interleaving of the modelled threads (bounded by `LOOM_MAX_PREEMPTIONS`, 3 by
//! default), with the very `RunQueue` and `Sleepers` the runtime uses.

use loom::sync::Arc;
use loom::thread;

use super::run_queue::RunQueue;
use super::sleepers::Sleepers;

/// An idle worker looking for work the way `EventLoop::park` does: take from `victim`, else
/// announce sleep, look once more, park.
fn idle_worker(victim: &RunQueue<u32>, sleepers: &Sleepers, index: usize) -> Vec<u32> {
    let mut batch = Vec::new();
    loop {
        victim.steal_half(&mut batch, 32);
        if !batch.is_empty() {
            return batch;
        }
        sleepers.announce(index);
        if !victim.is_empty() {
            sleepers.retract(index);
            continue;
        }
        thread::park();
        sleepers.retract(index);
    }
}

#[test]
fn a_push_wakes_a_worker_that_is_going_to_sleep() {
    loom::model(|| {
        let queue = Arc::new(RunQueue::new());
        let sleepers = Arc::new(Sleepers::new(2));
        let thief = {
            let (queue, sleepers) = (queue.clone(), sleepers.clone());
            thread::spawn(move || idle_worker(&queue, &sleepers, 1))
        };
        // Worker 0 makes work the way `Workers::schedule` does: push, then wake one sleeper.
        queue.push(7);
        if let Some(index) = sleepers.notify_one() {
            assert_eq!(index, 1);
            thief.thread().unpark();
        }
        // If the protocol could lose the wake-up, loom would find the thief parked forever
        // (a deadlock) in some interleaving.
        assert_eq!(thief.join().unwrap(), [7]);
        assert!(queue.is_empty());
    });
}

#[test]
fn the_owner_and_a_thief_take_every_task_exactly_once() {
    loom::model(|| {
        let queue = Arc::new(RunQueue::new());
        (1..=3).for_each(|n| queue.push(n));
        let thief = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut stolen = Vec::new();
                queue.steal_half(&mut stolen, 32);
                stolen
            })
        };
        let mut mine = Vec::new();
        queue.pop_batch(&mut mine, 1);
        queue.push(4);
        queue.pop_batch(&mut mine, 32);
        let stolen = thief.join().unwrap();
        assert!(
            stolen.windows(2).all(|pair| pair[0] < pair[1]),
            "{stolen:?}"
        );
        assert!(mine.windows(2).all(|pair| pair[0] < pair[1]), "{mine:?}");
        let mut all = [mine, stolen].concat();
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3, 4]);
        assert!(queue.is_empty());
    });
}

#[test]
fn only_one_of_two_pushers_claims_a_sleeper() {
    loom::model(|| {
        let sleepers = Arc::new(Sleepers::new(1));
        sleepers.announce(0);
        let other = {
            let sleepers = sleepers.clone();
            thread::spawn(move || sleepers.notify_one())
        };
        let mine = sleepers.notify_one();
        let theirs = other.join().unwrap();
        assert_eq!(
            [mine, theirs].iter().flatten().count(),
            1,
            "{mine:?} {theirs:?}"
        );
        assert!(!sleepers.any());
    });
}
