//! Spread children: `tg.spawn` makes `'static + Send` children that run on any worker and stay
//! the group's children in every other way (owned, joined, cancelled, failures reported).
//!
//! Every scenario runs on the single-threaded loop (`single::`) and on two workers
//! (`two_workers::`). Ordering is checked with channels and counters, never with sleeps.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use tether::task::{Builder, Owner};
use tether::{CreateTaskError, TaskError, TaskFailure};

use tether_tests::on_both_flavors;

on_both_flavors!(
    outputs_come_back_through_the_handles,
    a_panicking_spread_child_fails_the_group_and_its_siblings_are_dropped_first,
    a_scoped_childs_panic_cancels_spread_children,
    an_err_from_a_spread_child_fails_a_fallible_group,
    the_group_waits_for_a_slow_drop_after_a_failure,
    the_group_waits_for_a_slow_drop_after_a_normal_end,
    the_group_waits_for_a_slow_drop_after_a_cancel_through_the_handle,
    borrowing_and_spread_children_mix_in_one_group,
    spread_children_belong_to_their_group,
    a_failed_group_refuses_new_spread_children,
    dropping_the_scope_asks_spread_children_to_stop,
);

/// Counts its drop.
struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts its drop after a slow destructor.
struct SlowDrop(Arc<AtomicUsize>);

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(Duration::from_millis(20));
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sends on its channel when dropped.
struct DropSignal(Option<oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

fn spin_until(count: &AtomicUsize, target: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while count.load(Ordering::SeqCst) < target {
        assert!(
            Instant::now() < deadline,
            "the other spread child never ran alongside"
        );
        std::hint::spin_loop();
    }
}

async fn outputs_come_back_through_the_handles() {
    let (sum, late) = tether::task_group!(|tg| {
        let handles: Vec<_> = (0..100u64)
            .map(|n| {
                tg.spawn(async move {
                    tether::yield_now().await;
                    n * 2
                })
            })
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        // Not awaited inside: read after the group has ended.
        let late = tg.spawn(async { "late" });
        (sum, late)
    })
    .unwrap();
    assert_eq!(sum, 2 * (0..100).sum::<u64>());
    assert!(late.is_finished(), "the group joined it");
    assert_eq!(late.await.unwrap(), "late");
}

#[test]
fn spread_children_run_in_parallel_on_two_workers() {
    // Neither child can finish unless the other runs on another thread at the same time.
    let threads = tether::Runtime::builder().workers(2).build().run(async {
        let arrived = Arc::new(AtomicUsize::new(0));
        tether::task_group!(|tg| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let arrived = arrived.clone();
                    tg.spawn(async move {
                        arrived.fetch_add(1, Ordering::SeqCst);
                        spin_until(&arrived, 2);
                        std::thread::current().id()
                    })
                })
                .collect();
            let mut threads = Vec::new();
            for handle in handles {
                threads.push(handle.await.unwrap());
            }
            threads
        })
        .unwrap()
    });
    assert_ne!(threads[0], threads[1]);
}

#[test]
fn scoped_children_of_the_same_group_stay_on_its_thread() {
    tether::Runtime::builder().workers(2).build().run(async {
        let home = std::thread::current().id();
        tether::task_group!(|tg| {
            for _ in 0..20 {
                tg.create_task(async move {
                    tether::yield_now().await;
                    assert_eq!(std::thread::current().id(), home);
                });
            }
        })
        .unwrap();
    });
}

async fn a_panicking_spread_child_fails_the_group_and_its_siblings_are_dropped_first() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (scoped_tx, scoped_rx) = oneshot::channel::<()>();
    let (spread_tx, spread_rx) = oneshot::channel::<()>();
    let (handle_tx, handle_rx) = oneshot::channel();
    let result = tether::task_group!(|tg| {
        let guard = CountDrop(dropped.clone());
        tg.create_task(async move {
            let _guard = guard;
            scoped_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        let guard = CountDrop(dropped.clone());
        let sibling = tg.spawn(async move {
            let _guard = guard;
            spread_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        let failing = tg.spawn_with(Builder::new().name("failing"), async move {
            scoped_rx.await.unwrap();
            spread_rx.await.unwrap();
            panic!("spread child gave up");
        });
        handle_tx.send((sibling, failing)).unwrap();
        std::future::pending::<()>().await;
    });
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        2,
        "both siblings were dropped before the group returned"
    );
    let error = result.unwrap_err();
    assert_eq!(error.failures().len(), 1, "{error}");
    match &error.failures()[0] {
        TaskFailure::Panicked { task, panic } => {
            assert_eq!(task, "failing");
            assert_eq!(panic.message(), "spread child gave up");
        }
        other => panic!("unexpected failure: {other}"),
    }
    let (sibling, failing) = handle_rx.await.unwrap();
    assert!(sibling.await.unwrap_err().is_cancelled());
    match failing.await {
        Err(TaskError::Panicked(panic)) => assert_eq!(panic.message(), "spread child gave up"),
        other => panic!("unexpected outcome: {other:?}"),
    }
}

async fn a_scoped_childs_panic_cancels_spread_children() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let result = tether::task_group!(|tg| {
        let guard = CountDrop(dropped.clone());
        tg.spawn(async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        tg.create_task(async move {
            started_rx.await.unwrap();
            panic!("scoped child gave up");
        });
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    let error = result.unwrap_err();
    assert_eq!(error.failures().len(), 1, "{error}");
    assert!(error.to_string().contains("scoped child gave up"));
}

async fn an_err_from_a_spread_child_fails_a_fallible_group() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (handle_tx, handle_rx) = oneshot::channel();
    let result = tether::task_group!(try |tg| {
        let guard = CountDrop(dropped.clone());
        tg.spawn(async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
            Ok(())
        });
        let ok = tg.spawn(async { Ok(1) });
        let failing = tg.spawn_with(Builder::new().name("parser"), async move {
            started_rx.await.unwrap();
            Err::<(), _>(String::from("bad checksum"))
        });
        handle_tx.send((ok, failing)).unwrap();
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    let failures = result.unwrap_err().into_failures();
    assert_eq!(failures.len(), 1);
    match &failures[0] {
        TaskFailure::Failed { task, error } => {
            assert_eq!(task, "parser");
            assert_eq!(error, "bad checksum");
        }
        other => panic!("unexpected failure: {other}"),
    }
    let (ok, failing) = handle_rx.await.unwrap();
    assert_eq!(ok.await.unwrap(), 1);
    assert!(matches!(failing.await, Err(TaskError::Failed)));
}

async fn the_group_waits_for_a_slow_drop_after_a_failure() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let result = tether::task_group!(|tg| {
        let slow = SlowDrop(dropped.clone());
        tg.spawn(async move {
            let _slow = slow;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        tg.spawn(async move {
            started_rx.await.unwrap();
            panic!("boom");
        });
    });
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the slow destructor finished before the group returned"
    );
    assert!(result.is_err());
}

async fn the_group_waits_for_a_slow_drop_after_a_normal_end() {
    let dropped = Arc::new(AtomicUsize::new(0));
    tether::task_group!(|tg| {
        for _ in 0..4 {
            let slow = SlowDrop(dropped.clone());
            tg.spawn(async move {
                let _slow = slow;
                tether::yield_now().await;
            });
        }
    })
    .unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 4);
}

async fn the_group_waits_for_a_slow_drop_after_a_cancel_through_the_handle() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = oneshot::channel::<()>();
    tether::task_group!(|tg| {
        let slow = SlowDrop(dropped.clone());
        let child = tg.spawn(async move {
            let _slow = slow;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        started_rx.await.unwrap();
        assert!(child.cancel());
        // The body returns at once; the group still waits for the child's destructor.
    })
    .unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

async fn borrowing_and_spread_children_mix_in_one_group() {
    let borrowed = Cell::new(0u64);
    let data: Arc<Vec<u64>> = Arc::new((1..=1000).collect());
    tether::task_group!(|tg| {
        let chunks: Vec<_> = (0..4)
            .map(|i| {
                let data = data.clone();
                tg.spawn(async move { data[i * 250..(i + 1) * 250].iter().sum::<u64>() })
            })
            .collect();
        // A scoped child borrows `borrowed` and awaits the spread children's handles.
        tg.create_task(async {
            for chunk in chunks {
                let part = chunk.await.unwrap();
                borrowed.set(borrowed.get() + part);
            }
        });
        tg.create_task(async {
            tether::yield_now().await;
            borrowed.set(borrowed.get() + 1_000_000);
        });
    })
    .unwrap();
    assert_eq!(borrowed.get(), 500_500 + 1_000_000);
}

async fn spread_children_belong_to_their_group() {
    let (info_tx, info_rx) = oneshot::channel();
    tether::task_group!(|tg| {
        let (release_tx, release_rx) = oneshot::channel::<()>();
        tg.spawn_with(Builder::new().name("spread-child"), async move {
            info_tx
                .send(tether::current_task().expect("inside a task"))
                .unwrap();
            release_rx.await.unwrap();
        });
        assert_eq!(tg.len(), 1);
        let me = info_rx.await.unwrap();
        assert_eq!(me.name, "spread-child");
        assert!(
            matches!(me.owner, Owner::Group { group, .. } if group == tg.id()),
            "{:?}",
            me.owner
        );
        let listed = tether::all_tasks()
            .into_iter()
            .find(|task| task.id == me.id)
            .expect("all_tasks lists the spread child");
        assert_eq!(listed.owner, me.owner);
        release_tx.send(()).unwrap();
    })
    .unwrap();
}

/// Runs its closure when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

async fn a_failed_group_refuses_new_spread_children() {
    let refusal = Cell::new(None);
    let quiet = std::cell::RefCell::new(None);
    let result = tether::task_group!(|tg| {
        let (refusal, quiet) = (&refusal, &quiet);
        tg.create_task(async move {
            // Runs while the failed group cancels this child.
            let _on_drop = OnDrop(move || {
                refusal.set(tg.try_spawn(async {}).err());
                // A destructor is not panicked at: its child is cancelled before it runs.
                *quiet.borrow_mut() = Some(tg.spawn(async { unreachable!("never polled") }));
            });
            std::future::pending::<()>().await;
        });
        tg.spawn(async { panic!("first") });
    });
    assert_eq!(result.unwrap_err().failures().len(), 1);
    assert_eq!(refusal.get(), Some(CreateTaskError::ShuttingDown));
    let quiet = quiet.take().expect("the destructor ran");
    assert!(quiet.is_finished(), "the group joined it");
    assert!(quiet.await.unwrap_err().is_cancelled());
}

async fn dropping_the_scope_asks_spread_children_to_stop() {
    // Documented: a dropped scope cancels its spread children without waiting for them. Their
    // futures are dropped soon after, on whichever worker runs them.
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (dropped_tx, dropped_rx) = oneshot::channel::<()>();
    let scope = Box::pin(async move {
        tether::task_group!(|tg| {
            let signal = DropSignal(Some(dropped_tx));
            tg.spawn(async move {
                let _signal = signal;
                std::future::pending::<()>().await;
            });
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        })
    });
    match futures::future::select(scope, started_rx).await {
        futures::future::Either::Right((started, scope)) => {
            started.unwrap();
            drop(scope);
        }
        futures::future::Either::Left(_) => unreachable!("the body never returns"),
    }
    dropped_rx
        .await
        .expect("the spread child's future was dropped");
}
