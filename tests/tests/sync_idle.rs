//! `IdleQueue`: the order members are shed in, busy members left alone, the idle timeout on one
//! timer, cancel safety of `shed()`, and shedding across workers.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tether::sync::{Event, IdleQueue};
use tether::time::Instant;

#[test]
fn the_member_idle_longest_is_shed_first_and_busy_ones_never() {
    let idle = IdleQueue::new();
    let members: Vec<_> = (0..5).map(|_| idle.member()).collect();
    // 1 goes busy, so 0, 2, 3, 4 are idle; 0 comes back from busy: now the newest idle.
    let busy_one = members[1].busy();
    let was_busy = members[0].busy();
    drop(was_busy);
    assert_eq!((idle.len(), idle.idle()), (5, 4));
    let mut order = Vec::new();
    while idle.shed_oldest() {
        let newly = (0..5)
            .find(|&i| members[i].is_shed() && !order.contains(&i))
            .expect("one more member shed");
        order.push(newly);
    }
    assert_eq!(order, [2, 3, 4, 0]);
    assert!(!members[1].is_shed());
    assert_eq!(idle.idle(), 0);
    // A shed member stays shed after its busy spell: it does not rejoin the idle queue.
    drop(busy_one);
    assert_eq!(idle.idle(), 1);
    let again = members[2].busy();
    drop(again);
    assert_eq!(idle.idle(), 1);
    drop(members);
    assert!(idle.is_empty());
}

#[test]
fn nested_busy_guards_keep_a_member_busy_until_the_last_is_dropped() {
    let idle = IdleQueue::new();
    let member = idle.member();
    let clone = member.clone();
    let (a, b) = (member.busy(), clone.busy());
    drop(a);
    assert!(!idle.shed_oldest());
    drop(b);
    assert!(idle.shed_oldest());
    assert!(clone.is_shed());
    // The member leaves when its last clone is dropped.
    drop(member);
    assert_eq!(idle.len(), 1);
    drop(clone);
    assert_eq!(idle.len(), 0);
}

#[tether::test(start_paused)]
async fn the_idle_timeout_counts_from_the_last_busy_spell() {
    let idle = IdleQueue::new();
    let chatty = idle.member();
    let silent = idle.member();
    let mut shed_at = Vec::new();
    for look in 1..=5 {
        tether::sleep(Duration::from_secs(4)).await;
        drop(chatty.busy()); // a message every 4 s
        for _ in 0..idle.shed_idle_for(Duration::from_secs(10)) {
            shed_at.push(look * 4);
        }
    }
    // The silent one went at 12 s (the first look after 10 s idle); the chatty one stays.
    assert_eq!(shed_at, [12]);
    assert!(silent.is_shed());
    assert!(!chatty.is_shed());
}

#[tether::test(start_paused)]
async fn sweep_sheds_each_member_when_its_idle_time_runs_out() {
    let idle = IdleQueue::new();
    let start = Instant::now();
    let limit = Duration::from_secs(10);
    let times = tether::task_group!(|tg| {
        let idle = &idle;
        let sweeper = tg.create_task(async move { match idle.sweep(limit).await {} });
        let waiters: Vec<_> = [0u64, 3, 7]
            .into_iter()
            .map(|joins_at| {
                tg.create_task(async move {
                    tether::sleep(Duration::from_secs(joins_at)).await;
                    let member = idle.member();
                    member.shed().await;
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for waiter in waiters {
            times.push(waiter.await.unwrap());
        }
        sweeper.cancel();
        times
    })
    .unwrap();
    // Each after exactly 10 s of idleness, on the paused clock: one timer served all three.
    let secs: Vec<u64> = times.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [10, 13, 17]);
}

#[tether::test]
async fn a_dropped_shed_wait_loses_nothing() {
    let idle = IdleQueue::new();
    let member = idle.member();
    // Cancelled while waiting (a `select!` that went the other way)...
    tether::select! {
        () = member.shed().fuse() => unreachable!("nobody shed it yet"),
        () = tether::yield_now().fuse() => {}
    }
    idle.shed_oldest();
    // ... and a later wait still sees the shedding.
    tether::timeout(Duration::from_secs(5), member.shed())
        .await
        .expect("already shed: resolves at once");
}

tether_tests::on_both_flavors!(members_on_other_workers_are_shed_from_the_accept_loop);

/// The pattern of the servers: members on spawned tasks, shed by another task when "full".
async fn members_on_other_workers_are_shed_from_the_accept_loop() {
    let idle = Arc::new(IdleQueue::new());
    let all_waiting = Arc::new(Event::new());
    let waiting = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut set = tether::TaskSet::new();
    for i in 0..8 {
        let member = idle.member();
        let (all_waiting, waiting) = (all_waiting.clone(), waiting.clone());
        set.spawn(async move {
            if waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 7 {
                all_waiting.set();
            }
            member.shed().await;
            i
        });
    }
    all_waiting.wait().await;
    for _ in 0..8 {
        assert!(idle.shed_oldest());
    }
    assert!(!idle.shed_oldest());
    let mut shed: Vec<i32> = tether::timeout(Duration::from_secs(10), set.join_all())
        .await
        .expect("every shed member woke")
        .into_iter()
        .map(Result::unwrap)
        .collect();
    shed.sort_unstable();
    assert_eq!(shed, (0..8).collect::<Vec<_>>());
    assert!(idle.is_empty());
}

#[test]
#[should_panic(expected = "IdleQueue::sweep needs a positive idle limit")]
fn a_zero_sweep_limit_is_refused() {
    tether::Runtime::builder()
        .start_paused(true)
        .build()
        .run(async {
            let idle = tether::sync::IdleQueue::new();
            let _member = idle.member();
            let _ = tether::timeout(
                std::time::Duration::from_secs(1),
                idle.sweep(std::time::Duration::ZERO),
            )
            .await;
        });
}
