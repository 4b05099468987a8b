//! select! and select_biased!: the first future to finish wins, the others are dropped.

use std::pin::pin;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{pending, ready};
use tether::time::Instant;
use tether_tests::DropCounter;

#[tether::test]
async fn select_polls_ready_branches_in_a_random_order() {
    let (mut first, mut second) = (0, 0);
    for _ in 0..200 {
        tether::select! {
            () = ready(()).fuse() => first += 1,
            () = ready(()).fuse() => second += 1,
        }
    }
    // Each order has probability 1/2 per round: both show up (failure odds 2^-199).
    assert!(first > 0 && second > 0, "first {first}, second {second}");
    assert_eq!(first + second, 200);
}

#[tether::test]
async fn select_biased_polls_in_the_order_written() {
    for _ in 0..100 {
        let winner = tether::select_biased! {
            n = ready(1).fuse() => n,
            n = ready(2).fuse() => n,
            n = ready(3).fuse() => n,
        };
        assert_eq!(winner, 1);
    }
}

#[tether::test(start_paused)]
async fn the_first_to_finish_wins_and_the_loser_is_dropped_before_the_body_runs() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let start = Instant::now();
    let winner = tether::select! {
        () = async {
            let _guard = guard;
            tether::sleep(Duration::from_secs(10)).await;
        }.fuse() => panic!("the slow branch won"),
        n = async {
            tether::sleep(Duration::from_secs(1)).await;
            7
        }.fuse() => {
            assert_eq!(drops.dropped(), 1, "the loser is dropped before the winner's body");
            n
        }
    };
    assert_eq!(winner, 7);
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tether::test(start_paused)]
async fn complete_runs_once_every_future_has_finished() {
    let mut slow = tether::create_task(async {
        tether::sleep(Duration::from_secs(2)).await;
        "slow"
    });
    let mut fast = tether::create_task(async {
        tether::sleep(Duration::from_secs(1)).await;
        "fast"
    });
    let mut finished = Vec::new();
    let rounds = loop {
        tether::select! {
            done = slow => finished.push(done.unwrap()),
            done = fast => finished.push(done.unwrap()),
            complete => break finished.len(),
        }
    };
    assert_eq!(rounds, 2);
    assert_eq!(finished, ["fast", "slow"]);
}

#[test]
#[should_panic(expected = "has no `complete =>` branch")]
fn without_complete_a_select_over_finished_futures_panics() {
    tether::run(async {
        let mut done = ready(1).fuse();
        assert_eq!((&mut done).await, 1);
        tether::select! {
            n = done => panic!("a finished future was polled again: {n}"),
        }
    });
}

#[test]
fn default_runs_when_no_future_is_ready_and_does_not_wait() {
    // No `.await` with `default`: it works outside async code.
    let state = tether::select! {
        () = pending::<()>().fuse() => "ready",
        default => "not ready",
    };
    assert_eq!(state, "not ready");
    let state = tether::select! {
        () = pending::<()>().fuse() => "pending one",
        n = ready(5).fuse() => if n == 5 { "ready one" } else { "wrong value" },
        default => "not ready",
    };
    assert_eq!(state, "ready one");
}

#[tether::test(start_paused)]
async fn a_pinned_future_by_path_survives_the_rounds_it_loses() {
    let mut deadline = pin!(tether::sleep(Duration::from_secs(3)).fuse());
    let mut ticks = 0;
    loop {
        tether::select_biased! {
            () = deadline => break,
            () = tether::sleep(Duration::from_secs(1)).fuse() => {
                ticks += 1;
                continue;
            }
        }
    }
    // Ticks at 1s and 2s; at 3s both are due and the deadline, written first, wins.
    assert_eq!(ticks, 2);
}

#[tether::test]
async fn bodies_act_on_the_surrounding_code() {
    async fn first_number(text: &str) -> Result<u32, std::num::ParseIntError> {
        let n = tether::select! {
            parsed = ready(text.parse::<u32>()).fuse() => parsed?,
            () = pending::<()>().fuse() => unreachable!(),
        };
        Ok(n * 2)
    }
    assert_eq!(first_number("21").await, Ok(42));
    assert!(first_number("x").await.is_err());
}

#[tether::test]
async fn patterns_may_have_alternatives_and_destructure() {
    let value = tether::select! {
        Ok(n) | Err(n) = ready(Err::<u8, u8>(4)).fuse() => n,
    };
    assert_eq!(value, 4);
    let (a, b) = tether::select! {
        (x, y) = ready((1, 2)).fuse() => (y, x),
    };
    assert_eq!((a, b), (2, 1));
}

#[tether::test]
async fn selects_nest_in_futures_and_in_bodies() {
    let inner = async {
        tether::select_biased! {
            n = ready(1).fuse() => n,
            n = ready(2).fuse() => n,
        }
    };
    let value = tether::select! {
        n = inner.fuse() => tether::select_biased! {
            m = ready(n * 10).fuse() => m,
            complete => 0,
        },
    };
    assert_eq!(value, 10);
}
