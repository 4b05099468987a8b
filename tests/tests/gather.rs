//! gather! and gather(): awaiting several futures inside the calling task.

use std::cell::Cell;
use std::time::Duration;

use tether::time::Instant;
use tether_tests::DropCounter;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

async fn after(delay: u64, value: &str) -> String {
    tether::sleep(secs(delay)).await;
    value.to_owned()
}

#[tether::test(start_paused)]
async fn gather_runs_futures_concurrently_and_returns_a_tuple_in_argument_order() {
    let start = Instant::now();
    let (a, b, c) = tether::gather!(after(2, "slow"), after(1, "fast"), async { 3 });
    assert_eq!((a.as_str(), b.as_str(), c), ("slow", "fast", 3));
    assert_eq!(start.elapsed(), secs(2));
}

#[tether::test]
async fn gather_futures_may_borrow_locals() {
    let counter = Cell::new(0);
    let bump = || async {
        tether::yield_now().await;
        counter.set(counter.get() + 1);
    };
    tether::gather!(bump(), bump(), bump());
    assert_eq!(counter.get(), 3);
}

#[tether::test]
async fn gather_accepts_tasks() {
    let task = tether::create_task(async { 5 });
    let (out,) = tether::gather!(task);
    assert_eq!(out.unwrap(), 5);
}

#[tether::test(start_paused)]
async fn gather_try_returns_the_first_err_and_drops_the_rest() {
    let drops = DropCounter::new();
    let start = Instant::now();
    let slow = {
        let guard = drops.guard();
        async move {
            let _guard = guard;
            tether::sleep(secs(10)).await;
            Ok::<u8, String>(1)
        }
    };
    let failing = async {
        tether::sleep(secs(1)).await;
        Err::<u8, _>("failed".to_owned())
    };
    let result = tether::gather!(try slow, failing);
    assert_eq!(result, Err("failed".to_owned()));
    assert_eq!(start.elapsed(), secs(1));
    assert_eq!(drops.dropped(), 1);
}

#[tether::test]
async fn gather_try_returns_every_ok_value() {
    let result = tether::gather!(try async { Ok::<_, ()>(1) }, async { Ok(2) });
    assert_eq!(result, Ok((1, 2)));
}

#[tether::test(start_paused)]
async fn gather_function_keeps_order_for_a_dynamic_number_of_futures() {
    let start = Instant::now();
    let values = tether::gather((1..=5).rev().map(|n| async move {
        tether::sleep(secs(n)).await;
        n
    }))
    .await;
    assert_eq!(values, [5, 4, 3, 2, 1]);
    assert_eq!(start.elapsed(), secs(5));
}

#[tether::test]
async fn try_gather_stops_at_the_first_error() {
    async fn parse(text: &str) -> Result<u8, std::num::ParseIntError> {
        text.parse()
    }
    assert_eq!(
        tether::try_gather(["1", "2"].map(parse)).await,
        Ok(vec![1, 2])
    );
    assert!(
        tether::try_gather(["1", "x", "3"].map(parse))
            .await
            .is_err()
    );
}

/// Above a few dozen futures, `gather` polls only the futures that were woken: 200 futures
/// finishing one at a time are polled about twice each, not 200 times each.
#[tether::test(start_paused)]
async fn gather_of_many_keeps_order_and_polls_only_what_was_woken() {
    let polls = Cell::new(0_u32);
    let start = Instant::now();
    let values = tether::gather((0..200_u64).map(|n| {
        let polls = &polls;
        let mut sleep = Box::pin(tether::sleep(Duration::from_millis(200 - n)));
        std::future::poll_fn(move |cx| {
            polls.set(polls.get() + 1);
            sleep.as_mut().poll(cx).map(|()| n)
        })
    }))
    .await;
    assert_eq!(values, (0..200).collect::<Vec<_>>());
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    assert!(polls.get() <= 2 * 200, "{} polls", polls.get());
}

#[tether::test(start_paused)]
async fn try_gather_of_many_returns_the_first_err_and_drops_the_rest() {
    let drops = DropCounter::new();
    let start = Instant::now();
    let result = tether::try_gather((0..100_u64).map(|n| {
        let guard = drops.guard();
        async move {
            let _guard = guard;
            if n == 50 {
                tether::sleep(secs(1)).await;
                return Err(n);
            }
            tether::sleep(secs(10)).await;
            Ok(n)
        }
    }))
    .await;
    assert_eq!(result, Err(50));
    assert_eq!(start.elapsed(), secs(1));
    assert_eq!(drops.dropped(), 100);
}
