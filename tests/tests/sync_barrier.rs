//! `tether::sync::Barrier`: rounds, indices, the leader, abort/reset, cancellation, threads.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::poll;
use tether::sync::{Barrier, BrokenBarrierError};
use tether::time::Instant;
use tether_tests::Log;

#[tether::test(start_paused)]
async fn the_last_arrival_releases_everybody() {
    let barrier = Barrier::new(3);
    let start = Instant::now();
    let results = tether::task_group!(|tg| {
        let handles: Vec<_> = [30, 10, 20]
            .into_iter()
            .map(|delay| {
                let barrier = &barrier;
                tg.create_task(async move {
                    tether::sleep(Duration::from_millis(delay)).await;
                    let result = barrier.wait().await.unwrap();
                    (delay, result, start.elapsed())
                })
            })
            .collect();
        let mut results = Vec::new();
        for handle in handles {
            results.push(handle.await.unwrap());
        }
        results
    })
    .unwrap();
    for (_, _, at) in &results {
        assert_eq!(
            *at,
            Duration::from_millis(30),
            "all leave when the last arrives"
        );
    }
    // Indices follow arrival order; the last to arrive (30ms) is the leader.
    let index_of = |d| results.iter().find(|r| r.0 == d).unwrap().1;
    assert_eq!(index_of(10).index(), 0);
    assert_eq!(index_of(20).index(), 1);
    assert_eq!(index_of(30).index(), 2);
    assert!(index_of(30).is_leader());
    assert_eq!(results.iter().filter(|r| r.1.is_leader()).count(), 1);
}

#[tether::test]
async fn a_barrier_is_reusable_round_after_round() {
    let barrier = Barrier::new(2);
    let log = Log::new();
    tether::task_group!(|tg| {
        for name in ["a", "b"] {
            let (barrier, log) = (&barrier, log.clone());
            tg.create_task(async move {
                for round in 0..3 {
                    log.push(format!("{name}{round}"));
                    barrier.wait().await.unwrap();
                }
            });
        }
    })
    .unwrap();
    let events = log.events();
    // Nobody starts round n+1 before both finished round n.
    for pair in events.chunks(2) {
        let mut rounds: Vec<_> = pair.iter().map(|e| &e[1..]).collect();
        rounds.dedup();
        assert_eq!(rounds.len(), 1, "{events:?}");
    }
}

#[tether::test]
async fn abort_breaks_waiters_and_later_calls_until_reset() {
    let barrier = Barrier::new(3);
    let mut a = pin!(barrier.wait());
    let mut b = pin!(barrier.wait());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    assert_eq!(barrier.n_waiting(), 2);
    barrier.abort();
    assert!(barrier.is_broken());
    assert_eq!(a.await, Err(BrokenBarrierError));
    assert_eq!(b.await, Err(BrokenBarrierError));
    assert_eq!(barrier.wait().await, Err(BrokenBarrierError));
    let err = BrokenBarrierError.to_string();
    assert!(err.contains("reset"), "{err}");

    barrier.reset();
    assert!(!barrier.is_broken());
    let (x, y, z) = tether::gather!(barrier.wait(), barrier.wait(), barrier.wait());
    assert!(z.unwrap().is_leader());
    assert_eq!((x.unwrap().index(), y.unwrap().index()), (0, 1));
}

#[tether::test]
async fn reset_fails_current_waiters_but_leaves_the_barrier_usable() {
    let barrier = Barrier::new(2);
    let mut a = pin!(barrier.wait());
    assert!(poll!(a.as_mut()).is_pending());
    barrier.reset();
    assert_eq!(a.await, Err(BrokenBarrierError));
    assert!(!barrier.is_broken());
    let (x, y) = tether::gather!(barrier.wait(), barrier.wait());
    assert!(x.is_ok() && y.is_ok());
}

#[tether::test]
async fn a_dropped_waiter_leaves_without_breaking_the_barrier() {
    let barrier = Barrier::new(2);
    let mut a = Box::pin(barrier.wait());
    assert!(poll!(a.as_mut()).is_pending());
    drop(a);
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.is_broken());
    let mut b = pin!(barrier.wait());
    assert!(poll!(b.as_mut()).is_pending(), "b alone does not fill it");
    let c = barrier.wait().await.unwrap();
    assert!(c.is_leader());
    assert_eq!(b.await.unwrap().index(), 0);
}

#[tether::test]
async fn a_released_waiter_dropped_before_it_ran_changes_nothing() {
    let barrier = Barrier::new(2);
    let mut a = Box::pin(barrier.wait());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(barrier.wait().await.unwrap().is_leader());
    drop(a);
    assert_eq!(barrier.n_waiting(), 0);
    // The next round starts clean.
    let (x, y) = tether::gather!(barrier.wait(), barrier.wait());
    assert_eq!(x.unwrap().index(), 0);
    assert!(y.unwrap().is_leader());
}

#[test]
fn loops_on_several_threads_meet_at_a_barrier() {
    const THREADS: usize = 4;
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                tether::run(async {
                    let mut leaders = 0;
                    for _ in 0..20 {
                        leaders += usize::from(barrier.wait().await.unwrap().is_leader());
                    }
                    leaders
                })
            })
        })
        .collect();
    let leaders: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(leaders, 20, "one leader per round");
}

#[test]
#[should_panic(expected = "at least one party")]
fn a_barrier_needs_a_party() {
    let _ = Barrier::new(0);
}
