//! Timeouts: asyncio's timeout(), wait_for() and Timeout.reschedule(), on the virtual clock.

use std::cell::Cell;
use std::pin::pin;
use std::time::Duration;

use futures::FutureExt;
use tether::time::{Instant, timeout_scope};
use tether_tests::DropCounter;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tether::test(start_paused)]
async fn a_timeout_returns_the_output_in_time() {
    let start = Instant::now();
    let result = tether::timeout(secs(5), async {
        tether::sleep(secs(2)).await;
        "in time"
    })
    .await;
    assert_eq!(result, Ok("in time"));
    assert_eq!(start.elapsed(), secs(2));
}

#[tether::test(start_paused)]
async fn an_elapsed_timeout_drops_the_future_at_the_deadline() {
    let drops = DropCounter::new();
    let start = Instant::now();
    let guard = drops.guard();
    let result = tether::timeout(secs(3), async move {
        let _guard = guard;
        tether::sleep(secs(60)).await;
    })
    .await;
    let elapsed = result.unwrap_err();
    assert_eq!(start.elapsed(), secs(3));
    assert_eq!(drops.dropped(), 1);
    assert!(elapsed.to_string().contains("deadline passed"), "{elapsed}");
    assert_eq!(tether::__private::armed_timers(), 0);
}

#[tether::test(start_paused)]
async fn timeout_at_uses_an_absolute_deadline() {
    let deadline = Instant::now() + secs(4);
    assert!(
        tether::timeout_at(deadline, tether::sleep(secs(10)))
            .await
            .is_err()
    );
    assert_eq!(Instant::now(), deadline);
}

#[tether::test(start_paused)]
async fn the_result_wins_when_it_completes_in_the_same_tick_as_the_deadline() {
    // The inner timer armed before the timeout's, then after it: the output wins both ways.
    let inner_first = tether::timeout(secs(1), tether::sleep(secs(1))).await;
    assert_eq!(inner_first, Ok(()));
    let deadline = Instant::now() + secs(1);
    let timeout = tether::timeout_at(deadline, async move {
        tether::yield_now().await;
        tether::sleep_until(deadline).await;
        "kept"
    });
    assert_eq!(timeout.await, Ok("kept"));
}

#[tether::test(start_paused)]
async fn reschedule_moves_a_running_timeout_later_and_earlier() {
    let start = Instant::now();
    let mut later = pin!(tether::timeout(secs(1), tether::sleep(secs(3))));
    assert!(later.as_mut().now_or_never().is_none());
    later.as_mut().reschedule(Some(start + secs(5)));
    assert_eq!(later.deadline(), Some(start + secs(5)));
    assert_eq!(later.as_mut().await, Ok(()));
    assert_eq!(start.elapsed(), secs(3));

    let start = Instant::now();
    let mut earlier = pin!(tether::timeout(secs(10), tether::sleep(secs(60))));
    assert!(earlier.as_mut().now_or_never().is_none());
    earlier.as_mut().reschedule(Some(start + secs(2)));
    assert!(earlier.as_mut().await.is_err());
    assert!(earlier.expired());
    assert_eq!(start.elapsed(), secs(2));
}

#[tether::test(start_paused)]
async fn rescheduling_to_none_waits_forever() {
    let mut unbounded = pin!(tether::timeout(secs(1), tether::sleep(secs(100))));
    assert!(unbounded.as_mut().now_or_never().is_none());
    unbounded.as_mut().reschedule(None);
    let start = Instant::now();
    assert_eq!(unbounded.as_mut().await, Ok(()));
    assert_eq!(start.elapsed(), secs(100));
}

#[tether::test(start_paused)]
async fn timeout_scope_lets_the_body_move_its_deadline() {
    let start = Instant::now();
    let extended = timeout_scope(Some(secs(1)), async |cm| {
        assert_eq!(cm.when(), Some(start + secs(1)));
        cm.reschedule(Some(Instant::now() + secs(10)));
        tether::sleep(secs(5)).await;
        "extended"
    })
    .await;
    assert_eq!(extended, Ok("extended"));
    assert_eq!(start.elapsed(), secs(5));

    let start = Instant::now();
    let shortened = timeout_scope(None, async |cm| {
        tether::sleep(secs(1)).await;
        cm.reschedule(Some(Instant::now() + secs(1)));
        tether::sleep(secs(60)).await;
    })
    .await;
    assert!(shortened.is_err());
    assert_eq!(start.elapsed(), secs(2));
}

#[tether::test(start_paused)]
async fn group_children_may_reschedule_their_scopes_deadline() {
    let start = Instant::now();
    let result = timeout_scope(Some(secs(1)), async |cm| {
        tether::task_group!(|tg| {
            tg.create_task(async {
                cm.reschedule(Some(Instant::now() + secs(30)));
                tether::sleep(secs(20)).await;
            });
        })
        .unwrap();
    })
    .await;
    assert!(result.is_ok());
    assert_eq!(start.elapsed(), secs(20));
}

#[tether::test(start_paused)]
async fn a_timeout_around_a_task_group_cancels_the_whole_group_cleanly() {
    let drops = DropCounter::new();
    let finished = Cell::new(0);
    let start = Instant::now();
    let result = tether::timeout(secs(2), async {
        tether::task_group!(|tg| {
            for delay in [1, 5, 10] {
                let guard = drops.guard();
                let finished = &finished;
                tg.create_task(async move {
                    let _guard = guard;
                    tether::sleep(secs(delay)).await;
                    finished.set(finished.get() + 1);
                });
            }
        })
    })
    .await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), secs(2));
    assert_eq!(finished.get(), 1, "only the 1s child finished");
    assert_eq!(drops.dropped(), 3, "every child's future was dropped");
    assert_eq!(tether::__private::armed_timers(), 0);
}
