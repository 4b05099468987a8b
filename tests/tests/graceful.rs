//! Graceful, two-phase cancellation: `request_cancellation`, `cancel_gracefully`,
//! `cancellation_requested`, `is_cancellation_requested`, `TaskSet::shutdown_gracefully`.
//!
//! The scenarios run on one loop and on two workers. Grace deadlines in them are short real
//! times a task never meets on its own (it waits for an hour or forever), so nothing depends on
//! how fast the machine is; exact times are checked on the virtual clock below.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::channel::oneshot;
use tether::time::Instant;
use tether::{TaskError, TaskSet};
use tether_tests::{DropCounter, Log, on_both_flavors};

on_both_flavors!(
    the_task_says_goodbye_before_its_owner_sees_the_output,
    a_task_that_ignores_the_request_is_dropped_at_the_deadline_once,
    a_request_reaches_what_the_task_created_and_nothing_above_or_beside,
    a_request_reaches_spawned_grandchildren_on_any_worker,
    a_request_before_the_first_poll_is_seen_at_once,
    plain_cancel_still_drops_without_asking,
    a_set_shuts_down_gracefully_and_drops_the_stubborn_once,
    a_set_request_reaches_what_its_tasks_created,
);

async fn the_task_says_goodbye_before_its_owner_sees_the_output() {
    let log = Log::new();
    let (started_tx, started_rx) = oneshot::channel();
    let inner = log.clone();
    let task = tether::create_task(async move {
        inner.push("working");
        started_tx.send(()).unwrap();
        tether::cancellation_requested().await;
        inner.push("asked");
        tether::yield_now().await; // in-flight work goes on after the request
        inner.push("goodbye");
        7
    });
    started_rx.await.unwrap();
    log.push("asking");
    let output = task.cancel_gracefully(Duration::from_secs(60)).await;
    log.push("owner has the output");
    assert_eq!(output.unwrap(), 7);
    assert_eq!(
        log.events(),
        [
            "working",
            "asking",
            "asked",
            "goodbye",
            "owner has the output"
        ]
    );
}

async fn a_task_that_ignores_the_request_is_dropped_at_the_deadline_once() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let saw_request = Arc::new(AtomicBool::new(false));
    let seen = saw_request.clone();
    let task = tether::create_task(async move {
        let _guard = guard;
        tether::yield_now().await;
        loop {
            // Notices the request, and goes on anyway.
            seen.store(tether::is_cancellation_requested(), Ordering::SeqCst);
            tether::sleep(Duration::from_millis(1)).await;
        }
    });
    tether::yield_now().await;
    let outcome = task.cancel_gracefully(Duration::from_millis(20)).await;
    assert!(
        matches!(outcome, Err(TaskError::Cancelled { .. })),
        "{outcome:?}"
    );
    assert!(saw_request.load(Ordering::SeqCst));
    assert_eq!(drops.dropped(), 1, "dropped at the deadline, exactly once");
}

async fn a_request_reaches_what_the_task_created_and_nothing_above_or_beside() {
    let (report_tx, report_rx) = oneshot::channel();
    let sibling = tether::create_task(async {
        tether::sleep(Duration::from_millis(30)).await;
        tether::is_cancellation_requested()
    });
    let parent = tether::create_task(async move {
        let child = tether::create_task(async {
            tether::cancellation_requested().await;
            "child stopped"
        });
        let mut set = TaskSet::new();
        set.create_task(async {
            tether::cancellation_requested().await;
            "set member stopped"
        });
        let grandchild_in_group = tether::task_group!(|tg| {
            let handle = tg.create_task(async {
                tether::cancellation_requested().await;
                "group child stopped"
            });
            handle.await
        })
        .unwrap()
        .unwrap();
        let member = set.join_next().await.unwrap().unwrap();
        report_tx
            .send([child.await.unwrap(), member, grandchild_in_group])
            .unwrap();
        tether::is_cancellation_requested()
    });
    tether::yield_now().await;
    assert!(parent.request_cancellation());
    assert!(!tether::is_cancellation_requested(), "never upwards");
    assert_eq!(
        report_rx.await.unwrap(),
        ["child stopped", "set member stopped", "group child stopped"]
    );
    assert!(parent.await.unwrap());
    assert!(!sibling.await.unwrap(), "never sideways");
}

async fn a_request_reaches_spawned_grandchildren_on_any_worker() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let counted = stopped.clone();
    let (ready_tx, ready_rx) = oneshot::channel();
    let parent = tether::spawn(async move {
        let children: Vec<_> = (0..8)
            .map(|_| {
                let counted = counted.clone();
                tether::spawn(async move {
                    let grandchild = tether::spawn(async move {
                        tether::cancellation_requested().await;
                        counted.fetch_add(1, Ordering::SeqCst);
                    });
                    grandchild.await.unwrap();
                })
            })
            .collect();
        ready_tx.send(()).unwrap();
        for child in children {
            child.await.unwrap();
        }
    });
    ready_rx.await.unwrap();
    parent
        .cancel_gracefully(Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(stopped.load(Ordering::SeqCst), 8);
}

async fn a_request_before_the_first_poll_is_seen_at_once() {
    let task = tether::create_task(async { tether::is_cancellation_requested() });
    assert!(task.request_cancellation());
    assert!(task.await.unwrap());
    let finished = tether::create_task(async {});
    tether::yield_now().await;
    assert!(
        !finished.request_cancellation(),
        "a finished task is not asked"
    );
    finished.await.unwrap();
}

async fn plain_cancel_still_drops_without_asking() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let task = tether::create_task(async move {
        let _guard = guard;
        tether::cancellation_requested().await;
        unreachable!("cancel() drops the future; it does not ask");
    });
    tether::yield_now().await;
    task.cancel();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(drops.dropped(), 1);
}

async fn a_set_shuts_down_gracefully_and_drops_the_stubborn_once() {
    let drops = DropCounter::new();
    let mut set = TaskSet::new();
    for _ in 0..3 {
        let guard = drops.guard();
        set.create_task(async move {
            let _guard = guard;
            tether::cancellation_requested().await;
        });
    }
    let guard = drops.guard();
    set.create_task(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    tether::yield_now().await;
    let cancelled = set.shutdown_gracefully(Duration::from_millis(20)).await;
    assert_eq!(cancelled, 1);
    assert!(set.is_empty());
    assert_eq!(drops.dropped(), 4, "every future dropped exactly once");

    let mut background = TaskSet::background();
    let guard = drops.guard();
    background.create_task(async move {
        let _guard = guard;
        tether::cancellation_requested().await;
    });
    tether::yield_now().await;
    assert_eq!(
        background
            .shutdown_gracefully(Duration::from_secs(60))
            .await,
        0
    );
    assert_eq!(drops.dropped(), 5);
}

async fn a_set_request_reaches_what_its_tasks_created() {
    let mut set = TaskSet::new();
    set.create_task(async {
        let inner = tether::create_task(async {
            tether::cancellation_requested().await;
            1
        });
        inner.await.unwrap() + 1
    });
    tether::yield_now().await;
    set.request_cancellation();
    assert_eq!(set.join_next().await.unwrap().unwrap(), 2);
}

#[tether::test(start_paused)]
async fn the_grace_period_is_exact_on_the_virtual_clock() {
    let start = Instant::now();
    let stubborn = tether::create_task(tether::sleep(Duration::from_secs(3600)));
    let outcome = stubborn.cancel_gracefully(Duration::from_secs(5)).await;
    assert!(outcome.unwrap_err().is_cancelled());
    assert_eq!(start.elapsed(), Duration::from_secs(5));

    let start = Instant::now();
    let polite = tether::create_task(async {
        tether::cancellation_requested().await;
        tether::sleep(Duration::from_secs(2)).await; // a flush
        "flushed"
    });
    let outcome = polite.cancel_gracefully(Duration::from_secs(5)).await;
    assert_eq!(outcome.unwrap(), "flushed");
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

// On the virtual clock: the request comes once the task waits again, however slowly it runs.
#[tether::test(start_paused)]
async fn a_dropped_wait_for_the_request_leaves_no_waker_behind() {
    let task = tether::create_task(async {
        // Waits, gives up, and waits again: the first registration is gone.
        let first = tether::timeout(Duration::ZERO, tether::cancellation_requested()).await;
        assert!(first.is_err());
        tether::cancellation_requested().await;
        "seen by the second wait"
    });
    tether::sleep(Duration::from_millis(1)).await;
    task.request_cancellation();
    assert_eq!(task.await.unwrap(), "seen by the second wait");
}
