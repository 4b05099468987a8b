//! The `tracing` example: each line a subscriber prints carries the chain of task spans it
//! happened in, nested as the tasks are, with tether's slow-poll and cancellation events.
//!
//! Run with `cargo build -p tether-examples --features tracing --example trace_tasks` and then
//! `cargo test -p tether-examples --features tracing --test trace_tasks` (.ci/run does).

#![cfg(feature = "tracing")]

mod support;

use support::{Expected, binary, check};

/// The main task's span, which every line starts with.
macro_rules! main_span {
    () => {
        "task{task.name=Task-# task.id=# task.parent=0 task.owner=\"handle\" \
         task.location=examples/examples/trace_tasks.rs:##:#}"
    };
}

/// The span of the group child `name`, whose parent is the task with id `parent`.
macro_rules! child_span {
    ($name:literal) => {
        concat!(
            "task{task.name=",
            $name,
            " task.id=# task.parent=# task.owner=\"group\" \
             task.location=examples/examples/trace_tasks.rs:##:##}"
        )
    };
}

/// One printed line: the level, the main task's span, the spans of the group children it
/// happened in (outermost first), and the message.
macro_rules! traced {
    ($level:literal, [$($child:literal),*], $message:literal) => {
        concat!($level, " ", main_span!(), $(":", child_span!($child),)* ": ", $message)
    };
}

const TRACE_TASKS: Expected = Expected {
    name: "trace_tasks",
    lines: &[
        traced!(" INFO", [], "mirroring"),
        traced!(" INFO", ["checksum"], "checksummed"),
        traced!(
            " WARN",
            ["checksum"],
            "slow poll took_ms=#* threshold_ms=100.0"
        ),
        traced!(" INFO", ["mirror", "a.tar"], "downloaded bytes=10000"),
        traced!(" INFO", ["mirror", "b.tar"], "downloaded bytes=20000"),
        traced!("DEBUG", ["stuck"], "cancelled"),
        traced!(" INFO", [], "done"),
    ],
    seconds: None,
};

#[test]
fn a_subscriber_shows_the_task_tree() {
    if let Err(failure) = check(&TRACE_TASKS, &binary(TRACE_TASKS.name)) {
        panic!("{failure}");
    }
}
