//! `first_ok`: the first success wins, the rest are dropped; all failures are kept in order.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tether::time::Instant;
use tether_tests::{DropCounter, Log, on_both_flavors};

type Attempt<'a> = Pin<Box<dyn Future<Output = Result<&'static str, String>> + 'a>>;

fn attempt<'a>(
    log: &'a Log,
    drops: &'a DropCounter,
    name: &'static str,
    ms: u64,
    ok: bool,
) -> Attempt<'a> {
    Box::pin(async move {
        let _guard = drops.guard();
        tether::sleep(Duration::from_millis(ms)).await;
        log.push(name);
        if ok {
            Ok(name)
        } else {
            Err(format!("{name} failed"))
        }
    })
}

#[tether::test(start_paused)]
async fn the_first_ok_wins_and_the_rest_are_dropped_once() {
    let (log, drops) = (Log::new(), DropCounter::new());
    let start = Instant::now();
    let won = tether::first_ok([
        attempt(&log, &drops, "slow ok", 30, true),
        attempt(&log, &drops, "quick failure", 10, false),
        attempt(&log, &drops, "middle ok", 20, true),
    ])
    .await;
    assert_eq!(won, Ok("middle ok"), "a failure does not end the race");
    assert_eq!(start.elapsed(), Duration::from_millis(20));
    assert_eq!(drops.dropped(), 3, "every attempt dropped, exactly once");
    tether::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        log.events(),
        ["quick failure", "middle ok"],
        "the loser never ran on"
    );
}

#[tether::test(start_paused)]
async fn when_all_fail_every_error_comes_back_in_input_order() {
    let (log, drops) = (Log::new(), DropCounter::new());
    let failed = tether::first_ok([
        attempt(&log, &drops, "a", 30, false),
        attempt(&log, &drops, "b", 10, false),
        attempt(&log, &drops, "c", 20, false),
    ])
    .await
    .unwrap_err();
    assert_eq!(failed.errors(), ["a failed", "b failed", "c failed"]);
    assert_eq!(log.events(), ["b", "c", "a"]);
    assert!(
        failed.to_string().contains("all 3 attempts failed"),
        "{failed}"
    );
    assert_eq!(drops.dropped(), 3);
}

#[tether::test]
async fn nothing_to_try_is_a_failure_with_no_errors() {
    let none: Vec<std::future::Ready<Result<(), ()>>> = Vec::new();
    assert!(
        tether::first_ok(none)
            .await
            .unwrap_err()
            .into_errors()
            .is_empty()
    );
}

on_both_flavors!(the_attempts_may_be_spawned_tasks);

async fn the_attempts_may_be_spawned_tasks() {
    let tasks = (0..4u64).map(|n| {
        tether::spawn(async move {
            if n < 3 {
                return Err(n);
            }
            tether::yield_now().await;
            Ok(n)
        })
    });
    let won = tether::first_ok(tasks.map(|task| async { task.await.unwrap() })).await;
    assert_eq!(won, Ok(3));
}
