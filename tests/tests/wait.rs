//! asyncio.wait, as_completed and shield.

use std::time::Duration;

use tether::time::Instant;
use tether::{ReturnWhen, Task};
use tether_tests::DropCounter;

fn sleeper(secs: u64) -> Task<u64> {
    tether::create_task(async move {
        tether::sleep(Duration::from_secs(secs)).await;
        secs
    })
}

#[tether::test(start_paused)]
async fn first_completed_returns_as_soon_as_one_finishes() {
    let start = Instant::now();
    let waited = tether::wait(
        [sleeper(3), sleeper(1), sleeper(2)],
        ReturnWhen::FirstCompleted,
    )
    .await;
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(waited.done.len(), 1);
    assert_eq!(waited.pending.len(), 2);
    assert!(
        waited.pending.iter().all(|task| !task.is_finished()),
        "pending tasks keep running, still owned"
    );
    for task in waited.pending {
        assert!(task.await.unwrap() > 1);
    }
    assert_eq!(waited.done.into_iter().next().unwrap().await.unwrap(), 1);
}

#[tether::test(start_paused)]
async fn all_completed_waits_for_every_task_in_completion_order() {
    let start = Instant::now();
    let waited = tether::wait(
        [sleeper(3), sleeper(1), sleeper(2)],
        ReturnWhen::AllCompleted,
    )
    .await;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert!(waited.pending.is_empty());
    let mut done = Vec::new();
    for mut task in waited.done {
        done.push(*task.try_result().unwrap().as_ref().unwrap());
    }
    assert_eq!(done, [1, 2, 3]);
}

#[tether::test(start_paused)]
async fn first_exception_returns_at_the_first_failure_not_at_a_cancellation() {
    let start = Instant::now();
    let cancelled = sleeper(10);
    cancelled.cancel();
    let failing = tether::create_task(async {
        tether::sleep(Duration::from_secs(2)).await;
        panic!("failed");
    });
    let tasks: Vec<Task<u64>> = vec![cancelled, sleeper(1), failing, sleeper(5)];
    let waited = tether::wait(tasks, ReturnWhen::FirstException).await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(
        waited.done.len(),
        3,
        "the cancelled, the 1s and the failed task"
    );
    assert_eq!(waited.pending.len(), 1);
}

#[tether::test(start_paused)]
async fn first_exception_without_failures_waits_for_all() {
    let start = Instant::now();
    let waited = tether::wait([sleeper(1), sleeper(2)], ReturnWhen::FirstException).await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(waited.done.len(), 2);
}

#[tether::test(start_paused)]
async fn a_wait_timeout_returns_what_is_done_by_then() {
    let start = Instant::now();
    let waited = tether::wait(
        [sleeper(1), sleeper(5), sleeper(9)],
        ReturnWhen::AllCompleted,
    )
    .timeout(Duration::from_secs(3))
    .await;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(waited.done.len(), 1);
    assert_eq!(waited.pending.len(), 2);
}

#[tether::test]
async fn waiting_on_nothing_returns_at_once() {
    let waited = tether::wait(Vec::<Task<()>>::new(), ReturnWhen::AllCompleted).await;
    assert!(waited.done.is_empty() && waited.pending.is_empty());
}

#[tether::test(start_paused)]
async fn wait_accepts_group_task_handles() {
    tether::task_group!(|tg| {
        let handles = [3, 1].map(|secs| {
            tg.create_task(async move {
                tether::sleep(Duration::from_secs(secs)).await;
                secs
            })
        });
        let waited = tether::wait(handles, ReturnWhen::FirstCompleted).await;
        assert_eq!(waited.done.into_iter().next().unwrap().await.unwrap(), 1);
    })
    .unwrap();
}

#[tether::test(start_paused)]
async fn as_completed_yields_tasks_in_completion_order() {
    let mut stream = tether::as_completed([sleeper(3), sleeper(1), sleeper(2)]);
    assert_eq!(stream.len(), 3);
    let mut order = Vec::new();
    while let Some(task) = stream.next().await {
        assert!(task.is_finished());
        order.push((task.await.unwrap(), Instant::now()));
    }
    let values: Vec<_> = order.iter().map(|(v, _)| *v).collect();
    assert_eq!(values, [1, 2, 3]);
}

#[tether::test]
async fn dropping_as_completed_cancels_the_tasks_it_still_owns() {
    let drops = DropCounter::new();
    let tasks: Vec<Task<()>> = (0..3)
        .map(|_| {
            let guard = drops.guard();
            tether::create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
        })
        .collect();
    let stream = tether::as_completed(tasks);
    drop(stream);
    tether::yield_now().await;
    assert_eq!(drops.dropped(), 3);
}

#[tether::test(start_paused)]
async fn a_shielded_task_survives_the_cancellation_of_its_awaiter() {
    let start = Instant::now();
    let mut task = sleeper(5);
    let hurried = tether::timeout(Duration::from_secs(1), tether::shield(&mut task)).await;
    assert!(hurried.is_err());
    assert!(!task.is_finished());
    assert_eq!(task.await.unwrap(), 5);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tether::test(start_paused)]
async fn shield_keeps_a_task_going_when_the_awaiting_task_is_cancelled() {
    let mut task = sleeper(3);
    let borrowed = &mut task;
    tether::task_group!(move |tg| {
        // A scoped child borrows the task: cancelling the child drops only the shield.
        let awaiter = tg.create_task(async move { tether::shield(borrowed).await });
        tether::sleep(Duration::from_secs(1)).await;
        awaiter.cancel();
        assert!(awaiter.await.unwrap_err().is_cancelled());
    })
    .unwrap();
    assert!(!task.is_finished());
    assert_eq!(task.await.unwrap(), 3);
}

#[tether::test(start_paused)]
async fn first_completed_returns_every_task_finished_in_the_same_tick() {
    // Two timers fire together: both tasks finish before `wait` runs again.
    let waited = tether::wait(
        [sleeper(5), sleeper(2), sleeper(9), sleeper(2)],
        ReturnWhen::FirstCompleted,
    )
    .await;
    assert_eq!(
        waited.done.len(),
        2,
        "both tasks done by then are in `done`"
    );
    assert!(waited.done.iter().all(Task::is_finished));
    assert!(waited.pending.iter().all(|task| !task.is_finished()));
    let mut done = Vec::new();
    for task in waited.done {
        done.push(task.await.unwrap());
    }
    assert_eq!(done, [2, 2]);
    let mut pending = Vec::new();
    for task in waited.pending {
        pending.push(task.await.unwrap());
    }
    assert_eq!(pending, [5, 9], "pending keeps input order");
}

#[tether::test]
async fn tasks_finished_before_wait_runs_are_all_done() {
    let tasks = [1, 2, 3].map(|n| tether::create_task(async move { n }));
    let slow = tether::create_task(std::future::pending::<i32>());
    tether::yield_now().await;
    let waited = tether::wait(tasks.into_iter().chain([slow]), ReturnWhen::FirstCompleted).await;
    assert_eq!(waited.done.len(), 3);
    assert_eq!(waited.pending.len(), 1);
}
