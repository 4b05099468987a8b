//! Graceful shutdown of a group's children: `tg.request_cancellation()` and
//! `tg.shutdown_gracefully(grace)`.

use std::future::pending;
use std::time::Duration;

use tether::sync::Event;
use tether::time::Instant;
use tether::{GroupError, TaskFailure};
use tether_tests::{DropCounter, Log, on_both_flavors};

/// Long enough for a polite child to be polled after the request on a slow machine (or under
/// Miri); the stubborn one costs the test this much real time.
const GRACE: Duration = Duration::from_secs(1);

on_both_flavors!(
    a_request_reaches_every_child_and_what_they_created_but_not_the_body,
    children_made_after_the_request_start_asked,
    shutdown_lets_the_polite_finish_and_drops_the_stubborn_once,
    shutdown_reaches_spread_children_and_waits_for_them,
    a_child_that_fails_while_winding_down_fails_the_group,
    the_group_goes_on_after_a_shutdown,
);

async fn a_request_reaches_every_child_and_what_they_created_but_not_the_body() {
    let outcome = tether::task_group!(|tg| {
        let child = tg.create_task(async {
            let grandchild = tether::create_task(async {
                tether::cancellation_requested().await;
                "grandchild asked"
            });
            tether::cancellation_requested().await;
            (grandchild.await.unwrap(), "child asked")
        });
        tether::yield_now().await; // the child is running and has made its own task
        assert!(!tg.is_cancellation_requested());
        tg.request_cancellation();
        assert!(tg.is_cancellation_requested());
        assert!(
            !tether::is_cancellation_requested(),
            "the body is not asked"
        );
        child.await.unwrap()
    });
    assert_eq!(outcome.unwrap(), ("grandchild asked", "child asked"));
}

async fn children_made_after_the_request_start_asked() {
    let outcome = tether::task_group!(|tg| {
        tg.request_cancellation();
        let late = tg.create_task(async { tether::is_cancellation_requested() });
        late.await.unwrap()
    });
    assert!(outcome.unwrap());
}

async fn shutdown_lets_the_polite_finish_and_drops_the_stubborn_once() {
    let drops = DropCounter::new();
    let log = Log::new();
    let outcome = tether::task_group!(|tg| {
        let log = &log;
        let polite = tg.create_task(async move {
            tether::cancellation_requested().await;
            tether::sleep(Duration::from_millis(1)).await; // a flush
            log.push("polite said goodbye");
            "goodbye"
        });
        let guard = drops.guard();
        let stubborn = tg.create_task(async move {
            let _guard = guard;
            pending::<()>().await;
        });
        tg.shutdown_gracefully(GRACE).await;
        log.push("shutdown returned");
        assert_eq!(
            drops.dropped(),
            1,
            "the stubborn child is gone when shutdown returns"
        );
        assert!(tg.is_empty());
        (
            polite.await.unwrap(),
            stubborn.await.unwrap_err().is_cancelled(),
        )
    });
    assert_eq!(outcome.unwrap(), ("goodbye", true));
    assert_eq!(drops.dropped(), 1);
    assert_eq!(
        log.events(),
        ["polite said goodbye", "shutdown returned"].map(String::from)
    );
}

async fn shutdown_reaches_spread_children_and_waits_for_them() {
    let outcome = tether::task_group!(|tg| {
        let polite = tg.spawn(async {
            tether::cancellation_requested().await;
            "spread goodbye"
        });
        let stubborn = tg.spawn(pending::<()>());
        tg.shutdown_gracefully(GRACE).await;
        assert!(tg.is_empty(), "every spread child has ended");
        (
            polite.await.unwrap(),
            stubborn.await.unwrap_err().is_cancelled(),
        )
    });
    assert_eq!(outcome.unwrap(), ("spread goodbye", true));
}

async fn a_child_that_fails_while_winding_down_fails_the_group() {
    let outcome: Result<(), GroupError> = tether::task_group!(|tg| {
        tg.create_task(async {
            tether::cancellation_requested().await;
            panic!("could not flush");
        });
        tg.shutdown_gracefully(Duration::from_secs(60)).await;
    });
    let error = outcome.unwrap_err();
    assert!(matches!(error.failures(), [TaskFailure::Panicked { .. }]));
}

async fn the_group_goes_on_after_a_shutdown() {
    let outcome = tether::task_group!(|tg| {
        tg.create_task(pending::<()>());
        tg.shutdown_gracefully(Duration::from_millis(1)).await;
        let next = tg.create_task(async { tether::is_cancellation_requested() });
        next.await.unwrap()
    });
    assert!(
        outcome.unwrap(),
        "a child made after the shutdown starts asked"
    );
}

// On the virtual clock: the deadline is exact.
#[tether::test(start_paused)]
async fn the_stubborn_are_dropped_exactly_at_the_grace_deadline() {
    let start = Instant::now();
    let stop = Event::new();
    let outcome = tether::task_group!(|tg| {
        tg.create_task(async {
            tether::cancellation_requested().await;
            tether::sleep(Duration::from_secs(2)).await;
            stop.set();
        });
        tg.create_task(tether::sleep(Duration::from_secs(3600)));
        tg.shutdown_gracefully(Duration::from_secs(5)).await;
        start.elapsed()
    });
    assert_eq!(outcome.unwrap(), Duration::from_secs(5));
    assert!(stop.is_set());
}

#[tether::test(start_paused)]
async fn a_shutdown_whose_children_all_finish_returns_when_the_last_does() {
    let start = Instant::now();
    let outcome = tether::task_group!(|tg| {
        for secs in [1, 2, 3] {
            tg.create_task(async move {
                tether::cancellation_requested().await;
                tether::sleep(Duration::from_secs(secs)).await;
            });
        }
        tg.shutdown_gracefully(Duration::from_secs(60)).await;
        start.elapsed()
    });
    assert_eq!(outcome.unwrap(), Duration::from_secs(3));
}
