//! `tether::sync::Semaphore` and `BoundedSemaphore`: limits, FIFO hand-off, cancellation,
//! the manual acquire/release form, threads.

use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures::poll;
use tether::TaskSet;
use tether::sync::{BoundedSemaphore, Semaphore};
use tether::time::Instant;
use tether_tests::Log;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tether::test]
async fn permits_are_counted() {
    let sem = Semaphore::new(2);
    assert_eq!(sem.available_permits(), 2);
    let a = sem.acquire().await;
    let b = sem.try_acquire().expect("a second permit");
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.is_locked());
    assert!(sem.try_acquire().is_none());
    drop(a);
    assert_eq!(sem.available_permits(), 1);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    assert!(!sem.is_locked());
}

#[tether::test(start_paused)]
async fn at_most_n_tasks_hold_a_permit() {
    let sem = Semaphore::new(3);
    let (running, most) = (Cell::new(0), Cell::new(0));
    let start = Instant::now();
    tether::task_group!(|tg| {
        for _ in 0..9 {
            tg.create_task(async {
                let _permit = sem.acquire().await;
                running.set(running.get() + 1);
                most.set(most.get().max(running.get()));
                tether::sleep(ms(10)).await;
                running.set(running.get() - 1);
            });
        }
    })
    .unwrap();
    assert_eq!(most.get(), 3);
    assert_eq!(start.elapsed(), ms(30), "three waves of three");
    assert_eq!(sem.available_permits(), 3);
}

#[tether::test(start_paused)]
async fn waiters_get_permits_in_arrival_order() {
    let sem = Rc::new(Semaphore::new(1));
    let log = Log::new();
    let held = sem.acquire().await;
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (sem, log) = (sem.clone(), log.clone());
            tether::create_task(async move {
                let _permit = sem.acquire().await;
                log.push(format!("{i}"));
                tether::sleep(ms(1)).await;
            })
        })
        .collect();
    tether::yield_now().await;
    assert_eq!(sem.waiting(), 5);
    drop(held);
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(log.events(), ["0", "1", "2", "3", "4"]);
}

#[tether::test]
async fn a_released_permit_goes_to_the_waiter_not_to_a_latecomer() {
    let sem = Semaphore::new(1);
    let held = sem.acquire().await;
    let mut waiter = pin!(sem.acquire());
    assert!(poll!(waiter.as_mut()).is_pending());
    drop(held);
    assert_eq!(sem.available_permits(), 0, "promised to the waiter");
    assert!(sem.try_acquire().is_none());
    drop(waiter.await);
    assert_eq!(sem.available_permits(), 1);
}

#[tether::test]
async fn a_dropped_waiter_leaves_the_queue() {
    let sem = Semaphore::new(0);
    let mut a = Box::pin(sem.acquire());
    let mut b = pin!(sem.acquire());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    assert_eq!(sem.waiting(), 2);
    drop(a);
    assert_eq!(sem.waiting(), 1);
    sem.release();
    let permit = b.await;
    drop(permit);
    assert_eq!(sem.available_permits(), 1);
}

#[tether::test]
async fn a_waiter_woken_then_dropped_before_it_ran_passes_the_permit_on() {
    let sem = Semaphore::new(1);
    let held = sem.acquire().await;
    let mut a = Box::pin(sem.acquire());
    let mut b = pin!(sem.acquire());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    drop(held); // a's now
    drop(a); // gone before it ran: b's
    assert_eq!(sem.available_permits(), 0);
    let permit = b.await;
    drop(permit);
    assert_eq!(sem.available_permits(), 1, "no permit was lost");
}

#[tether::test]
async fn a_cancelled_task_woken_with_a_permit_passes_it_on() {
    let sem = Rc::new(Semaphore::new(1));
    let log = Log::new();
    let held = sem.acquire().await;
    let spawn = |name: &'static str| {
        let (sem, log) = (sem.clone(), log.clone());
        tether::create_task(async move {
            let _permit = sem.acquire().await;
            log.push(name);
        })
    };
    let (a, b) = (spawn("a"), spawn("b"));
    tether::yield_now().await;
    drop(held);
    a.cancel();
    assert!(a.await.unwrap_err().is_cancelled());
    b.await.unwrap();
    assert_eq!(log.events(), ["b"]);
    assert_eq!(sem.available_permits(), 1);
}

#[tether::test]
async fn the_manual_form_forget_then_release() {
    let sem = Semaphore::new(1);
    sem.acquire().await.forget();
    assert_eq!(sem.available_permits(), 0);
    sem.release();
    assert_eq!(sem.available_permits(), 1);
    // asyncio's Semaphore may grow past its initial value.
    sem.release();
    assert_eq!(sem.available_permits(), 2);
}

#[tether::test]
async fn a_release_wakes_a_waiter() {
    let sem = Semaphore::new(0);
    tether::task_group!(|tg| {
        let waiter = tg.create_task(async { sem.acquire().await.forget() });
        tether::yield_now().await;
        assert!(!waiter.is_finished());
        sem.release();
        waiter.await.unwrap();
    })
    .unwrap();
    assert_eq!(sem.available_permits(), 0);
}

#[tether::test]
async fn a_bounded_semaphore_refuses_extra_releases() {
    let sem = BoundedSemaphore::new(2);
    let err = sem.release().unwrap_err();
    assert_eq!(err.permits(), 2);
    assert!(err.to_string().contains("released too many times"), "{err}");

    sem.acquire().await.forget();
    assert_eq!(sem.release(), Ok(()));
    assert!(sem.release().is_err());

    // A permit held by a guard comes back by itself: releasing it by hand is refused.
    let guard = sem.acquire().await;
    assert!(sem.release().is_err());
    drop(guard);
    assert_eq!(sem.available_permits(), 2);
}

#[tether::test(start_paused)]
async fn owned_permits_move_into_task_set_members() {
    let sem = Arc::new(Semaphore::new(2));
    let running = Rc::new(Cell::new(0));
    let most = Rc::new(Cell::new(0));
    let mut set = TaskSet::new();
    for _ in 0..6 {
        let permit = sem.clone().acquire_owned().await;
        let (running, most) = (running.clone(), most.clone());
        set.create_task(async move {
            let _permit = permit;
            running.set(running.get() + 1);
            most.set(most.get().max(running.get()));
            tether::sleep(ms(5)).await;
            running.set(running.get() - 1);
        });
    }
    set.join_all().await;
    assert_eq!(most.get(), 2);
    assert_eq!(sem.available_permits(), 2);

    let bounded = Arc::new(BoundedSemaphore::new(1));
    bounded.clone().acquire_owned().await.forget();
    assert!(bounded.clone().try_acquire_owned().is_none());
    bounded.release().unwrap();
    assert!(bounded.clone().try_acquire_owned().is_some());
}

#[test]
fn permits_released_by_other_threads_wake_the_loop() {
    let sem = Arc::new(Semaphore::new(0));
    let releaser = {
        let sem = sem.clone();
        std::thread::spawn(move || {
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(5));
                sem.release();
            }
        })
    };
    tether::run(async {
        for _ in 0..3 {
            sem.acquire().await.forget();
        }
    });
    releaser.join().unwrap();
    assert_eq!(sem.available_permits(), 0);
}
