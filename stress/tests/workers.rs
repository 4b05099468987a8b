//! The multi-threaded runtime (`Runtime::builder().workers(2)`) under load: `Send` tasks made
//! with `tether::spawn`, woken from plain OS threads (the injection queue), from each other
//! (the other worker's run queue, with one parked worker woken at a time), moving between
//! workers with their timers, cancelled while they finish, and abandoned at shutdown.
//!
//! What would show a runtime bug: a lost wake-up (a task never runs again: the watchdog fails
//! the test after a minute instead of hanging CI), a double run or a lost task (exact counts of
//! completions per task), a skipped or doubled destructor (a [`Tally`] of guards, whose canary
//! also trips on a second drop of the same memory).
//!
//! Guards may be dropped on any worker here, so [`Tally::assert_all_dropped`] (which demands the
//! loop's thread) is not used: the tests compare `created` and `dropped` instead.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::{mpsc as amsc, oneshot};
use futures::{SinkExt, StreamExt};
use tether::{Runtime, Task, TaskError};
use tether_stress::{Seed, Tally, XorShift, count};

/// How long any one test may take before it is declared hung. Each finishes in a few seconds.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `body` on a thread of its own and waits for it at most [`WATCHDOG`]: a lost wake-up
/// fails the test with a clear message instead of hanging it. A panic in `body` is resumed here.
fn watched<T: Send + 'static>(what: &'static str, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = mpsc::channel();
    let runner = thread::Builder::new()
        .name(what.into())
        .spawn(move || {
            let output = body();
            let _ = done.send(output);
        })
        .expect("a thread for the test");
    match finished.recv_timeout(WATCHDOG) {
        Ok(output) => {
            runner.join().expect("the test thread sent its output");
            output
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the test thread returned without sending its output"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{what}: still running after {WATCHDOG:?} (a test that takes seconds): a lost \
             wake-up, a lost task or a hung shutdown in the multi-threaded runtime"
        ),
    }
}

fn two_workers() -> Runtime {
    Runtime::builder().workers(2).build()
}

/// Asserts that every entry of `runs` is exactly 1: each task body finished once.
#[track_caller]
fn assert_each_ran_once(what: &str, runs: &[AtomicUsize]) {
    let wrong: Vec<(usize, usize)> = runs
        .iter()
        .map(|n| n.load(Ordering::Acquire))
        .enumerate()
        .filter(|&(_, n)| n != 1)
        .take(10)
        .collect();
    assert!(
        wrong.is_empty(),
        "{what}: tasks that did not finish exactly once (index, times): {wrong:?}"
    );
}

/// 8,000 `Send` tasks on two workers each wait ten times on a oneshot that one of eight plain
/// OS threads completes: 80,000 wake-ups from outside the runtime, through the injection queue,
/// racing the workers parking and unparking. Every task must finish exactly once with the sum of
/// the values it was sent.
#[test]
fn wakes_from_many_os_threads_reach_every_task() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 10;
    let tasks = count(8_000, 20);
    let seed = Seed::new("wakes_from_many_os_threads_reach_every_task", 0x3A7E);
    let mut rng = seed.rng();
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..tasks).map(|_| AtomicUsize::new(0)).collect());
    let (tallies, runs_seen) = (Tally::new(), runs.clone());
    let tally = tallies.clone();
    let fired = Arc::new(AtomicUsize::new(0));
    let thread_seeds: Vec<u64> = (0..THREADS).map(|_| rng.next_u64()).collect();
    let fired_seen = fired.clone();
    let total = watched("wakes_from_many_os_threads", move || {
        // Each OS thread answers the requests sent to it: (value, the sender to complete).
        let mut requests = Vec::new();
        let mut threads = Vec::new();
        for thread_seed in thread_seeds {
            let (tx, rx) = mpsc::channel::<(usize, oneshot::Sender<usize>)>();
            requests.push(tx);
            let fired = fired.clone();
            threads.push(thread::spawn(move || {
                let mut rng = XorShift::new(thread_seed);
                for (value, sender) in rx {
                    // Now and then let the task get to its await first, so that both orders
                    // (completed before the first poll, woken while parked) happen.
                    if rng.chance(100) {
                        thread::yield_now();
                    }
                    sender.send(value).expect("the task waits for its value");
                    fired.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let total: usize = two_workers().run(async move {
            let handles: Vec<Task<usize>> = (0..tasks)
                .map(|i| {
                    let requests = requests.clone();
                    let runs = runs.clone();
                    let guard = tally.guard();
                    tether::spawn(async move {
                        let _guard = guard;
                        let mut sum = 0;
                        for round in 0..ROUNDS {
                            let (tx, rx) = oneshot::channel();
                            let value = i * ROUNDS + round;
                            requests[(i + round) % THREADS]
                                .send((value, tx))
                                .expect("the OS thread is alive");
                            sum += rx.await.expect("the OS thread answers");
                            if round % 3 == 0 {
                                tether::yield_now().await;
                            }
                        }
                        runs[i].fetch_add(1, Ordering::AcqRel);
                        sum
                    })
                })
                .collect();
            drop(requests);
            let mut total = 0;
            for (i, handle) in handles.into_iter().enumerate() {
                let sum = handle.await.expect("the task finishes");
                let expected: usize = (0..ROUNDS).map(|round| i * ROUNDS + round).sum();
                assert_eq!(sum, expected, "task {i} got the wrong values");
                total += sum;
            }
            total
        });
        for thread in threads {
            thread.join().expect("an OS thread panicked");
        }
        total
    });
    let n = tasks * ROUNDS;
    assert_eq!(
        total,
        n * (n - 1) / 2,
        "the values 0..{n}, each received once"
    );
    assert_eq!(
        fired_seen.load(Ordering::Relaxed),
        n,
        "every oneshot was fired once"
    );
    assert_each_ran_once("wakes from OS threads", &runs_seen);
    assert_eq!(tallies.created(), tasks);
    assert_eq!(tallies.dropped(), tasks, "every task's future was dropped");
}

/// 200 pairs of `Send` tasks play ping-pong over rendezvous `futures` channels, 2,000 exchanges
/// each: every message wakes the other side, which is often on the other worker (a push on
/// this worker's queue, then a parked worker woken to steal it). The totals must be exact.
#[test]
fn ping_pong_pairs_across_workers() {
    let pairs = count(200, 4);
    let exchanges = count(2_000, 10);
    let (sums, received) = watched("ping_pong_pairs_across_workers", move || {
        two_workers().run(async move {
            let mut pings = Vec::new();
            let mut pongs = Vec::new();
            for pair in 0..pairs {
                let (mut to_pong, mut from_ping) = amsc::channel::<usize>(0);
                let (mut to_ping, mut from_pong) = amsc::channel::<usize>(0);
                pongs.push(tether::spawn(async move {
                    let mut received = 0;
                    while let Some(n) = from_ping.next().await {
                        received += 1;
                        to_ping.send(n + 1).await.expect("the ping side waits");
                    }
                    received
                }));
                pings.push(tether::spawn(async move {
                    let mut sum = 0;
                    for k in 0..exchanges {
                        let n = pair * exchanges + k;
                        to_pong.send(n).await.expect("the pong side listens");
                        let back = from_pong.next().await.expect("the pong side answers");
                        assert_eq!(back, n + 1, "pair {pair}: an answer out of order");
                        sum += back;
                    }
                    sum
                }));
            }
            let mut sums = 0;
            for ping in pings {
                sums += ping.await.expect("a ping task finishes");
            }
            let mut received = 0;
            for pong in pongs {
                received += pong.await.expect("a pong task finishes");
            }
            (sums, received)
        })
    });
    let n = pairs * exchanges;
    assert_eq!(received, n, "messages received by the pong tasks");
    assert_eq!(sums, n * (n + 1) / 2, "the answers 1..={n}, each once");
}

/// A node of a spawn tree: counts itself in `started`, splits the `size - 1` nodes below it
/// among up to four children made with `tether::spawn`, awaits them all and returns the size of
/// its subtree as they report it.
fn node(size: usize, started: Arc<AtomicUsize>) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        started.fetch_add(1, Ordering::Relaxed);
        let rest = size - 1;
        let fanout = rest.min(4);
        let children: Vec<Task<usize>> = (0..fanout)
            .map(|i| {
                let share = rest / fanout + usize::from(i < rest % fanout);
                tether::spawn(node(share, started.clone()))
            })
            .collect();
        let mut total = 1;
        for child in children {
            total += child.await.expect("a child finishes");
        }
        total
    })
}

/// Spawn storms: a tree of 100,000 `Send` tasks, each spawning up to four and awaiting them.
/// Most of the tree is alive at once, spread over both run queues by stealing. Every node must
/// start exactly once (no double run, no lost task), and the sizes must add up.
#[test]
fn a_spawn_tree_of_100k_tasks_adds_up() {
    let size = count(100_000, 200);
    let started = Arc::new(AtomicUsize::new(0));
    let started_seen = started.clone();
    let begin = Instant::now();
    let total = watched("a_spawn_tree_of_100k_tasks_adds_up", move || {
        two_workers().run(async move { tether::spawn(node(size, started)).await })
    })
    .expect("the root finishes");
    println!("{size} tasks in {:?}", begin.elapsed());
    assert_eq!(total, size, "the subtree sizes reported");
    assert_eq!(
        started_seen.load(Ordering::Relaxed),
        size,
        "nodes that started"
    );
}

/// A destructor that spawns a task (holding a guard of its own) while the runtime shuts down.
struct SpawnOnDrop {
    tally: Tally,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let guard = self.tally.guard();
        // Made during shutdown, this task never starts; its future (and guard) must still go.
        drop(tether::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
    }
}

/// Shutdown under load: the main future returns while 3,000 `Send` tasks are in every state:
/// pending forever, always ready (yielding), sleeping on timers of either worker, waiting on a
/// oneshot an OS thread fires during the shutdown, in `to_thread`, awaiting a child, finished
/// with an output nobody took, never polled, and holding destructors that spawn `Send` tasks
/// during the shutdown (of the `Send` tasks, and of a worker's local tasks). Some handles are forgotten (`mem::forget`),
/// the others dropped as the main future returns. Every guard must be dropped before `run`
/// returns; repeated for 20 rounds, each with its own seed.
#[test]
fn shutdown_under_load_drops_every_future() {
    let rounds = count(20, 1);
    let tasks = count(3_000, 30);
    let seed = Seed::new("shutdown_under_load_drops_every_future", 0x5D0F);
    let mut rng = seed.rng();
    for round in 0..rounds {
        let round_seed = rng.next_u64();
        let tally = Tally::new();
        let tally_seen = tally.clone();
        let (created, dropped) = watched("shutdown_under_load_drops_every_future", move || {
            let (requests, answers) = mpsc::channel::<oneshot::Sender<()>>();
            // Fires each oneshot as it comes: some before the shutdown, some during it, some
            // after `run` returned (then nobody listens any more).
            let firer = thread::spawn(move || {
                for sender in answers {
                    let _ = sender.send(());
                }
            });
            let main_tally = tally.clone();
            two_workers().run(async move {
                let tally = main_tally;
                let mut rng = XorShift::new(round_seed);
                let mut kept: Vec<Task<Option<tether_stress::Guard>>> = Vec::new();
                for i in 0..tasks {
                    let guard = tally.guard();
                    let kind = rng.below(10);
                    let mut task_rng = rng.fork();
                    let requests = requests.clone();
                    let tally = tally.clone();
                    let task = tether::spawn(async move {
                        let _guard = guard;
                        match kind {
                            0 => std::future::pending::<()>().await,
                            1 => loop {
                                tether::yield_now().await;
                            },
                            2 => loop {
                                let micros = task_rng.below(2_000);
                                tether::sleep(Duration::from_micros(micros)).await;
                                tether::yield_now().await;
                            },
                            3 => {
                                let (tx, rx) = oneshot::channel();
                                requests.send(tx).expect("the firing thread is alive");
                                let _ = rx.await;
                                std::future::pending::<()>().await;
                            }
                            4 => loop {
                                let _ = tether::to_thread(thread::yield_now).await;
                            },
                            5 => {
                                let child_guard = tally.guard();
                                let child = tether::spawn(async move {
                                    let _guard = child_guard;
                                    std::future::pending::<()>().await;
                                });
                                let _ = child.await;
                                std::future::pending::<()>().await;
                            }
                            6 => {
                                // Its output nobody takes (only for kept handles: a forgotten
                                // handle would leak it, as it should).
                                if i % 2 == 0 {
                                    return Some(tally.guard());
                                }
                                std::future::pending::<()>().await;
                            }
                            7 => {
                                let _spawner = SpawnOnDrop { tally };
                                tether::sleep(Duration::from_secs(3600)).await;
                            }
                            8 => {
                                // A local task of whichever worker runs this, left to that
                                // worker's own shutdown (after every `Send` task is gone), whose
                                // destructor spawns a `Send` task then.
                                let (guard, spawner) = (tally.guard(), SpawnOnDrop { tally });
                                std::mem::forget(tether::create_task(async move {
                                    let _held = (guard, spawner);
                                    std::future::pending::<()>().await;
                                }));
                                std::future::pending::<()>().await;
                            }
                            _ => {
                                tether::sleep(Duration::from_secs(3600)).await;
                            }
                        }
                        None
                    });
                    if i % 2 == 0 {
                        kept.push(task);
                    } else {
                        std::mem::forget(task);
                    }
                    if i % 500 == 499 {
                        // Let the workers pick some up (and steal) before the next burst.
                        tether::yield_now().await;
                    }
                }
                drop(requests);
                for _ in 0..rng.below(4) {
                    tether::yield_now().await;
                }
                // Returns with `kept` still pending: dropped here, which cancels them.
            });
            // Every destructor has run by now, whichever thread ran it.
            let counts = (tally.created(), tally.dropped());
            firer
                .join()
                .expect("the firing thread ends once every sender is gone");
            counts
        });
        assert!(created >= tasks, "round {round}: {created} guards created");
        assert_eq!(
            created, dropped,
            "round {round}: {created} guards created, {dropped} dropped when `run` returned"
        );
        assert_eq!(tally_seen.alive(), 0, "round {round}: guards dropped later");
    }
}

/// Cancellation racing completion: 20,000 victims finish soon (after a few yields, or a oneshot
/// fired by an OS thread) while 20,000 killers, on whichever worker, drop or cancel their
/// handles at about the same time. Every victim's future is dropped exactly once (the guards'
/// canary trips on a double drop), no victim finishes twice, and a cancelled-then-awaited victim
/// reports either its value or `Cancelled`.
#[test]
fn cancellation_racing_completion_drops_each_future_once() {
    let victims = count(20_000, 50);
    let seed = Seed::new(
        "cancellation_racing_completion_drops_each_future_once",
        0xCA9C,
    );
    let mut rng = seed.rng();
    let tally = Tally::new();
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..victims).map(|_| AtomicUsize::new(0)).collect());
    let outcomes = Arc::new([(); 3].map(|()| AtomicUsize::new(0)));
    let (tally_seen, runs_seen, outcomes_seen) = (tally.clone(), runs.clone(), outcomes.clone());
    let run_seed = rng.next_u64();
    watched("cancellation_racing_completion", move || {
        let (requests, answers) = mpsc::channel::<oneshot::Sender<()>>();
        let firer = thread::spawn(move || {
            for sender in answers {
                let _ = sender.send(());
            }
        });
        two_workers().run(async move {
            let mut rng = XorShift::new(run_seed);
            let mut killers = Vec::new();
            for i in 0..victims {
                let guard = tally.guard();
                let (yields, by_thread) = (rng.below(4), rng.chance(300));
                let (runs, requests) = (runs.clone(), requests.clone());
                let victim = tether::spawn(async move {
                    let _guard = guard;
                    if by_thread {
                        let (tx, rx) = oneshot::channel();
                        requests.send(tx).expect("the firing thread is alive");
                        let _ = rx.await;
                    }
                    for _ in 0..yields {
                        tether::yield_now().await;
                    }
                    runs[i].fetch_add(1, Ordering::AcqRel);
                    i
                });
                let (delay, cancel_then_await) = (rng.below(4), rng.chance(500));
                let outcomes = outcomes.clone();
                killers.push(tether::spawn(async move {
                    for _ in 0..delay {
                        tether::yield_now().await;
                    }
                    if !cancel_then_await {
                        drop(victim);
                        outcomes[0].fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    victim.cancel();
                    match victim.await {
                        Ok(value) => {
                            assert_eq!(value, i, "a victim returned another's value");
                            outcomes[1].fetch_add(1, Ordering::Relaxed);
                        }
                        Err(TaskError::Cancelled { .. }) => {
                            outcomes[2].fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => panic!("victim {i}: {error}"),
                    }
                }));
            }
            drop(requests);
            for killer in killers {
                killer.await.expect("a killer finishes without panicking");
            }
        });
        firer.join().expect("the firing thread ends");
    });
    let finished_twice: Vec<usize> = (0..victims)
        .filter(|&i| runs_seen[i].load(Ordering::Acquire) > 1)
        .collect();
    assert!(
        finished_twice.is_empty(),
        "victims finished twice: {finished_twice:?}"
    );
    let [dropped, completed, cancelled] =
        [0, 1, 2].map(|k| outcomes_seen[k].load(Ordering::Relaxed));
    println!("{dropped} handles dropped; awaited: {completed} completed, {cancelled} cancelled");
    assert_eq!(
        dropped + completed + cancelled,
        victims,
        "every killer finished once"
    );
    assert_eq!(tally_seen.created(), victims);
    assert_eq!(
        tally_seen.dropped(),
        victims,
        "every victim's future was dropped"
    );
}

/// Timers that move between workers: 1,000 `Send` tasks each sleep, poll a sleep between
/// yields (so it is armed on one worker and polled on the other), arm an hour-long sleep and drop it after moving (the timer is
/// disarmed on the worker that armed it), and time out short waits, ten times over. Every
/// sleep must fire (no lost timer wake-up) and every task finish exactly once.
#[test]
fn timers_follow_tasks_between_workers() {
    let tasks = count(1_000, 10);
    let seed = Seed::new("timers_follow_tasks_between_workers", 0x71AE);
    let run_seed = seed.rng().next_u64();
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..tasks).map(|_| AtomicUsize::new(0)).collect());
    let runs_seen = runs.clone();
    let elapsed_count = watched("timers_follow_tasks_between_workers", move || {
        two_workers().run(async move {
            let mut rng = XorShift::new(run_seed);
            let handles: Vec<Task<usize>> = (0..tasks)
                .map(|i| {
                    let mut rng = rng.fork();
                    let runs = runs.clone();
                    tether::spawn(async move {
                        let mut timed_out = 0;
                        for _ in 0..10 {
                            tether::sleep(Duration::from_micros(rng.below(1_500))).await;
                            // One sleep polled again and again, between yields: armed on one
                            // worker, polled on the other, it must move its timer and fire.
                            let mut moving =
                                std::pin::pin!(tether::sleep(Duration::from_micros(800)));
                            while futures::poll!(moving.as_mut()).is_pending() {
                                tether::yield_now().await;
                            }
                            let mut long = std::pin::pin!(tether::sleep(Duration::from_secs(3600)));
                            assert!(futures::poll!(long.as_mut()).is_pending());
                            for _ in 0..rng.below(3) {
                                tether::yield_now().await;
                            }
                            let wait = tether::timeout(
                                Duration::from_micros(rng.below(500)),
                                std::future::pending::<()>(),
                            );
                            if wait.await.is_err() {
                                timed_out += 1;
                            }
                        }
                        runs[i].fetch_add(1, Ordering::AcqRel);
                        timed_out
                    })
                })
                .collect();
            let mut elapsed = 0;
            for handle in handles {
                elapsed += handle.await.expect("a task finishes");
            }
            elapsed
        })
    });
    assert_eq!(elapsed_count, tasks * 10, "every timeout elapsed");
    assert_each_ran_once("timers between workers", &runs_seen);
}

/// A countdown that plain OS threads decrement, waking the task waiting for zero each time:
/// the classic check-register-recheck pattern, so a wake-up that lands while the task is being
/// polled, queued or stolen must never be lost.
struct Latch {
    left: AtomicUsize,
    waker: futures::task::AtomicWaker,
}

impl Latch {
    fn count_down(&self) {
        self.left.fetch_sub(1, Ordering::AcqRel);
        self.waker.wake();
    }

    async fn wait(&self) {
        std::future::poll_fn(|cx| {
            if self.left.load(Ordering::Acquire) == 0 {
                return std::task::Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.left.load(Ordering::Acquire) == 0 {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
    }
}

/// 500 `Send` tasks each wait on a latch that eight OS threads count down 50 times each,
/// waking the task every time (200,000 wakes from outside, most while the task is already
/// scheduled or running). Every task must see its latch reach zero and finish exactly once.
#[test]
fn latches_counted_down_by_os_threads_release_every_task() {
    const THREADS: usize = 8;
    let tasks = count(500, 10);
    let per_thread = count(50, 5);
    let latches: Arc<Vec<Latch>> = Arc::new(
        (0..tasks)
            .map(|_| Latch {
                left: AtomicUsize::new(THREADS * per_thread),
                waker: futures::task::AtomicWaker::new(),
            })
            .collect(),
    );
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..tasks).map(|_| AtomicUsize::new(0)).collect());
    let runs_seen = runs.clone();
    watched("latches_counted_down_by_os_threads", move || {
        let (started_tx, started) = mpsc::channel::<()>();
        let runtime_latches = latches.clone();
        let runtime = thread::spawn(move || {
            two_workers().run(async move {
                let handles: Vec<Task<()>> = (0..tasks)
                    .map(|i| {
                        let (latches, runs) = (runtime_latches.clone(), runs.clone());
                        tether::spawn(async move {
                            latches[i].wait().await;
                            runs[i].fetch_add(1, Ordering::AcqRel);
                        })
                    })
                    .collect();
                started_tx.send(()).expect("the test waits for the start");
                for handle in handles {
                    handle.await.expect("a task finishes");
                }
            });
        });
        started.recv().expect("the runtime starts");
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let latches = latches.clone();
                thread::spawn(move || {
                    for round in 0..per_thread {
                        // Each thread walks all the latches, from its own starting point.
                        for k in 0..tasks {
                            latches[(k + t * 61 + round) % tasks].count_down();
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("an OS thread panicked");
        }
        runtime.join().expect("the runtime thread panicked");
    });
    assert_each_ran_once("latches", &runs_seen);
}
