//! Promises kept against adversarial user code and counts, on both flavours: a context value
//! whose `Drop` panics, a panicking waker on the code polling a group, a release past the
//! semaphore's limit, and a runtime of thousands of idle workers.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use tether::context::ContextVar;
use tether::sync::Semaphore;
use tether::{GroupError, TaskError, TaskFailure};
use tether_tests::{DropCounter, on_both_flavors};

on_both_flavors!(
    a_context_value_panicking_on_drop_is_its_tasks_panic,
    two_context_values_panicking_on_drop_report_the_first_and_drop_both,
    a_context_value_panicking_on_drop_in_a_group_child_fails_the_group,
    a_context_value_panicking_on_drop_of_a_cancelled_task_is_its_panic,
    a_panicking_waker_on_a_group_still_drops_every_child_once,
    releasing_past_the_largest_count_names_the_limit,
);

/// A context value whose `Drop` panics (and counts, on the test's own counter).
#[derive(Clone)]
struct Bomb(&'static str, Arc<AtomicUsize>);

impl Drop for Bomb {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
        panic!("{}", self.0);
    }
}

fn bomb(message: &'static str) -> Bomb {
    Bomb(message, Arc::default())
}

static FIRST: ContextVar<Bomb> = ContextVar::new("first");
static SECOND: ContextVar<Bomb> = ContextVar::new("second");

#[track_caller]
fn assert_panicked<T: std::fmt::Debug>(outcome: Result<T, TaskError>, message: &str) {
    match outcome {
        Err(TaskError::Panicked(panic)) => assert_eq!(panic.message(), message),
        other => panic!("expected a panic {message:?}, got {other:?}"),
    }
}

async fn a_context_value_panicking_on_drop_is_its_tasks_panic() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let value = Bomb("the context value failed", dropped.clone());
    let task = tether::spawn(async {
        let _ = FIRST.set(value);
        1
    });
    assert_panicked(task.await, "the context value failed");
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
    let after = tether::spawn(async { 2 });
    assert_eq!(after.await.unwrap(), 2, "the runtime goes on");
}

async fn two_context_values_panicking_on_drop_report_the_first_and_drop_both() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let values = (
        Bomb("one of two", dropped.clone()),
        Bomb("one of two", dropped.clone()),
    );
    let task = tether::spawn(async {
        let _ = FIRST.set(values.0);
        let _ = SECOND.set(values.1);
        1
    });
    assert_panicked(task.await, "one of two");
    assert_eq!(dropped.load(Ordering::SeqCst), 2, "both dropped, no abort");
}

async fn a_context_value_panicking_on_drop_in_a_group_child_fails_the_group() {
    let counter = DropCounter::new();
    let result: Result<(), GroupError> = tether::task_group!(|tg| {
        let guard = counter.guard();
        tg.create_task(async move {
            let _guard = guard;
            let _ = FIRST.set(bomb("a child's context value failed"));
        });
    });
    let error = result.unwrap_err();
    match error.failures() {
        [TaskFailure::Panicked { panic, .. }] => {
            assert_eq!(panic.message(), "a child's context value failed");
        }
        other => panic!("expected one panic, got {other:?}"),
    }
    assert_eq!(counter.dropped(), 1);
}

async fn a_context_value_panicking_on_drop_of_a_cancelled_task_is_its_panic() {
    let task = tether::spawn(async {
        let _ = FIRST.set(bomb("dropped with a cancelled task"));
        std::future::pending::<()>().await;
    });
    tether::yield_now().await;
    task.cancel();
    assert_panicked(task.await, "dropped with a cancelled task");
}

struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("the group's waker failed");
    }
}

async fn a_panicking_waker_on_a_group_still_drops_every_child_once() {
    let counter = DropCounter::new();
    let waker = Waker::from(Arc::new(PanickingWaker));
    {
        let counter = &counter;
        let mut group = pin!(async move {
            tether::task_group!(|tg| {
                for _ in 0..3 {
                    let guard = counter.guard();
                    tg.create_task(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    });
                }
                std::future::pending::<()>().await;
            })
        });
        let polled = group.as_mut().poll(&mut Context::from_waker(&waker));
        assert!(polled.is_pending());
        // Dropping cancels the children: each wake pushes into the group's queue and wakes the
        // stored (panicking) waker, which must not unwind out of the teardown.
    }
    assert_eq!(counter.dropped(), 3, "every child's destructor ran, once");
    let after = tether::spawn(async { 2 });
    assert_eq!(after.await.unwrap(), 2, "the runtime goes on");
}

async fn releasing_past_the_largest_count_names_the_limit() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    let panic = catch_unwind(AssertUnwindSafe(|| sem.release())).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("Semaphore::MAX_PERMITS"), "{message}");
    assert!(message.contains("BoundedSemaphore"), "{message}");
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
    // Still usable: a permit taken and given back.
    drop(sem.acquire().await);
    assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
}

/// Thousands of idle workers no longer look through every queue: a one-task program on 10,000
/// workers finishes (it took more than 90 s before, 6.8 s on 1,000). Generous bound: the time to
/// start and join 10,000 threads on a shared 2-core machine.
///
/// The workers share one I/O poller, so their number is not bounded by the open-file limit
/// (a poller per worker took three descriptors each): the test runs with the limit it has.
#[test]
#[cfg_attr(miri, ignore = "10,000 threads: far too slow under Miri")]
fn ten_thousand_workers_run_one_task_promptly() {
    const WORKERS: usize = 10_000;
    let started = Instant::now();
    let output = tether::Runtime::builder()
        .workers(WORKERS)
        .build()
        .run(async { tether::spawn(async { 1 }).await.unwrap() });
    assert_eq!(output, 1);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn more_workers_than_the_limit_are_refused_naming_it() {
    let panic =
        catch_unwind(|| tether::Runtime::builder().workers(tether::Builder::MAX_WORKERS + 1))
            .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("MAX_WORKERS (16384)"), "{message}");
    let _ = tether::Runtime::builder().workers(tether::Builder::MAX_WORKERS);
}
