//! Concurrency limits of groups (`task_group!(limit = n, ...)`, `TaskGroup::builder().limit(n)`)
//! and sets (`TaskSet::with_limit`): at most `n` children run at once, the others wait unpolled
//! in creation order, owned all the while.
//!
//! Every scenario runs on the single-threaded loop and on two workers. Children count
//! themselves in and out of a shared counter, so the bound is observed from inside; ordering is
//! driven by events, never by sleeps; what waits on time runs on a virtual clock.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tether::sync::Event;
use tether::task::Builder;
use tether::{TaskError, TaskFailure, TaskGroup, TaskSet};

use tether_tests::on_both_flavors;

on_both_flavors!(
    a_limited_set_runs_at_most_n_at_once,
    a_limited_background_set_runs_at_most_n_at_once,
    a_limited_group_runs_at_most_n_at_once,
    spread_and_scoped_children_share_the_limit,
    spawned_set_members_share_the_limit_with_local_ones,
    waiting_children_start_in_creation_order,
    waiting_set_members_start_in_creation_order,
    a_cancelled_waiting_child_is_dropped_unpolled_once,
    an_eager_waiting_child_is_not_polled,
    a_failing_group_drops_its_waiting_children_unpolled,
    a_panicking_set_member_lets_the_next_one_start,
    shutting_a_set_down_drops_its_waiting_members_unpolled,
    dropping_a_set_drops_its_waiting_members_unpolled,
    create_task_when_free_blocks_the_producer_until_a_slot_frees,
    spawn_when_free_blocks_the_producer_until_a_slot_frees,
    group_when_free_blocks_the_body_until_a_slot_frees,
    a_dropped_when_free_future_gives_its_turn_away,
    handles_of_waiting_children_can_be_gathered,
    a_set_is_usable_again_after_shutdown,
    a_set_is_usable_after_a_dropped_shutdown,
    a_group_asked_to_stop_never_starts_its_waiting_children,
);

/// Counts the children running at once, and the most ever seen. Children hold at `gate` until
/// the test opens it, so that a test can see the limit reached before anything ends.
#[derive(Default)]
struct Gauge {
    running: AtomicUsize,
    most: AtomicUsize,
    started: AtomicUsize,
    gate: Event,
}

impl Gauge {
    /// An open gauge: children run straight through.
    fn open() -> Arc<Gauge> {
        let gauge = Arc::new(Gauge::default());
        gauge.gate.set();
        gauge
    }

    /// A child's body: in, wait for the gate, a few turns of the loop, out.
    async fn child(self: Arc<Self>) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        self.started.fetch_add(1, Ordering::SeqCst);
        self.gate.wait().await;
        for _ in 0..3 {
            tether::yield_now().await;
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
    }

    /// Waits until `limit` children run, checks that no more start while they hold their
    /// slots, then opens the gate.
    async fn fill_then_open(&self, limit: usize) {
        until(|| self.running.load(Ordering::SeqCst) == limit).await;
        for _ in 0..50 {
            tether::yield_now().await;
            assert_eq!(self.started(), limit, "a child started beyond the limit");
        }
        self.gate.set();
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }

    fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
}

/// A future that records being polled and being dropped, and otherwise waits for `release`.
struct Probe {
    polled: Arc<AtomicBool>,
    drops: Arc<AtomicUsize>,
    release: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Probe {
    fn new(polled: &Arc<AtomicBool>, drops: &Arc<AtomicUsize>, release: Arc<Event>) -> Probe {
        Probe {
            polled: polled.clone(),
            drops: drops.clone(),
            release: Some(Box::pin(async move { release.wait().await })),
        }
    }
}

impl Future for Probe {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polled.store(true, Ordering::SeqCst);
        match self
            .release
            .as_mut()
            .map(|release| release.as_mut().poll(cx))
        {
            Some(Poll::Pending) => Poll::Pending,
            _ => Poll::Ready(()),
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits, a turn of the loop at a time, until `done` holds (bounded: a stuck runtime fails).
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if done() {
            return;
        }
        tether::yield_now().await;
    }
    panic!("the condition never came true");
}

async fn a_limited_set_runs_at_most_n_at_once() {
    let gauge = Arc::new(Gauge::default());
    let mut set = TaskSet::new().with_limit(3);
    assert_eq!(set.limit(), Some(3));
    for _ in 0..40 {
        set.spawn(gauge.clone().child());
    }
    assert_eq!(set.len(), 40);
    assert_eq!(set.waiting(), 37);
    gauge.fill_then_open(3).await;
    let outcomes = set.join_all().await;
    assert_eq!(outcomes.len(), 40);
    assert!(outcomes.iter().all(Result::is_ok));
    assert_eq!(gauge.most(), 3);
    assert_eq!(gauge.started(), 40);
}

async fn a_limited_background_set_runs_at_most_n_at_once() {
    let gauge = Arc::new(Gauge::default());
    let mut set = TaskSet::background().with_limit(2);
    for _ in 0..30 {
        set.spawn(gauge.clone().child());
    }
    gauge.fill_then_open(2).await;
    assert!(set.join_next().await.is_none());
    assert!(set.is_empty());
    assert_eq!(gauge.most(), 2);
    assert_eq!(gauge.started(), 30);
}

async fn a_limited_group_runs_at_most_n_at_once() {
    let gauge = Arc::new(Gauge::default());
    let gauge_ref = &gauge;
    let waiting = tether::task_group!(limit = 4, |tg| {
        for _ in 0..50 {
            tg.create_task(gauge_ref.clone().child());
        }
        assert_eq!(tg.limit(), Some(4));
        assert_eq!(tg.len(), 50);
        let waiting = tg.waiting();
        gauge_ref.fill_then_open(4).await;
        waiting
    })
    .unwrap();
    assert_eq!(waiting, 46);

    assert_eq!(gauge.most(), 4);
    assert_eq!(gauge.started(), 50);
}

async fn spread_and_scoped_children_share_the_limit() {
    let gauge = Arc::new(Gauge::default());
    let gauge_ref = &gauge;
    tether::task_group!(limit = 3, try |tg| {
        for n in 0..40 {
            let child = gauge_ref.clone().child();
            let child = async move {
                child.await;
                Ok::<_, String>(n)
            };
            if n % 2 == 0 {
                tg.spawn(child);
            } else {
                tg.create_task(child);
            }
        }
        gauge_ref.fill_then_open(3).await;
    })
    .unwrap();
    assert_eq!(gauge.most(), 3);
    assert_eq!(gauge.started(), 40);
}

async fn spawned_set_members_share_the_limit_with_local_ones() {
    let gauge = Arc::new(Gauge::default());
    let mut set = TaskSet::new().with_limit(2);
    for n in 0..30 {
        if n % 3 == 0 {
            set.create_task(gauge.clone().child());
        } else {
            set.spawn(gauge.clone().child());
        }
    }
    gauge.fill_then_open(2).await;
    set.join_all().await;
    assert_eq!(gauge.most(), 2);
    assert_eq!(gauge.started(), 30);
}

async fn waiting_children_start_in_creation_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let order_ref = &order;
    tether::task_group!(limit = 1, |tg| {
        for n in 0..20 {
            let order = order_ref.clone();
            let child = async move {
                order.lock().unwrap().push(n);
                tether::yield_now().await;
            };
            // Scoped and spread children wait in the same line.
            if n % 2 == 0 {
                tg.create_task(child);
            } else {
                tg.spawn(child);
            }
        }
    })
    .unwrap();
    assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
}

async fn waiting_set_members_start_in_creation_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut set = TaskSet::background().with_limit(1);
    for n in 0..20 {
        let order = order.clone();
        set.spawn(async move {
            order.lock().unwrap().push(n);
            tether::yield_now().await;
        });
    }
    set.join_next().await;
    assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
}

async fn a_cancelled_waiting_child_is_dropped_unpolled_once() {
    let release = Arc::new(Event::new());
    let polled: Vec<_> = (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let drops: Vec<_> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let probes = (&polled, &drops, &release);
    tether::task_group!(limit = 1, |tg| {
        let (polled, drops, release) = probes;
        let first = tg.create_task(Probe::new(&polled[0], &drops[0], release.clone()));
        let second = tg.create_task(Probe::new(&polled[1], &drops[1], release.clone()));
        let third = tg.spawn(Probe::new(&polled[2], &drops[2], release.clone()));
        until(|| polled[0].load(Ordering::SeqCst)).await;
        assert!(!second.is_finished());
        assert!(second.cancel());
        assert!(matches!(second.await, Err(TaskError::Cancelled { .. })));
        assert_eq!(drops[1].load(Ordering::SeqCst), 1);
        // The cancelled child's turn passes to the next in line once the first ends.
        assert!(!polled[2].load(Ordering::SeqCst));
        release.set();
        first.await.unwrap();
        third.await.unwrap();
    })
    .unwrap();
    assert!(polled[0].load(Ordering::SeqCst));
    assert!(
        !polled[1].load(Ordering::SeqCst),
        "a cancelled waiting child was polled"
    );
    assert!(polled[2].load(Ordering::SeqCst));
    for drop_count in &drops {
        assert_eq!(drop_count.load(Ordering::SeqCst), 1);
    }
}

async fn an_eager_waiting_child_is_not_polled() {
    let release = Arc::new(Event::new());
    let (first_polled, polled) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let drops = Arc::new(AtomicUsize::new(0));
    let probes = (&first_polled, &polled, &drops, &release);
    tether::task_group!(limit = 1, |tg| {
        let (first_polled, polled, drops, release) = probes;
        let eager = Builder::new().eager(true);
        tg.create_task_with(
            eager.clone(),
            Probe::new(first_polled, drops, release.clone()),
        );
        // Eager: polled inside `create_task_with`, as it holds the only slot.
        assert!(first_polled.load(Ordering::SeqCst));
        tg.create_task_with(eager, Probe::new(polled, drops, release.clone()));
        assert!(
            !polled.load(Ordering::SeqCst),
            "a waiting eager child was polled"
        );
        release.set();
    })
    .unwrap();
    assert!(polled.load(Ordering::SeqCst));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

async fn a_failing_group_drops_its_waiting_children_unpolled() {
    let polled = Arc::new(AtomicBool::new(false));
    let drops = Arc::new(AtomicUsize::new(0));
    let never = Arc::new(Event::new());
    let probes = (&polled, &drops, &never);
    let result = tether::task_group!(limit = 2, |tg| {
        let (polled, drops, never) = probes;
        let blocker = never.clone();
        tg.create_task(async move { blocker.wait().await });
        tg.create_task(async {
            tether::yield_now().await;
            panic!("the second child fails");
        });
        let mut waiting = Vec::new();
        for n in 0..6 {
            let probe = Probe::new(polled, drops, never.clone());
            waiting.push(if n % 2 == 0 {
                tg.create_task(probe)
            } else {
                tg.spawn(probe)
            });
        }
        assert_eq!(tg.waiting(), 6);
        for handle in waiting {
            assert!(matches!(handle.await, Err(TaskError::Cancelled { .. })));
        }
    });
    let failures = result.unwrap_err().into_failures();
    assert_eq!(failures.len(), 1);
    assert!(matches!(&failures[0], TaskFailure::Panicked { .. }));
    assert!(
        !polled.load(Ordering::SeqCst),
        "a waiting child started in a failing group"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 6);
}

async fn a_panicking_set_member_lets_the_next_one_start() {
    let mut set = TaskSet::new().with_limit(1);
    set.spawn(async {
        tether::yield_now().await;
        panic!("the first member fails");
    });
    set.spawn(async { 2 });
    set.create_task(async { 3 });
    // In completion order, which on workers need not be the order of the slots: a member's
    // slot is freed as its future is dropped, a moment before its handle reports the end.
    let outcomes = set.join_all().await;
    let panicked = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(TaskError::Panicked(_))))
        .count();
    assert_eq!(panicked, 1);
    let mut rest: Vec<i32> = outcomes.into_iter().filter_map(Result::ok).collect();
    rest.sort();
    assert_eq!(rest, [2, 3]);
}

async fn shutting_a_set_down_drops_its_waiting_members_unpolled() {
    let release = Arc::new(Event::new());
    let running_polled = Arc::new(AtomicBool::new(false));
    let polled = Arc::new(AtomicBool::new(false));
    let drops = Arc::new(AtomicUsize::new(0));
    let mut set = TaskSet::new().with_limit(2);
    for _ in 0..2 {
        set.spawn(Probe::new(&running_polled, &drops, release.clone()));
    }
    for n in 0..8 {
        let probe = Probe::new(&polled, &drops, release.clone());
        if n % 2 == 0 {
            set.spawn(probe);
        } else {
            set.create_task(probe);
        }
    }
    until(|| running_polled.load(Ordering::SeqCst)).await;
    assert_eq!(set.waiting(), 8);
    set.shutdown().await;
    assert!(set.is_empty());
    assert!(
        !polled.load(Ordering::SeqCst),
        "a waiting member started during shutdown"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 10);
}

async fn dropping_a_set_drops_its_waiting_members_unpolled() {
    let release = Arc::new(Event::new());
    let running_polled = Arc::new(AtomicBool::new(false));
    let polled = Arc::new(AtomicBool::new(false));
    let drops = Arc::new(AtomicUsize::new(0));
    let mut set = TaskSet::background().with_limit(1);
    set.spawn(Probe::new(&running_polled, &drops, release.clone()));
    for _ in 0..5 {
        set.spawn(Probe::new(&polled, &drops, release.clone()));
    }
    until(|| running_polled.load(Ordering::SeqCst)).await;
    drop(set);
    until(|| drops.load(Ordering::SeqCst) == 6).await;
    assert!(
        !polled.load(Ordering::SeqCst),
        "a waiting member started as its set was dropped"
    );
}

async fn create_task_when_free_blocks_the_producer_until_a_slot_frees() {
    let release = Arc::new(Event::new());
    let mut set = TaskSet::new().with_limit(2);
    for _ in 0..2 {
        let release = release.clone();
        set.create_task_when_free(async move { release.wait().await })
            .await;
    }
    {
        let third = set.create_task_when_free(async {});
        let mut third = pin!(third);
        for _ in 0..10 {
            assert!(futures::poll!(third.as_mut()).is_pending());
            tether::yield_now().await;
        }
        release.set();
        third.await;
    }
    assert_eq!(set.waiting(), 0);
    assert_eq!(set.join_all().await.len(), 3);
}

async fn spawn_when_free_blocks_the_producer_until_a_slot_frees() {
    let gauge = Gauge::open();
    let mut set = TaskSet::background().with_limit(3);
    for _ in 0..30 {
        set.spawn_when_free(gauge.clone().child()).await;
        // The producer never runs ahead: nothing ever waits in the set.
        assert_eq!(set.waiting(), 0);
    }
    set.join_next().await;
    assert!(gauge.most() <= 3);
    assert_eq!(gauge.started(), 30);
}

async fn group_when_free_blocks_the_body_until_a_slot_frees() {
    let gauge = Gauge::open();
    let gauge_ref = &gauge;
    tether::task_group!(limit = 2, |tg| {
        for n in 0..20 {
            if n % 2 == 0 {
                tg.create_task_when_free(gauge_ref.clone().child()).await;
            } else {
                tg.spawn_when_free(gauge_ref.clone().child()).await;
            }
            // The producer never runs ahead: nothing ever waits in the group.
            assert_eq!(tg.waiting(), 0);
        }
    })
    .unwrap();
    assert!(gauge.most() <= 2);
    assert_eq!(gauge.started(), 20);
}

async fn a_dropped_when_free_future_gives_its_turn_away() {
    let release = Arc::new(Event::new());
    let drops = Arc::new(AtomicUsize::new(0));
    let polled = Arc::new(AtomicBool::new(false));
    let mut set = TaskSet::new().with_limit(1);
    let blocker = release.clone();
    set.create_task(async move { blocker.wait().await });
    {
        let abandoned = set.create_task_when_free(Probe::new(&polled, &drops, release.clone()));
        let mut abandoned = pin!(abandoned);
        assert!(futures::poll!(abandoned.as_mut()).is_pending());
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(!polled.load(Ordering::SeqCst));
    set.create_task(async {});
    assert_eq!(set.waiting(), 1);
    release.set();
    assert_eq!(set.join_all().await.len(), 2);
}

async fn handles_of_waiting_children_can_be_gathered() {
    let outputs = TaskGroup::builder()
        .limit(2)
        .scope(async |tg| {
            let handles: Vec<_> = (0..10u32)
                .map(|n| {
                    tg.create_task(async move {
                        tether::yield_now().await;
                        n * n
                    })
                })
                .collect();
            tether::gather(handles).await
        })
        .await
        .unwrap();
    let outputs: Vec<u32> = outputs.into_iter().map(Result::unwrap).collect();
    assert_eq!(outputs, (0..10).map(|n| n * n).collect::<Vec<_>>());
}

async fn a_set_is_usable_again_after_shutdown() {
    let gauge = Arc::new(Gauge::default());
    let mut set = TaskSet::new().with_limit(2);
    for _ in 0..5 {
        set.spawn(gauge.clone().child());
    }
    until(|| gauge.started() == 2).await;
    set.shutdown().await;
    assert_eq!(
        gauge.started(),
        2,
        "a waiting member started during shutdown"
    );
    // The two cancelled at the gate never counted themselves out.
    for count in [&gauge.running, &gauge.most, &gauge.started] {
        count.store(0, Ordering::SeqCst);
    }
    for _ in 0..6 {
        set.spawn(gauge.clone().child());
    }
    gauge.fill_then_open(2).await;
    assert_eq!(set.join_all().await.len(), 6);
    assert_eq!(gauge.most(), 2);
}

async fn a_set_is_usable_after_a_dropped_shutdown() {
    let never = Arc::new(Event::new());
    let mut set = TaskSet::new().with_limit(1);
    set.create_task(async move { never.wait().await });
    set.create_task(async {});
    {
        // Polled once (it closes the limit and cancels both), then dropped.
        let shutdown = pin!(set.shutdown());
        let _ = futures::poll!(shutdown);
    }
    while set.join_next().await.is_some() {}
    set.create_task(async {});
    let reopened = tether::timeout(Duration::from_secs(60), set.join_next()).await;
    assert!(
        matches!(reopened, Ok(Some(Ok(())))),
        "the limit stayed closed"
    );
}

async fn a_group_asked_to_stop_never_starts_its_waiting_children() {
    let polled = Arc::new(AtomicBool::new(false));
    let drops = Arc::new(AtomicUsize::new(0));
    let (polled_ref, drops_ref) = (polled.clone(), drops.clone());
    let running = Arc::new(Event::new());
    let running_ref = running.clone();
    let task = tether::create_task(async move {
        let probes = (&polled_ref, &drops_ref);
        tether::task_group!(limit = 1, |tg| {
            let (polled, drops) = probes;
            tg.create_task(async move {
                running_ref.set();
                tether::cancellation_requested().await;
                "left when asked"
            });
            let waiting: Vec<_> = (0..4)
                .map(|_| tg.create_task(Probe::new(polled, drops, Arc::new(Event::new()))))
                .collect();
            let mut cancelled = 0;
            for handle in waiting {
                cancelled += usize::from(matches!(handle.await, Err(TaskError::Cancelled { .. })));
            }
            cancelled
        })
    });
    running.wait().await;
    // Everything heeds the request, so this returns long before the (generous) grace.
    let cancelled = task
        .cancel_gracefully(Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cancelled.unwrap(), 4);
    assert!(
        !polled.load(Ordering::SeqCst),
        "a waiting child started after the request"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

// Graceful shutdown and misuse: on a virtual clock where time matters.

mod graceful {
    use super::*;

    /// `exact`: on the virtual clock, everything that heeds the request has left before the
    /// deadline, so only the sleeper is cancelled; on a real clock a slow machine may reach the
    /// deadline first, and waiting members are then cancelled there (still unpolled).
    async fn waiting_members_never_start_once_asked_to_stop(grace: Duration, exact: bool) {
        let polled = Arc::new(AtomicBool::new(false));
        let drops = Arc::new(AtomicUsize::new(0));
        let never = Arc::new(Event::new());
        let mut set = TaskSet::new().with_limit(2);
        // One leaves when asked; one ignores the request and is dropped at the deadline.
        set.spawn(async { tether::cancellation_requested().await });
        set.spawn(tether::sleep(Duration::from_secs(3600)));
        for _ in 0..4 {
            set.spawn(Probe::new(&polled, &drops, never.clone()));
        }
        tether::yield_now().await;
        let start = tether::time::now();
        let cancelled = set.shutdown_gracefully(grace).await;
        assert!(start.elapsed() >= grace);
        // The sleeper, and no waiting member: each cancelled itself at its turn, unpolled.
        if exact {
            assert_eq!(cancelled, 1);
        } else {
            assert!((1..=5).contains(&cancelled), "{cancelled} cancelled");
        }
        assert!(set.is_empty());
        assert!(
            !polled.load(Ordering::SeqCst),
            "a member asked to stop started"
        );
        assert_eq!(drops.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn waiting_members_never_start_once_asked_to_stop_single() {
        tether::Runtime::builder().start_paused(true).build().run(
            waiting_members_never_start_once_asked_to_stop(Duration::from_secs(5), true),
        );
    }

    /// The virtual clock needs the single loop: a short real grace on workers.
    #[test]
    fn waiting_members_never_start_once_asked_to_stop_two_workers() {
        tether::Runtime::builder().workers(2).build().run(
            waiting_members_never_start_once_asked_to_stop(Duration::from_millis(50), false),
        );
    }
}

mod misuse {
    use super::*;

    #[test]
    #[should_panic(expected = "a concurrency limit must be at least 1")]
    fn a_set_limit_of_zero_panics() {
        drop(TaskSet::<()>::new().with_limit(0));
    }

    #[test]
    #[should_panic(expected = "a concurrency limit must be at least 1")]
    fn a_group_limit_of_zero_panics() {
        let _ = TaskGroup::builder().limit(0);
    }

    #[test]
    #[should_panic(expected = "a concurrency limit must be at least 1")]
    fn a_computed_zero_limit_in_task_group_panics() {
        let workers = std::hint::black_box(0);
        tether::run(async {
            let _ = tether::task_group!(limit = workers, |_tg| {});
        });
    }

    #[test]
    #[should_panic(expected = "on a set that holds tasks")]
    fn limiting_a_set_that_holds_tasks_panics() {
        tether::run(async {
            let mut set = TaskSet::new();
            set.create_task(async {});
            drop(set.with_limit(2));
        });
    }
}
