//! `tether::run`, the runtime and the handle: entering and leaving a loop.

use std::panic::catch_unwind;

use tether::{Handle, NoRunningLoop};

#[test]
fn run_returns_the_output_of_the_future() {
    assert_eq!(tether::run(async { 6 * 7 }), 42);
}

#[test]
fn run_accepts_a_future_that_borrows() {
    let words = ["a".to_owned(), "b".to_owned()];
    let joined = tether::run(async {
        tether::yield_now().await;
        words.join("+")
    });
    assert_eq!(joined, "a+b");
}

#[test]
fn nested_run_panics_with_a_clear_message() {
    tether::run(async {
        let err = catch_unwind(|| tether::run(async {})).unwrap_err();
        let msg = err.downcast_ref::<String>().expect("a formatted message");
        assert!(
            msg.contains("tether::run cannot be called from inside a running event loop"),
            "{msg}"
        );
        assert!(msg.contains("await the future instead"), "{msg}");
    });
}

#[test]
fn create_task_outside_a_loop_panics_naming_the_fix() {
    let err = catch_unwind(|| drop(tether::create_task(async {}))).unwrap_err();
    let msg = err.downcast_ref::<String>().expect("a formatted message");
    assert!(msg.contains("outside a running event loop"), "{msg}");
    assert!(msg.contains("#[tether::main]"), "{msg}");
}

#[test]
fn spawn_outside_a_loop_panics_naming_spawn() {
    let err = catch_unwind(|| drop(tether::spawn(async {}))).unwrap_err();
    let msg = err.downcast_ref::<String>().expect("a formatted message");
    assert!(
        msg.starts_with("tether::spawn was called outside a running event loop"),
        "{msg}"
    );
    assert!(msg.contains("#[tether::main]"), "{msg}");
}

#[test]
fn handle_try_current_outside_a_loop_is_no_running_loop() {
    assert_eq!(Handle::try_current().unwrap_err(), NoRunningLoop);
    let message = NoRunningLoop.to_string();
    assert!(message.contains("tether::run"), "{message}");
}

#[test]
fn handle_inside_a_loop_and_after_it_closed() {
    let handle = tether::run(async {
        let handle = Handle::current();
        assert_eq!(handle, Handle::try_current().unwrap());
        assert!(!handle.is_closed());
        handle
    });
    assert!(handle.is_closed());
}

#[test]
fn runs_can_follow_each_other_on_one_thread() {
    for i in 0..3 {
        assert_eq!(
            tether::run(async move { tether::create_task(async move { i }).await.unwrap() }),
            i
        );
    }
}

#[test]
// Handing the task out of `run` un-awaited is the point: it outlives its loop.
#[allow(clippy::async_yields_async)]
fn a_task_returned_out_of_run_reports_cancelled_when_awaited_later() {
    let task = tether::run(async { tether::create_task(std::future::pending::<u8>()) });
    let outcome = tether::run(task);
    assert!(outcome.unwrap_err().is_cancelled());
}
