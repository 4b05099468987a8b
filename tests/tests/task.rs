//! `create_task` and `Task<T>`: order, ownership, cancellation, panics.

use std::time::Duration;

use tether::TaskError;
use tether_tests::{DropCounter, Log};

#[tether::test]
async fn tasks_start_in_creation_order_after_the_ready_ones() {
    let log = Log::new();
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let log = log.clone();
            tether::create_task(async move { log.push(format!("start {i}")) })
        })
        .collect();
    log.push("main");
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        log.events(),
        [
            "main", "start 0", "start 1", "start 2", "start 3", "start 4"
        ]
    );
}

#[tether::test]
async fn a_woken_task_runs_after_those_already_ready() {
    let log = Log::new();
    let spawn = |name: &'static str, rounds: usize| {
        let log = log.clone();
        tether::create_task(async move {
            for round in 0..rounds {
                log.push(format!("{name}{round}"));
                tether::yield_now().await;
            }
        })
    };
    let a = spawn("a", 3);
    let b = spawn("b", 3);
    a.await.unwrap();
    b.await.unwrap();
    assert_eq!(log.events(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
}

#[tether::test]
async fn awaiting_a_task_gives_its_output() {
    let task = tether::create_task(async {
        tether::yield_now().await;
        "done"
    });
    assert!(!task.is_finished());
    assert_eq!(task.await.unwrap(), "done");
}

#[tether::test]
async fn dropping_a_task_cancels_it_and_runs_its_destructors() {
    let drops = DropCounter::new();
    let log = Log::new();
    let task = {
        let (guard, log) = (drops.guard(), log.clone());
        tether::create_task(async move {
            let _guard = guard;
            log.push("started");
            tether::sleep(Duration::from_secs(3600)).await;
            log.push("never");
        })
    };
    tether::yield_now().await;
    drop(task);
    assert_eq!(
        drops.dropped(),
        0,
        "dropped on the loop, not inside the handle's drop"
    );
    tether::yield_now().await;
    assert_eq!(drops.dropped(), 1);
    assert_eq!(log.events(), ["started"]);
    assert_eq!(
        tether::__private::live_tasks(),
        1,
        "only the main task is left"
    );
}

#[tether::test]
async fn a_dropped_task_that_never_started_never_runs() {
    let log = Log::new();
    let task = {
        let log = log.clone();
        tether::create_task(async move { log.push("ran") })
    };
    drop(task);
    tether::yield_now().await;
    assert!(log.events().is_empty());
}

#[tether::test]
async fn cancel_drops_the_future_before_the_awaiter_sees_cancelled() {
    let drops = DropCounter::new();
    let task = {
        let guard = drops.guard();
        tether::create_task(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        })
    };
    tether::yield_now().await;
    assert!(task.cancel());
    let error = task.await.unwrap_err();
    assert!(
        matches!(error, TaskError::Cancelled { message: None }),
        "{error:?}"
    );
    assert_eq!(drops.dropped(), 1);
}

#[tether::test]
async fn cancelling_a_finished_task_is_a_no_op_returning_false() {
    let task = tether::create_task(async { 1 });
    tether::yield_now().await;
    assert!(task.is_finished());
    assert!(!task.cancel());
    assert_eq!(task.await.unwrap(), 1);
}

#[tether::test]
async fn a_panic_is_caught_and_the_loop_keeps_running() {
    let code = std::hint::black_box(7);
    let failing = tether::create_task(async move {
        tether::yield_now().await;
        panic!("task failed: {code}");
    });
    let healthy = tether::create_task(async {
        tether::sleep(Duration::from_millis(1)).await;
        "still running"
    });
    match failing.await {
        Err(TaskError::Panicked(panic)) => {
            assert_eq!(panic.message(), "task failed: 7");
            let payload = panic.take_payload().expect("the payload is available once");
            assert_eq!(payload.downcast_ref::<String>().unwrap(), "task failed: 7");
            assert!(panic.take_payload().is_none());
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    assert_eq!(healthy.await.unwrap(), "still running");
}

#[tether::test]
async fn task_ids_are_unique_and_names_default_to_task_n() {
    let a = tether::create_task(async {});
    let b = tether::create_task(async {});
    assert_ne!(a.id(), b.id());
    assert!(a.id() < b.id());
    assert_eq!(a.name(), format!("Task-{}", a.id()));
    let debug = format!("{a:?}");
    assert!(debug.contains("Task"), "{debug}");
    a.await.unwrap();
    b.await.unwrap();
}

#[tether::test]
async fn tasks_may_create_and_await_tasks() {
    let outer = tether::create_task(async {
        let inner = tether::create_task(async { 20 });
        inner.await.unwrap() + 1
    });
    assert_eq!(outer.await.unwrap(), 21);
}

#[tether::test]
async fn task_error_messages_say_what_happened() {
    let cancelled = TaskError::Cancelled {
        message: Some("shutting down".into()),
    };
    assert_eq!(
        cancelled.to_string(),
        "the task was cancelled: shutting down"
    );
    let task = tether::create_task(async { panic!("oops") });
    let panicked = task.await.unwrap_err();
    assert_eq!(panicked.to_string(), "the task panicked: oops");
}
