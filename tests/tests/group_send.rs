//! Send groups: `task_group!(send |tg| ...)` is `Send`, so it runs inside `tether::spawn` on a
//! multi-threaded runtime, with children that borrow `Sync` data from outside the group.
//!
//! Ordering is checked with channels and counters, never with sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::channel::oneshot;
use tether::{TaskError, TaskFailure};

fn two_workers<T>(future: impl Future<Output = T>) -> T {
    tether::Runtime::builder().workers(2).build().run(future)
}

/// Counts its drops.
struct Drops(Arc<AtomicUsize>);

impl Drop for Drops {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The text of a caught panic.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn borrowing_children_return_their_outputs() {
    let total = two_workers(async {
        tether::spawn(async {
            let words = [String::from("alpha"), String::from("be"), String::from("c")];
            let seen = AtomicUsize::new(0);
            let outcome = tether::task_group!(
                send | tg | {
                    let handles: Vec<_> = words
                        .iter()
                        .map(|word| {
                            let seen = &seen;
                            tg.create_task(async move {
                                tether::yield_now().await;
                                seen.fetch_add(1, Ordering::SeqCst);
                                word.len()
                            })
                        })
                        .collect();
                    let mut total = 0;
                    for handle in handles {
                        total += handle.await.unwrap();
                    }
                    total
                }
            );
            assert_eq!(seen.load(Ordering::SeqCst), 3);
            outcome.unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(total, 8);
}

#[test]
fn a_failure_cancels_the_siblings_and_runs_their_destructors_first() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let counted = dropped.clone();
    two_workers(async move {
        tether::spawn(async move {
            let limit = 3usize;
            let outcome = tether::task_group!(
                send | tg | {
                    let (started_tx, started_rx) = futures::channel::mpsc::unbounded::<()>();
                    for _ in 0..limit {
                        let guard = Drops(counted.clone());
                        let started = started_tx.clone();
                        let limit = &limit;
                        tg.create_task(async move {
                            let _guard = guard;
                            started.unbounded_send(()).unwrap();
                            std::future::pending::<usize>().await + limit
                        });
                    }
                    drop(started_tx);
                    let mut started_rx = started_rx;
                    for _ in 0..limit {
                        futures::StreamExt::next(&mut started_rx).await.unwrap();
                    }
                    tg.create_task(async { panic!("boom") });
                }
            );
            // The group returned: every sibling's destructors have run.
            assert_eq!(counted.load(Ordering::SeqCst), limit);
            let failures = outcome.unwrap_err().into_failures();
            assert_eq!(failures.len(), 1);
            assert!(matches!(&failures[0], TaskFailure::Panicked { .. }));
        })
        .await
        .unwrap();
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
}

#[test]
fn the_fallible_form_reports_the_error_and_spawn_still_works() {
    let outcome = two_workers(async {
        tether::spawn(async {
            let base = 40u64;
            tether::task_group!(send try |tg| {
                let spread = tg.spawn(async { Ok::<_, String>(2u64) });
                let scoped = tg.create_task(async { Ok::<_, String>(base) });
                let total = scoped.await.unwrap() + spread.await.unwrap();
                assert_eq!(total, 42);
                tg.create_task(async { Err::<(), _>(String::from("no route")) });
                total
            })
        })
        .await
        .unwrap()
    });
    let failures = outcome.unwrap_err().into_failures();
    assert!(matches!(&failures[0], TaskFailure::Failed { error, .. } if error == "no route"));
}

#[test]
fn the_group_moves_between_workers_while_its_children_wait() {
    // Each round: a child starts and waits on a oneshot; a task then blocks the worker the
    // group ran on, so the group (woken by that task) must go on on the other worker; there the
    // child is completed. The group resumes on a thread other than the blocked one every
    // round; most rounds that is a move. The worker's blocking is released by a channel.
    const ROUNDS: usize = 20;
    let moves = two_workers(async {
        tether::spawn(async {
            let moves = AtomicUsize::new(0);
            tether::task_group!(
                send | tg | {
                    for _ in 0..ROUNDS {
                        let before = std::thread::current().id();
                        let (child_tx, child_rx) = oneshot::channel::<()>();
                        let moves = &moves;
                        let child = tg.create_task(async move {
                            let started = std::thread::current().id();
                            child_rx.await.unwrap();
                            (started, std::thread::current().id())
                        });
                        // The child's first poll runs in this poll of the group, after the body.
                        tether::yield_now().await;
                        let (blocking_tx, blocking_rx) = oneshot::channel();
                        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
                        let blocker = tether::spawn(async move {
                            blocking_tx.send(std::thread::current().id()).unwrap();
                            release_rx.recv().unwrap();
                        });
                        let blocked = blocking_rx.await.unwrap();
                        let after = std::thread::current().id();
                        assert_ne!(after, blocked, "the group ran on a blocked worker");
                        child_tx.send(()).unwrap();
                        let (started, ended) = child.await.unwrap();
                        assert_eq!(started, before);
                        assert_eq!(ended, after, "the child resumed with its group");
                        release_tx.send(()).unwrap();
                        blocker.await.unwrap();
                        if after != before {
                            moves.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            )
            .unwrap();
            moves.into_inner()
        })
        .await
        .unwrap()
    });
    assert!(moves > 0, "the group never moved in {ROUNDS} rounds");
}

#[test]
fn using_the_group_from_another_thread_panics() {
    two_workers(async {
        tether::spawn(async {
            tether::task_group!(
                send | tg | {
                    std::thread::scope(|s| {
                        let len = s.spawn(|| tg.len()).join().unwrap_err();
                        assert!(
                            message(&*len)
                                .contains("may only be used from the task that opened it"),
                            "{}",
                            message(&*len)
                        );
                        let create = s
                            .spawn(|| {
                                tg.create_task(async { 1 });
                            })
                            .join()
                            .unwrap_err();
                        assert!(message(&*create).contains("may only be used from the task"));
                    });
                    // From its own task it still works.
                    assert_eq!(tg.create_task(async { 7 }).await.unwrap(), 7);
                    assert_eq!(tg.len(), 0);
                }
            )
            .unwrap();
        })
        .await
        .unwrap();
    });
}

#[test]
fn the_scope_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let data = vec![1, 2, 3];
    let future = async {
        tether::task_group!(
            send | tg | {
                for x in &data {
                    tg.create_task(async move { *x });
                }
            }
        )
    };
    assert_send(&future);
    let outcome = two_workers(future);
    assert!(outcome.is_ok());
}

#[test]
fn a_cancelled_handle_does_not_fail_the_group() {
    two_workers(async {
        tether::spawn(async {
            tether::task_group!(
                send | tg | {
                    let child = tg.create_task(std::future::pending::<()>());
                    assert!(matches!(
                        child.cancel_and_wait().await,
                        Err(TaskError::Cancelled { .. })
                    ));
                }
            )
            .unwrap();
        })
        .await
        .unwrap();
    });
}

#[test]
fn the_body_may_mutate_what_is_outside_the_group() {
    let mut count = 0;
    two_workers(async {
        tether::task_group!(
            send | tg | {
                count += 1;
                tg.create_task(async {}).await.unwrap();
                count += 1;
            }
        )
        .unwrap();
    });
    assert_eq!(count, 2);
}

#[test]
fn introspection_lists_the_children_of_a_send_group_on_workers() {
    let (listed, after) = two_workers(async {
        tether::spawn(async {
            let (release_tx, release_rx) = oneshot::channel::<()>();
            let listed = tether::task_group!(
                send | tg | {
                    tg.create_task_with(
                        tether::task::Builder::new().name("listed-send-child"),
                        async move {
                            let _ = release_rx.await;
                        },
                    );
                    tether::yield_now().await;
                    let names: Vec<String> =
                        tether::all_tasks().into_iter().map(|t| t.name).collect();
                    release_tx.send(()).unwrap();
                    names
                }
            )
            .unwrap();
            let after: Vec<String> = tether::all_tasks().into_iter().map(|t| t.name).collect();
            (listed, after)
        })
        .await
        .unwrap()
    });
    assert!(
        listed.iter().any(|n| n == "listed-send-child"),
        "{listed:?}"
    );
    assert!(!after.iter().any(|n| n == "listed-send-child"), "{after:?}");
}
