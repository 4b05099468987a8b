//! `tg.cancel()`: ends a group now, without failure (asyncio 3.15's `TaskGroup.cancel()`).

use std::cell::Cell;
use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tether::sync::Event;
use tether::{CreateTaskError, GroupError, TaskFailure};
use tether_tests::{DropCounter, Log, on_both_flavors};

on_both_flavors!(
    cancel_from_a_child_drops_the_body_and_every_child_once,
    cancel_after_the_body_returned_keeps_its_value,
    a_body_that_cancels_and_returns_in_the_same_poll_keeps_its_value,
    a_cancelled_group_refuses_new_children,
    a_destructor_that_panics_while_cancelling_is_still_a_failure,
    cancel_on_a_failing_group_changes_nothing,
    cancel_ends_a_try_group_without_failure,
    cancel_stops_spread_children_and_waits_for_them,
);

async fn cancel_from_a_child_drops_the_body_and_every_child_once() {
    let drops = DropCounter::new();
    let log = Log::new();
    let stop = Event::new();
    let outcome = tether::task_group!(|tg| {
        let _body_guard = drops.guard();
        for i in 0..3 {
            let guard = drops.guard();
            let log = &log;
            tg.create_task(async move {
                let _guard = guard;
                log.push(format!("child {i} running"));
                pending::<()>().await;
            });
        }
        tg.create_task(async {
            stop.wait().await;
            log.push("cancelling");
            tg.cancel();
            tether::yield_now().await;
            log.push("the cancelling child is cancelled too, so this never runs");
        });
        stop.set();
        tether::yield_now().await;
        pending::<u32>().await
    });
    let error = outcome.unwrap_err();
    assert!(error.is_cancelled(), "{error}");
    assert!(error.failures().is_empty());
    assert_eq!(
        drops.dropped(),
        4,
        "the body's guard and three children's, once each"
    );
    assert_eq!(
        log.events(),
        [
            "child 0 running",
            "child 1 running",
            "child 2 running",
            "cancelling"
        ]
    );
    assert!(matches!(
        GroupError::cancelled_as_none(Err::<u32, _>(error)),
        Ok(None)
    ));
}

async fn cancel_after_the_body_returned_keeps_its_value() {
    let drops = DropCounter::new();
    let outcome = tether::task_group!(|tg| {
        let guard = drops.guard();
        tg.create_task(async {
            let _guard = guard;
            pending::<()>().await;
        });
        tg.create_task(async {
            tether::yield_now().await;
            tg.cancel();
        });
        "body value"
    });
    assert_eq!(outcome.unwrap(), "body value");
    assert_eq!(drops.dropped(), 1);
}

async fn a_body_that_cancels_and_returns_in_the_same_poll_keeps_its_value() {
    let outcome = tether::task_group!(|tg| {
        tg.create_task(pending::<()>());
        tg.cancel();
        5
    });
    assert_eq!(GroupError::cancelled_as_none(outcome).unwrap(), Some(5));
}

async fn a_cancelled_group_refuses_new_children() {
    let outcome = tether::task_group!(|tg| {
        assert!(!tg.is_cancelled());
        tg.cancel();
        assert!(tg.is_cancelled() && tg.is_shutting_down());
        let refused = tg.try_create_task(async {});
        assert_eq!(refused.unwrap_err(), CreateTaskError::Cancelled);
        tether::yield_now().await;
        unreachable!("the body is dropped at its next await");
    });
    assert!(outcome.unwrap_err().is_cancelled());
}

struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("destructor failed");
    }
}

async fn a_destructor_that_panics_while_cancelling_is_still_a_failure() {
    let outcome = tether::task_group!(|tg| {
        tg.create_task(async {
            let _bomb = PanicOnDrop;
            pending::<()>().await;
        });
        tg.create_task(async {
            tether::yield_now().await;
            tg.cancel();
        });
        pending::<()>().await;
    });
    let error = outcome.unwrap_err();
    assert!(!error.is_cancelled());
    assert!(error.to_string().contains("destructor failed"), "{error}");
}

/// Runs its closure when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

async fn cancel_on_a_failing_group_changes_nothing() {
    let cancelled_while_failing = Cell::new(None);
    let outcome = tether::task_group!(|tg| {
        tg.create_task(async {
            // Dropped by the failure's clean-up, which is when this calls `cancel`.
            let _on_drop = OnDrop(|| {
                tg.cancel();
                cancelled_while_failing.set(Some(tg.is_cancelled()));
            });
            pending::<()>().await;
        });
        tg.create_task(async {
            tether::yield_now().await;
            panic!("first");
        });
        pending::<()>().await;
    });
    assert_eq!(cancelled_while_failing.get(), Some(false));
    let error = outcome.unwrap_err();
    assert!(!error.is_cancelled());
    let failures = error.into_failures();
    assert!(matches!(&failures[..], [TaskFailure::Panicked { .. }]));
}

async fn cancel_ends_a_try_group_without_failure() {
    let drops = DropCounter::new();
    let outcome = tether::task_group!(try |tg| {
        let guard = drops.guard();
        tg.create_task(async move {
            let _guard = guard;
            pending::<Result<(), String>>().await
        });
        tg.create_task(async {
            tg.cancel();
            Ok(())
        });
        pending::<()>().await;
    });
    assert!(matches!(GroupError::cancelled_as_none(outcome), Ok(None)));
    assert_eq!(drops.dropped(), 1);
}

struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

async fn cancel_stops_spread_children_and_waits_for_them() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let outcome = tether::task_group!(|tg| {
        for _ in 0..3 {
            let guard = CountDrop(dropped.clone());
            tg.spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            });
        }
        tether::yield_now().await;
        tg.cancel();
        tether::yield_now().await;
    });
    assert!(outcome.unwrap_err().is_cancelled());
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "the scope waits for every spread child's future to be dropped"
    );
}

#[tether::test]
async fn cancel_never_starts_the_children_waiting_for_a_slot() {
    let started = Cell::new(0);
    let drops = DropCounter::new();
    let outcome = tether::task_group!(limit = 1, |tg| {
        for _ in 0..3 {
            let (started, guard) = (&started, drops.guard());
            tg.create_task(async move {
                let _guard = guard;
                started.set(started.get() + 1);
                pending::<()>().await;
            });
        }
        tether::yield_now().await; // the first child runs; two wait for its slot
        tg.cancel();
    });
    outcome.unwrap(); // the body returned in the poll that cancelled: its value stands
    assert_eq!(started.get(), 1, "the waiting children were never polled");
    assert_eq!(drops.dropped(), 3, "every child's future dropped once");
}
