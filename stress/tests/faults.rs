//! Faults: panics where a runtime would rather not see them, each of which must be reported and
//! contained: the loop keeps running, no other task is lost, every destructor still runs.
//!
//! - a task's future whose destructor panics when cancellation drops it;
//! - a value held across an `.await` whose `Drop` panics during cancellation (by `cancel`, by a
//!   group failing, by a timeout, by `TaskSet::shutdown`, by the runtime shutting down);
//! - a done callback that panics;
//! - a waker whose `wake` panics, registered by a future that polls a tether `Sleep`, `Task` or
//!   `Promise` with its own `Context` from inside a task.
//!
//! Paths that abort the process (async-task aborts on some panics) run in a child process, see
//! [`tether_stress::isolated`]. Those that are not contained today are `#[ignore]`d tests named in
//! RELIABILITY.md: run them with `cargo test -p tether-stress --test faults -- --ignored`.

use std::fmt::Debug;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tether::task::Outcome;
use tether::{Promise, TaskError, TaskFailure, TaskSet};
use tether_stress::{Isolated, PanicOnDrop, Tally, count, isolated, quiet_panics};

const HOUR: Duration = Duration::from_secs(3600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[track_caller]
fn assert_panicked<T: Debug>(outcome: Result<T, TaskError>, message: &str) {
    match outcome {
        Err(TaskError::Panicked(panic)) => assert_eq!(panic.message(), message),
        other => panic!("expected a panic {message:?}, got {other:?}"),
    }
}

/// `n` tasks that must finish with their own output, untouched by the faults next to them.
fn bystanders(tally: &Tally, n: usize) -> Vec<tether::Task<usize>> {
    (0..n)
        .map(|i| {
            let guard = tally.guard();
            tether::create_task(async move {
                let _guard = guard;
                tether::yield_now().await;
                tether::sleep(ms(1 + (i % 3) as u64)).await;
                i * 2
            })
        })
        .collect()
}

async fn check_bystanders(tasks: Vec<tether::Task<usize>>) {
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap(), i * 2, "bystander {i} lost");
    }
}

/// Lets the loop run a few rounds, so tasks whose handles were dropped get dropped in turn.
async fn settle() {
    for _ in 0..4 {
        tether::yield_now().await;
    }
}

/// A future whose own destructor panics: the future *is* the faulty value.
struct FaultyFuture {
    sleep: Pin<Box<tether::time::Sleep>>,
    _guard: tether_stress::Guard,
}

impl Future for FaultyFuture {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.sleep.as_mut().poll(cx)
    }
}

impl Drop for FaultyFuture {
    fn drop(&mut self) {
        panic!("stress: the future's destructor failed");
    }
}

// ---------------------------------------------------------------------------------------------
// Destructors that panic during cancellation
// ---------------------------------------------------------------------------------------------

#[test]
fn a_destructor_panicking_when_cancel_drops_the_future_is_reported_and_contained() {
    quiet_panics();
    let tally = Tally::new();
    let n = count(2_000, 40);
    tether::run(async {
        let mut victims = Vec::new();
        for i in 0..n {
            let guard = tally.guard();
            let task = match i % 3 {
                // The future itself panics when dropped.
                0 => tether::create_task(FaultyFuture {
                    sleep: Box::pin(tether::sleep(HOUR)),
                    _guard: guard,
                }),
                // A value held across an await panics when dropped.
                1 => tether::create_task(async move {
                    let _guard = guard;
                    let _bomb = PanicOnDrop("stress: a held value failed on cancel");
                    tether::sleep(HOUR).await;
                }),
                // A well-behaved neighbour, cancelled too.
                _ => tether::create_task(async move {
                    let _guard = guard;
                    tether::sleep(HOUR).await;
                }),
            };
            victims.push(task);
        }
        let bystanders = bystanders(&tally, n);
        tether::yield_now().await;
        for (i, task) in victims.into_iter().enumerate() {
            assert!(task.cancel());
            let outcome = task.await;
            match i % 3 {
                0 => assert_panicked(outcome, "stress: the future's destructor failed"),
                1 => assert_panicked(outcome, "stress: a held value failed on cancel"),
                _ => assert!(outcome.unwrap_err().is_cancelled()),
            }
        }
        check_bystanders(bystanders).await;
        settle().await;
        assert_eq!(tether::__private::live_tasks(), 1);
        assert_eq!(tether::__private::armed_timers(), 0);
    });
    tally.assert_all_dropped("cancelled tasks with failing destructors");
}

#[test]
fn a_destructor_panicking_when_a_timeout_drops_the_future_fails_only_its_task() {
    quiet_panics();
    let tally = Tally::new();
    let n = count(1_000, 20);
    tether::run(async {
        let timed: Vec<_> = (0..n)
            .map(|_| {
                let guard = tally.guard();
                tether::create_task(async move {
                    let _ = tether::timeout(ms(1), async move {
                        let _guard = guard;
                        let _bomb = PanicOnDrop("stress: dropped by a timeout");
                        tether::sleep(HOUR).await;
                    })
                    .await;
                    unreachable!("the timeout's drop panicked inside this task");
                })
            })
            .collect();
        let bystanders = bystanders(&tally, n);
        for task in timed {
            assert_panicked(task.await, "stress: dropped by a timeout");
        }
        check_bystanders(bystanders).await;
        assert_eq!(tether::__private::armed_timers(), 0);
    });
    tally.assert_all_dropped("timed-out futures with failing destructors");
}

#[test]
fn destructors_panicking_while_a_group_cancels_its_children_are_listed_in_the_group_error() {
    quiet_panics();
    let tally = Tally::new();
    let children = count(200, 20);
    let result = tether::run(async {
        let bystanders = bystanders(&tally, children);
        let result = tether::task_group!(|tg| {
            let body_guard = tally.guard();
            for i in 0..children {
                let guard = tally.guard();
                tg.create_task(async move {
                    let _guard = guard;
                    let _bomb = (i % 4 == 0).then(|| PanicOnDrop("stress: child cleanup failed"));
                    tether::sleep(HOUR).await;
                });
            }
            tg.create_task(async {
                tether::sleep(ms(2)).await;
                panic!("stress: the first failure");
            });
            let _body_guard = body_guard;
            tether::sleep(HOUR).await;
        });
        check_bystanders(bystanders).await;
        assert_eq!(tether::__private::live_tasks(), 1);
        result
    });
    let failures = result.unwrap_err().into_failures();
    let messages: Vec<&str> = failures
        .iter()
        .map(|failure| match failure {
            TaskFailure::Panicked { panic, .. } => panic.message(),
            other => unreachable!("{other:?}"),
        })
        .collect();
    assert_eq!(messages[0], "stress: the first failure");
    assert_eq!(
        messages[1..]
            .iter()
            .filter(|m| **m == "stress: child cleanup failed")
            .count(),
        children.div_ceil(4),
        "{messages:?}"
    );
    assert_eq!(messages.len(), 1 + children.div_ceil(4));
    tally.assert_all_dropped("group children with failing destructors");
}

#[test]
fn destructors_panicking_in_task_set_shutdown_are_contained() {
    quiet_panics();
    let tally = Tally::new();
    let n = count(1_000, 20);
    tether::run(async {
        let bystanders = bystanders(&tally, n);
        let mut keep = TaskSet::new();
        let mut background = TaskSet::background();
        for i in 0..n {
            for set in [&mut keep, &mut background] {
                let guard = tally.guard();
                set.create_task(async move {
                    let _guard = guard;
                    let _bomb = (i % 2 == 0).then(|| PanicOnDrop("stress: member cleanup failed"));
                    tether::sleep(HOUR).await;
                });
            }
        }
        tether::yield_now().await;
        keep.shutdown().await;
        background.shutdown().await;
        assert!(keep.is_empty() && background.is_empty());
        check_bystanders(bystanders).await;
        settle().await;
        assert_eq!(tether::__private::live_tasks(), 1);
    });
    tally.assert_all_dropped("task set members with failing destructors");
}

#[test]
fn destructors_panicking_while_the_runtime_shuts_down_are_contained() {
    quiet_panics();
    let tally = Tally::new();
    let n = count(1_000, 20);
    let handle = tether::run(async {
        let mut owned = Vec::new();
        for i in 0..n {
            let guard = tally.guard();
            owned.push(tether::create_task(async move {
                let _guard = guard;
                let _bomb = (i % 2 == 0).then(|| PanicOnDrop("stress: cleanup at shutdown failed"));
                tether::sleep(HOUR).await;
            }));
        }
        tether::yield_now().await;
        // The handles leave `run` with the output: their tasks are still pending when main ends,
        // so the shutdown cancels them, and half of them panic while being dropped.
        (tether::Handle::current(), owned)
    });
    let (handle, owned) = handle;
    assert!(handle.is_closed());
    assert_eq!(
        tally.alive(),
        0,
        "shutdown dropped every future before run returned"
    );
    for task in owned {
        assert!(task.is_finished());
    }
    tally.assert_all_dropped("tasks pending at shutdown with failing destructors");
}

// ----- Dropping a `Task` (or a set) whose future panics on drop: async-task aborts -----------

/// Asserts a child process ran its scenario to the end.
#[track_caller]
fn assert_contained(child: Option<Isolated>, what: &str) {
    if let Some(child) = child {
        assert!(
            child.status.success(),
            "{what}: the child process was {}; its stderr:\n{}",
            child.describe(),
            tail(&child.stderr)
        );
    }
}

/// The last lines of a child's stderr (an abort prints a long backtrace).
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

#[test]
fn dropping_a_task_whose_future_panics_on_drop_is_contained() {
    let child = isolated(
        "dropping_a_task_whose_future_panics_on_drop_is_contained",
        || {
            quiet_panics();
            let tally = Tally::new();
            tether::run(async {
                let bystanders = bystanders(&tally, 10);
                let guard = tally.guard();
                let faulty = tether::create_task(async move {
                    let _guard = guard;
                    let _bomb = PanicOnDrop("stress: dropped with its handle");
                    tether::sleep(HOUR).await;
                });
                tether::yield_now().await;
                drop(faulty); // drop = cancel, says DESIGN.md; the future is dropped next round
                settle().await;
                check_bystanders(bystanders).await;
                assert_eq!(tether::__private::live_tasks(), 1);
            });
            tally.assert_all_dropped("a dropped task with a failing destructor");
        },
    );
    assert_contained(child, "dropping a Task whose future panics on drop");
}

#[test]
fn dropping_a_task_set_whose_member_panics_on_drop_is_contained() {
    let child = isolated(
        "dropping_a_task_set_whose_member_panics_on_drop_is_contained",
        || {
            quiet_panics();
            let tally = Tally::new();
            tether::run(async {
                let bystanders = bystanders(&tally, 10);
                let mut set = TaskSet::background();
                let guard = tally.guard();
                set.create_task(async move {
                    let _guard = guard;
                    let _bomb = PanicOnDrop("stress: dropped with its set");
                    tether::sleep(HOUR).await;
                });
                tether::yield_now().await;
                drop(set);
                settle().await;
                check_bystanders(bystanders).await;
            });
            tally.assert_all_dropped("a dropped set with a failing member");
        },
    );
    assert_contained(child, "dropping a TaskSet whose member panics on drop");
}

#[test]
fn an_unawaited_output_that_panics_on_drop_is_contained() {
    let child = isolated(
        "an_unawaited_output_that_panics_on_drop_is_contained",
        || {
            quiet_panics();
            tether::run(async {
                let bystanders = bystanders(&Tally::new(), 10);
                let mut set = TaskSet::background();
                set.create_task(async { PanicOnDrop("stress: a discarded output failed") });
                set.join_next().await;
                check_bystanders(bystanders).await;
            });
        },
    );
    assert_contained(child, "discarding an output that panics on drop");
}

// ---------------------------------------------------------------------------------------------
// Done callbacks that panic
// ---------------------------------------------------------------------------------------------

#[test]
// The pending task is handed out of `run` un-awaited on purpose: the shutdown cancels it.
#[allow(clippy::async_yields_async)]
fn a_panicking_done_callback_is_reported_and_the_others_still_run() {
    const TEST: &str = "a_panicking_done_callback_is_reported_and_the_others_still_run";
    let n = count(1_000, 20);
    let child = isolated(TEST, || {
        quiet_panics();
        let ran = Arc::new(AtomicUsize::new(0));
        let tally = Tally::new();
        let at_shutdown = Arc::new(AtomicUsize::new(0));
        // The pending task leaves `run` with the output, so the shutdown is what cancels it.
        let pending = tether::run(async {
            let bystanders = bystanders(&tally, n);
            let mut tasks = Vec::new();
            for i in 0..n {
                let task = tether::create_task(async move {
                    tether::yield_now().await;
                    if i % 2 == 0 {
                        panic!("stress: the task failed too");
                    }
                });
                let before = ran.clone();
                task.add_done_callback(move |_| {
                    before.fetch_add(1, Ordering::Relaxed);
                });
                task.add_done_callback(|done| panic!("stress: callback of {} failed", done.name));
                let after = ran.clone();
                task.add_done_callback(move |_| {
                    after.fetch_add(1, Ordering::Relaxed);
                });
                tasks.push(task);
            }
            for task in tasks {
                let _ = task.await;
            }
            // Added after the task finished: scheduled with call_soon, panics all the same.
            let finished = tether::create_task(async {});
            tether::yield_now().await;
            finished.add_done_callback(|_| panic!("stress: a late callback failed"));
            let late = ran.clone();
            finished.add_done_callback(move |_| {
                late.fetch_add(1, Ordering::Relaxed);
            });
            check_bystanders(bystanders).await;
            settle().await;
            assert_eq!(ran.load(Ordering::Relaxed), 2 * n + 1);
            // Callbacks of tasks the shutdown cancels run during the shutdown.
            let pending = tether::create_task(std::future::pending::<()>());
            pending.add_done_callback(|_| panic!("stress: a callback at shutdown failed"));
            let count = at_shutdown.clone();
            pending.add_done_callback(move |done| {
                assert_eq!(done.outcome, Outcome::Cancelled);
                count.fetch_add(1, Ordering::Relaxed);
            });
            tether::yield_now().await;
            pending
        });
        assert!(pending.is_finished());
        assert_eq!(at_shutdown.load(Ordering::Relaxed), 1);
        tally.assert_all_dropped("bystanders next to panicking callbacks");
    });
    if let Some(child) = child {
        assert!(
            child.status.success(),
            "{}: {}",
            child.describe(),
            tail(&child.stderr)
        );
        let reports = child
            .stderr
            .lines()
            .filter(|line| line.starts_with("tether: a done callback of"))
            .collect::<Vec<_>>();
        assert_eq!(reports.len(), n + 2, "one report per failed callback");
        assert!(
            reports[0].contains("panicked: stress: callback of Task-"),
            "{}",
            reports[0]
        );
    }
}

#[test]
fn callbacks_run_when_a_task_is_cancelled_by_dropping_its_handle() {
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let handle = tether::run(async {
        let task = tether::create_task(std::future::pending::<()>());
        let sink = outcomes.clone();
        task.add_done_callback(move |done| sink.lock().unwrap().push(done.outcome));
        let handle = task.cancel_handle();
        tether::yield_now().await;
        drop(task);
        settle().await;
        assert_eq!(tether::__private::live_tasks(), 1, "the future was dropped");
        handle
    });
    assert!(handle.is_finished(), "the task's future is gone");
    assert!(!handle.cancel(), "cancelling a finished task returns false");
    assert_eq!(*outcomes.lock().unwrap(), [Outcome::Cancelled]);
}

// ---------------------------------------------------------------------------------------------
// Wakers whose `wake` panics
// ---------------------------------------------------------------------------------------------

/// A waker that panics when woken, and counts the attempts.
struct PanickingWaker(AtomicUsize);

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
        panic!("stress: a waker failed");
    }
}

fn panicking_waker() -> (Waker, Arc<PanickingWaker>) {
    let inner = Arc::new(PanickingWaker(AtomicUsize::new(0)));
    (Waker::from(inner.clone()), inner)
}

/// Polls `future` once with `waker` instead of the task's own.
fn poll_with<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_panicking_waker_on_a_sleep_is_contained() {
    quiet_panics();
    let tally = Tally::new();
    let (waker, woken) = panicking_waker();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // A paused clock: the first sleep is certainly not due at its first poll (under Miri,
        // real milliseconds pass between creating it and polling it).
        let runtime = tether::Runtime::builder().start_paused(true).build();
        runtime.run(async {
            let bystanders = bystanders(&tally, 10);
            let user = tether::create_task(async move {
                let mut sleep = pin!(tether::sleep(ms(2)));
                assert!(poll_with(sleep.as_mut(), &waker).is_pending());
                // The timer now holds the panicking waker; it fires while this task sleeps.
                tether::sleep(ms(10)).await;
                "the task went on"
            });
            assert_eq!(user.await.unwrap(), "the task went on");
            check_bystanders(bystanders).await;
        })
    }));
    assert_eq!(woken.0.load(Ordering::Relaxed), 1, "the timer fired once");
    if let Err(payload) = outcome {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or(payload.downcast_ref::<String>().map(String::as_str));
        panic!("the waker's panic escaped tether::run: {message:?}");
    }
    tally.assert_all_dropped("bystanders next to a panicking timer waker");
}

#[test]
fn a_panicking_waker_awaiting_a_task_is_contained() {
    let child = isolated("a_panicking_waker_awaiting_a_task_is_contained", || {
        quiet_panics();
        tether::run(async {
            let bystanders = bystanders(&Tally::new(), 10);
            let mut awaited = tether::create_task(async {
                tether::sleep(ms(2)).await;
                7
            });
            let (waker, _) = panicking_waker();
            assert!(poll_with(Pin::new(&mut awaited), &waker).is_pending());
            tether::sleep(ms(10)).await;
            check_bystanders(bystanders).await;
            assert_eq!(awaited.await.unwrap(), 7);
        });
    });
    assert_contained(child, "a panicking waker awaiting a Task");
}

#[test]
fn a_panicking_waker_on_a_promise_is_contained() {
    quiet_panics();
    let tally = Tally::new();
    tether::run(async {
        let bystanders = bystanders(&tally, 10);
        let promise: Promise<u32> = Promise::new();
        let resolver = promise.resolver();
        let mut promise = pin!(promise);
        let (waker, woken) = panicking_waker();
        assert!(poll_with(promise.as_mut(), &waker).is_pending());
        let resolving = tether::create_task(async move { resolver.set_result(5) });
        // The wake-up runs inside set_result; its panic is reported, and the resolver succeeds.
        assert!(resolving.await.unwrap().is_ok());
        assert_eq!(woken.0.load(Ordering::Relaxed), 1);
        assert_eq!(
            promise.await.unwrap(),
            5,
            "the value was set before the wake-up"
        );
        check_bystanders(bystanders).await;
    });
    tally.assert_all_dropped("bystanders next to a panicking promise waker");
}

#[test]
fn a_panicking_waker_on_a_promise_does_not_lose_its_done_callbacks() {
    quiet_panics();
    let ran = Arc::new(AtomicUsize::new(0));
    tether::run(async {
        let promise: Promise<u32> = Promise::new();
        let resolver = promise.resolver();
        let count = ran.clone();
        promise.add_done_callback(move |_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        let mut promise = pin!(promise);
        let (waker, _) = panicking_waker();
        assert!(poll_with(promise.as_mut(), &waker).is_pending());
        let _ = tether::create_task(async move { resolver.set_result(5) }).await;
        settle().await;
    });
    assert_eq!(ran.load(Ordering::Relaxed), 1, "the done callback ran once");
}

#[test]
fn a_waker_that_panics_only_inside_a_tasks_own_poll_is_contained() {
    // The contained case: a future wakes a panicking waker itself, inside its task's poll. The
    // panic is the task's own, caught by its supervisor.
    quiet_panics();
    let tally = Tally::new();
    tether::run(async {
        let bystanders = bystanders(&tally, 10);
        let (waker, _) = panicking_waker();
        let task = tether::create_task(async move {
            poll_fn(|_| {
                waker.wake_by_ref();
                Poll::<()>::Ready(())
            })
            .await;
        });
        assert_panicked(task.await, "stress: a waker failed");
        check_bystanders(bystanders).await;
    });
    tally.assert_all_dropped("bystanders next to a task waking a panicking waker");
}
