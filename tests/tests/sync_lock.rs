//! `tether::sync::Lock`: mutual exclusion, FIFO hand-off, cancellation, threads.

use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::poll;
use tether::TaskSet;
use tether::sync::Lock;
use tether_tests::Log;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tether::test]
async fn lock_try_lock_and_is_locked() {
    let lock = Lock::new();
    assert!(!lock.is_locked());
    let guard = lock.lock().await;
    assert!(lock.is_locked());
    assert!(lock.try_lock().is_none());
    drop(guard);
    assert!(!lock.is_locked());
    let guard = lock.try_lock().expect("free again");
    assert!(lock.is_locked());
    drop(guard);
    assert!(!lock.is_locked());
}

#[tether::test(start_paused)]
async fn waiters_get_the_lock_in_arrival_order() {
    let lock = Rc::new(Lock::new());
    let log = Log::new();
    let held = lock.lock().await;
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (lock, log) = (lock.clone(), log.clone());
            tether::create_task(async move {
                let _guard = lock.lock().await;
                log.push(format!("{i}"));
                tether::sleep(ms(10)).await;
            })
        })
        .collect();
    tether::sleep(ms(1)).await;
    drop(held);
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(log.events(), ["0", "1", "2", "3", "4"]);
    assert!(!lock.is_locked());
}

#[tether::test]
async fn a_released_lock_goes_to_the_waiter_not_to_a_latecomer() {
    let lock = Lock::new();
    let held = lock.lock().await;
    let mut waiter = pin!(lock.lock());
    assert!(poll!(waiter.as_mut()).is_pending());
    drop(held);
    // Handed to the waiter, which has not run yet: nobody else may take it.
    assert!(lock.is_locked());
    assert!(lock.try_lock().is_none());
    let mut latecomer = pin!(lock.lock());
    assert!(poll!(latecomer.as_mut()).is_pending());
    let guard = waiter.await;
    drop(guard);
    drop(latecomer.await);
    assert!(!lock.is_locked());
}

#[tether::test]
async fn a_dropped_waiter_leaves_the_queue() {
    let lock = Lock::new();
    let held = lock.lock().await;
    let mut a = pin!(lock.lock());
    let mut b = Box::pin(lock.lock());
    let mut c = pin!(lock.lock());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    assert!(poll!(c.as_mut()).is_pending());
    drop(b);
    drop(held);
    let guard = a.await;
    assert!(poll!(c.as_mut()).is_pending(), "c waits for a");
    drop(guard);
    drop(c.await);
    assert!(!lock.is_locked());
}

#[tether::test]
async fn a_waiter_woken_then_dropped_before_it_ran_passes_the_lock_on() {
    let lock = Lock::new();
    let held = lock.lock().await;
    let mut a = Box::pin(lock.lock());
    let mut b = pin!(lock.lock());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    drop(held); // the lock is now a's
    drop(a); // ... but a never runs again
    assert!(lock.is_locked(), "handed straight to b");
    let guard = b.await;
    drop(guard);
    assert!(!lock.is_locked(), "nothing left holding it");
}

#[tether::test]
async fn a_cancelled_task_woken_with_the_lock_passes_it_on() {
    let lock = Rc::new(Lock::new());
    let log = Log::new();
    let held = lock.lock().await;
    let spawn = |name: &'static str| {
        let (lock, log) = (lock.clone(), log.clone());
        tether::create_task(async move {
            let _guard = lock.lock().await;
            log.push(name);
        })
    };
    let a = spawn("a");
    let b = spawn("b");
    tether::yield_now().await;
    drop(held); // wakes a, with the lock
    a.cancel(); // before a runs
    assert!(a.await.unwrap_err().is_cancelled());
    b.await.unwrap();
    assert_eq!(log.events(), ["b"]);
    assert!(!lock.is_locked());
}

#[tether::test]
async fn an_unpolled_lock_future_takes_nothing() {
    let lock = Lock::new();
    let fut = lock.lock();
    drop(fut);
    assert!(!lock.is_locked());
}

#[tether::test(start_paused)]
async fn group_children_borrow_the_lock() {
    let lock = Lock::new();
    let inside = Cell::new(0);
    let most = Cell::new(0);
    tether::task_group!(|tg| {
        for _ in 0..10 {
            tg.create_task(async {
                let _guard = lock.lock().await;
                inside.set(inside.get() + 1);
                most.set(most.get().max(inside.get()));
                tether::sleep(ms(1)).await;
                inside.set(inside.get() - 1);
            });
        }
    })
    .unwrap();
    assert_eq!(most.get(), 1);
    assert!(!lock.is_locked());
}

#[tether::test(start_paused)]
async fn task_set_members_share_a_lock() {
    let lock = Rc::new(Lock::new());
    let order = Log::new();
    let mut set = TaskSet::new();
    for i in 0..3 {
        let (lock, order) = (lock.clone(), order.clone());
        set.create_task(async move {
            let _guard = lock.lock().await;
            order.push(format!("{i} in"));
            tether::sleep(ms(5)).await;
            order.push(format!("{i} out"));
        });
    }
    set.join_all().await;
    assert_eq!(
        order.events(),
        ["0 in", "0 out", "1 in", "1 out", "2 in", "2 out"]
    );
}

#[test]
fn loops_on_two_threads_exclude_each_other() {
    const PER_THREAD: usize = 200;
    let lock = Arc::new(Lock::new());
    let inside = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (lock, inside, count) = (lock.clone(), inside.clone(), count.clone());
            std::thread::spawn(move || {
                tether::run(async {
                    tether::task_group!(|tg| {
                        for _ in 0..PER_THREAD {
                            tg.create_task(async {
                                let _guard = lock.lock().await;
                                assert!(!inside.swap(true, Ordering::SeqCst), "two holders");
                                tether::yield_now().await;
                                count.fetch_add(1, Ordering::SeqCst);
                                inside.store(false, Ordering::SeqCst);
                            });
                        }
                    })
                    .unwrap();
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), 2 * PER_THREAD);
    assert!(!lock.is_locked());
}

#[test]
fn debug_shows_the_state() {
    let lock = Lock::new();
    let _guard = lock.try_lock();
    assert_eq!(format!("{lock:?}"), "Lock { locked: true, waiters: 0 }");
}
