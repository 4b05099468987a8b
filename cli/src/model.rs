//! A snapshot of a running tether program: what the reader (`attach`) produces, what every view
//! (`ps`, `pstree`, `top`, `web`) renders, and what `--json` prints.
//!
//! The JSON form is the documented schema (`cli/SCHEMA.md`): fields are only ever added, and
//! `schema` changes its number when a field changes meaning.

use serde::{Deserialize, Serialize};

/// The `schema` value of this version's snapshots.
pub const SCHEMA: &str = "tether.snapshot/1";

/// Everything one attach saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The target's process id.
    pub pid: u32,
    /// The target's command line, arguments joined by spaces.
    pub command: String,
    /// The tether version the target was built with (from its published table).
    pub tether_version: String,
    /// When the snapshot was taken: `CLOCK_MONOTONIC` nanoseconds, the clock every `*_ns` time
    /// below is on (system-wide, so the target's and the tool's readings compare).
    pub taken_ns: u64,
    /// How long reading the target took, in nanoseconds (the target is never stopped).
    pub read_ns: u64,
    /// Since when the target records what its tasks wait for (`CLOCK_MONOTONIC` ns): the first
    /// attach switches recording on. `None`: not recording (the attach was read-only).
    /// A program built with `track_waits` (or debug mode, or a test) records from its start.
    pub waits_recorded_since_ns: Option<u64>,
    /// Since when polls and busy time are counted, as above.
    pub polls_counted_since_ns: Option<u64>,
    /// Every event loop of the process: the single loop of each `run`, and each worker.
    pub loops: Vec<LoopInfo>,
    /// Every live task, in id order.
    pub tasks: Vec<Task>,
}

/// One event loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopInfo {
    /// The loop's id (unique in the process).
    pub id: u64,
    /// The multi-threaded runtime it is a worker of (`None`: a single-threaded loop).
    pub runtime: Option<u64>,
    /// Its index among the runtime's workers.
    pub worker: Option<u32>,
    /// The kernel thread id of the thread that runs it.
    pub thread_id: u32,
    /// That thread's name (`/proc/PID/task/TID/comm`).
    pub thread_name: String,
    /// The task being polled on it right now, if any.
    pub running: Option<u64>,
    /// How long the loop has been inside its current poll (a lower bound of how long `running`
    /// has run), in nanoseconds: the time since the loop last looked at its I/O driver, which
    /// it does at least every 61 polls.
    pub running_for_ns: Option<u64>,
}

/// One live task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The task's id (`Task-<id>` is its default name).
    pub id: u64,
    /// Its name.
    pub name: String,
    /// `running` (being polled now) or `waiting`.
    pub state: State,
    /// Cancellation (or a graceful stop) has been requested.
    pub cancel_requested: bool,
    /// The loop whose table lists it.
    #[serde(rename = "loop")]
    pub loop_id: u64,
    /// Who owns it.
    pub owner: Owner,
    /// The task that created it, if a tether task did.
    pub parent: Option<u64>,
    /// Where it was created.
    pub created_at: Location,
    /// How long ago it was created, in nanoseconds (measured from the loop's last look at its
    /// I/O driver before the creation, so at most a few polls early).
    pub age_ns: Option<u64>,
    /// How many times it was polled since `polls_counted_since_ns` (`None`: not counted).
    pub polls: Option<u64>,
    /// Time spent polling it since `polls_counted_since_ns`, in nanoseconds.
    pub busy_ns: Option<u64>,
    /// What it awaits, if it is waiting and the wait was recorded.
    pub awaiting: Option<Awaiting>,
}

/// What a task is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Being polled now (it, or a child of one of its groups).
    Running,
    /// Waiting to be woken, or ready and waiting its turn.
    Waiting,
}

/// Who owns a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owner {
    /// The `Task` handle `create_task` or `spawn` returned.
    Handle,
    /// A task group, run by the task `runner` (the one awaiting the group's scope).
    Group {
        /// The group's id.
        group: u64,
        /// The task running the group, if a task runs it.
        runner: Option<u64>,
    },
    /// A `TaskSet`.
    Set,
}

/// A source location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// What a waiting task awaits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Awaiting {
    /// Another task's outcome.
    Task { task: u64 },
    /// The children of a task group.
    Group { group: u64 },
    /// A synchronisation primitive or queue.
    Sync {
        /// `lock`, `event`, `condition`, `semaphore`, `barrier`, `queue` (get or put)...
        sync: String,
        /// The name given at construction, if any.
        name: Option<String>,
        /// Its address in the target: tells primitives apart.
        object: u64,
        /// For a lock: the task holding it, if a task took it.
        held_by: Option<u64>,
    },
    /// A `Promise`.
    Promise,
    /// A timer; `due_in_ns` is negative once it is past due.
    Timer { due_in_ns: i64 },
    /// Readiness of a socket or pipe.
    Io {
        /// `read` or `write`.
        direction: String,
        /// `TCP stream`, `TCP listener`, `UDP socket`, `Unix stream`, `pipe`...
        resource: String,
        local: Option<String>,
        peer: Option<String>,
        fd: i32,
    },
    /// A child process's exit.
    Process { pid: u32, command: String },
}
