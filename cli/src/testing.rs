//! Hand-built snapshots for the unit tests: the one place that fills in every field.

use crate::model::{Location, LoopInfo, Owner, SCHEMA, Snapshot, State, Task};

/// A second, in nanoseconds.
pub const S: u64 = 1_000_000_000;

/// A waiting task created at `src/main.rs:<line>:5`, 12 s old, polled 3 times for 35 ms.
pub fn task(id: u64, name: &str, owner: Owner, line: u32) -> Task {
    Task {
        id,
        name: name.to_owned(),
        state: State::Waiting,
        cancel_requested: false,
        loop_id: 1,
        owner,
        parent: None,
        created_at: Location {
            file: "src/main.rs".to_owned(),
            line,
            column: 5,
        },
        age_ns: Some(12 * S),
        polls: Some(3),
        busy_ns: Some(35_000_000),
        awaiting: None,
    }
}

/// The single loop of process 4242, idle.
pub fn one_loop() -> LoopInfo {
    LoopInfo {
        id: 1,
        runtime: None,
        worker: None,
        thread_id: 4242,
        thread_name: "bank".to_owned(),
        running: None,
        running_for_ns: None,
    }
}

/// A snapshot of process 4242 taken at `taken_ns`, recording waits and counting polls for the
/// last 100 s.
pub fn snapshot(taken_ns: u64, loops: Vec<LoopInfo>, tasks: Vec<Task>) -> Snapshot {
    Snapshot {
        schema: SCHEMA.to_owned(),
        pid: 4242,
        command: "bank --serve".to_owned(),
        tether_version: "0.1.0".to_owned(),
        taken_ns,
        read_ns: 150_000,
        waits_recorded_since_ns: Some(taken_ns.saturating_sub(100 * S)),
        polls_counted_since_ns: Some(taken_ns.saturating_sub(100 * S)),
        loops,
        tasks,
    }
}
