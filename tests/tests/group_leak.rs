//! Leaking a polled group future: no child is polled or dropped again, so nothing it borrowed
//! can be touched after it dies.
//!
//! The leak is the point of this test, so it lives in its own binary: `scripts/miri.sh` runs it
//! with Miri's leak check off (Miri still checks that nothing dead is touched) and every other
//! test binary with the leak check on.

use std::cell::Cell;
use std::time::Duration;

use futures::FutureExt;
use tether_tests::DropCounter;

#[test]
fn a_leaked_group_never_touches_its_children_again() {
    let drops = DropCounter::new();
    let polls = Cell::new(0);
    tether::Runtime::builder()
        .start_paused(true)
        .build()
        .run(async {
            let borrowed = String::from("dies after the leak");
            let group = async {
                tether::task_group!(|tg| {
                    let guard = drops.guard();
                    let borrowed = &borrowed;
                    let polls = &polls;
                    tg.create_task(async move {
                        let _guard = guard;
                        loop {
                            polls.set(polls.get() + 1);
                            assert!(!borrowed.is_empty());
                            tether::sleep(Duration::from_secs(1)).await;
                        }
                    });
                    std::future::pending::<()>().await;
                })
            };
            let mut group = Box::pin(group);
            assert!(group.as_mut().now_or_never().is_none());
            std::mem::forget(group);
            drop(borrowed);
            // The child's timer fires and wakes it: the wake reaches the leaked group's queue, and
            // nothing runs it.
            tether::sleep(Duration::from_secs(5)).await;
        });
    assert_eq!(polls.get(), 1);
    assert_eq!(drops.dropped(), 0, "a leaked child is leaked, not dropped");
}
