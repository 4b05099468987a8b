//! Promise: asyncio's low-level Future, bridging callback-based code.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tether::{Promise, PromiseError, Settled};

#[tether::test]
async fn a_promise_resolved_from_another_thread_wakes_its_awaiter() {
    let promise: Promise<String> = Promise::new();
    let resolver = promise.resolver();
    let worker = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        resolver.set_result("from the worker".to_owned()).unwrap();
    });
    assert!(!promise.is_done());
    assert_eq!(promise.await.unwrap(), "from the worker");
    worker.join().unwrap();
}

#[tether::test]
async fn set_error_and_a_second_settlement_is_refused() {
    let promise: Promise<u8, String> = Promise::new();
    let resolver = promise.resolver();
    resolver.set_error("disk full".to_owned()).unwrap();
    assert_eq!(
        resolver.set_result(1),
        Err(1),
        "already settled: the value comes back"
    );
    assert!(!resolver.cancel());
    assert_eq!(
        promise.await,
        Err(PromiseError::Failed("disk full".to_owned()))
    );
}

#[tether::test]
async fn either_side_can_cancel() {
    let promise: Promise<u8> = Promise::new();
    let resolver = promise.resolver();
    assert!(resolver.cancel_with("no longer needed"));
    assert!(promise.is_cancelled());
    match promise.await {
        Err(PromiseError::Cancelled { message }) => {
            assert_eq!(message.as_deref(), Some("no longer needed"))
        }
        other => panic!("{other:?}"),
    }

    let promise: Promise<u8> = Promise::new();
    let resolver = promise.resolver();
    assert!(promise.cancel());
    assert!(resolver.is_done());
    assert_eq!(resolver.set_result(3), Err(3));
}

#[tether::test]
async fn a_promise_whose_resolvers_are_all_dropped_is_abandoned() {
    let promise: Promise<u8> = Promise::new();
    let first = promise.resolver();
    let second = first.clone();
    drop(first);
    assert!(!promise.is_done(), "one resolver is left");
    drop(second);
    assert!(matches!(promise.await, Err(PromiseError::Abandoned)));
}

#[tether::test]
async fn done_callbacks_run_on_the_loop_after_settlement_even_if_added_late() {
    let loop_thread = thread::current().id();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let promise: Promise<u8> = Promise::new();
    let resolver = promise.resolver();
    let early = seen.clone();
    promise.add_done_callback(move |settled| {
        assert_eq!(thread::current().id(), loop_thread);
        early.lock().unwrap().push(("early", settled));
    });
    thread::spawn(move || resolver.set_result(7).unwrap())
        .join()
        .unwrap();
    let late = seen.clone();
    promise.add_done_callback(move |settled| late.lock().unwrap().push(("late", settled)));
    assert_eq!(promise.await.unwrap(), 7);
    tether::yield_now().await;
    assert_eq!(
        *seen.lock().unwrap(),
        [("early", Settled::Fulfilled), ("late", Settled::Fulfilled)]
    );
}

#[tether::test]
async fn a_promise_bridges_a_callback_api_with_a_group() {
    fn after(ms: u64, value: u32, done: impl FnOnce(u32) + Send + 'static) {
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(ms));
            done(value);
        });
    }
    let total = tether::task_group!(|tg| {
        let handles: Vec<_> = (1..=3)
            .map(|i| {
                tg.create_task(async move {
                    let promise: Promise<u32> = Promise::new();
                    let resolver = promise.resolver();
                    after(5 * u64::from(i), i, move |v| {
                        resolver.set_result(v).ok();
                    });
                    promise.await.unwrap()
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total.unwrap(), 6);
}
