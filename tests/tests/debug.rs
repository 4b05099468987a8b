//! Debug mode: slow polls are reported, and so are tasks still running at shutdown.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tether::task::Builder;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn debug_runtime(captured: &Captured) -> tether::Runtime {
    tether::Runtime::builder()
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(30))
        .debug_output(captured.clone())
        .build()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "under Miri every poll is slow enough to trip the threshold"
)]
fn a_slow_poll_is_reported_with_the_tasks_name_and_location() {
    let captured = Captured::default();
    debug_runtime(&captured).run(async {
        let slow = Builder::new().name("slow-parser").create_task(async {
            std::thread::sleep(Duration::from_millis(60));
        });
        let quick = Builder::new().name("quick").create_task(async {});
        slow.await.unwrap();
        quick.await.unwrap();
    });
    let report = captured.text();
    assert!(report.contains("slow-parser (task #"), "{report}");
    assert!(report.contains(file!()), "{report}");
    assert!(report.contains("blocked the event loop"), "{report}");
    assert!(!report.contains("quick"), "{report}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "under Miri every poll is slow enough to trip the threshold"
)]
fn a_slow_group_child_is_blamed_not_its_group() {
    let captured = Captured::default();
    debug_runtime(&captured).run(async {
        let runner = Builder::new().name("runner").create_task(async {
            tether::task_group!(|tg| {
                tg.create_task_with(Builder::new().name("hog"), async {
                    std::thread::sleep(Duration::from_millis(60));
                });
            })
            .unwrap();
        });
        runner.await.unwrap();
    });
    let report = captured.text();
    assert!(report.contains("hog (task #"), "{report}");
    assert!(!report.contains("runner (task #"), "{report}");
}

#[test]
fn tasks_still_running_at_shutdown_are_listed() {
    let captured = Captured::default();
    debug_runtime(&captured).run(async {
        let _forgotten = Builder::new()
            .name("left-behind")
            .create_task(std::future::pending::<()>());
        std::mem::forget(_forgotten);
        tether::yield_now().await;
    });
    let report = captured.text();
    assert!(
        report.contains("still running when the loop shut down"),
        "{report}"
    );
    assert!(report.contains("left-behind (Task-"), "{report}");
}

#[test]
fn without_debug_mode_nothing_is_reported() {
    let captured = Captured::default();
    tether::Runtime::builder()
        .slow_poll_threshold(Duration::from_millis(1))
        .debug_output(captured.clone())
        .build()
        .run(async {
            std::thread::sleep(Duration::from_millis(5));
        });
    assert_eq!(captured.text(), "");
}

/// Run by `the_environment_turns_debug_mode_on` in a child process with TETHER_DEBUG=1.
#[test]
#[ignore = "run by the_environment_turns_debug_mode_on in a child process"]
fn child_blocks_the_loop() {
    tether::run(async {
        let task = Builder::new().name("env-hog").create_task(async {
            std::thread::sleep(Duration::from_millis(50));
        });
        task.await.unwrap();
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot start a child process")]
fn the_environment_turns_debug_mode_on() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_blocks_the_loop",
            "--ignored",
            "--nocapture",
        ])
        .env("TETHER_DEBUG", "1")
        .env("TETHER_SLOW_POLL_MS", "20")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("env-hog (task #"), "{stderr}");
    assert!(stderr.contains("threshold 20ms"), "{stderr}");
}
