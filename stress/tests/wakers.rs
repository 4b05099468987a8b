//! Wakers fired from other threads at the worst times: after their task finished, after the
//! runtime shut down (`run` returned), and while it shuts down.
//!
//! No panic, no hang, no use-after-free (Miri and valgrind run these too), and every future is
//! dropped exactly once, on the loop's thread, before `run` returns. Every loop here is bounded,
//! so a lost wake-up shows as a failure, never as a hung test.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use tether::{CancelHandle, Promise, TaskSet};
use tether_stress::{Seed, Tally, count};

/// The waker of the task running this code.
async fn own_waker() -> Waker {
    poll_fn(|cx| Poll::Ready(cx.waker().clone())).await
}

/// Sends this task's waker to `sink`, then waits forever holding `guard`.
async fn register_and_wait(sink: Arc<Mutex<Vec<Waker>>>, guard: tether_stress::Guard) {
    let _guard = guard;
    let waker = own_waker().await;
    sink.lock().unwrap().push(waker);
    std::future::pending::<()>().await;
}

#[test]
fn wakers_fired_after_their_task_finished_are_ignored() {
    const THREADS: usize = 2;
    let n = count(20_000, 40);
    let tally = Tally::new();
    let finished = Arc::new(AtomicBool::new(false));
    let fired = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..THREADS {
        let (tx, rx) = mpsc::channel::<Waker>();
        senders.push(tx);
        let (finished, fired) = (finished.clone(), fired.clone());
        threads.push(thread::spawn(move || {
            let mut kept = Vec::new();
            // Racing the tasks: each waker fires as soon as it arrives, as its task finishes.
            for waker in rx {
                waker.wake_by_ref();
                kept.push(waker);
            }
            // Then again once every task has certainly finished (bounded wait for the signal).
            for _ in 0..10_000 {
                if finished.load(Ordering::Acquire) {
                    break;
                }
                thread::sleep(Duration::from_millis(1));
            }
            for waker in &kept {
                waker.wake_by_ref();
            }
            fired.fetch_add(kept.len(), Ordering::Relaxed);
            // Consuming wakes: the last reference to a task may go on this thread.
            kept.into_iter().for_each(Waker::wake);
        }));
    }
    tether::run(async {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let sender = senders[i % THREADS].clone();
                let guard = tally.guard();
                tether::create_task(async move {
                    let _guard = guard;
                    sender.send(own_waker().await).unwrap();
                    tether::yield_now().await;
                    i
                })
            })
            .collect();
        senders.clear();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), i);
        }
        finished.store(true, Ordering::Release);
        // The loop goes on working while the stale wake-ups arrive.
        for round in 0..count(200, 5) {
            let task = tether::create_task(async move {
                tether::sleep(Duration::from_micros(50)).await;
                round
            });
            assert_eq!(task.await.unwrap(), round);
        }
        assert_eq!(tether::__private::live_tasks(), 1);
    });
    for thread in threads {
        thread.join().expect("a waking thread panicked");
    }
    assert_eq!(fired.load(Ordering::Relaxed), n);
    tally.assert_all_dropped("tasks woken after they finished");
}

/// Everything a loop leaves behind that another thread can still poke.
struct Leftovers {
    wakers: Vec<Waker>,
    cancels: Vec<CancelHandle>,
    resolver: tether::Resolver<u32>,
    handle: tether::Handle,
    /// Handles that outlived the loop: the shutdown, not their owner, cancelled their tasks.
    tasks: Vec<tether::Task<()>>,
    set: TaskSet<()>,
}

#[test]
fn wakers_fired_after_the_runtime_shut_down_are_harmless() {
    const THREADS: usize = 3;
    let tally = Tally::new();
    let callbacks = Arc::new(AtomicUsize::new(0));
    let leftovers = tether::run(async {
        let sink = Arc::new(Mutex::new(Vec::new()));
        let mut cancels = Vec::new();
        // A finished task.
        let finished = tether::create_task(own_waker());
        let waker = finished.await.unwrap();
        sink.lock().unwrap().push(waker);
        // The main task itself.
        let waker = own_waker().await;
        sink.lock().unwrap().push(waker);
        // Pending tasks: owned by main, by a set, by a group inside a task; and one waiting on a
        // promise whose resolver outlives the loop.
        let pending = tether::create_task(register_and_wait(sink.clone(), tally.guard()));
        cancels.push(pending.cancel_handle());
        let mut set = TaskSet::new();
        set.create_task(register_and_wait(sink.clone(), tally.guard()));
        let grouped = tether::create_task({
            let (sink, guard, child_guard) = (sink.clone(), tally.guard(), tally.guard());
            async move {
                let _guard = guard;
                tether::task_group!(|tg| {
                    tg.create_task(register_and_wait(sink.clone(), child_guard));
                    std::future::pending::<()>().await;
                })
                .ok();
            }
        });
        cancels.push(grouped.cancel_handle());
        let promise: Promise<u32> = Promise::new();
        let resolver = promise.resolver();
        let counter = callbacks.clone();
        promise.add_done_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let waiting = tether::create_task({
            let (sink, guard) = (sink.clone(), tally.guard());
            async move {
                let _guard = guard;
                let waker = own_waker().await;
                sink.lock().unwrap().push(waker);
                promise.await.ok();
            }
        });
        cancels.push(waiting.cancel_handle());
        for _ in 0..3 {
            tether::yield_now().await;
        }
        assert_eq!(
            sink.lock().unwrap().len(),
            6,
            "every task registered its waker"
        );
        // Main ends with all of them pending, their handles handed out of `run`: the shutdown
        // cancels and drops them.
        let wakers = std::mem::take(&mut *sink.lock().unwrap());
        Leftovers {
            wakers,
            cancels,
            resolver,
            handle: tether::Handle::current(),
            tasks: vec![pending, grouped, waiting],
            set,
        }
    });
    assert_eq!(tally.alive(), 0, "run returned after dropping every future");
    assert!(leftovers.handle.is_closed());
    let Leftovers {
        wakers,
        cancels,
        resolver,
        handle,
        tasks,
        set,
    } = leftovers;
    assert!(tasks.iter().all(|task| task.is_cancelled()));
    assert!(
        set.is_empty() || set.len() == 1,
        "a kept outcome, not a running task"
    );
    drop(set);
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (wakers, cancels, start) = (wakers.clone(), cancels.clone(), start.clone());
            let resolver = resolver.clone();
            let handle = handle.clone();
            thread::spawn(move || {
                start.wait();
                for _ in 0..count(1_000, 10) {
                    wakers.iter().for_each(Waker::wake_by_ref);
                }
                for cancel in &cancels {
                    cancel.cancel();
                    assert!(cancel.is_finished(), "the loop finished every task");
                }
                // The promise's waker belongs to a dead task; its callback runs here, now
                // that its loop is closed.
                let _ = resolver.set_result(t as u32);
                assert!(handle.is_closed());
                wakers.into_iter().for_each(Waker::wake);
            })
        })
        .collect();
    drop((wakers, cancels, resolver, handle));
    // The handles go last, on yet another thread.
    thread::spawn(move || drop(tasks)).join().unwrap();
    for thread in threads {
        thread.join().expect("a thread poking a dead loop panicked");
    }
    assert_eq!(
        callbacks.load(Ordering::Relaxed),
        1,
        "the promise settled once"
    );
    tally.assert_all_dropped("tasks of a loop that shut down");
    // The thread can run a new loop at once.
    assert_eq!(
        tether::run(async { tether::create_task(async { 5 }).await }).unwrap(),
        5
    );
}

#[test]
fn wakers_hammered_while_the_runtime_shuts_down() {
    const THREADS: usize = 3;
    let seed = Seed::new("wakers hammered during shutdown", 0xAA11_0003);
    let mut rng = seed.rng();
    let rounds = count(2_000, 3);
    let tasks = count(64, 6);
    // Hammers stop when told to; this cap only bounds a run whose stop never comes.
    let cap = count(200_000, 2_000);
    let tally = Tally::new();
    let mut total_wakes = 0;
    for _ in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let wakes = Arc::new(AtomicUsize::new(0));
        let linger = rng.below(4);
        let (hammers, kept) = tether::run(async {
            let sink = Arc::new(Mutex::new(Vec::new()));
            let mut owned = Vec::new();
            let mut set = TaskSet::background();
            for i in 0..tasks {
                match i % 3 {
                    0 => owned.push(tether::create_task(register_and_wait(
                        sink.clone(),
                        tally.guard(),
                    ))),
                    1 => {
                        set.create_task(register_and_wait(sink.clone(), tally.guard()));
                    }
                    _ => owned.push(tether::create_task({
                        let (sink, guard) = (sink.clone(), tally.guard());
                        async move {
                            tether::task_group!(|tg| {
                                tg.create_task(register_and_wait(sink.clone(), guard));
                                std::future::pending::<()>().await;
                            })
                            .ok();
                        }
                    })),
                }
            }
            tether::yield_now().await;
            tether::yield_now().await;
            let wakers = Arc::new(std::mem::take(&mut *sink.lock().unwrap()));
            assert_eq!(wakers.len(), tasks);
            let cancels: Vec<CancelHandle> = owned.iter().map(|t| t.cancel_handle()).collect();
            let hammers: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (wakers, stop, wakes) = (wakers.clone(), stop.clone(), wakes.clone());
                    let cancels = cancels.clone();
                    thread::spawn(move || {
                        // Bounded: stops when told, or after a cap that cannot hang the test.
                        for pass in 0..cap {
                            if stop.load(Ordering::Acquire) {
                                break;
                            }
                            wakers.iter().for_each(Waker::wake_by_ref);
                            wakes.fetch_add(wakers.len(), Ordering::Relaxed);
                            if t == 0 && pass == 8 {
                                cancels.iter().step_by(2).for_each(|c| {
                                    c.cancel();
                                });
                            }
                        }
                        // After the loop closed: once more, then drop the clones here.
                        wakers.iter().for_each(Waker::wake_by_ref);
                    })
                })
                .collect();
            // Main returns while the hammers run: right away, or after a few rounds of wakes.
            for _ in 0..linger {
                tether::yield_now().await;
            }
            // Half the handles leave `run` (the shutdown cancels their tasks); the other half are
            // dropped as main ends (which cancels their tasks too, racing the hammers).
            let kept: Vec<_> = owned.into_iter().step_by(2).collect();
            (hammers, kept)
        });
        assert_eq!(
            tally.alive(),
            0,
            "run returned before every future was dropped"
        );
        stop.store(true, Ordering::Release);
        for hammer in hammers {
            hammer.join().expect("a hammering thread panicked");
        }
        assert!(kept.iter().all(|task| task.is_finished()));
        total_wakes += wakes.load(Ordering::Relaxed);
    }
    tally.assert_all_dropped("tasks hammered during shutdown");
    eprintln!(
        "{rounds} shutdowns of {tasks} tasks under {THREADS} hammering threads: {total_wakes} wake-ups"
    );
}
