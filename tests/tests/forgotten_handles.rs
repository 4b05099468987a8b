//! Shutdown reaches tasks whose `Task` handle was `mem::forget`-ed: their futures are dropped and
//! their done callbacks run. A forgotten handle leaks its task's allocation (that is what
//! `forget` does), so `scripts/miri.sh` runs this binary with Miri's leak check off.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tether::task::Outcome;
use tether_tests::DropCounter;

#[test]
fn shutdown_drops_every_pending_task_even_forgotten_ones() {
    let drops = DropCounter::new();
    tether::run(async {
        let sleeping = {
            let guard = drops.guard();
            tether::create_task(async move {
                let _guard = guard;
                tether::sleep(Duration::from_secs(3600)).await;
            })
        };
        let forgotten = {
            let guard = drops.guard();
            tether::create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
        };
        std::mem::forget(forgotten);
        let finished = {
            let guard = drops.guard();
            tether::create_task(async move {
                let _guard = guard;
            })
        };
        std::mem::forget(finished);
        tether::yield_now().await;
        // The main task, `sleeping` and `forgotten`: `finished` is done and off the table.
        assert_eq!(tether::__private::live_tasks(), 3);
        // Keep `sleeping` alive past the end of main: shutdown must drop it too.
        std::mem::forget(sleeping);
    });
    assert_eq!(drops.dropped(), 3);
}

#[test]
fn shutdown_runs_destructors_that_create_tasks() {
    struct SpawnOnDrop(DropCounter);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let guard = self.0.guard();
            // A destructor during shutdown may create a task: it never runs, and is dropped too.
            std::mem::forget(tether::create_task(async move {
                let _guard = guard;
                unreachable!("a task created during shutdown never runs");
            }));
        }
    }
    let drops = DropCounter::new();
    tether::run(async {
        let spawner = SpawnOnDrop(drops.clone());
        std::mem::forget(tether::create_task(async move {
            let _spawner = spawner;
            std::future::pending::<()>().await;
        }));
        tether::yield_now().await;
    });
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn a_panic_in_main_is_resumed_after_the_loop_shut_down() {
    let drops = DropCounter::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
        tether::run(async {
            let guard = drops.guard();
            std::mem::forget(tether::create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            tether::yield_now().await;
            panic!("main failed");
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
    assert_eq!(
        drops.dropped(),
        1,
        "the pending task was dropped before run unwound"
    );
}

#[test]
fn callbacks_of_tasks_cancelled_at_shutdown_run_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    tether::run(async move {
        let task = tether::create_task(std::future::pending::<()>());
        task.add_done_callback(move |done| {
            assert_eq!(done.outcome, Outcome::Cancelled);
            counter.fetch_add(1, Ordering::SeqCst);
        });
        std::mem::forget(task);
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
