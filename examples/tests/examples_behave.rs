//! Runs every example and checks that it behaves like its asyncio original: the same lines on
//! stdout, nothing on stderr, a clean exit, and (where time is the point) the same timing.
//!
//! `cargo test -p tether-examples` builds the examples before it runs this test; the binaries are
//! found next to this test's own executable.

mod support;

use std::path::PathBuf;

use support::{Expected, binary, check, matches};

const EXAMPLES: &[Expected] = &[
    Expected {
        name: "hello",
        lines: &["hello", "world"],
        seconds: Some((0.95, 1.9)),
    },
    Expected {
        name: "say_after_sequential",
        lines: &[
            "started at ##:##:##",
            "hello",
            "world",
            "finished at ##:##:##",
        ],
        seconds: Some((2.95, 4.5)),
    },
    Expected {
        name: "say_after_concurrent",
        lines: &[
            "started at ##:##:##",
            "hello",
            "world",
            "finished at ##:##:##",
        ],
        seconds: Some((1.95, 2.9)),
    },
    Expected {
        name: "task_group",
        lines: &[
            "started at ##:##:##",
            "hello",
            "world",
            "finished at ##:##:##",
        ],
        seconds: Some((1.95, 2.9)),
    },
    Expected {
        name: "nested",
        lines: &["42"],
        seconds: None,
    },
    Expected {
        name: "nested_task",
        lines: &["42"],
        seconds: None,
    },
    Expected {
        name: "gather",
        lines: &[
            "greeting is ready",
            "answer is ready",
            "gathered two coroutines: 42 and \"hello\"",
            "greeting is ready",
            "answer is ready",
            "gathered a task and a coroutine: 42 and \"hello\"",
        ],
        seconds: None,
    },
    Expected {
        name: "background_tasks",
        lines: &[
            "10 tasks running in the background",
            "task 9 done after 10 ms",
            "task 8 done after 20 ms",
            "task 7 done after 30 ms",
            "task 6 done after 40 ms",
            "task 5 done after 50 ms",
            "task 4 done after 60 ms",
            "task 3 done after 70 ms",
            "task 2 done after 80 ms",
            "task 1 done after 90 ms",
            "task 0 done after 100 ms",
            "all background tasks finished; 0 left",
        ],
        seconds: None,
    },
    Expected {
        name: "crawler",
        lines: &[
            "crawling https://tether.test/ (max depth 2, at most 3 pages at a time)",
            "depth 0: 1 page",
            "  archived https://tether.test/ with 2 assets",
            "depth 1: 3 pages",
            "  archived https://tether.test/about with 1 asset",
            "  incomplete https://tether.test/blog: Task-#* (https://tether.test/img/banner.png) \
             failed: 404 Not Found",
            "  archived https://tether.test/docs with 1 asset",
            "depth 2: 5 pages",
            "  archived https://tether.test/blog/2024 with 1 asset",
            "  archived https://tether.test/blog/feed.xml with 0 assets",
            "  archived https://tether.test/docs/groups with 2 assets",
            "  archived https://tether.test/docs/tasks with 1 asset",
            "  broken link https://tether.test/team: 404 Not Found",
            "9 pages visited, 7 archived; at most 3 in flight at once",
        ],
        seconds: None,
    },
    Expected {
        name: "cancel_with_message",
        lines: &[
            "working...",
            "working...",
            "working...",
            "closed connection to db",
            "worker cancelled: deadline reached",
        ],
        seconds: Some((0.65, 1.5)),
    },
    Expected {
        name: "shield",
        lines: &[
            "still saving after 100ms; doing other work meanwhile",
            "report saved",
        ],
        seconds: Some((0.45, 1.4)),
    },
    Expected {
        name: "timeout_reschedule",
        lines: &[
            "fetching the work list (deadline in 200ms)",
            "3 items to process; deadline moved to 450ms from now",
            "processed item 1",
            "processed item 2",
            "processed item 3",
            "done: 3 items within the rescheduled deadline",
            "a 10s sleep under a 100ms timeout: timed out",
        ],
        seconds: Some((0.45, 1.4)),
    },
    Expected {
        name: "wait_as_completed",
        lines: &[
            "first mirror: us (100ms)",
            "2 mirrors still running: cancelling them by dropping their tasks",
            "got part-1 (100ms)",
            "got part-2 (200ms)",
            "got part-3 (300ms)",
        ],
        seconds: Some((0.35, 1.3)),
    },
    Expected {
        name: "promise_bridge",
        lines: &[
            "timers fired after 200ms and 100ms",
            "the callback never came: promise abandoned",
        ],
        seconds: Some((0.18, 1.2)),
    },
    Expected {
        name: "request_id",
        lines: &[
            "[-] server started",
            "[req-a] request received",
            "[req-b] request received",
            "[req-a] queried users",
            "[req-a] queried orders",
            "[req-a] audit: 11 rows",
            "[req-a] response sent",
            "[req-b] queried users",
            "[req-b] queried orders",
            "[req-b] audit: 11 rows",
            "[req-b] response sent",
            "[-] server stopped",
        ],
        seconds: None,
    },
    Expected {
        name: "task_tree",
        lines: &[
            "--- from inside ---",
            "Task-# [running] created at examples/examples/task_tree.rs:##:#, owned by its Task handle",
            "└── group * (1 task)",
            "    └── mirror (Task-#) [waiting] created at examples/examples/task_tree.rs:##:##",
            "        └── group * (2 tasks)",
            "            ├── a.tar (Task-#) [waiting] created at examples/examples/task_tree.rs:##:##",
            "            └── b.tar (Task-#) [waiting] created at examples/examples/task_tree.rs:##:##",
            "metrics (Task-#) [waiting] created at examples/examples/task_tree.rs:##:##, owned by a TaskSet",
            "downloaded a.tar",
            "downloaded b.tar",
            "--- from the watchdog thread ---",
            "Task-# [waiting] created at examples/examples/task_tree.rs:##:#, owned by its Task handle",
            "└── group * (1 task)",
            "    └── mirror (Task-#) [waiting] created at examples/examples/task_tree.rs:##:##",
            "        └── group * (2 tasks)",
            "            ├── a.tar (Task-#) [waiting] created at examples/examples/task_tree.rs:##:##",
            "            └── b.tar (Task-#) [waiting] created at examples/examples/task_tree.rs:##:##",
            "metrics (Task-#) [waiting] created at examples/examples/task_tree.rs:##:##, owned by a TaskSet",
        ],
        seconds: None,
    },
    Expected {
        name: "cpu_and_files",
        lines: &[
            "[single loop] recording-0.f64: strongest frequency 17",
            "[single loop] recording-1.f64: strongest frequency 48",
            "[single loop] recording-2.f64: strongest frequency 79",
            "[single loop] recording-3.f64: strongest frequency 110",
            "[2 workers] recording-0.f64: strongest frequency 17",
            "[2 workers] recording-1.f64: strongest frequency 48",
            "[2 workers] recording-2.f64: strongest frequency 79",
            "[2 workers] recording-3.f64: strongest frequency 110",
            "single loop: #*.## s",
            "2 workers: #*.## s",
            // Printed, never checked: the speedup depends on the machine and its load.
            "speedup: *x",
        ],
        // About 1.5 s in a debug build on two idle cores; generous for a busy machine.
        seconds: Some((0.1, 30.0)),
    },
    Expected {
        name: "oversold",
        lines: &[
            "FIFO order: sold 1 of 1 seat",
            "seed #*: sold 2 of 1 seat: oversold",
            "replayed seed #*: sold 2 of 1 seat",
        ],
        seconds: None,
    },
    Expected {
        name: "deadlock_report",
        lines: &[
            "Task-# [running] created at examples/examples/deadlock_report.rs:##:##, owned by its Task handle",
            "Task-# [waiting] created at *, awaiting task audit (Task-#)",
            "transfer (Task-#) [waiting] created at *, awaiting Lock \"accounts\" held by audit (Task-#)",
            "audit (Task-#) [waiting] created at *, awaiting Lock \"ledger\" held by transfer (Task-#)",
            "tether: deadlock: every task is waiting, and nothing can wake any of them*",
            "  Task-# (created at *) awaits task audit (Task-#)",
            "  transfer (Task-#) (created at *) awaits Lock \"accounts\" held by audit (Task-#)",
            "  audit (Task-#) (created at *) awaits Lock \"ledger\" held by transfer (Task-#)",
            "cycle: audit (Task-#) -> Lock \"ledger\" -> transfer (Task-#) -> Lock \"accounts\" -> audit (Task-#)",
        ],
        seconds: None,
    },
    Expected {
        name: "axum_router",
        lines: &[
            "200 OK hello, ada (greeting 1)",
            "200 OK hello, grace (greeting 2)",
            "200 OK hello, barbara (greeting 3)",
            "404 Not Found",
        ],
        seconds: None,
    },
];

#[test]
fn every_example_behaves_like_its_asyncio_original() {
    let binaries: Vec<PathBuf> = EXAMPLES.iter().map(|e| binary(e.name)).collect();
    // All at once, each in its own thread: the whole test takes as long as the slowest example
    // (about 3 seconds), not the sum of them.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = EXAMPLES
            .iter()
            .zip(&binaries)
            .map(|(expected, binary)| scope.spawn(move || check(expected, binary)))
            .collect();
        let outcomes = runs
            .into_iter()
            .map(|run| run.join().expect("a checker panicked"));
        outcomes.filter_map(Result::err).collect()
    });
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn patterns_match_digits_and_wildcards() {
    assert!(matches("started at ##:##:##", "started at 09:41:07"));
    assert!(!matches("started at ##:##:##", "started at 9:41:07"));
    assert!(!matches("started at ##:##:##", "started at 09:41:07 UTC"));
    assert!(matches("Task-#* failed", "Task-13 failed"));
    assert!(!matches("Task-#* failed", "Task- failed"));
    assert!(matches("hello", "hello"));
    assert!(!matches("hello", "hello!"));
}
