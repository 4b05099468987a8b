//! The order tasks run in on each flavor: first in, first out on the single loop (asyncio's
//! order), and on workers a LIFO slot by default (`Builder::lifo_slot`): the task a worker's
//! running task has just woken or spawned runs next, ahead of those queued, at most 3 times in
//! a row, and another worker may take it when the first is stuck.
//!
//! To see one worker's order, the scenarios run on worker 0 while a "holder" task keeps
//! worker 1 busy (it could steal otherwise). Ordering is read from what the tasks record,
//! never from timing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};

/// Spins (no await) until `flag` is set; fails after 10 s instead of hanging.
fn spin_until(flag: &AtomicBool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !flag.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::hint::spin_loop();
    }
}

/// Runs `scenario` as a spawned task on worker 0 of a two-worker runtime, while worker 1 is
/// kept busy, so that every task the scenario makes or wakes runs on worker 0.
fn on_one_of_two_workers<T: Send + 'static>(
    lifo_slot: bool,
    scenario: impl Future<Output = T> + Send + 'static,
) -> T {
    tether::Runtime::builder()
        .workers(2)
        .lifo_slot(lifo_slot)
        .build()
        .run(async move {
            let started = Arc::new(AtomicBool::new(false));
            let release = Arc::new(AtomicBool::new(false));
            let holder = {
                let (started, release) = (started.clone(), release.clone());
                tether::spawn(async move {
                    started.store(true, Ordering::SeqCst);
                    spin_until(&release, "the release of the holder");
                    std::thread::current().id()
                })
            };
            // Worker 0 is busy here, so worker 1 takes the holder (from worker 0's slot, or
            // its queue with the slot off).
            spin_until(&started, "the holder's start on worker 1");
            let here = std::thread::current().id();
            let output = tether::spawn(async move {
                assert_eq!(
                    std::thread::current().id(),
                    here,
                    "the scenario runs on worker 0"
                );
                scenario.await
            })
            .await
            .unwrap();
            release.store(true, Ordering::SeqCst);
            assert_ne!(holder.await.unwrap(), here, "the holder ran on worker 1");
            output
        })
}

/// Spawns `a`, `b`, `c`, each waiting for a message, then (after a yield, which lets them all
/// start) sends to `a`, `b`, `c` in turn: returns the order they started in, then the order
/// the messages woke them in.
async fn starts_and_wakes() -> Vec<&'static str> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut senders = Vec::new();
    let mut tasks = Vec::new();
    for name in ["a", "b", "c"] {
        let (tx, rx) = oneshot::channel::<()>();
        senders.push(tx);
        let log = log.clone();
        tasks.push(tether::spawn(async move {
            log.lock().unwrap().push(name);
            rx.await.unwrap();
            log.lock().unwrap().push(name);
        }));
    }
    tether::yield_now().await;
    assert_eq!(
        log.lock().unwrap().len(),
        3,
        "a yield lets every queued task run"
    );
    for tx in senders {
        tx.send(()).unwrap();
    }
    for task in tasks {
        task.await.unwrap();
    }
    Arc::try_unwrap(log).unwrap().into_inner().unwrap()
}

#[test]
fn on_workers_the_task_spawned_or_woken_last_runs_first() {
    let order = on_one_of_two_workers(true, starts_and_wakes());
    // `c` was scheduled last both times: the slot runs it next; `a` and `b` follow from the
    // queue, in their order.
    assert_eq!(order, ["c", "a", "b", "c", "a", "b"]);
}

#[test]
fn on_workers_without_the_slot_tasks_run_first_in_first_out() {
    let order = on_one_of_two_workers(false, starts_and_wakes());
    assert_eq!(order, ["a", "b", "c", "a", "b", "c"]);
}

#[test]
fn the_single_loop_stays_first_in_first_out_with_the_slot_asked_for() {
    let order = tether::Runtime::builder()
        .lifo_slot(true)
        .build()
        .run(starts_and_wakes());
    assert_eq!(order, ["a", "b", "c", "a", "b", "c"]);
}

/// Rounds the ping-pong pair plays at most: it stops as soon as the third task has run, so it
/// plays them all only if that task is starved.
const MAX_ROUNDS: usize = 10_000;

/// The round in which the pinger wakes the third task.
const WAKE_ROUND: usize = 10;

/// A pair of tasks that wake each other (a ping and its pong, each a message), and a third
/// task woken by the pinger in round [`WAKE_ROUND`], just before it pings: returns how many
/// rounds the pair had played when the third task ran.
async fn ping_pong_and_a_third() -> usize {
    let rounds = Arc::new(AtomicUsize::new(0));
    let third_ran = Arc::new(AtomicBool::new(false));
    let (wake_third, woken) = oneshot::channel::<()>();
    let third = {
        let (rounds, third_ran) = (rounds.clone(), third_ran.clone());
        tether::spawn(async move {
            woken.await.unwrap();
            third_ran.store(true, Ordering::SeqCst);
            rounds.load(Ordering::SeqCst)
        })
    };
    let (ping_tx, mut ping_rx) = mpsc::unbounded::<()>();
    let (pong_tx, mut pong_rx) = mpsc::unbounded::<()>();
    let ponger = tether::spawn(async move {
        while ping_rx.next().await.is_some() {
            if pong_tx.unbounded_send(()).is_err() {
                break;
            }
        }
    });
    let pinger = {
        let rounds = rounds.clone();
        tether::spawn(async move {
            let mut wake_third = Some(wake_third);
            for round in 1..=MAX_ROUNDS {
                if round == WAKE_ROUND {
                    wake_third.take().unwrap().send(()).unwrap();
                }
                rounds.store(round, Ordering::SeqCst);
                ping_tx.unbounded_send(()).unwrap();
                pong_rx.next().await.unwrap();
                if third_ran.load(Ordering::SeqCst) {
                    break;
                }
            }
        })
    };
    pinger.await.unwrap();
    ponger.await.unwrap();
    third.await.unwrap()
}

#[test]
fn a_ping_pong_pair_does_not_starve_a_third_task_on_its_worker() {
    for lifo_slot in [true, false] {
        let ran_at = on_one_of_two_workers(lifo_slot, ping_pong_and_a_third());
        // With the slot, the pair would keep it to itself if nothing bounded its runs: the
        // third task would run once the pair stopped, after MAX_ROUNDS. It runs within a few
        // rounds (after at most 3 tasks in a row from the slot).
        assert!(
            (WAKE_ROUND..WAKE_ROUND + 5).contains(&ran_at),
            "lifo_slot({lifo_slot}): the third task ran in round {ran_at}"
        );
    }
}

#[test]
fn a_task_in_the_slot_of_a_stuck_worker_is_taken_by_an_idle_one() {
    for lifo_slot in [true, false] {
        // A spawns B (into its worker's slot, or queue), then blocks its worker until B has
        // run: only another worker can run B, and nobody was woken for it (one task waiting).
        let ran_elsewhere = tether::Runtime::builder()
            .workers(2)
            .lifo_slot(lifo_slot)
            .build()
            .run(async {
                tether::spawn(async {
                    let ran = Arc::new(AtomicBool::new(false));
                    let mine = ran.clone();
                    let behind = tether::spawn(async move {
                        mine.store(true, Ordering::SeqCst);
                        std::thread::current().id()
                    });
                    spin_until(&ran, "the task behind the stuck worker");
                    // Read before the await: this task may resume on another worker.
                    let stuck = std::thread::current().id();
                    behind.await.unwrap() != stuck
                })
                .await
                .unwrap()
            });
        assert!(ran_elsewhere, "lifo_slot({lifo_slot})");
    }
}
