//! Timers and the clock, on the virtual clock where time is the subject.

use std::time::Duration;

use futures::FutureExt;
use tether::time::Instant;
use tether_tests::Log;

#[tether::test(start_paused)]
async fn an_hour_long_sleep_takes_no_real_time() {
    let real = std::time::Instant::now();
    let start = Instant::now();
    tether::sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    assert!(real.elapsed() < Duration::from_secs(5));
}

#[tether::test(start_paused)]
async fn timers_fire_in_deadline_order() {
    let log = Log::new();
    let sleeper = |ms: u64| {
        let log = log.clone();
        tether::create_task(async move {
            tether::sleep(Duration::from_millis(ms)).await;
            log.push(format!("{ms}"));
        })
    };
    let tasks = [sleeper(300), sleeper(100), sleeper(200), sleeper(50)];
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(log.events(), ["50", "100", "200", "300"]);
}

#[tether::test(start_paused)]
async fn the_virtual_clock_reads_exact_deadlines() {
    let start = Instant::now();
    let a = tether::create_task(async move {
        tether::sleep(Duration::from_secs(1)).await;
        start.elapsed()
    });
    let b = tether::create_task(async move {
        tether::sleep(Duration::from_secs(2)).await;
        start.elapsed()
    });
    assert_eq!(a.await.unwrap(), Duration::from_secs(1));
    assert_eq!(b.await.unwrap(), Duration::from_secs(2));
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "the two sleeps overlapped"
    );
}

#[tether::test(start_paused)]
async fn sleep_until_waits_for_the_deadline() {
    let deadline = Instant::now() + Duration::from_millis(1500);
    tether::sleep_until(deadline).await;
    assert_eq!(Instant::now(), deadline);
}

#[tether::test]
async fn sleep_zero_yields_exactly_once() {
    let log = Log::new();
    let other = {
        let log = log.clone();
        tether::create_task(async move { log.push("other") })
    };
    let mut sleep = std::pin::pin!(tether::sleep(Duration::ZERO));
    assert!(
        sleep.as_mut().now_or_never().is_none(),
        "the first poll yields"
    );
    log.push("main");
    sleep.await;
    other.await.unwrap();
    assert_eq!(log.events(), ["main", "other"]);
}

#[tether::test]
async fn sleep_zero_lets_other_tasks_run() {
    let log = Log::new();
    let other = {
        let log = log.clone();
        tether::create_task(async move { log.push("other") })
    };
    tether::sleep(Duration::ZERO).await;
    log.push("main");
    other.await.unwrap();
    assert_eq!(log.events(), ["other", "main"]);
}

#[tether::test]
async fn a_past_deadline_yields_exactly_once_and_arms_no_timer() {
    let log = Log::new();
    let other = {
        let log = log.clone();
        tether::create_task(async move { log.push("other") })
    };
    let past = Instant::now();
    let mut sleep = std::pin::pin!(tether::sleep_until(past));
    assert!(
        sleep.as_mut().now_or_never().is_none(),
        "the first poll yields"
    );
    assert_eq!(tether::__private::armed_timers(), 0);
    log.push("main");
    sleep.await;
    other.await.unwrap();
    assert_eq!(log.events(), ["main", "other"]);
}

#[tether::test(start_paused)]
async fn a_zero_sleep_arms_no_timer_and_can_be_moved_later() {
    let start = Instant::now();
    let mut sleep = std::pin::pin!(tether::sleep(Duration::ZERO));
    assert!(sleep.is_elapsed());
    assert_eq!(sleep.deadline(), start, "due at once, on the paused clock");
    assert!(sleep.as_mut().now_or_never().is_none());
    assert_eq!(tether::__private::armed_timers(), 0);
    // Moved to a later deadline after its first poll: it waits for that deadline instead.
    sleep.as_mut().reset(start + Duration::from_secs(5));
    assert!(!sleep.is_elapsed());
    sleep.await;
    assert_eq!(Instant::now(), start + Duration::from_secs(5));
}

#[tether::test(start_paused)]
async fn a_dropped_sleep_leaves_no_timer_behind() {
    let mut sleep = Box::pin(tether::sleep(Duration::from_secs(3600)));
    assert!(sleep.as_mut().now_or_never().is_none());
    assert_eq!(tether::__private::armed_timers(), 1);
    drop(sleep);
    assert_eq!(tether::__private::armed_timers(), 0);
    let start = Instant::now();
    tether::sleep(Duration::from_secs(1)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(
        tether::__private::armed_timers(),
        0,
        "a completed sleep disarms too"
    );
}

#[tether::test(start_paused)]
async fn a_cancelled_sleeping_task_leaves_no_timer_behind() {
    let task = tether::create_task(tether::sleep(Duration::from_secs(60)));
    tether::yield_now().await;
    assert_eq!(tether::__private::armed_timers(), 1);
    drop(task);
    tether::yield_now().await;
    assert_eq!(tether::__private::armed_timers(), 0);
}

#[tether::test(start_paused)]
async fn duration_max_neither_overflows_nor_panics() {
    let start = Instant::now();
    let sleep = tether::sleep(Duration::MAX);
    assert!(sleep.deadline() > start + Duration::from_secs(10 * 365 * 24 * 3600));
    sleep.await;
    assert!(start.elapsed() > Duration::from_secs(10 * 365 * 24 * 3600));
    assert_eq!(
        Instant::now().saturating_add(Duration::MAX),
        Instant::now().saturating_add(Duration::MAX)
    );
}

#[tether::test(start_paused)]
async fn reset_moves_a_pending_deadline() {
    let start = Instant::now();
    let mut sleep = Box::pin(tether::sleep(Duration::from_secs(10)));
    assert!(sleep.as_mut().now_or_never().is_none());
    sleep.as_mut().reset(start + Duration::from_secs(2));
    sleep.await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[test]
fn instant_now_outside_a_loop_follows_the_system_clock() {
    let a = Instant::now();
    let b = Instant::now();
    assert!(b >= a);
}

#[test]
fn real_time_sleeps_overlap() {
    let real = std::time::Instant::now();
    tether::run(async {
        let a = tether::create_task(tether::sleep(Duration::from_millis(200)));
        let b = tether::create_task(tether::sleep(Duration::from_millis(200)));
        a.await.unwrap();
        b.await.unwrap();
    });
    let took = real.elapsed();
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(
        took < Duration::from_millis(380),
        "two 200ms sleeps in parallel took {took:?}"
    );
}

#[test]
#[should_panic(expected = "outside a running tether event loop")]
fn polling_a_sleep_outside_a_loop_panics() {
    let _ = tether::sleep(Duration::from_millis(1)).now_or_never();
}
