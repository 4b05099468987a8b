//! The same behaviour on both flavors: every scenario here runs once on the single-threaded
//! loop (`single::`) and once on a runtime of two workers (`two_workers::`).
//!
//! The scenarios use `tether::spawn` (which is `create_task` on the single-threaded loop and a
//! stealable `Send` task on workers) next to `create_task`, groups, sets, `gather!`, timers,
//! cancellation, context variables, introspection, a queue and a lock. Ordering is checked with channels and
//! events, never with sleeps; real time is asserted only where it is the point, with generous
//! bounds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use tether::context::ContextVar;
use tether::task::Builder;
use tether::{TaskError, TaskSet};

use tether_tests::on_both_flavors;

on_both_flavors!(
    spawned_tasks_return_their_outputs,
    dropping_a_task_cancels_it_and_drops_its_future,
    cancel_with_carries_the_message,
    a_panic_comes_back_as_an_error_and_the_runtime_goes_on,
    sleeps_take_their_time_and_overlap,
    a_timeout_cancels_a_slow_future_inside_a_spawned_task,
    timers_armed_and_dropped_on_any_worker_leave_nothing_behind,
    group_children_borrow_and_await_spawned_tasks,
    a_task_set_collects_results,
    gather_awaits_spawned_tasks,
    spawned_tasks_run_in_a_copy_of_their_creators_context,
    introspection_sees_spawned_tasks,
    to_thread_works_from_spawned_tasks,
    a_handle_submits_work_from_another_thread,
    run_inside_a_spawned_task_is_refused,
    local_tasks_stay_usable_from_spawned_tasks,
    a_queue_carries_work_between_spawned_producers_and_consumers,
    a_lock_keeps_spawned_tasks_out_of_each_others_critical_sections,
);

async fn spawned_tasks_return_their_outputs() {
    let tasks: Vec<_> = (0..200u64)
        .map(|n| {
            tether::spawn(async move {
                tether::yield_now().await;
                n * 2
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert_eq!(total, 2 * (0..200).sum::<u64>());
}

/// Sends on `tx` when dropped: an event for "this future is gone".
struct DropSignal(Option<oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

async fn dropping_a_task_cancels_it_and_drops_its_future() {
    let (started_tx, started_rx) = oneshot::channel();
    let (dropped_tx, dropped_rx) = oneshot::channel();
    let task = tether::spawn(async move {
        let _signal = DropSignal(Some(dropped_tx));
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started_rx.await.unwrap();
    drop(task);
    dropped_rx
        .await
        .expect("the future was dropped, its destructor ran");
}

async fn cancel_with_carries_the_message() {
    let (started_tx, started_rx) = oneshot::channel();
    let task = tether::spawn(async move {
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started_rx.await.unwrap();
    assert!(task.cancel_with("no longer needed"));
    match task.await {
        Err(TaskError::Cancelled { message }) => {
            assert_eq!(message.as_deref(), Some("no longer needed"));
        }
        other => panic!("expected a cancellation, got {other:?}"),
    }
}

async fn a_panic_comes_back_as_an_error_and_the_runtime_goes_on() {
    let task = tether::spawn(async {
        tether::yield_now().await;
        panic!("boom in a spawned task");
    });
    let error = task.await.unwrap_err();
    assert!(
        error.to_string().contains("boom in a spawned task"),
        "{error}"
    );
    assert_eq!(tether::spawn(async { 5 }).await.unwrap(), 5);
}

async fn sleeps_take_their_time_and_overlap() {
    let start = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            tether::spawn(async {
                let start = Instant::now();
                tether::sleep(Duration::from_millis(200)).await;
                start.elapsed()
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap() >= Duration::from_millis(200));
    }
    // One after the other they would take 800 ms.
    assert!(
        start.elapsed() < Duration::from_millis(700),
        "{:?}",
        start.elapsed()
    );
}

async fn a_timeout_cancels_a_slow_future_inside_a_spawned_task() {
    let (dropped_tx, dropped_rx) = oneshot::channel();
    let task = tether::spawn(async move {
        let slow = async move {
            let _signal = DropSignal(Some(dropped_tx));
            std::future::pending::<()>().await;
        };
        tether::timeout(Duration::from_millis(20), slow).await
    });
    assert!(task.await.unwrap().is_err(), "timed out");
    dropped_rx.await.unwrap();
}

async fn timers_armed_and_dropped_on_any_worker_leave_nothing_behind() {
    // Each round arms a long timer, yields (the task may move to another worker meanwhile),
    // and drops the timer. A timer left behind would hold its task's waker for a minute.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            tether::spawn(async {
                for _ in 0..100 {
                    let mut sleep = std::pin::pin!(tether::sleep(Duration::from_secs(60)));
                    assert!(futures::poll!(sleep.as_mut()).is_pending());
                    tether::yield_now().await;
                    assert!(futures::poll!(sleep.as_mut()).is_pending());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    // Disarming a timer armed on another worker is a callback run there soon: let it run.
    tether::sleep(Duration::from_millis(20)).await;
    assert_eq!(tether::__private::armed_timers(), 0);
}

async fn group_children_borrow_and_await_spawned_tasks() {
    let words = vec!["alpha".to_owned(), "beta".to_owned()];
    let lengths = std::sync::Mutex::new(Vec::new());
    tether::task_group!(|tg| {
        for word in &words {
            let lengths = &lengths;
            tg.create_task(async move {
                let len = word.len();
                let doubled = tether::spawn(async move { len * 2 }).await.unwrap();
                lengths.lock().unwrap().push(doubled);
            });
        }
    })
    .unwrap();
    let mut lengths = lengths.into_inner().unwrap();
    lengths.sort_unstable();
    assert_eq!(lengths, [8, 10]);
}

async fn a_task_set_collects_results() {
    let mut set = TaskSet::new();
    for n in 0..50u32 {
        set.create_task(async move { tether::spawn(async move { n }).await.unwrap() });
    }
    let mut results: Vec<u32> = set
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    results.sort_unstable();
    assert_eq!(results, (0..50).collect::<Vec<_>>());
}

async fn gather_awaits_spawned_tasks() {
    let (a, b) = tether::gather!(tether::spawn(async { 1 }), tether::spawn(async { "two" }));
    assert_eq!((a.unwrap(), b.unwrap()), (1, "two"));
}

static REQUEST: ContextVar<String> = ContextVar::new("request");

async fn spawned_tasks_run_in_a_copy_of_their_creators_context() {
    REQUEST.set("outer".into());
    let child = tether::spawn(async {
        let seen = REQUEST.get();
        REQUEST.set("changed by the child".into());
        tether::yield_now().await;
        (seen, REQUEST.get())
    });
    let (seen, after) = child.await.unwrap();
    assert_eq!(seen.as_deref(), Some("outer"));
    assert_eq!(after.as_deref(), Some("changed by the child"));
    assert_eq!(
        REQUEST.get().as_deref(),
        Some("outer"),
        "the child's set stays its own"
    );
}

async fn introspection_sees_spawned_tasks() {
    let (started_tx, started_rx) = oneshot::channel();
    let task = Builder::new().name("spawned-sleeper").spawn(async move {
        let me = tether::current_task().expect("inside a task");
        started_tx.send(me.name).unwrap();
        std::future::pending::<()>().await;
    });
    assert_eq!(started_rx.await.unwrap(), "spawned-sleeper");
    let names: Vec<String> = tether::all_tasks().into_iter().map(|t| t.name).collect();
    assert!(names.iter().any(|n| n == "spawned-sleeper"), "{names:?}");
    assert!(tether::dump_tasks().contains("spawned-sleeper"));
    drop(task);
}

async fn to_thread_works_from_spawned_tasks() {
    let task = tether::spawn(async {
        let on = tether::to_thread(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(!on.as_deref().unwrap_or("").starts_with("tether-worker"));
        tether::to_thread(|| 6 * 7).await.unwrap()
    });
    assert_eq!(task.await.unwrap(), 42);
}

async fn a_handle_submits_work_from_another_thread() {
    let handle = tether::Handle::current();
    let (tx, rx) = oneshot::channel();
    let thread = std::thread::spawn(move || {
        let task = handle.spawn_threadsafe(async { 40 + 2 }).unwrap();
        tx.send(task).unwrap();
    });
    let task = rx.await.unwrap();
    assert_eq!(task.await.unwrap(), 42);
    thread.join().unwrap();
}

async fn run_inside_a_spawned_task_is_refused() {
    let refused =
        tether::spawn(async { std::panic::catch_unwind(|| tether::run(async {})).is_err() });
    assert!(refused.await.unwrap());
}

async fn local_tasks_stay_usable_from_spawned_tasks() {
    // A !Send task, made on this worker; its handle is Send, so a spawned task may await it
    // from any worker. The task itself never moves.
    let local = tether::create_task(async {
        let shared = std::rc::Rc::new(std::thread::current().id());
        tether::yield_now().await;
        *shared
    });
    let here = std::thread::current().id();
    let ran_on = tether::spawn(async move { local.await.unwrap() })
        .await
        .unwrap();
    assert_eq!(ran_on, here);
}

async fn a_queue_carries_work_between_spawned_producers_and_consumers() {
    // asyncio's producer/consumer: 4 producers, 3 consumers, a bounded queue, `join`.
    let queue = Arc::new(tether::queue::Queue::<u64>::new(8));
    let total = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let queue = queue.clone();
            tether::spawn(async move {
                for n in 0..250 {
                    queue.put(p * 1000 + n).await.unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let (queue, total) = (queue.clone(), total.clone());
            tether::spawn(async move {
                while let Ok(item) = queue.get().await {
                    total.fetch_add(item as usize, Ordering::SeqCst);
                    queue.task_done().unwrap();
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await.unwrap();
    }
    queue.join().await;
    let expected: u64 = (0..4u64)
        .map(|p| (0..250).map(|n| p * 1000 + n).sum::<u64>())
        .sum();
    assert_eq!(total.load(Ordering::SeqCst) as u64, expected);
    drop(consumers); // still waiting on an empty queue: cancelled
}

async fn a_lock_keeps_spawned_tasks_out_of_each_others_critical_sections() {
    // Each task reads the counter, yields while holding the lock (another task, maybe on
    // another worker, runs meanwhile), then writes it back: any overlap would lose updates.
    let lock = Arc::new(tether::sync::Lock::new());
    let counter = Arc::new(std::sync::Mutex::new(0u32));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (lock, counter) = (lock.clone(), counter.clone());
            tether::spawn(async move {
                for _ in 0..10 {
                    let _held = lock.lock().await;
                    let seen = *counter.lock().unwrap();
                    tether::yield_now().await;
                    *counter.lock().unwrap() = seen + 1;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*counter.lock().unwrap(), 200);
}

/// Runs `main` on both flavors, outside any loop.
fn both(main: impl Fn(tether::Runtime)) {
    main(tether::Runtime::builder().build());
    main(tether::Runtime::builder().workers(2).build());
}

/// Counts drops across threads.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn shutdown_drops_every_task_left_running_forgotten_or_not() {
    both(|runtime| {
        let dropped = Arc::new(AtomicUsize::new(0));
        let counted = dropped.clone();
        runtime.run(async move {
            let mut kept = Vec::new();
            for n in 0..100 {
                let guard = Counted(counted.clone());
                let task = tether::spawn(async move {
                    let _guard = guard;
                    tether::sleep(Duration::from_secs(3600)).await;
                });
                if n % 2 == 0 {
                    std::mem::forget(task);
                } else {
                    kept.push(task);
                }
            }
            let guard = Counted(counted.clone());
            std::mem::forget(tether::create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            tether::yield_now().await;
            std::mem::forget(kept);
        });
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            101,
            "every future was dropped"
        );
    });
}

#[test]
fn live_tasks_counts_spawned_tasks_until_they_end() {
    both(|runtime| {
        runtime.run(async {
            let (tx, rx) = oneshot::channel::<()>();
            let task = tether::spawn(async move {
                let _ = rx.await;
            });
            assert_eq!(
                tether::__private::live_tasks(),
                2,
                "main and the spawned task"
            );
            tx.send(()).unwrap();
            task.await.unwrap();
            assert_eq!(tether::__private::live_tasks(), 1);
        });
    });
}

// ------------------------------------------------------------------------------------------
// Only on workers.
// ------------------------------------------------------------------------------------------

/// Waits until `count` reaches `target`, spinning (no await: the point is two threads at once);
/// fails after 10 s instead of hanging.
fn spin_until(count: &AtomicUsize, target: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while count.load(Ordering::SeqCst) < target {
        assert!(
            Instant::now() < deadline,
            "the other task never ran alongside"
        );
        std::hint::spin_loop();
    }
}

/// Spawns two tasks that can only finish if both run at the same time, on two threads; returns
/// the threads they ran on.
async fn two_tasks_that_must_meet() -> Vec<std::thread::ThreadId> {
    let arrived = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let arrived = arrived.clone();
            tether::spawn(async move {
                arrived.fetch_add(1, Ordering::SeqCst);
                spin_until(&arrived, 2);
                std::thread::current().id()
            })
        })
        .collect();
    let mut threads = Vec::new();
    for task in tasks {
        threads.push(task.await.unwrap());
    }
    threads
}

#[test]
fn two_spawned_tasks_run_at_the_same_time_on_two_workers() {
    // Both tasks are pushed onto worker 0's queue; neither can finish unless the other runs
    // on another thread at the same time, so worker 1 must steal one.
    let threads = tether::Runtime::builder()
        .workers(2)
        .build()
        .run(two_tasks_that_must_meet());
    assert_ne!(threads[0], threads[1]);
}

#[test]
fn a_task_queued_behind_a_blocked_worker_is_taken_by_an_idle_one() {
    // A spawns B and then blocks its worker until B has run. B is the only task queued there,
    // so nobody is woken for it; the idle worker's periodic look must find it.
    let ran = tether::Runtime::builder().workers(2).build().run(async {
        let blocker = tether::spawn(async {
            let arrived = Arc::new(AtomicUsize::new(1));
            let mine = arrived.clone();
            let behind = tether::spawn(async move {
                mine.fetch_add(1, Ordering::SeqCst);
            });
            spin_until(&arrived, 2);
            behind.await.is_ok()
        });
        blocker.await.unwrap()
    });
    assert!(ran);
}

#[test]
fn workers_are_named_threads_and_main_runs_on_the_caller() {
    let caller = std::thread::current().id();
    tether::Runtime::builder()
        .workers(2)
        .build()
        .run(async move {
            assert_eq!(
                std::thread::current().id(),
                caller,
                "worker 0 is the calling thread"
            );
            let arrived = Arc::new(AtomicUsize::new(0));
            let mine = arrived.clone();
            let other = tether::spawn(async move {
                mine.fetch_add(1, Ordering::SeqCst);
                spin_until(&mine, 2);
                std::thread::current().name().map(str::to_owned)
            });
            // Keep worker 0 busy until the task has started, so that worker 1 runs it.
            let blocker = tether::spawn(async move {
                arrived.fetch_add(1, Ordering::SeqCst);
                spin_until(&arrived, 2);
                std::thread::current().name().map(str::to_owned)
            });
            let names = [other.await.unwrap(), blocker.await.unwrap()];
            assert!(
                names.iter().flatten().any(|name| name == "tether-worker-1"),
                "{names:?}"
            );
        });
}

#[test]
fn the_virtual_clock_needs_a_single_worker() {
    let refused = std::panic::catch_unwind(|| {
        tether::Runtime::builder()
            .workers(2)
            .start_paused(true)
            .build()
            .run(async {})
    })
    .unwrap_err();
    let message = refused
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| refused.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(message.contains("start_paused"), "{message}");
    assert!(message.contains("workers(1)"), "{message}");
}

#[test]
fn a_panicking_main_still_shuts_every_worker_down() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let counted = dropped.clone();
    let result = std::panic::catch_unwind(move || {
        tether::Runtime::builder()
            .workers(2)
            .build()
            .run(async move {
                let guard = Counted(counted);
                std::mem::forget(tether::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }));
                tether::yield_now().await;
                panic!("main gives up");
            })
    });
    assert!(result.is_err());
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[tether::test(workers = 2)]
async fn the_test_attribute_takes_workers() {
    let threads = two_tasks_that_must_meet().await;
    assert_ne!(threads[0], threads[1]);
}

#[test]
fn zero_workers_is_refused_with_the_fix() {
    let refused = std::panic::catch_unwind(|| tether::Runtime::builder().workers(0)).unwrap_err();
    let message = refused.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("at least one worker"), "{message}");
    assert!(message.contains("workers(1)"), "{message}");
}

#[test]
fn work_submitted_through_a_handle_spreads_over_the_workers() {
    // Two tasks that can only finish together, submitted from a thread outside the runtime:
    // they must run on two workers at once.
    let threads = tether::Runtime::builder().workers(2).build().run(async {
        let handle = tether::Handle::current();
        let submitter = std::thread::spawn(move || {
            let arrived = Arc::new(AtomicUsize::new(0));
            (0..2)
                .map(|_| {
                    let arrived = arrived.clone();
                    handle
                        .spawn_threadsafe(async move {
                            arrived.fetch_add(1, Ordering::SeqCst);
                            spin_until(&arrived, 2);
                            std::thread::current().id()
                        })
                        .unwrap()
                })
                .collect::<Vec<_>>()
        });
        let (tx, rx) = oneshot::channel();
        let waiter = std::thread::spawn(move || tx.send(submitter.join().unwrap()));
        let tasks = rx.await.unwrap();
        waiter.join().unwrap().unwrap();
        let mut threads = Vec::new();
        for task in tasks {
            threads.push(task.await.unwrap());
        }
        threads
    });
    assert_ne!(threads[0], threads[1]);
}
