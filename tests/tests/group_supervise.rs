//! Supervising groups (`task_group!(supervise |tg| ...)`, Kotlin's `supervisorScope`): a child's
//! failure cancels nothing; every failure is reported by name at the end.

use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tether::sync::Event;
use tether::task::Builder;
use tether::{TaskError, TaskFailure};
use tether_tests::{DropCounter, Log, on_both_flavors};

on_both_flavors!(
    a_panicking_child_and_a_cancelled_child_leave_their_siblings_running,
    every_err_is_reported_by_name_in_order,
    the_group_keeps_accepting_children_after_a_failure,
    a_panicking_body_still_cancels_every_child,
    a_supervising_group_without_failures_returns_the_body_value,
    cancel_after_a_supervised_failure_reports_the_failure,
    spread_children_are_supervised_too,
);

async fn a_panicking_child_and_a_cancelled_child_leave_their_siblings_running() {
    let drops = DropCounter::new();
    let log = Log::new();
    let failed = Event::new();
    let result = tether::task_group!(
        supervise | tg | {
            let crasher = tg.create_task_with(Builder::new().name("crasher"), async {
                tether::yield_now().await;
                panic!("bad input");
            });
            let guard = drops.guard();
            let cancelled = tg.create_task_with(Builder::new().name("cancelled"), async {
                let _guard = guard;
                pending::<()>().await;
            });
            tg.create_task_with(Builder::new().name("sibling"), async {
                failed.wait().await;
                tether::yield_now().await;
                log.push("sibling finished after both");
            });
            assert!(crasher.await.unwrap_err().is_panic());
            cancelled.cancel();
            assert!(matches!(cancelled.await, Err(TaskError::Cancelled { .. })));
            assert!(!tg.is_shutting_down());
            log.push("body saw both");
            failed.set();
        }
    );
    assert_eq!(
        log.events(),
        ["body saw both", "sibling finished after both"]
    );
    assert_eq!(drops.dropped(), 1);
    let error = result.unwrap_err();
    assert_eq!(
        error.task_names().collect::<Vec<_>>(),
        ["crasher"],
        "a cancelled child is not a failure"
    );
    assert!(error.to_string().contains("bad input"), "{error}");
}

async fn every_err_is_reported_by_name_in_order() {
    let result = tether::task_group!(supervise try |tg| {
        for (name, input) in [("a", "1"), ("b", "x"), ("c", "2"), ("d", "y")] {
            tg.create_task_with(Builder::new().name(name), async move {
                tether::yield_now().await;
                input.parse::<u32>().map(|_| ()).map_err(|_| format!("{input} is no number"))
            });
        }
    });
    let failures = result.unwrap_err().into_failures();
    let reported: Vec<_> = failures
        .iter()
        .map(|failure| match failure {
            TaskFailure::Failed { task, error } => format!("{task}: {error}"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(reported, ["b: x is no number", "d: y is no number"]);
}

async fn the_group_keeps_accepting_children_after_a_failure() {
    let result = tether::task_group!(
        supervise | tg | {
            let failed = tg.create_task(async { panic!("first") });
            let _ = failed.await;
            let later = tg.try_create_task(async { 7 }).expect("still open");
            later.await.unwrap()
        }
    );
    assert_eq!(result.unwrap_err().failures().len(), 1);
}

async fn a_panicking_body_still_cancels_every_child() {
    let drops = DropCounter::new();
    let result = tether::task_group!(
        supervise | tg | {
            for _ in 0..2 {
                let guard = drops.guard();
                tg.create_task(async move {
                    let _guard = guard;
                    pending::<()>().await;
                });
            }
            tether::yield_now().await;
            panic!("the body failed");
        }
    );
    assert_eq!(drops.dropped(), 2);
    let error = result.unwrap_err();
    assert_eq!(error.task_names().collect::<Vec<_>>(), ["body"]);
}

async fn a_supervising_group_without_failures_returns_the_body_value() {
    let result = tether::task_group!(
        supervise | tg | {
            let a = tg.create_task(async { 2 });
            let b = tg.create_task(async { 3 });
            a.await.unwrap() * b.await.unwrap()
        }
    );
    assert_eq!(result.unwrap(), 6);
}

async fn cancel_after_a_supervised_failure_reports_the_failure() {
    let result = tether::task_group!(
        supervise | tg | {
            let failed = tg.create_task_with(Builder::new().name("failed"), async { panic!("x") });
            let _ = failed.await;
            tg.cancel();
            tether::yield_now().await;
        }
    );
    let error = result.unwrap_err();
    assert!(!error.is_cancelled());
    assert_eq!(error.task_names().collect::<Vec<_>>(), ["failed"]);
}

async fn spread_children_are_supervised_too() {
    let finished = Arc::new(AtomicUsize::new(0));
    let result = tether::task_group!(
        supervise | tg | {
            tg.spawn_with(Builder::new().name("spread crasher"), async {
                panic!("spread failure")
            });
            for _ in 0..3 {
                let finished = finished.clone();
                tg.spawn(async move {
                    for _ in 0..10 {
                        tether::yield_now().await;
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
        }
    );
    assert_eq!(finished.load(Ordering::SeqCst), 3);
    let error = result.unwrap_err();
    assert_eq!(error.task_names().collect::<Vec<_>>(), ["spread crasher"]);
}

#[test]
fn a_send_supervising_group_runs_on_in_a_spawned_task() {
    let runtime = tether::Runtime::builder().workers(2).build();
    let result = runtime.run(async {
        tether::spawn(async {
            tether::task_group!(send supervise |tg| {
                tg.create_task_with(Builder::new().name("bad"), async { panic!("x") });
                let good = tg.create_task(async {
                    tether::yield_now().await;
                    "good"
                });
                good.await.unwrap()
            })
            .map_err(|error| error.task_names().map(str::to_owned).collect::<Vec<_>>())
        })
        .await
        .unwrap()
    });
    assert_eq!(result, Err(vec!["bad".to_owned()]));
}

#[tether::test]
async fn a_limited_supervising_group_runs_one_at_a_time_and_keeps_going_after_a_failure() {
    let log = tether_tests::Log::new();
    let outcome = tether::task_group!(
        limit = 1,
        supervise | tg | {
            for n in 0..3 {
                let log = &log;
                tg.create_task(async move {
                    log.push(format!("{n} starts"));
                    tether::yield_now().await;
                    log.push(format!("{n} ends"));
                    assert_ne!(n, 1, "the middle child fails");
                });
            }
        }
    );
    assert_eq!(outcome.unwrap_err().failures().len(), 1);
    assert_eq!(
        log.events(),
        [
            "0 starts", "0 ends", "1 starts", "1 ends", "2 starts", "2 ends"
        ]
        .map(String::from)
    );
}
