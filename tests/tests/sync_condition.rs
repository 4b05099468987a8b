//! `tether::sync::Condition`: wait/notify with its lock, FIFO order, cancellation, threads.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::poll;
use tether::sync::{Condition, Lock};
use tether_tests::Log;

#[tether::test]
async fn wait_for_sees_the_state_a_producer_set() {
    let cond = Condition::new();
    let inbox = RefCell::new(Vec::new());
    tether::task_group!(|tg| {
        let consumer = tg.create_task(async {
            let guard = cond.lock().await;
            let _guard = cond.wait_for(guard, || inbox.borrow().len() >= 3).await;
            inbox.borrow().clone()
        });
        for item in ["a", "b", "c"] {
            tether::yield_now().await;
            let guard = cond.lock().await;
            inbox.borrow_mut().push(item);
            cond.notify(&guard, 1);
        }
        assert_eq!(consumer.await.unwrap(), ["a", "b", "c"]);
    })
    .unwrap();
    assert!(!cond.is_locked());
}

#[tether::test]
async fn wait_releases_the_lock_and_takes_it_back() {
    let cond = Condition::new();
    let guard = cond.lock().await;
    let mut wait = pin!(cond.wait(guard));
    assert!(poll!(wait.as_mut()).is_pending());
    assert!(!cond.is_locked(), "released while waiting");
    let other = cond.try_lock().expect("someone else can lock now");
    cond.notify(&other, 1);
    assert!(
        poll!(wait.as_mut()).is_pending(),
        "notified, but the lock is held"
    );
    drop(other);
    let guard = wait.await;
    assert!(cond.is_locked());
    drop(guard);
}

#[tether::test]
async fn notify_wakes_n_waiters_in_arrival_order() {
    let cond = Condition::new();
    let log = Log::new();
    let round = Cell::new(0);
    tether::task_group!(|tg| {
        for i in 0..5 {
            let (cond, log, round) = (&cond, log.clone(), &round);
            tg.create_task(async move {
                let guard = cond.lock().await;
                let _guard = cond.wait(guard).await;
                log.push(format!("{i}@{}", round.get()));
            });
        }
        tether::yield_now().await;
        assert_eq!(cond.waiting(), 5);
        let guard = cond.lock().await;
        round.set(1);
        cond.notify(&guard, 2);
        drop(guard);
        while log.events().len() < 2 {
            tether::yield_now().await;
        }
        let guard = cond.lock().await;
        round.set(2);
        cond.notify_all(&guard);
    })
    .unwrap();
    assert_eq!(log.events(), ["0@1", "1@1", "2@2", "3@2", "4@2"]);
}

#[tether::test]
async fn a_notified_waiter_dropped_before_it_returned_passes_the_notification_on() {
    let cond = Condition::new();
    let mut a = Box::pin(cond.wait(cond.lock().await));
    assert!(poll!(a.as_mut()).is_pending());
    let mut b = pin!(cond.wait(cond.lock().await));
    assert!(poll!(b.as_mut()).is_pending());
    let mut c = pin!(cond.wait(cond.lock().await));
    assert!(poll!(c.as_mut()).is_pending());

    let guard = cond.lock().await;
    cond.notify(&guard, 1); // a's
    drop(guard);
    drop(a); // woken, never ran: b gets the notification instead
    assert_eq!(cond.waiting(), 1, "only c still waits");
    drop(b.await);
    assert!(poll!(c.as_mut()).is_pending());
    assert!(!cond.is_locked());
}

#[tether::test]
async fn a_waiter_dropped_while_taking_the_lock_back_passes_the_notification_on() {
    let cond = Condition::new();
    let mut a = Box::pin(cond.wait(cond.lock().await));
    assert!(poll!(a.as_mut()).is_pending());
    let mut b = pin!(cond.wait(cond.lock().await));
    assert!(poll!(b.as_mut()).is_pending());

    let guard = cond.lock().await;
    cond.notify(&guard, 1);
    // a runs, is notified, and waits for the lock we still hold.
    assert!(poll!(a.as_mut()).is_pending());
    drop(a);
    assert_eq!(cond.waiting(), 0, "b was notified in a's place");
    drop(guard);
    drop(b.await);
}

#[tether::test]
async fn a_waiter_dropped_before_notify_is_skipped() {
    let cond = Condition::new();
    // Each wait releases the lock on its first poll, so the next one can take it.
    let mut a = Box::pin(cond.wait(cond.lock().await));
    assert!(poll!(a.as_mut()).is_pending());
    let mut b = pin!(cond.wait(cond.lock().await));
    assert!(poll!(b.as_mut()).is_pending());
    drop(a);
    let guard = cond.lock().await;
    cond.notify(&guard, 1);
    drop(guard);
    drop(b.await);
    assert_eq!(cond.waiting(), 0);
}

#[tether::test]
async fn conditions_can_share_a_lock() {
    let lock = Lock::new();
    let not_empty = Condition::with_lock(&lock);
    let not_full = Condition::with_lock(&lock);
    let items = Cell::new(0);
    tether::task_group!(|tg| {
        tg.create_task(async {
            for _ in 0..10 {
                let guard = not_full.lock().await;
                let guard = not_full.wait_for(guard, || items.get() < 2).await;
                items.set(items.get() + 1);
                not_empty.notify(&guard, 1);
            }
        });
        tg.create_task(async {
            for _ in 0..10 {
                let guard = not_empty.lock().await;
                let guard = not_empty.wait_for(guard, || items.get() > 0).await;
                assert!(items.get() <= 2);
                items.set(items.get() - 1);
                not_full.notify(&guard, 1);
            }
        });
    })
    .unwrap();
    assert_eq!(items.get(), 0);
    assert!(!lock.is_locked());
}

#[test]
fn the_guard_of_another_lock_is_refused() {
    let cond = Condition::new();
    let other = Lock::new();
    let guard = other.try_lock().unwrap();
    let panic = catch_unwind(AssertUnwindSafe(|| cond.notify(&guard, 1))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("guard of a different Lock"), "{message}");
}

#[test]
fn loops_on_two_threads_hand_off_through_a_condition() {
    const ROUNDS: usize = 100;
    let cond = Arc::new(Condition::with_lock(Arc::new(Lock::new())));
    // Whose turn it is: even for the first thread, odd for the second.
    let turn = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..2)
        .map(|me| {
            let (cond, turn) = (cond.clone(), turn.clone());
            std::thread::spawn(move || {
                tether::run(async {
                    for _ in 0..ROUNDS {
                        let guard = cond.lock().await;
                        let guard = cond
                            .wait_for(guard, || turn.load(Ordering::SeqCst) % 2 == me)
                            .await;
                        turn.fetch_add(1, Ordering::SeqCst);
                        cond.notify_all(&guard);
                    }
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(turn.load(Ordering::SeqCst), 2 * ROUNDS);
}
