//! TaskSet: ownership of `'static` background work.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use tether::TaskSet;
use tether::time::Instant;
use tether_tests::DropCounter;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tether::test(start_paused)]
async fn join_next_returns_outcomes_in_completion_order() {
    let mut set = TaskSet::new();
    for delay in [30, 10, 20] {
        set.create_task(async move {
            tether::sleep(ms(delay)).await;
            delay
        });
    }
    assert_eq!(set.len(), 3);
    let mut order = Vec::new();
    while let Some(outcome) = set.join_next().await {
        order.push(outcome.unwrap());
    }
    assert_eq!(order, [10, 20, 30]);
    assert!(set.is_empty());
    assert!(set.join_next().await.is_none());
}

#[tether::test]
async fn a_panicking_member_is_reported_and_the_rest_go_on() {
    let mut set = TaskSet::new();
    set.create_task(async { panic!("member failed") });
    set.create_task(async { 1 });
    let outcomes = set.join_all().await;
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().any(|o| matches!(o, Ok(1))));
    assert!(
        outcomes
            .iter()
            .any(|o| o.as_ref().is_err_and(|e| e.is_panic()))
    );
}

#[tether::test]
async fn dropping_the_set_cancels_its_tasks() {
    let drops = DropCounter::new();
    let finished = Rc::new(Cell::new(false));
    let mut set = TaskSet::new();
    for _ in 0..3 {
        let (guard, finished) = (drops.guard(), finished.clone());
        set.create_task(async move {
            let _guard = guard;
            tether::sleep(Duration::from_secs(3600)).await;
            finished.set(true);
        });
    }
    tether::yield_now().await;
    drop(set);
    tether::yield_now().await;
    assert_eq!(drops.dropped(), 3);
    assert!(!finished.get());
}

#[tether::test(start_paused)]
async fn shutdown_cancels_and_waits_until_every_future_is_dropped() {
    let drops = DropCounter::new();
    let start = Instant::now();
    let mut set = TaskSet::new();
    for _ in 0..5 {
        let guard = drops.guard();
        set.create_task(async move {
            let _guard = guard;
            tether::sleep(Duration::from_secs(3600)).await;
        });
    }
    set.shutdown().await;
    assert_eq!(drops.dropped(), 5);
    assert!(set.is_empty());
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tether::test(start_paused)]
async fn a_background_set_discards_outcomes_as_tasks_finish() {
    let done = Rc::new(Cell::new(0));
    let mut set = TaskSet::background();
    for delay in 1..=10 {
        let done = done.clone();
        set.create_task(async move {
            tether::sleep(ms(delay)).await;
            done.set(done.get() + 1);
            vec![0u8; 1024]
        });
    }
    assert_eq!(set.len(), 10);
    // Between deadlines: tasks 1..=5 have finished, 6..=10 have not.
    tether::sleep(Duration::from_micros(5500)).await;
    assert_eq!(set.len(), 5, "finished tasks left the set on their own");
    assert!(set.join_next().await.is_none());
    assert_eq!(done.get(), 10);
    assert!(set.is_empty());
}

#[tether::test]
async fn a_background_set_cancels_its_tasks_when_dropped() {
    let drops = DropCounter::new();
    let mut set = TaskSet::background();
    for _ in 0..3 {
        let guard = drops.guard();
        set.create_task(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
    }
    tether::yield_now().await;
    drop(set);
    tether::yield_now().await;
    assert_eq!(drops.dropped(), 3);
}

#[tether::test]
async fn a_background_set_survives_panicking_members() {
    let mut set = TaskSet::background();
    set.create_task(async { panic!("background failure") });
    set.create_task(async {});
    assert!(set.join_next().await.is_none());
    assert!(set.is_empty());
}

#[tether::test]
async fn a_background_set_shuts_down() {
    let drops = DropCounter::new();
    let mut set = TaskSet::background();
    for _ in 0..4 {
        let guard = drops.guard();
        set.create_task(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
    }
    set.shutdown().await;
    assert_eq!(drops.dropped(), 4);
    assert!(set.is_empty());
}

#[tether::test]
async fn create_task_returns_the_new_tasks_id() {
    let mut set = TaskSet::new();
    let a = set.create_task(async {});
    let b = set.create_task(async {});
    assert!(a < b);
    set.join_all().await;
}

/// Waits, yielding to the loop, until `done` holds; panics after a generous wall-time bound
/// (the members run on other workers, so there is no virtual clock to advance).
async fn until(mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out");
        tether::yield_now().await;
    }
}

#[test]
fn spawned_members_on_a_multi_worker_runtime_are_joined() {
    let runtime = tether::Runtime::builder().workers(2).build();
    let (total, left) = runtime.run(async {
        let mut set = TaskSet::new();
        for part in 0..8u64 {
            set.spawn(async move {
                tether::yield_now().await;
                (part * 1_000..(part + 1) * 1_000).sum::<u64>()
            });
        }
        assert_eq!(set.len(), 8);
        let outputs = set.join_all().await;
        let total: u64 = outputs.into_iter().map(Result::unwrap).sum();
        (total, set.len())
    });
    assert_eq!(total, (0..8_000u64).sum::<u64>());
    assert_eq!(left, 0);
}

#[test]
fn a_background_set_lets_go_of_spawned_members_that_end_on_other_workers() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let runtime = tether::Runtime::builder().workers(2).build();
    runtime.run(async {
        let done = Arc::new(AtomicUsize::new(0));
        let mut set = TaskSet::background();
        for i in 0..200 {
            let done = done.clone();
            set.spawn(async move {
                if i % 2 == 0 {
                    tether::yield_now().await;
                }
                if i == 7 {
                    panic!("one member fails");
                }
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
        // Members of both kinds in one set.
        let local = Rc::new(Cell::new(false));
        let seen = local.clone();
        set.create_task(async move { seen.set(true) });
        assert!(set.join_next().await.is_none());
        assert!(set.is_empty());
        assert_eq!(done.load(Ordering::Relaxed), 199);
        assert!(local.get());
    });
}

#[test]
fn dropping_a_set_cancels_its_spawned_members() {
    use std::sync::Arc;

    let runtime = tether::Runtime::builder().workers(2).build();
    runtime.run(async {
        for mut set in [TaskSet::new(), TaskSet::background()] {
            let alive = Arc::new(());
            for _ in 0..4 {
                let alive = alive.clone();
                set.spawn(async move {
                    let _alive = alive;
                    std::future::pending::<()>().await;
                });
            }
            assert_eq!(set.len(), 4);
            drop(set);
            // Each member's future is dropped on the worker that runs it.
            until(|| Arc::strong_count(&alive) == 1).await;
        }
    });
}

#[tether::test(start_paused)]
async fn spawn_on_the_single_loop_is_create_task() {
    let mut set = TaskSet::background();
    set.spawn(tether::sleep(ms(10)));
    set.create_task(tether::sleep(ms(20)));
    assert_eq!(set.len(), 2);
    tether::sleep(ms(15)).await;
    assert_eq!(set.len(), 1);
    let start = Instant::now();
    assert!(set.join_next().await.is_none());
    assert_eq!(start.elapsed(), ms(5));
}

/// Returns its output, then panics when dropped.
struct ReturnsThenPanics(Option<std::sync::Arc<()>>);

impl std::future::Future for ReturnsThenPanics {
    type Output = std::sync::Arc<()>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::task::Poll::Ready(self.0.take().expect("polled once"))
    }
}

impl Drop for ReturnsThenPanics {
    fn drop(&mut self) {
        panic!("a destructor that panics");
    }
}

#[tether::test]
async fn a_background_member_that_panics_in_its_destructor_does_not_leak_its_output() {
    let output = std::sync::Arc::new(());
    let mut set = TaskSet::background();
    set.create_task(ReturnsThenPanics(Some(output.clone())));
    set.spawn(ReturnsThenPanics(Some(output.clone())));
    assert!(set.join_next().await.is_none());
    assert_eq!(std::sync::Arc::strong_count(&output), 1);
}

#[tether::test(start_paused)]
async fn a_dropped_join_next_loses_no_outcome() {
    let mut set = TaskSet::new();
    set.create_task(async {
        tether::sleep(ms(10)).await;
        "late"
    });
    // Gives up before the member ends, and again while it is ending.
    assert!(tether::timeout(ms(5), set.join_next()).await.is_err());
    tether::sleep(ms(10)).await;
    assert_eq!(set.len(), 1);
    assert_eq!(set.join_next().await.unwrap().unwrap(), "late");
    assert!(set.join_next().await.is_none());
}

#[tether::test]
async fn an_eager_member_that_ends_at_once_keeps_its_outcome() {
    use tether::task::Builder;
    let mut set = TaskSet::new();
    set.create_task_with(Builder::new().eager(true), async { 1 });
    set.create_task(async { 2 });
    assert_eq!(set.len(), 2);
    // The eager member ended inside `create_task_with`: its outcome comes first.
    assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
    assert_eq!(set.join_next().await.unwrap().unwrap(), 2);
    assert!(set.is_empty());
}

#[tether::test]
async fn members_are_joined_in_the_order_they_end() {
    let mut set = TaskSet::new();
    set.create_task(async {
        tether::cancellation_requested().await;
        "asked to stop"
    });
    set.create_task(std::future::pending::<&str>());
    set.create_task(async { "at once" });
    tether::yield_now().await;
    set.request_cancellation();
    assert_eq!(set.join_next().await.unwrap().unwrap(), "at once");
    assert_eq!(set.join_next().await.unwrap().unwrap(), "asked to stop");
    // The member that ignores the request is still there, until the set cancels it.
    assert_eq!(set.len(), 1);
    set.shutdown().await;
    assert!(set.is_empty());
}

#[tether::test]
async fn a_kept_member_that_panics_in_its_destructor_does_not_leak_its_output() {
    let output = std::sync::Arc::new(());
    let mut set = TaskSet::new();
    set.create_task(ReturnsThenPanics(Some(output.clone())));
    set.spawn(ReturnsThenPanics(Some(output.clone())));
    let outcomes = set.join_all().await;
    assert_eq!(outcomes.len(), 2);
    drop(outcomes);
    assert_eq!(std::sync::Arc::strong_count(&output), 1);
}

#[test]
fn spawned_members_are_joined_in_the_order_they_end() {
    tether::Runtime::builder().workers(2).build().run(async {
        let mut set = TaskSet::new();
        let gate = std::sync::Arc::new(tether::sync::Event::new());
        for i in 0..50u32 {
            let gate = gate.clone();
            set.spawn(async move {
                if i % 2 == 0 {
                    gate.wait().await;
                }
                i
            });
        }
        // The 25 odd members end without waiting; the even ones only after the gate opens.
        let mut first = Vec::new();
        for _ in 0..25 {
            first.push(set.join_next().await.unwrap().unwrap());
        }
        assert!(first.iter().all(|i| i % 2 == 1), "{first:?}");
        gate.set();
        let rest = set.join_all().await;
        assert_eq!(rest.len(), 25);
        assert!(rest.iter().all(|r| r.as_ref().is_ok_and(|i| i % 2 == 0)));
        assert!(set.is_empty());
    });
}
