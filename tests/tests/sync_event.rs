//! `tether::sync::Event`: set/clear/wait, waking everyone, cancellation, threads.

use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures::poll;
use tether::TaskSet;
use tether::sync::Event;
use tether::time::Instant;
use tether_tests::Log;

#[tether::test]
async fn set_clear_is_set() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    event.wait().await; // set: returns at once
    event.set(); // setting twice is fine
    event.clear();
    assert!(!event.is_set());
    let mut wait = pin!(event.wait());
    assert!(poll!(wait.as_mut()).is_pending());
}

#[tether::test]
async fn set_wakes_every_waiter_in_arrival_order() {
    let event = Event::new();
    let log = Log::new();
    tether::task_group!(|tg| {
        for i in 0..4 {
            let (event, log) = (&event, log.clone());
            tg.create_task(async move {
                event.wait().await;
                log.push(format!("{i}"));
            });
        }
        tether::yield_now().await;
        assert!(log.events().is_empty());
        event.set();
    })
    .unwrap();
    assert_eq!(log.events(), ["0", "1", "2", "3"]);
}

#[tether::test]
async fn a_woken_waiter_returns_even_if_cleared_before_it_ran() {
    let event = Event::new();
    let mut wait = pin!(event.wait());
    assert!(poll!(wait.as_mut()).is_pending());
    event.set();
    event.clear();
    assert!(poll!(wait.as_mut()).is_ready(), "the wake-up is remembered");
}

#[tether::test]
async fn a_dropped_waiter_leaves_and_the_others_still_wake() {
    let event = Event::new();
    let mut a = Box::pin(event.wait());
    let mut b = pin!(event.wait());
    let mut c = Box::pin(event.wait());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    assert!(poll!(c.as_mut()).is_pending());
    drop(a);
    assert_eq!(format!("{event:?}"), "Event { set: false, waiters: 2 }");
    event.set();
    // Woken then dropped: nothing to pass on, nothing left behind.
    drop(c);
    b.await;
    assert_eq!(format!("{event:?}"), "Event { set: true, waiters: 0 }");
}

#[tether::test(start_paused)]
async fn task_set_members_wait_for_a_shared_event() {
    let start = Rc::new(Event::new());
    let t0 = Instant::now();
    let mut set = TaskSet::new();
    for _ in 0..3 {
        let start = start.clone();
        set.create_task(async move {
            start.wait().await;
            t0.elapsed()
        });
    }
    tether::sleep(Duration::from_secs(5)).await;
    start.set();
    for outcome in set.join_all().await {
        assert_eq!(outcome.unwrap(), Duration::from_secs(5));
    }
}

#[test]
fn a_thread_sets_an_event_awaited_on_the_loop() {
    let event = Arc::new(Event::new());
    let setter = {
        let event = event.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            event.set();
        })
    };
    let real = std::time::Instant::now();
    tether::run(async {
        tether::task_group!(|tg| {
            for _ in 0..3 {
                tg.create_task(event.wait());
            }
        })
        .unwrap();
    });
    setter.join().unwrap();
    assert!(event.is_set());
    assert!(real.elapsed() < Duration::from_secs(5));
}

static SHUTDOWN: Event = Event::new();

#[test]
fn a_static_event_wakes_loops_on_other_threads() {
    let loops: Vec<_> = (0..3)
        .map(|i| {
            std::thread::spawn(move || {
                tether::run(async move {
                    SHUTDOWN.wait().await;
                    i
                })
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(10));
    SHUTDOWN.set();
    let mut ids: Vec<_> = loops.into_iter().map(|t| t.join().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, [0, 1, 2]);
}
