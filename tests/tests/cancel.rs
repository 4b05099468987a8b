//! Cancellation: messages, states, waiting for the drop, cross-thread requests, done callbacks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use tether::TaskError;
use tether::task::{Outcome, TaskDone};
use tether_tests::DropCounter;

#[tether::test]
async fn the_cancel_message_reaches_the_awaiting_side() {
    let task = tether::create_task(std::future::pending::<()>());
    assert!(task.cancel_with("first"));
    assert!(
        task.cancel_with("second"),
        "a later request replaces the message"
    );
    match task.await {
        Err(TaskError::Cancelled { message }) => assert_eq!(message.as_deref(), Some("second")),
        other => panic!("{other:?}"),
    }
}

#[tether::test]
async fn is_cancelled_tells_cancellation_from_other_endings() {
    let mut cancelled = tether::create_task(std::future::pending::<()>());
    let mut returned = tether::create_task(async {});
    let mut panicked = tether::create_task(async { panic!("no") });
    cancelled.cancel();
    tether::yield_now().await;
    tether::yield_now().await;
    assert!(cancelled.is_cancelled() && cancelled.is_finished());
    assert!(!returned.is_cancelled() && returned.is_finished());
    assert!(!panicked.is_cancelled() && panicked.is_finished());
    assert!(
        cancelled
            .try_result()
            .unwrap()
            .as_ref()
            .unwrap_err()
            .is_cancelled()
    );
    assert!(returned.try_result().unwrap().is_ok());
    assert!(
        panicked
            .try_result()
            .unwrap()
            .as_ref()
            .unwrap_err()
            .is_panic()
    );
    assert!(!returned.cancel(), "cancelling a finished task is a no-op");
    assert!(returned.await.is_ok(), "and does not change its outcome");
}

#[tether::test]
async fn cancel_and_wait_returns_after_the_destructors_ran() {
    let drops = DropCounter::new();
    let task = {
        let guard = drops.guard();
        tether::create_task(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        })
    };
    tether::yield_now().await;
    let outcome = task.cancel_and_wait().await;
    assert!(outcome.unwrap_err().is_cancelled());
    assert_eq!(drops.dropped(), 1);
}

#[tether::test]
async fn cancel_and_wait_on_a_finished_task_returns_its_output() {
    let task = tether::create_task(async { 9 });
    tether::yield_now().await;
    assert_eq!(task.cancel_and_wait().await.unwrap(), 9);
}

#[tether::test]
async fn a_group_childs_handle_cancels_with_a_message() {
    tether::task_group!(|tg| {
        let child = tg.create_task(std::future::pending::<()>());
        tether::yield_now().await;
        child.cancel_with("not needed");
        match child.await {
            Err(TaskError::Cancelled { message }) => {
                assert_eq!(message.as_deref(), Some("not needed"))
            }
            other => panic!("{other:?}"),
        }
    })
    .unwrap();
}

#[tether::test]
async fn tasks_can_be_renamed() {
    let task = tether::create_task(async {});
    task.set_name("fetch-users");
    assert_eq!(task.name(), "fetch-users");
    task.await.unwrap();
}

#[test]
fn cancel_from_another_thread_while_the_task_is_being_woken_and_polled() {
    let rounds = if cfg!(miri) { 3 } else { 50 };
    for round in 0..rounds {
        let drops = DropCounter::new();
        let outcome = tether::run(async {
            let (tx, mut rx) = mpsc::unbounded::<u32>();
            let guard = drops.guard();
            let task = tether::create_task(async move {
                let _guard = guard;
                let mut sum = 0u64;
                while let Some(n) = rx.next().await {
                    sum += u64::from(n);
                }
                sum
            });
            let handle = task.cancel_handle();
            // The feeder hands the sender back, so the channel stays open past the race.
            let feeder = thread::spawn(move || {
                for n in 0..200 {
                    if tx.unbounded_send(n).is_err() {
                        break;
                    }
                }
                tx
            });
            let canceller = thread::spawn(move || {
                thread::sleep(Duration::from_micros(round * 20));
                handle.cancel_with("raced")
            });
            let outcome = task.await;
            let _open = feeder.join().unwrap();
            canceller.join().unwrap();
            outcome
        });
        match outcome {
            Err(TaskError::Cancelled { message }) => assert_eq!(message.as_deref(), Some("raced")),
            other => panic!(
                "round {round}: the channel never closes, so only cancellation ends the task: {other:?}"
            ),
        }
        assert_eq!(drops.dropped(), 1, "round {round}");
    }
}

#[tether::test]
async fn a_cancel_handle_outlives_its_task_harmlessly() {
    let task = tether::create_task(async { 1 });
    let handle = task.cancel_handle();
    assert_eq!(handle.id(), Some(task.id()));
    assert!(!handle.is_finished());
    assert_eq!(task.await.unwrap(), 1);
    assert!(handle.is_finished());
    assert!(!handle.cancel());
}

// Done callbacks.

#[tether::test]
async fn done_callbacks_run_on_the_loop_in_order_after_completion() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let loop_thread = thread::current().id();
    let task = tether::create_task(async { "value" });
    for i in 0..3 {
        let calls = calls.clone();
        task.add_done_callback(move |done: &TaskDone| {
            assert_eq!(thread::current().id(), loop_thread);
            calls.lock().unwrap().push((i, done.outcome));
        });
    }
    assert!(calls.lock().unwrap().is_empty());
    let id = task.id();
    assert_eq!(task.await.unwrap(), "value");
    tether::yield_now().await;
    assert_eq!(
        *calls.lock().unwrap(),
        [
            (0, Outcome::Returned),
            (1, Outcome::Returned),
            (2, Outcome::Returned)
        ]
    );
    let _ = id;
}

#[tether::test]
async fn a_callback_added_after_completion_still_runs_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let task = tether::create_task(async {});
    tether::yield_now().await;
    assert!(task.is_finished());
    let counter = runs.clone();
    task.add_done_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    tether::yield_now().await;
    tether::yield_now().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    task.await.unwrap();
    tether::yield_now().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tether::test]
async fn a_removed_callback_does_not_run() {
    let ran = Arc::new(AtomicBool::new(false));
    let task = tether::create_task(tether::yield_now());
    let flag = ran.clone();
    let key = task.add_done_callback(move |_| flag.store(true, Ordering::SeqCst));
    assert!(task.remove_done_callback(key));
    assert!(!task.remove_done_callback(key));
    task.await.unwrap();
    tether::yield_now().await;
    assert!(!ran.load(Ordering::SeqCst));
}

#[tether::test]
async fn a_panicking_callback_does_not_stop_the_others_or_the_loop() {
    let ran = Arc::new(AtomicBool::new(false));
    let task = tether::create_task(async {});
    task.add_done_callback(|_| panic!("callback failure"));
    let flag = ran.clone();
    task.add_done_callback(move |_| flag.store(true, Ordering::SeqCst));
    task.await.unwrap();
    tether::yield_now().await;
    assert!(ran.load(Ordering::SeqCst));
}

#[tether::test]
async fn callbacks_see_how_the_task_ended() {
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let record = |task: &tether::Task<()>| {
        let outcomes = outcomes.clone();
        task.add_done_callback(move |done| outcomes.lock().unwrap().push(done.outcome));
    };
    let cancelled = tether::create_task(std::future::pending::<()>());
    let panicked = tether::create_task(async { panic!("no") });
    record(&cancelled);
    record(&panicked);
    cancelled.cancel();
    let _ = cancelled.await;
    let _ = panicked.await;
    tether::yield_now().await;
    let mut seen = outcomes.lock().unwrap().clone();
    seen.sort_by_key(|outcome| *outcome as u8);
    assert_eq!(seen, [Outcome::Cancelled, Outcome::Panicked]);
}
