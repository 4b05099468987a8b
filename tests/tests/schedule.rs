//! Seeded schedules: a seed fixes the order step for step, other seeds give other orders, FIFO
//! is untouched, and several workers refuse a seed.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use tether::Runtime;
use tether::schedule::Strategy;

/// A scenario with every kind of choice a schedule makes: tasks that start together, tasks
/// woken by timers with one deadline, and group children; returns the order steps ran in.
fn scenario(strategy: Strategy) -> Vec<String> {
    let runtime = Runtime::builder()
        .schedule(strategy)
        .start_paused(true)
        .build();
    runtime.run(async {
        let log = RefCell::new(Vec::new());
        let log = &log;
        tether::task_group!(|tg| {
            for i in 0..6 {
                tg.create_task(async move {
                    log.borrow_mut().push(format!("start {i}"));
                    tether::sleep(Duration::from_millis(10)).await;
                    log.borrow_mut().push(format!("timer {i}"));
                    tether::yield_now().await;
                    log.borrow_mut().push(format!("end {i}"));
                });
            }
        })
        .unwrap();
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                tether::create_task(async move {
                    tether::sleep(Duration::from_millis(5)).await;
                    i
                })
            })
            .collect();
        for task in tasks {
            let output = task.await.unwrap();
            log.borrow_mut().push(format!("task {output}"));
        }
        log.take()
    })
}

#[test]
fn a_seed_replays_the_same_order_step_for_step() {
    for strategy in [Strategy::Random { seed: 12345 }, Strategy::pct(12345)] {
        let first = scenario(strategy);
        let second = scenario(strategy);
        assert_eq!(first, second, "{strategy}");
        assert_eq!(first.len(), 24);
    }
}

#[test]
fn fifo_is_asyncio_order() {
    let order = scenario(Strategy::Fifo);
    let expected: Vec<String> = ["start", "timer", "end"]
        .iter()
        .flat_map(|step| (0..6).map(move |i| format!("{step} {i}")))
        .chain((0..6).map(|i| format!("task {i}")))
        .collect();
    assert_eq!(order, expected);
}

#[test]
fn other_seeds_give_other_orders_within_each_batch() {
    let fifo = scenario(Strategy::Fifo);
    let mut distinct = HashSet::new();
    for seed in 0..20 {
        let order = scenario(Strategy::Random { seed });
        // Batches stay batches: every task starts before any timer fires, and every timer
        // fires before any task ends.
        let phase = |step: &str| order.iter().position(|s| s.starts_with(step)).unwrap();
        let last = |step: &str| order.iter().rposition(|s| s.starts_with(step)).unwrap();
        assert!(last("start") < phase("timer"), "{order:?}");
        assert!(last("timer") < phase("end"), "{order:?}");
        let mut sorted = order.clone();
        sorted.sort();
        let mut expected = fifo.clone();
        expected.sort();
        assert_eq!(sorted, expected, "nothing lost, nothing run twice");
        distinct.insert(order);
    }
    assert!(
        distinct.len() > 15,
        "20 seeds gave {} orders",
        distinct.len()
    );
    assert!(!distinct.contains(&fifo) || distinct.len() > 1);
}

/// A waker that logs its number when woken.
struct Logged(usize, Arc<Mutex<Vec<usize>>>);

impl Wake for Logged {
    fn wake(self: Arc<Self>) {
        self.1.lock().unwrap().push(self.0);
    }
}

/// Arms one timer per deadline (in milliseconds) under `seed`, each with a waker that logs its
/// index when the timer fires: the log is the firing order itself, whatever order tasks run in.
fn firing_order(seed: u64, deadlines: &[u64]) -> Vec<usize> {
    Runtime::builder()
        .shuffle(seed)
        .start_paused(true)
        .build()
        .run(async {
            let log = Arc::new(Mutex::new(Vec::new()));
            let mut sleeps: Vec<_> = deadlines
                .iter()
                .map(|&ms| Box::pin(tether::sleep(Duration::from_millis(ms))))
                .collect();
            for (i, sleep) in sleeps.iter_mut().enumerate() {
                let waker = Waker::from(Arc::new(Logged(i, log.clone())));
                assert!(
                    sleep
                        .as_mut()
                        .poll(&mut Context::from_waker(&waker))
                        .is_pending()
                );
            }
            tether::sleep(Duration::from_millis(100)).await;
            log.lock().unwrap().clone()
        })
}

#[test]
fn timers_with_one_deadline_fire_in_a_seeded_order() {
    let orders: HashSet<Vec<usize>> = (0..10).map(|seed| firing_order(seed, &[7; 8])).collect();
    assert!(orders.len() > 1, "{orders:?}");
    assert_eq!(firing_order(3, &[7; 8]), firing_order(3, &[7; 8]));
}

#[test]
fn earlier_deadlines_still_fire_first() {
    let deadlines = [30, 10, 20, 10, 30, 20];
    for seed in 0..10 {
        let order = firing_order(seed, &deadlines);
        let fired: Vec<u64> = order.iter().map(|&i| deadlines[i]).collect();
        assert!(fired.is_sorted(), "seed {seed}: {fired:?}");
    }
}

#[test]
#[should_panic(
    expected = "a seeded schedule (shuffle, explore, Strategy::Random or Strategy::Pct) \
                           needs the single-threaded loop"
)]
fn several_workers_refuse_a_seed() {
    let _ = Runtime::builder().workers(2).shuffle(1).build();
}

#[test]
fn the_seed_is_visible_to_the_test() {
    let seed = Runtime::builder()
        .schedule(Strategy::pct(77))
        .build()
        .run(async { tether::schedule::current_seed() });
    assert_eq!(seed, Some(77));
}

#[tether::test(shuffle, start_paused)]
async fn shuffle_runs_under_a_seed() {
    assert!(tether::schedule::current_seed().is_some());
}

#[tether::test(explore = 5)]
async fn explore_returns_a_result() -> Result<(), String> {
    assert!(tether::schedule::current_seed().is_some());
    Ok(())
}
