//! Every workload of the comparison table, with one runner per runtime column.

use std::time::Duration;

use super::rt::{AsyncExecutor, Tether, TetherMt, TokioCt, TokioMt};
use super::work::{self, timed, timed_tether};

/// Runs a workload `reps` times on a fresh runtime and returns the time taken inside it.
pub type Runner = fn(usize) -> Duration;

/// The runtime columns measured here, in table order (asyncio comes from the Python twins).
pub const COLUMNS: [&str; 5] = [
    "tether",
    "tether (mt, 2)",
    "tokio (ct)",
    "tokio (mt, 2)",
    "async-executor",
];

/// Index of tether's multi-threaded runtime in [`COLUMNS`].
pub const TETHER_MT: usize = 1;

/// Index of tokio current_thread in [`COLUMNS`]: the peer of every tether target.
pub const TOKIO_CT: usize = 2;

/// Index of tokio multi_thread in [`COLUMNS`]: the peer of tether's multi-threaded runtime.
pub const TOKIO_MT: usize = 3;

/// Index of async-executor in [`COLUMNS`].
pub const ASYNC_EXECUTOR: usize = 4;

/// How a workload's figure is reported.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    /// Nanoseconds per operation: the time of one run divided by `ops`.
    NsPer {
        /// Operations in one run.
        ops: usize,
        /// What one operation is (`task`, `yield`, ...).
        op: &'static str,
    },
    /// Milliseconds for the whole run.
    Ms,
}

impl Unit {
    /// The figure for one run of `run_time`.
    pub fn value(self, run_time: Duration) -> f64 {
        match self {
            Unit::NsPer { ops, .. } => run_time.as_nanos() as f64 / ops as f64,
            Unit::Ms => run_time.as_secs_f64() * 1e3,
        }
    }

    /// The unit's label.
    pub fn label(self) -> String {
        match self {
            Unit::NsPer { op, .. } => format!("ns/{op}"),
            Unit::Ms => "ms/run".to_owned(),
        }
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct Workload {
    /// Stable key, shared with the Python twins and the `workload` example.
    pub key: &'static str,
    /// What it does.
    pub what: &'static str,
    /// How it is reported.
    pub unit: Unit,
    /// One runner per entry of [`COLUMNS`]; `None` where the runtime has no counterpart.
    pub runners: [Option<Runner>; 5],
    /// The target ratio tether / tokio (ct), if there is one.
    pub target: Option<f64>,
}

/// One runner: the generic body with `$R` set to the runtime `$rt`.
macro_rules! runner {
    ($rt:ty, |$R:ident| $body:expr) => {
        Some({
            type $R = $rt;
            (|reps| timed::<$R, _, _>(reps, || $body)) as Runner
        })
    };
}

/// The same generic body on all five runtimes.
macro_rules! all_runtimes {
    (|$R:ident| $body:expr) => {
        [
            runner!(Tether, |$R| $body),
            runner!(TetherMt, |$R| $body),
            runner!(TokioCt, |$R| $body),
            runner!(TokioMt, |$R| $body),
            runner!(AsyncExecutor, |$R| $body),
        ]
    };
}

/// The same generic body on the runtimes with timers (async-executor has none of its own).
macro_rules! timer_runtimes {
    (|$R:ident| $body:expr) => {
        [
            runner!(Tether, |$R| $body),
            runner!(TetherMt, |$R| $body),
            runner!(TokioCt, |$R| $body),
            runner!(TokioMt, |$R| $body),
            None,
        ]
    };
}

/// Tasks per group / set / gather.
pub const GROUP: usize = 1_000;

/// The rows of the comparison table.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            key: "spawn_many_1k",
            what: "spawn 1,000 empty tasks, await every handle",
            unit: Unit::NsPer {
                ops: 1_000,
                op: "task",
            },
            runners: all_runtimes!(|R| work::spawn_many::<R>(1_000)),
            target: Some(0.5),
        },
        Workload {
            key: "spawn_many_100k",
            what: "spawn 100,000 empty tasks (all in flight), await every handle",
            unit: Unit::NsPer {
                ops: 100_000,
                op: "task",
            },
            runners: all_runtimes!(|R| work::spawn_many::<R>(100_000)),
            target: Some(0.5),
        },
        Workload {
            key: "yield_many",
            what: "200 tasks x 1,000 yield_now()",
            unit: Unit::NsPer {
                ops: 200_000,
                op: "yield",
            },
            runners: all_runtimes!(|R| work::yield_many::<R>(200, 1_000)),
            target: Some(0.6),
        },
        Workload {
            key: "ping_pong",
            what: "1,000 ping tasks, each spawning a pong; one round trip over oneshots",
            unit: Unit::NsPer {
                ops: 1_000,
                op: "pair",
            },
            runners: all_runtimes!(|R| work::ping_pong::<R>(1_000)),
            target: Some(0.6),
        },
        Workload {
            key: "chained_spawn",
            what: "chain of 1,000 tasks, each spawning the next and awaiting it",
            unit: Unit::NsPer {
                ops: 1_000,
                op: "task",
            },
            runners: all_runtimes!(|R| work::chained_spawn::<R>(1_000)),
            target: Some(0.5),
        },
        Workload {
            key: "timers_sleep_100k",
            what: "100,000 tasks each sleeping 10 ms (floor: 10 ms)",
            unit: Unit::Ms,
            runners: timer_runtimes!(|R| work::sleep_many::<R>(100_000, Duration::from_millis(10))),
            target: Some(0.8),
        },
        Workload {
            key: "timers_arm_cancel_100k",
            what: "100,000 x (create a 60 s sleep, poll it once so it is armed, drop it)",
            unit: Unit::NsPer {
                ops: 100_000,
                op: "timer",
            },
            runners: timer_runtimes!(|R| work::arm_cancel::<R>(100_000)),
            target: Some(0.8),
        },
        Workload {
            key: "group_1k",
            what: "task_group! / JoinSet (async-executor: Vec<Task>) of 1,000 empty tasks",
            unit: Unit::NsPer {
                ops: GROUP,
                op: "task",
            },
            runners: [
                Some(|reps| timed_tether(reps, || work::tether_group(GROUP))),
                // Task groups and gather! are not Send: no spawned main on workers.
                None,
                Some(|reps| timed::<TokioCt, _, _>(reps, || work::tokio_join_set(GROUP))),
                Some(|reps| timed::<TokioMt, _, _>(reps, || work::tokio_join_set(GROUP))),
                Some(|reps| {
                    timed::<AsyncExecutor, _, _>(reps, || work::spawn_many::<AsyncExecutor>(GROUP))
                }),
            ],
            target: Some(0.8),
        },
        Workload {
            key: "taskset_1k",
            what: "TaskSet::new / JoinSet of 1,000 empty tasks, join_next until empty",
            unit: Unit::NsPer {
                ops: GROUP,
                op: "task",
            },
            runners: [
                Some(|reps| timed_tether(reps, || work::tether_task_set(GROUP))),
                // Task groups and gather! are not Send: no spawned main on workers.
                None,
                Some(|reps| timed::<TokioCt, _, _>(reps, || work::tokio_join_set(GROUP))),
                Some(|reps| timed::<TokioMt, _, _>(reps, || work::tokio_join_set(GROUP))),
                None,
            ],
            target: None,
        },
        Workload {
            key: "gather_1k",
            what: "tether::gather / futures join_all of 1,000 futures yielding once",
            unit: Unit::NsPer {
                ops: GROUP,
                op: "future",
            },
            runners: [
                Some(|reps| timed_tether(reps, || work::tether_gather(GROUP))),
                // Task groups and gather! are not Send: no spawned main on workers.
                None,
                Some(|reps| timed::<TokioCt, _, _>(reps, || work::join_all(GROUP))),
                Some(|reps| timed::<TokioMt, _, _>(reps, || work::join_all(GROUP))),
                Some(|reps| timed::<AsyncExecutor, _, _>(reps, || work::join_all(GROUP))),
            ],
            target: None,
        },
        Workload {
            key: "gather8",
            what: "tether::gather! / futures join_all of 8 futures yielding once",
            unit: Unit::NsPer {
                ops: work::GATHER8_CALLS,
                op: "call",
            },
            runners: [
                Some(|reps| timed_tether(reps, work::tether_gather8)),
                // Task groups and gather! are not Send: no spawned main on workers.
                None,
                Some(|reps| timed::<TokioCt, _, _>(reps, work::join_all8)),
                Some(|reps| timed::<TokioMt, _, _>(reps, work::join_all8)),
                Some(|reps| timed::<AsyncExecutor, _, _>(reps, work::join_all8)),
            ],
            target: None,
        },
    ]
}

/// The combinators compared on one runtime (tether's), so that only the combinator differs.
pub fn combinators() -> Vec<(&'static str, Unit, Runner)> {
    let per_call = Unit::NsPer {
        ops: work::GATHER8_CALLS,
        op: "call",
    };
    let per_future = Unit::NsPer {
        ops: GROUP,
        op: "future",
    };
    vec![
        (
            "tether::gather!(8 futures)",
            per_call,
            (|reps| timed_tether(reps, work::tether_gather8)) as Runner,
        ),
        ("futures::future::join_all([8 futures])", per_call, |reps| {
            timed_tether(reps, work::join_all8)
        }),
        ("futures::join!(8 futures)", per_call, |reps| {
            timed_tether(reps, work::join_macro8)
        }),
        ("tether::gather(1,000 futures)", per_future, |reps| {
            timed_tether(reps, || work::tether_gather(GROUP))
        }),
        (
            "futures::future::join_all(1,000 futures)",
            per_future,
            |reps| timed_tether(reps, || work::join_all(GROUP)),
        ),
    ]
}
