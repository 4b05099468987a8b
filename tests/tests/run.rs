//! `tether::run`, the runtime and the handle: entering and leaving a loop.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use tether::{Handle, NoRunningLoop};
use tether_tests::DropCounter;

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
fn shutdown_drops_every_pending_task_even_forgotten_ones() {
    let drops = DropCounter::new();
    tether::run(async {
        let sleeping = {
            let guard = drops.guard();
            tether::create_task(async move {
                let _guard = guard;
                tether::sleep(Duration::from_secs(3600)).await;
            })
        };
        let forgotten = {
            let guard = drops.guard();
            tether::create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
        };
        std::mem::forget(forgotten);
        let finished = {
            let guard = drops.guard();
            tether::create_task(async move {
                let _guard = guard;
            })
        };
        std::mem::forget(finished);
        tether::yield_now().await;
        // The main task, `sleeping` and `forgotten`: `finished` is done and off the table.
        assert_eq!(tether::__private::live_tasks(), 3);
        // Keep `sleeping` alive past the end of main: shutdown must drop it too.
        std::mem::forget(sleeping);
    });
    assert_eq!(drops.dropped(), 3);
}

#[test]
fn shutdown_runs_destructors_that_create_tasks() {
    struct SpawnOnDrop(DropCounter);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let guard = self.0.guard();
            // A destructor during shutdown may create a task: it never runs, and is dropped too.
            std::mem::forget(tether::create_task(async move {
                let _guard = guard;
                unreachable!("a task created during shutdown never runs");
            }));
        }
    }
    let drops = DropCounter::new();
    tether::run(async {
        let spawner = SpawnOnDrop(drops.clone());
        std::mem::forget(tether::create_task(async move {
            let _spawner = spawner;
            std::future::pending::<()>().await;
        }));
        tether::yield_now().await;
    });
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn a_panic_in_main_is_resumed_after_the_loop_shut_down() {
    let drops = DropCounter::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
        tether::run(async {
            let guard = drops.guard();
            std::mem::forget(tether::create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            tether::yield_now().await;
            panic!("main failed");
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
    assert_eq!(
        drops.dropped(),
        1,
        "the pending task was dropped before run unwound"
    );
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
