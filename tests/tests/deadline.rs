//! Deadlines that nest: `move_on_after`, `move_on_at` and `time::current_deadline()`, with the
//! timeouts they nest among. Times are exact: these run on the virtual clock, except the
//! scenarios that also run on two workers.

use std::time::Duration;

use tether::time::{Instant, current_deadline, timeout_scope};
use tether::{move_on_after, move_on_at, timeout};
use tether_tests::{DropCounter, on_both_flavors};

const SEC: Duration = Duration::from_secs(1);

#[tether::test(start_paused)]
async fn outside_any_limit_there_is_no_deadline() {
    assert_eq!(current_deadline(), None);
    let _ = timeout(SEC, async {}).await;
    assert_eq!(
        current_deadline(),
        None,
        "a finished timeout leaves nothing behind"
    );
}

#[tether::test(start_paused)]
async fn the_earliest_of_nested_deadlines_wins_wherever_it_is() {
    let start = Instant::now();
    let seen = timeout(10 * SEC, async {
        let outer = current_deadline();
        let (inner_later, inner_earlier) = (
            move_on_after(60 * SEC, async { current_deadline() })
                .await
                .unwrap(),
            move_on_after(2 * SEC, async {
                let deepest = timeout_scope(Some(5 * SEC), async |_| current_deadline())
                    .await
                    .unwrap();
                (current_deadline(), deepest)
            })
            .await
            .unwrap(),
        );
        (outer, inner_later, inner_earlier, current_deadline())
    })
    .await
    .unwrap();
    let at = |secs| Some(start + secs * SEC);
    assert_eq!(seen.0, at(10));
    assert_eq!(
        seen.1,
        at(10),
        "a later inner limit does not extend the outer one"
    );
    assert_eq!(
        seen.2,
        (at(2), at(2)),
        "an earlier one shortens it, further in too"
    );
    assert_eq!(seen.3, at(10), "and is gone once its code is done");
}

#[tether::test(start_paused)]
async fn the_deadline_follows_the_code_across_awaits_and_reschedules() {
    let start = Instant::now();
    let result = timeout_scope(Some(3 * SEC), async |cm| {
        tether::sleep(SEC).await;
        let before = current_deadline();
        cm.reschedule(Some(start + 8 * SEC));
        tether::yield_now().await;
        (before, current_deadline())
    })
    .await
    .unwrap();
    assert_eq!(result, (Some(start + 3 * SEC), Some(start + 8 * SEC)));
}

#[tether::test(start_paused)]
async fn moving_on_drops_the_future_once_and_returns_none() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let start = Instant::now();
    {
        let mut moved = std::pin::pin!(move_on_after(2 * SEC, async move {
            let _guard = guard;
            tether::sleep(3600 * SEC).await;
        }));
        assert_eq!(moved.deadline(), Some(start + 2 * SEC));
        assert_eq!(moved.as_mut().await, None);
        assert!(moved.moved_on());
        assert_eq!(start.elapsed(), 2 * SEC);
    }
    assert_eq!(drops.dropped(), 1, "dropped with the move-on, once");
    assert_eq!(
        move_on_after(SEC, async { drops.guard() }).await.map(drop),
        Some(())
    );
    assert_eq!(drops.dropped(), 2);
}

#[tether::test(start_paused)]
async fn an_outer_timeout_ends_an_inner_move_on_and_reports_its_own_error() {
    let start = Instant::now();
    let result = timeout(SEC, move_on_after(5 * SEC, tether::sleep(3600 * SEC))).await;
    assert!(result.is_err(), "the outer deadline passed first");
    assert_eq!(start.elapsed(), SEC);

    let result = move_on_at(
        start + 3 * SEC,
        timeout(10 * SEC, tether::sleep(3600 * SEC)),
    )
    .await;
    assert_eq!(result, None);
    assert_eq!(start.elapsed(), 3 * SEC);
}

#[tether::test(start_paused)]
async fn a_reschedule_moves_the_move_on() {
    let start = Instant::now();
    let mut moved = std::pin::pin!(move_on_after(SEC, async {
        tether::sleep(4 * SEC).await;
        current_deadline()
    }));
    moved.as_mut().reschedule(Some(start + 5 * SEC));
    assert_eq!(moved.await, Some(Some(start + 5 * SEC)));
}

#[tether::test(start_paused)]
async fn tasks_made_inside_a_limit_have_none_but_group_children_share_it() {
    let start = Instant::now();
    let (task, eager, child) = timeout(10 * SEC, async {
        let task = tether::create_task(async { current_deadline() });
        let eager = tether::task::Builder::new()
            .eager(true)
            .create_task(async { current_deadline() });
        let child = tether::task_group!(|tg| {
            let child = tg.create_task(async {
                tether::yield_now().await;
                current_deadline()
            });
            child.await.unwrap()
        })
        .unwrap();
        (task, eager, child)
    })
    .await
    .unwrap();
    assert_eq!(
        task.await.unwrap(),
        None,
        "a task outlives the limit it was made under"
    );
    assert_eq!(
        eager.await.unwrap(),
        None,
        "also when it first runs inside it"
    );
    assert_eq!(
        child,
        Some(start + 10 * SEC),
        "a group child is dropped with its group"
    );
}

on_both_flavors!(a_spawned_task_starts_without_its_creators_deadline);

async fn a_spawned_task_starts_without_its_creators_deadline() {
    let seen = timeout(Duration::from_secs(600), async {
        let mine = current_deadline();
        let theirs = tether::spawn(async {
            let outer = current_deadline();
            let inner = timeout(Duration::from_secs(60), async { current_deadline() })
                .await
                .unwrap();
            (outer, inner.is_some())
        });
        (
            mine.is_some(),
            theirs.await.unwrap(),
            current_deadline() == mine,
        )
    })
    .await
    .unwrap();
    assert_eq!(seen, (true, (None, true), true));
    assert_eq!(current_deadline(), None);
}
