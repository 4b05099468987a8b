//! Start handshakes: `tg.start(|ready| ...)` returns once the child calls `ready.started(value)`
//! (trio's `nursery.start`), and says how the child ended when it never did.

use std::future::pending;

use tether::sync::Event;
use tether::task::Builder;
use tether::{CreateTaskError, Ready, StartError, TaskFailure};
use tether_tests::{DropCounter, Log, on_both_flavors};

on_both_flavors!(
    start_returns_the_value_and_the_child_goes_on,
    a_child_that_panics_before_started_fails_start_and_the_group,
    a_panic_before_started_cancels_the_caller_in_a_plain_group,
    a_child_that_returns_err_before_started_fails_start,
    a_child_cancelled_before_started_fails_start,
    a_child_that_returns_without_started_fails_start,
    a_child_that_drops_its_token_runs_on,
    dropping_the_start_future_cancels_the_child,
    a_cancelled_group_refuses_start,
    start_in_a_try_group_yields_the_value,
    a_child_that_panics_after_started_fails_only_the_group,
    an_eager_child_is_ready_before_start_is_awaited,
);

async fn start_returns_the_value_and_the_child_goes_on() {
    let log = Log::new();
    let go_on = Event::new();
    tether::task_group!(|tg| {
        let value = tg
            .start(|ready| async {
                log.push("child: binding");
                tether::yield_now().await;
                ready.started(7);
                log.push("child: started");
                go_on.wait().await;
                log.push("child: serving");
            })
            .await;
        log.push(format!("body: start returned {}", value.unwrap()));
        go_on.set();
    })
    .unwrap();
    assert_eq!(
        log.events(),
        [
            "child: binding",
            "child: started",
            "body: start returned 7",
            "child: serving"
        ]
    );
}

async fn a_child_that_panics_before_started_fails_start_and_the_group() {
    let sibling_done = Event::new();
    let result = tether::task_group!(
        supervise | tg | {
            tg.create_task(async {
                tether::yield_now().await;
                sibling_done.set();
            });
            let started = tg
                .start_with(
                    Builder::new().name("binder"),
                    |ready: Ready<u16>| async move {
                        let _ready = ready; // held, never used: the child fails first
                        tether::yield_now().await;
                        if true {
                            panic!("address in use");
                        }
                    },
                )
                .await;
            match started {
                Err(StartError::Panicked(panic)) => assert_eq!(panic.message(), "address in use"),
                other => panic!("expected a panic before started, got {other:?}"),
            }
            sibling_done.wait().await;
            "body went on"
        }
    );
    let error = result.unwrap_err();
    assert_eq!(error.task_names().collect::<Vec<_>>(), ["binder"]);
    assert!(error.to_string().contains("address in use"), "{error}");
    assert!(sibling_done.is_set());
}

async fn a_panic_before_started_cancels_the_caller_in_a_plain_group() {
    let after_start = std::cell::Cell::new(false);
    let result = tether::task_group!(|tg| {
        let _ = tg
            .start(|ready: Ready<()>| async move {
                let _ready = ready;
                tether::yield_now().await;
                if true {
                    panic!("boom");
                }
            })
            .await;
        after_start.set(true);
    });
    assert!(!after_start.get(), "the failed group cancels the body");
    let failures = result.unwrap_err().into_failures();
    assert!(matches!(&failures[..], [TaskFailure::Panicked { .. }]));
}

async fn a_child_that_returns_err_before_started_fails_start() {
    let result = tether::task_group!(supervise try |tg| {
        let started = tg
            .start_with(Builder::new().name("parser"), |ready: Ready<u16>| async move {
                let port: u16 = "http".parse().map_err(|_| "not a port")?;
                ready.started(port);
                Ok::<(), &str>(())
            })
            .await;
        assert!(matches!(started, Err(StartError::Failed)), "{started:?}");
    });
    let failures = result.unwrap_err().into_failures();
    match &failures[..] {
        [TaskFailure::Failed { task, error }] => {
            assert_eq!(task, "parser");
            assert_eq!(*error, "not a port");
        }
        other => panic!("expected one failure, got {other:?}"),
    }
}

async fn a_child_cancelled_before_started_fails_start() {
    let drops = DropCounter::new();
    tether::task_group!(|tg| {
        let start = tg.start(|ready: Ready<()>| {
            let guard = drops.guard();
            async move {
                let _guard = guard;
                pending::<()>().await;
                ready.started(());
            }
        });
        let cancel = start.cancel_handle().unwrap();
        tg.create_task(async move {
            tether::yield_now().await;
            cancel.cancel_with("shutting down");
        });
        match start.await {
            Err(StartError::Cancelled { message }) => {
                assert_eq!(message.as_deref(), Some("shutting down"));
            }
            other => panic!("expected a cancelled start, got {other:?}"),
        }
        assert_eq!(drops.dropped(), 1);
    })
    .unwrap();
    assert_eq!(drops.dropped(), 1);
}

async fn a_child_that_returns_without_started_fails_start() {
    tether::task_group!(|tg| {
        let started = tg
            .start(|ready: Ready<u8>| async move {
                tether::yield_now().await;
                if false {
                    ready.started(1);
                }
            })
            .await;
        assert!(matches!(started, Err(StartError::Returned)), "{started:?}");
    })
    .unwrap();
}

async fn a_child_that_drops_its_token_runs_on() {
    let log = Log::new();
    let go_on = Event::new();
    tether::task_group!(|tg| {
        let started = tg
            .start(|ready: Ready<u8>| async {
                drop(ready);
                tether::yield_now().await;
                go_on.wait().await;
                log.push("child ran on");
            })
            .await;
        assert!(matches!(started, Err(StartError::Dropped)), "{started:?}");
        log.push("start returned");
        go_on.set();
    })
    .unwrap();
    assert_eq!(log.events(), ["start returned", "child ran on"]);
}

async fn dropping_the_start_future_cancels_the_child() {
    let drops = DropCounter::new();
    let ran = std::cell::Cell::new(false);
    tether::task_group!(|tg| {
        let start = tg.start(|ready: Ready<()>| {
            let guard = drops.guard();
            async {
                let _guard = guard;
                tether::yield_now().await;
                ran.set(true);
                ready.started(());
            }
        });
        drop(start);
    })
    .unwrap();
    assert!(
        !ran.get(),
        "a child nobody waits for is cancelled before it runs on"
    );
    assert_eq!(drops.dropped(), 1);
}

async fn a_cancelled_group_refuses_start() {
    let result = tether::task_group!(|tg| {
        tg.cancel();
        let started = tg.start(|ready| async move { ready.started(1) }).await;
        assert!(
            matches!(
                started,
                Err(StartError::Refused(CreateTaskError::Cancelled))
            ),
            "{started:?}"
        );
        "the body returned in the poll it cancelled in"
    });
    assert_eq!(
        result.unwrap(),
        "the body returned in the poll it cancelled in"
    );
}

async fn start_in_a_try_group_yields_the_value() {
    let result = tether::task_group!(try |tg| {
        let port = tg
            .start(|ready| async move {
                let port: u16 = "8080".parse()?;
                ready.started(port);
                tether::yield_now().await;
                Ok::<_, std::num::ParseIntError>(())
            })
            .await
            .unwrap();
        port + 1
    });
    assert_eq!(result.unwrap(), 8081);
}

async fn a_child_that_panics_after_started_fails_only_the_group() {
    let result = tether::task_group!(|tg| {
        let value = tg
            .start_with(Builder::new().name("server"), |ready| async move {
                ready.started("ready");
                tether::yield_now().await;
                panic!("crashed while serving");
            })
            .await;
        assert_eq!(value.unwrap(), "ready");
        pending::<()>().await;
    });
    let error = result.unwrap_err();
    assert_eq!(error.task_names().collect::<Vec<_>>(), ["server"]);
}

#[test]
fn start_works_in_a_send_group() {
    let runtime = tether::Runtime::builder().workers(2).build();
    let value = runtime.run(async {
        tether::spawn(async {
            tether::task_group!(
                send | tg | {
                    let value = tg
                        .start(|ready| async move {
                            tether::yield_now().await;
                            ready.started(String::from("sent"));
                        })
                        .await;
                    value.unwrap()
                }
            )
        })
        .await
        .unwrap()
    });
    assert_eq!(value.unwrap(), "sent");
}

async fn an_eager_child_is_ready_before_start_is_awaited() {
    let log = Log::new();
    tether::task_group!(|tg| {
        let start = tg.start_with(Builder::new().eager(true), |ready| async {
            log.push("child: ready");
            ready.started("eager");
            tether::yield_now().await;
            log.push("child: done");
        });
        log.push("body: start called");
        assert_eq!(start.await.unwrap(), "eager");
        log.push("body: start returned");
    })
    .unwrap();
    assert_eq!(
        log.events(),
        [
            "child: ready",
            "body: start called",
            "body: start returned",
            "child: done"
        ]
    );
}
