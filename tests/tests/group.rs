//! Task groups: asyncio's TaskGroup semantics, each numbered rule with its own test, plus the
//! borrowing rules of scoped children.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use futures::FutureExt;
use tether::time::Instant;
use tether::{CreateTaskError, TaskError, TaskFailure, TaskHandle};
use tether_tests::{DropCounter, Log};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

// 1. The scope ends only when the body and every child are done; children may create siblings.
#[tether::test(start_paused)]
async fn the_scope_waits_for_the_body_and_every_child() {
    let log = Log::new();
    let start = Instant::now();
    let output = tether::task_group!(|tg| {
        tg.create_task(async {
            tether::sleep(secs(1)).await;
            log.push("child 1s");
            tg.create_task(async {
                tether::sleep(secs(2)).await;
                log.push("sibling made by a child, 1s + 2s");
            });
        });
        tg.create_task(async {
            tether::sleep(secs(2)).await;
            log.push("child 2s");
        });
        log.push("body done");
        "body output"
    });
    assert_eq!(output.unwrap(), "body output");
    assert_eq!(start.elapsed(), secs(3));
    assert_eq!(
        log.events(),
        [
            "body done",
            "child 1s",
            "child 2s",
            "sibling made by a child, 1s + 2s"
        ]
    );
}

#[tether::test(start_paused)]
async fn children_borrow_from_outside_the_group_without_arc() {
    let config = String::from("shared configuration");
    let results = RefCell::new(Vec::new());
    tether::task_group!(|tg| {
        for i in 0..3u64 {
            let (config, results) = (&config, &results);
            tg.create_task(async move {
                tether::sleep(secs(3 - i)).await;
                results.borrow_mut().push(format!("{i}: {}", config.len()));
            });
        }
    })
    .unwrap();
    assert_eq!(results.into_inner(), ["2: 20", "1: 20", "0: 20"]);
}

#[tether::test(start_paused)]
async fn handles_stay_readable_after_the_group_ended() {
    let (a, b) = tether::task_group!(|tg| {
        let a = tg.create_task(async {
            tether::sleep(secs(1)).await;
            1
        });
        let b = tg.create_task(async { "two" });
        (a, b)
    })
    .unwrap();
    assert!(a.is_finished() && b.is_finished());
    assert_eq!(a.await.unwrap(), 1);
    assert_eq!(b.await.unwrap(), "two");
}

// 2. A child that panics cancels every other child and the body; all are awaited; the group
//    resolves to an error listing every failure with its task's name.
#[tether::test(start_paused)]
async fn a_panicking_child_cancels_the_rest_and_fails_the_group() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("failed again while being cancelled");
        }
    }
    let drops = DropCounter::new();
    let log = Log::new();
    let names = RefCell::new(Vec::new());
    let start = Instant::now();
    let result = tether::task_group!(|tg| {
        let slow = tg.create_task({
            let guard = drops.guard();
            async {
                let _guard = guard;
                tether::sleep(secs(10)).await;
                log.push("slow child finished");
            }
        });
        let first = tg.create_task(async {
            tether::sleep(secs(1)).await;
            panic!("first failure");
        });
        // Woken in the same tick as `first`, but cancelled before it runs again: as in
        // asyncio, it never gets to fail on its own.
        tg.create_task(async {
            tether::sleep(secs(1)).await;
            panic!("never reached");
        });
        // Fails a second time while being cancelled: that failure is listed too.
        let second = tg.create_task(async {
            let _bomb = PanicOnDrop;
            tether::sleep(secs(10)).await;
        });
        names.borrow_mut().extend([first.name(), second.name()]);
        let _body_guard = drops.guard();
        tether::sleep(secs(10)).await;
        log.push("body finished");
        drop(slow);
    });
    let error = result.unwrap_err();
    assert_eq!(
        start.elapsed(),
        secs(1),
        "the group stopped at the first failure"
    );
    assert_eq!(
        drops.dropped(),
        2,
        "the slow child and the body were dropped"
    );
    assert!(log.events().is_empty(), "{:?}", log.events());
    let failed: Vec<_> = error.task_names().map(str::to_owned).collect();
    assert_eq!(failed, *names.borrow());
    match &error.failures()[0] {
        TaskFailure::Panicked { panic, .. } => assert_eq!(panic.message(), "first failure"),
        other => panic!("{other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.starts_with("2 tasks of the group failed"),
        "{message}"
    );
    assert!(
        message.contains("failed again while being cancelled"),
        "{message}"
    );
    assert!(!message.contains("never reached"), "{message}");
}

#[tether::test(start_paused)]
async fn the_failing_childs_handle_reports_the_panic_and_others_cancelled() {
    let handles: RefCell<Vec<TaskHandle<()>>> = RefCell::new(Vec::new());
    let result = tether::task_group!(|tg| {
        handles.borrow_mut().push(tg.create_task(async {
            tether::sleep(secs(1)).await;
            panic!("boom");
        }));
        handles
            .borrow_mut()
            .push(tg.create_task(tether::sleep(secs(5))));
    });
    assert!(result.is_err());
    let mut handles = handles.into_inner().into_iter();
    assert!(handles.next().unwrap().await.unwrap_err().is_panic());
    assert!(handles.next().unwrap().await.unwrap_err().is_cancelled());
}

// 3. The body panicking does the same.
#[tether::test(start_paused)]
async fn a_panicking_body_cancels_the_children_and_fails_the_group() {
    let drops = DropCounter::new();
    let result = tether::task_group!(|tg| {
        let guard = drops.guard();
        tg.create_task(async move {
            let _guard = guard;
            tether::sleep(secs(60)).await;
            unreachable!("cancelled before it wakes");
        });
        tether::sleep(secs(1)).await;
        panic!("the body failed");
    });
    let error = result.unwrap_err();
    assert_eq!(drops.dropped(), 1);
    assert_eq!(error.task_names().collect::<Vec<_>>(), ["body"]);
    assert!(error.to_string().contains("the body failed"));
}

// 4. A child cancelled by itself or through its handle does not fail the group.
#[tether::test(start_paused)]
async fn a_cancelled_child_does_not_fail_the_group() {
    let own_handle: RefCell<Option<TaskHandle<()>>> = RefCell::new(None);
    let finished = Cell::new(false);
    let output = tether::task_group!(|tg| {
        let by_handle = tg.create_task(tether::sleep(secs(60)));
        let by_itself = tg.create_task(async {
            tether::yield_now().await;
            own_handle
                .borrow()
                .as_ref()
                .expect("stored before the child ran")
                .cancel();
            // Dropped at this await point.
            tether::sleep(secs(60)).await;
            unreachable!("a cancelled task is not polled again");
        });
        *own_handle.borrow_mut() = Some(by_itself);
        tg.create_task(async {
            tether::sleep(secs(1)).await;
            finished.set(true);
        });
        tether::yield_now().await;
        assert!(by_handle.cancel());
        by_handle.await.unwrap_err()
    });
    let error = output.expect("cancellations are not failures");
    assert!(error.is_cancelled());
    assert!(finished.get(), "the healthy sibling ran to completion");
    let me = own_handle.into_inner().unwrap();
    assert!(me.await.unwrap_err().is_cancelled());
}

// 5. Cancelling the task that runs the group cancels and drops the children first.
#[tether::test(start_paused)]
async fn cancelling_the_task_running_a_group_drops_the_children_first() {
    struct Logged(Log, &'static str);
    impl Drop for Logged {
        fn drop(&mut self) {
            self.0.push(format!("dropped {}", self.1));
        }
    }
    let log = Log::new();
    let runner = {
        let log = log.clone();
        tether::create_task(async move {
            let result = tether::task_group!(|tg| {
                for name in ["child a", "child b"] {
                    let guard = Logged(log.clone(), name);
                    tg.create_task(async move {
                        let _guard = guard;
                        tether::sleep(secs(3600)).await;
                    });
                }
                let _guard = Logged(log.clone(), "body");
                tether::sleep(secs(3600)).await;
            });
            log.push(format!("group ended: {}", result.is_ok()));
        })
    };
    tether::sleep(secs(1)).await;
    assert!(runner.cancel());
    assert!(runner.await.unwrap_err().is_cancelled());
    assert_eq!(
        log.events(),
        ["dropped child a", "dropped child b", "dropped body"]
    );
}

#[tether::test]
async fn dropping_a_group_future_drops_every_child_before_the_drop_returns() {
    let drops = DropCounter::new();
    let mut group = Box::pin(async {
        tether::task_group!(|tg| {
            for _ in 0..3 {
                let guard = drops.guard();
                tg.create_task(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                });
            }
            std::future::pending::<()>().await;
        })
    });
    assert!(group.as_mut().now_or_never().is_none());
    assert_eq!(drops.dropped(), 0);
    drop(group);
    assert_eq!(drops.dropped(), 3);
}

// 6. create_task on a group that is shutting down is refused, and the refused future is
//    dropped, not run.
#[tether::test(start_paused)]
async fn a_shutting_down_group_refuses_new_tasks_and_drops_them_unrun() {
    struct OnDrop<F: FnMut()>(F);
    impl<F: FnMut()> Drop for OnDrop<F> {
        fn drop(&mut self) {
            (self.0)();
        }
    }
    let refused = DropCounter::new();
    let ran = Cell::new(false);
    let refusals = RefCell::new(Vec::new());
    let quiet_handle: RefCell<Option<TaskHandle<()>>> = RefCell::new(None);
    let result = tether::task_group!(|tg| {
        // This child's destructor runs while the group cancels it after its sibling fails.
        tg.create_task(async {
            let _cleanup = OnDrop(|| {
                let guard = refused.guard();
                let attempt = tg.try_create_task(async {
                    let _guard = guard;
                    ran.set(true);
                });
                refusals.borrow_mut().push(attempt.map(drop).unwrap_err());
                // Plain create_task from a destructor does not panic: the task never runs.
                let guard = refused.guard();
                *quiet_handle.borrow_mut() = Some(tg.create_task(async {
                    let _guard = guard;
                    ran.set(true);
                }));
                assert!(tg.is_shutting_down());
            });
            tether::sleep(secs(60)).await;
        });
        tg.create_task(async {
            tether::sleep(secs(1)).await;
            panic!("fail the group");
        });
    });
    assert_eq!(result.unwrap_err().failures().len(), 1);
    assert_eq!(*refusals.borrow(), [CreateTaskError::ShuttingDown]);
    assert_eq!(refused.dropped(), 2, "both refused futures were dropped");
    assert!(!ran.get(), "no refused future ran");
    let quiet = quiet_handle.into_inner().unwrap();
    assert!(quiet.await.unwrap_err().is_cancelled());
    let message = CreateTaskError::ShuttingDown.to_string();
    assert!(message.contains("try_create_task"), "{message}");
}

#[tether::test]
async fn a_closing_group_refuses_tasks_from_destructors_with_closed() {
    let refusal = Cell::new(None);
    let group = async {
        tether::task_group!(|tg| {
            struct TryOnDrop<'a, 'scope, 'env>(
                &'scope tether::TaskGroup<'scope, 'env>,
                &'a Cell<Option<CreateTaskError>>,
            );
            impl Drop for TryOnDrop<'_, '_, '_> {
                fn drop(&mut self) {
                    self.1.set(self.0.try_create_task(async {}).err());
                }
            }
            let guard = TryOnDrop(tg, &refusal);
            tg.create_task(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            std::future::pending::<()>().await;
        })
    };
    let mut group = Box::pin(group);
    assert!(group.as_mut().now_or_never().is_none());
    drop(group);
    assert_eq!(refusal.get(), Some(CreateTaskError::Closed));
}

// 7. Nested groups: an inner failure surfaces through the outer group without losing its name.
#[tether::test(start_paused)]
async fn an_inner_group_failure_surfaces_through_the_outer_group() {
    let inner_name = RefCell::new(String::new());
    let outer_child_name = RefCell::new(String::new());
    let result = tether::task_group!(try |outer| {
        let handle = outer.create_task(async {
            tether::task_group!(|inner| {
                let deep = inner.create_task(async {
                    tether::sleep(secs(1)).await;
                    panic!("deep failure");
                });
                *inner_name.borrow_mut() = deep.name();
            })?;
            Ok::<(), tether::GroupError>(())
        });
        *outer_child_name.borrow_mut() = handle.name();
    });
    let failures = result.unwrap_err().into_failures();
    assert_eq!(failures.len(), 1);
    let TaskFailure::Failed { task, error } = &failures[0] else {
        panic!("{failures:?}");
    };
    assert_eq!(*task, *outer_child_name.borrow());
    assert_eq!(
        error.task_names().collect::<Vec<_>>(),
        [inner_name.borrow().as_str()]
    );
    assert!(error.to_string().contains("deep failure"));
}

#[tether::test(start_paused)]
async fn an_unwrapped_inner_failure_names_the_inner_task_in_the_outer_error() {
    let inner_name = RefCell::new(String::new());
    let result = tether::task_group!(|outer| {
        outer.create_task(async {
            tether::task_group!(|inner| {
                *inner_name.borrow_mut() = inner.create_task(async { panic!("deep") }).name();
            })
            .unwrap();
        });
    });
    let message = result.unwrap_err().to_string();
    assert!(message.contains(inner_name.borrow().as_str()), "{message}");
}

// 8. The fallible form: the first Err fails the group exactly as a panic does; the error keeps
//    every E, next to every other failure.
#[derive(Debug, PartialEq)]
struct Unreachable(&'static str);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is unreachable", self.0)
    }
}

#[tether::test(start_paused)]
async fn a_fallible_group_fails_on_the_first_err_exactly_as_on_a_panic() {
    let drops = DropCounter::new();
    let start = Instant::now();
    let failed_handle: RefCell<Option<TaskHandle<u32>>> = RefCell::new(None);
    let result = tether::task_group!(try |tg| {
        let ok = tg.create_task(async { Ok::<_, Unreachable>(7) });
        *failed_handle.borrow_mut() = Some(tg.create_task(async {
            tether::sleep(secs(2)).await;
            Err(Unreachable("db"))
        }));
        // Cancelled in the same tick before it could fail: never reported.
        tg.create_task(async {
            tether::sleep(secs(2)).await;
            Err::<(), _>(Unreachable("cache"))
        });
        let guard = drops.guard();
        tg.create_task(async move {
            let _guard = guard;
            tether::sleep(secs(60)).await;
            Ok(0)
        });
        let _body_guard = drops.guard();
        assert_eq!(ok.await.unwrap(), 7);
        tether::sleep(secs(60)).await;
    });
    assert_eq!(start.elapsed(), secs(2));
    assert_eq!(drops.dropped(), 2, "a sibling and the body were cancelled");
    let failures = result.unwrap_err().into_failures();
    assert!(
        matches!(
            failures.as_slice(),
            [TaskFailure::Failed {
                error: Unreachable("db"),
                ..
            }]
        ),
        "{failures:?}"
    );
    let handle = failed_handle.into_inner().unwrap();
    assert!(matches!(handle.await, Err(TaskError::Failed)));
}

#[tether::test(start_paused)]
async fn a_fallible_group_keeps_the_error_next_to_later_failures() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("cleanup failed");
        }
    }
    let result = tether::task_group!(try |tg| {
        tg.create_task(async {
            let _bomb = PanicOnDrop;
            tether::sleep(secs(60)).await;
            Ok(())
        });
        tg.create_task(async {
            tether::sleep(secs(1)).await;
            Err::<(), _>(Unreachable("db"))
        });
    });
    let failures = result.unwrap_err().into_failures();
    match failures.as_slice() {
        [
            TaskFailure::Failed { error, .. },
            TaskFailure::Panicked { panic, .. },
        ] => {
            assert_eq!(*error, Unreachable("db"));
            assert_eq!(panic.message(), "cleanup failed");
        }
        other => panic!("{other:?}"),
    }
}

#[tether::test(start_paused)]
async fn a_fallible_group_with_only_ok_children_returns_the_body_output() {
    let output = tether::task_group!(try |tg| {
        let a = tg.create_task(async { Ok::<_, String>(2) });
        let b = tg.create_task(async {
            tether::sleep(secs(1)).await;
            Ok(3)
        });
        a.await.unwrap() * b.await.unwrap()
    });
    assert_eq!(output.unwrap(), 6);
}

// Fairness: a group runs a bounded batch of children per poll.
#[tether::test]
async fn a_busy_group_does_not_starve_the_rest_of_the_loop() {
    let ticks = std::rc::Rc::new(Cell::new(0u32));
    let done = std::rc::Rc::new(Cell::new(false));
    let ticker = {
        let (ticks, done) = (ticks.clone(), done.clone());
        tether::create_task(async move {
            while !done.get() {
                ticks.set(ticks.get() + 1);
                tether::yield_now().await;
            }
        })
    };
    let seen = RefCell::new(Vec::new());
    tether::task_group!(|tg| {
        for _ in 0..1000 {
            tg.create_task(async { seen.borrow_mut().push(ticks.get()) });
        }
    })
    .unwrap();
    done.set(true);
    ticker.await.unwrap();
    let mut distinct = seen.into_inner();
    distinct.dedup();
    assert!(
        distinct.len() >= 1000 / tether::__private::GROUP_BATCH,
        "1000 ready children ran in {} stretches between other tasks",
        distinct.len()
    );
}

#[tether::test(start_paused)]
async fn groups_nest_and_inner_children_may_borrow_the_outer_group() {
    let log = Log::new();
    tether::task_group!(|outer| {
        outer.create_task(async {
            tether::task_group!(|inner| {
                inner.create_task(async {
                    tether::sleep(secs(1)).await;
                    outer.create_task(async {
                        log.push("made by an inner child in the outer group")
                    });
                });
            })
            .unwrap();
            log.push("inner group done");
        });
    })
    .unwrap();
    assert_eq!(
        log.events(),
        [
            "inner group done",
            "made by an inner child in the outer group"
        ]
    );
}
