//! Misuse: every public API called in a state where it cannot do its job.
//!
//! DESIGN.md: "misuse [the compiler] cannot catch is a panic whose message names the rule and
//! the fix". Each test calls an API wrongly and checks what happens: a panic whose message names
//! the rule and the fix, or an error value (whose `Display` does the same), or a documented
//! harmless answer (`false`, `None`, the value handed back). Misuse the compiler does catch is
//! in ui-tests/.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, UnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tether::context::ContextVar;
use tether::{
    CreateTaskError, DumpError, Handle, NoRunningLoop, Promise, PromiseError, TaskError, TaskSet,
};

/// The message of the panic `f` raises (it must panic).
#[track_caller]
fn panic_message<R>(f: impl FnOnce() -> R + UnwindSafe) -> String {
    match catch_unwind(f) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => message_of(&*payload),
    }
}

fn message_of(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "<a panic without a message>".to_owned())
}

/// Asserts `message` contains every one of `parts`.
#[track_caller]
fn assert_names(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

/// Polls `future` once, outside any loop, with a waker that does nothing.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// What every "no loop here" message must say: the rule, and where to call it from instead.
const OUTSIDE: [&str; 2] = ["outside a running", "tether::run"];

// --- Outside a loop ---------------------------------------------------------------------------

#[test]
fn create_task_outside_a_loop_panics_naming_the_fix() {
    let message = panic_message(|| drop(tether::create_task(async {})));
    assert_names(&message, &OUTSIDE);
    assert_names(&message, &["#[tether::main]", "#[tether::test]"]);
}

#[test]
fn a_task_builder_outside_a_loop_panics_naming_the_fix() {
    let message = panic_message(|| {
        drop(
            tether::task::Builder::new()
                .name("outside")
                .create_task(async {}),
        )
    });
    assert_names(&message, &OUTSIDE);
}

#[test]
fn task_set_create_task_or_spawn_outside_a_loop_panics_naming_the_fix_and_leaves_the_set_usable() {
    for mut set in [TaskSet::<()>::new(), TaskSet::background()] {
        let message = panic_message(AssertUnwindSafe(|| set.create_task(async {})));
        assert_names(&message, &OUTSIDE);
        assert!(set.is_empty(), "the refused task is not counted: {set:?}");
        let message = panic_message(AssertUnwindSafe(|| set.spawn(async {})));
        assert_names(&message, &OUTSIDE);
        assert!(set.is_empty(), "the refused task is not counted: {set:?}");
        // The same set works inside a loop afterwards.
        tether::run(async {
            set.create_task(async {});
            set.join_all().await;
        });
        assert!(set.is_empty());
    }
}

#[test]
fn polling_a_sleep_outside_a_loop_panics_naming_the_fix() {
    let message = panic_message(|| poll_once(pin!(tether::sleep(Duration::from_millis(1)))));
    assert_names(
        &message,
        &["outside a running tether event loop", "tether::run"],
    );
    let deadline = tether::time::Instant::now() + Duration::from_secs(1);
    let message = panic_message(|| poll_once(pin!(tether::sleep_until(deadline))));
    assert_names(&message, &["outside a running tether event loop"]);
}

#[test]
fn polling_a_timeout_outside_a_loop_panics_once_it_needs_its_timer() {
    // A timeout first polls its future: one that is ready needs no timer, and no loop.
    assert_eq!(
        poll_once(pin!(tether::timeout(Duration::from_secs(1), async { 3 }))),
        Poll::Ready(Ok(3))
    );
    let message = panic_message(|| {
        poll_once(pin!(tether::timeout(
            Duration::from_secs(1),
            std::future::pending::<()>()
        )))
    });
    assert_names(
        &message,
        &["outside a running tether event loop", "tether::run"],
    );
}

#[test]
fn handle_current_outside_a_loop_panics_naming_the_fix() {
    let message = panic_message(Handle::current);
    assert_names(
        &message,
        &["no tether event loop is running", "tether::run"],
    );
    // The most common way to get there: a thread started from inside a task.
    tether::run(async {
        let message = std::thread::spawn(|| panic_message(Handle::current))
            .join()
            .unwrap();
        assert_names(
            &message,
            &["no tether event loop is running on this thread"],
        );
    });
}

#[test]
fn handle_try_current_is_an_error_outside_and_after_a_loop() {
    assert_eq!(Handle::try_current().unwrap_err(), NoRunningLoop);
    let inside = tether::run(async { Handle::try_current() }).unwrap();
    assert!(inside.is_closed());
    let error = Handle::try_current().unwrap_err();
    assert_names(&error.to_string(), &["tether::run", "#[tether::main]"]);
}

#[test]
fn introspection_outside_a_loop_says_there_is_none() {
    assert!(tether::current_task().is_none());
    assert!(tether::all_tasks().is_empty());
    assert_names(&tether::dump_tasks(), &["no tether event loop is running"]);
    let handle = tether::run(async { Handle::current() });
    let error = handle.dump_tasks(Duration::from_secs(1)).unwrap_err();
    assert_eq!(error, DumpError::Closed);
    assert_names(&error.to_string(), &["shut down"]);
}

#[test]
fn submitting_to_a_closed_loop_is_an_error_naming_the_fix() {
    let handle = tether::run(async { Handle::current() });
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = ran.clone();
    let refused =
        handle.call_soon_threadsafe(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
    assert_eq!(refused, Err(tether::LoopClosed));
    assert!(
        !ran.load(std::sync::atomic::Ordering::SeqCst),
        "a refused callback does not run"
    );
    let error = handle.spawn_threadsafe(async { 1 }).map(drop).unwrap_err();
    assert_names(
        &error.to_string(),
        &["shut down", "submit work while it runs"],
    );
}

// --- Nesting ----------------------------------------------------------------------------------

#[test]
fn run_inside_a_running_loop_panics_naming_the_fix() {
    tether::run(async {
        let message = panic_message(|| tether::run(async {}));
        assert_names(
            &message,
            &["cannot be called from inside a running event loop", "await"],
        );
        // From a task, and through a configured runtime, alike.
        let from_a_task = tether::create_task(async {
            panic_message(|| tether::Runtime::new().run(async { 1 }))
        });
        assert_names(
            &from_a_task.await.unwrap(),
            &["inside a running event loop"],
        );
    });
    // The loop that refused is still fine, and so is the next one.
    assert_eq!(tether::run(async { 2 }), 2);
}

// --- Tasks ------------------------------------------------------------------------------------

#[test]
fn polling_a_task_after_it_completed_names_the_rule_and_the_fix() {
    tether::run(async {
        let mut task = tether::create_task(async { 1 });
        assert_eq!((&mut task).await.unwrap(), 1);
        let message = panic_message(AssertUnwindSafe(|| poll_once(Pin::new(&mut task))));
        // The rule (a task's outcome is taken once) and the fix (keep it, or read try_result).
        assert_names(&message, &["tether", "once"]);
    });
}

#[test]
fn polling_a_task_after_it_completed_panics_and_the_loop_goes_on() {
    tether::run(async {
        let mut task = tether::create_task(async { 1 });
        assert_eq!((&mut task).await.unwrap(), 1);
        let message = panic_message(AssertUnwindSafe(|| poll_once(Pin::new(&mut task))));
        assert_names(
            &message,
            &["polled after it returned its outcome", "try_result"],
        );
        // Misusing a finished handle harms nothing else.
        assert!(task.is_finished());
        assert!(!task.cancel());
        assert_eq!(tether::create_task(async { 2 }).await.unwrap(), 2);
    });
}

#[test]
fn try_result_keeps_the_outcome_for_a_later_await() {
    tether::run(async {
        let mut task = tether::create_task(async { 5 });
        tether::yield_now().await;
        assert!(task.try_result().is_some());
        assert!(task.try_result().is_some(), "reading it twice is fine");
        assert_eq!(task.await.unwrap(), 5);
    });
}

#[test]
fn cancel_on_a_finished_task_returns_false_and_changes_nothing() {
    tether::run(async {
        let mut task = tether::create_task(async { 7 });
        let handle = task.cancel_handle();
        tether::yield_now().await;
        assert!(task.is_finished());
        assert!(!task.cancel());
        assert!(!task.cancel_with("too late"));
        assert!(!handle.cancel());
        assert!(handle.is_finished());
        assert!(!task.is_cancelled());
        assert_eq!(task.try_result().unwrap().as_ref().ok(), Some(&7));
        // A cancel handle made after the task finished knows nothing, and cancels nothing.
        let late = task.cancel_handle();
        assert_eq!(late.id(), None);
        assert!(late.is_finished() && !late.cancel());
        assert_eq!(task.cancel_and_wait().await.unwrap(), 7);
    });
}

#[test]
fn cancel_twice_keeps_the_last_message() {
    tether::run(async {
        let task = tether::create_task(std::future::pending::<()>());
        assert!(task.cancel_with("first"));
        assert!(task.cancel_with("second"));
        match task.await {
            Err(TaskError::Cancelled { message }) => assert_eq!(message.as_deref(), Some("second")),
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn removing_a_done_callback_twice_returns_false() {
    tether::run(async {
        let task = tether::create_task(async {});
        let key = task.add_done_callback(|_| unreachable!("removed before it ran"));
        assert!(task.remove_done_callback(key));
        assert!(!task.remove_done_callback(key));
        task.await.unwrap();
    });
}

#[test]
fn a_panic_payload_is_taken_once() {
    tether::run(async {
        let outcome = tether::create_task(async { panic!("stress: taken once") }).await;
        let Err(TaskError::Panicked(panic)) = outcome else {
            unreachable!()
        };
        assert!(panic.take_payload().is_some());
        assert!(panic.take_payload().is_none());
        assert!(panic.clone().take_payload().is_none(), "clones share it");
        assert_eq!(panic.message(), "stress: taken once");
    });
}

#[test]
fn joining_an_empty_set_returns_at_once() {
    tether::run(async {
        for mut set in [TaskSet::<()>::new(), TaskSet::background()] {
            assert!(set.join_next().await.is_none());
            assert!(set.join_all().await.is_empty());
            set.shutdown().await;
        }
        let waited = tether::wait(
            Vec::<tether::Task<()>>::new(),
            tether::ReturnWhen::AllCompleted,
        )
        .await;
        assert!(waited.done.is_empty() && waited.pending.is_empty());
    });
}

// --- Promises ---------------------------------------------------------------------------------

#[test]
fn settling_a_promise_twice_hands_the_second_value_back() {
    tether::run(async {
        let promise: Promise<u32, String> = Promise::new();
        let resolver = promise.resolver();
        assert_eq!(resolver.set_result(1), Ok(()));
        assert_eq!(resolver.set_result(2), Err(2));
        assert_eq!(
            resolver.set_error("late".to_owned()),
            Err("late".to_owned())
        );
        assert!(!resolver.cancel());
        assert!(!resolver.cancel_with("late"));
        assert!(!promise.cancel());
        assert!(resolver.is_done() && promise.is_done() && !promise.is_cancelled());
        assert_eq!(promise.await, Ok(1), "the first value stands");
    });
}

#[test]
fn a_promise_whose_resolvers_all_dropped_says_so_and_how_to_avoid_it() {
    tether::run(async {
        let promise: Promise<u32> = Promise::new();
        let resolvers = [promise.resolver(), promise.resolver()];
        drop(resolvers);
        let error = promise.await.unwrap_err();
        assert!(matches!(error, PromiseError::Abandoned));
        assert_names(
            &error.to_string(),
            &["dropped without resolving", "resolve or cancel"],
        );
    });
}

#[test]
fn polling_a_promise_after_its_outcome_panics_naming_the_rule() {
    tether::run(async {
        let promise: Promise<u32> = Promise::new();
        promise.resolver().set_result(3).unwrap();
        let mut promise = pin!(promise);
        assert!(matches!(promise.as_mut().await, Ok(3)));
        let message = panic_message(AssertUnwindSafe(|| poll_once(promise.as_mut())));
        assert_names(
            &message,
            &["Promise", "polled after it returned its outcome"],
        );
    });
}

// --- Groups -----------------------------------------------------------------------------------

/// Runs `on_drop` when dropped: a destructor that tries to use the group.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

#[test]
fn try_create_task_on_a_shutting_down_group_is_an_error_naming_the_fix() {
    let refusals = std::cell::RefCell::new(Vec::new());
    let started = Cell::new(0);
    let outcome = tether::run(async {
        tether::task_group!(|tg| {
            let (refusals, started) = (&refusals, &started);
            tg.create_task(async move {
                // Dropped by the group's cancellation, once a sibling has failed.
                let _probe = OnDrop(move || {
                    assert!(tg.is_shutting_down());
                    let refused = tg.try_create_task(async move { started.set(1) });
                    refusals.borrow_mut().push(refused.map(drop).unwrap_err());
                    // The panicking form refuses quietly inside a destructor: no double panic.
                    drop(tg.create_task(async move { started.set(2) }));
                });
                std::future::pending::<()>().await;
            });
            tg.create_task(async {
                tether::yield_now().await;
                panic!("stress: fail the group");
            });
        })
    });
    assert!(outcome.is_err());
    assert_eq!(
        started.get(),
        0,
        "refused futures are dropped without running"
    );
    let refusals = refusals.into_inner();
    assert_eq!(refusals, [CreateTaskError::ShuttingDown]);
    assert_names(
        &refusals[0].to_string(),
        &[
            "shutting down",
            "try_create_task",
            "dropped without running",
        ],
    );
}

#[test]
fn try_create_task_on_a_closing_group_is_an_error_naming_the_fix() {
    let refusals = std::cell::RefCell::new(Vec::new());
    tether::run(async {
        let refusals = &refusals;
        // The group's future is dropped (by the timeout) while a child holds the probe.
        let timed = tether::timeout(Duration::from_millis(1), async move {
            tether::task_group!(|tg| {
                tg.create_task(async move {
                    let _probe = OnDrop(move || {
                        let refused = tg.try_create_task(async {});
                        refusals.borrow_mut().push(refused.map(drop).unwrap_err());
                    });
                    std::future::pending::<()>().await;
                });
            })
        })
        .await;
        assert!(timed.is_err());
    });
    let refusals = refusals.into_inner();
    assert_eq!(refusals, [CreateTaskError::Closed]);
    assert_names(
        &refusals[0].to_string(),
        &["closing", "before the group's scope ends"],
    );
}

#[test]
fn a_refusal_inside_a_destructor_is_not_a_second_failure() {
    // A failed group polls no body and no child again, so only destructors can see it shutting
    // down. Their refused tasks are reported to them (`try_create_task`) or dropped quietly
    // (`create_task`), and never count as another failure of the group.
    let message = Rc::new(std::cell::RefCell::new(String::new()));
    let outcome = tether::run(async {
        let message = &message;
        tether::task_group!(|tg| {
            tg.create_task(async move {
                let _probe = OnDrop(move || {
                    if let Err(refused) = tg.try_create_task(async {}) {
                        *message.borrow_mut() = refused.to_string();
                    }
                    drop(tg.create_task(async {}));
                });
                std::future::pending::<()>().await;
            });
            tg.create_task(async { panic!("stress: the failure") });
        })
    });
    let failures = outcome.unwrap_err().into_failures();
    assert_eq!(failures.len(), 1, "the refusals are not failures");
    assert_names(&message.borrow(), &["try_create_task"]);
}

// --- Context variables ------------------------------------------------------------------------

static ALPHA: ContextVar<u32> = ContextVar::new("alpha");
static BETA: ContextVar<u32> = ContextVar::new("beta");

#[test]
fn resetting_a_context_var_with_another_vars_token_panics_naming_the_fix() {
    tether::run(async {
        let token = ALPHA.set(1);
        let message = panic_message(AssertUnwindSafe(|| BETA.reset(token)));
        assert_names(&message, &["another variable", "`beta`", "its own token"]);
        assert_eq!(ALPHA.get(), Some(1), "the wrong reset changed nothing");
    });
}
