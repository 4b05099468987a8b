//! The task tree as a `tracing` subscriber sees it (tether's `tracing` feature): every task is
//! a `task` span, made under the span of the task that created it and entered around each of
//! its polls, so each line below carries the chain of tasks it happened in. tether's own
//! events (a slow poll, a cancellation) land in the span of the task they concern.
//!
//! `cargo run -p tether-examples --example trace_tasks --features tracing`

use std::time::Duration;

use tether::task::Builder;

fn main() {
    // The subscriber comes first: a task's span is made when the task is, so the main task
    // must be created with the subscriber already in place. Task spans are at TRACE level.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .without_time()
        .with_target(false)
        .with_ansi(false)
        .init();

    tether::run(async {
        tracing::info!("mirroring");
        tether::task_group!(|tg| {
            tg.create_task_with(Builder::new().name("mirror"), async {
                tether::task_group!(|files| {
                    for (name, millis) in [("a.tar", 10), ("b.tar", 20)] {
                        files.create_task_with(Builder::new().name(name), async move {
                            tether::sleep(Duration::from_millis(millis)).await;
                            tracing::info!(bytes = millis * 1000, "downloaded");
                        });
                    }
                })
                .unwrap();
            });
            tg.create_task_with(Builder::new().name("checksum"), async {
                // Blocks the loop (a bug): the runtime reports the slow poll in this task.
                std::thread::sleep(Duration::from_millis(150));
                tracing::info!("checksummed");
            });
            let stuck = tg.create_task_with(Builder::new().name("stuck"), async {
                std::future::pending::<()>().await;
            });
            tether::sleep(Duration::from_millis(50)).await;
            stuck.cancel();
        })
        .unwrap();
        tracing::info!("done");
    });
}
