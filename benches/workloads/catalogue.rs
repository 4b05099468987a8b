//! Every workload of the comparison table, with one runner per runtime column.

use std::time::Duration;

use super::rt::{AsyncExecutor, RawAsyncTask, Tether, TetherMt, TokioCt, TokioMt};
use super::work::{self, SmolChannel, SmolEvent, TetherQueue, TokioChannel, timed, timed_tether};

/// Runs a workload `reps` times on a fresh runtime and returns the time taken inside it.
pub type Runner = fn(usize) -> Duration;

/// The runtime columns measured here, in table order (asyncio comes from the Python twins).
pub const COLUMNS: [&str; 6] = [
    "tether",
    "tether (mt, 2)",
    "tokio (ct)",
    "tokio (mt, 2)",
    "async-executor",
    "async-task (floor)",
];

/// Index of tether's multi-threaded runtime in [`COLUMNS`].
pub const TETHER_MT: usize = 1;

/// Index of tokio current_thread in [`COLUMNS`]: the peer of every tether target.
pub const TOKIO_CT: usize = 2;

/// Index of tokio multi_thread in [`COLUMNS`]: the peer of tether's multi-threaded runtime.
pub const TOKIO_MT: usize = 3;

/// Index of async-executor in [`COLUMNS`].
pub const ASYNC_EXECUTOR: usize = 4;

/// Index of the raw async-task loop in [`COLUMNS`]: the floor under tether's task core, not a
/// peer (nobody ships it), so it is left out of the best-peer ratio.
pub const FLOOR: usize = 5;

/// The columns of the peers a tether row is compared with (the best of them, and asyncio's).
pub const PEERS: [usize; 3] = [TOKIO_CT, TOKIO_MT, ASYNC_EXECUTOR];

/// What a row must reach: tether's single loop against tokio current_thread and against the best
/// peer, tether's workers against tokio multi_thread.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Highest tether / tokio (ct) ratio.
    pub tokio: f64,
    /// Highest tether / best peer ratio, if the row has one.
    pub best: Option<f64>,
    /// Highest tether (mt, 2) / tokio (mt, 2) ratio.
    pub mt: f64,
}

impl Target {
    /// A task row: <= 0.9x the best peer, <= 0.5x tokio current_thread.
    pub const TASKS: Target = Target {
        tokio: 0.5,
        best: Some(0.9),
        mt: 1.0,
    };
    /// A yield row: <= 0.6x tokio (either form of yielding), <= 0.9x the best peer.
    pub const YIELDS: Target = Target {
        tokio: 0.6,
        best: Some(0.9),
        mt: 1.0,
    };
    /// A timer row: <= 0.5x tokio (the only peer with timers).
    pub const TIMERS: Target = Target {
        tokio: 0.5,
        best: None,
        mt: 1.0,
    };
}
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
    pub runners: [Option<Runner>; 6],
    /// What the row must reach.
    pub target: Target,
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
            runner!(RawAsyncTask, |$R| $body),
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
            None,
        ]
    };
}

/// One generic body, each runtime with the primitives its users reach for: tether's own on both
/// tether columns, tokio's on both tokio columns, smol's on async-executor and the floor.
macro_rules! sync_runtimes {
    (|$R:ident, $P:ident| $body:expr, tether: $tether:ty, tokio: $tokio:ty, smol: $smol:ty) => {
        [
            runner!(Tether, |$R| {
                type $P = $tether;
                $body
            }),
            runner!(TetherMt, |$R| {
                type $P = $tether;
                $body
            }),
            runner!(TokioCt, |$R| {
                type $P = $tokio;
                $body
            }),
            runner!(TokioMt, |$R| {
                type $P = $tokio;
                $body
            }),
            runner!(AsyncExecutor, |$R| {
                type $P = $smol;
                $body
            }),
            runner!(RawAsyncTask, |$R| {
                type $P = $smol;
                $body
            }),
        ]
    };
}

/// The runners of a row of [`GROUP`] tasks each doing one `sleep(0)`: `tether` (a plain group or
/// set, not `Send`, so no tether (mt) cell), tokio's `JoinSet`, and handles awaited in creation
/// order on async-executor and the floor.
fn sleep0_peers(tether: Runner) -> [Option<Runner>; 6] {
    [
        Some(tether),
        None,
        Some(|reps| timed::<TokioCt, _, _>(reps, || work::tokio_join_set_yield(GROUP))),
        Some(|reps| timed::<TokioMt, _, _>(reps, || work::tokio_join_set_yield(GROUP))),
        Some(|reps| {
            timed::<AsyncExecutor, _, _>(reps, || work::spawn_sleep0::<AsyncExecutor>(GROUP))
        }),
        Some(|reps| {
            timed::<RawAsyncTask, _, _>(reps, || work::spawn_sleep0::<RawAsyncTask>(GROUP))
        }),
    ]
}

/// The runners of the independent probe's rows: one loop only, tether and tokio current_thread
/// as given, async-executor driven directly (`work::local_executor_spawn_await`).
fn probe_peers(tether: Runner, tokio: Runner) -> [Option<Runner>; 6] {
    [
        Some(tether),
        None,
        Some(tokio),
        None,
        Some(|reps| work::local_executor_spawn_await(reps, GROUP)),
        None,
    ]
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
            target: Target::TASKS,
        },
        Workload {
            key: "spawn_await_1k",
            what: "the independent probe: spawn 1,000 empty tasks, await each in creation order, on one loop (async-executor: a LocalExecutor made in the benchmark, spawned on directly)",
            unit: Unit::NsPer {
                ops: GROUP,
                op: "task",
            },
            runners: probe_peers(
                |reps| timed::<Tether, _, _>(reps, || work::spawn_many::<Tether>(GROUP)),
                |reps| timed::<TokioCt, _, _>(reps, || work::spawn_many::<TokioCt>(GROUP)),
            ),
            target: Target::TASKS,
        },
        Workload {
            key: "group_empty_1k",
            what: "the independent probe: a task group of 1,000 empty children on one loop (tokio: a JoinSet; async-executor, which has no group: a LocalExecutor made in the benchmark, handles awaited in order)",
            unit: Unit::NsPer {
                ops: GROUP,
                op: "task",
            },
            runners: probe_peers(
                |reps| timed_tether(reps, || work::tether_group(GROUP)),
                |reps| timed::<TokioCt, _, _>(reps, || work::tokio_join_set(GROUP)),
            ),
            target: Target::TASKS,
        },
        Workload {
            key: "spawn_many_100k",
            what: "spawn 100,000 empty tasks (all in flight), await every handle",
            unit: Unit::NsPer {
                ops: 100_000,
                op: "task",
            },
            runners: all_runtimes!(|R| work::spawn_many::<R>(100_000)),
            target: Target::TASKS,
        },
        Workload {
            key: "yield_many",
            what: "200 tasks x 1,000 yield_now()",
            unit: Unit::NsPer {
                ops: 200_000,
                op: "yield",
            },
            runners: all_runtimes!(|R| work::yield_many::<R>(200, 1_000)),
            target: Target::YIELDS,
        },
        Workload {
            key: "sleep0_many",
            what: "200 tasks x 1,000 asyncio.sleep(0): tether::sleep(Duration::ZERO), elsewhere yield_now()",
            unit: Unit::NsPer {
                ops: 200_000,
                op: "yield",
            },
            runners: all_runtimes!(|R| work::sleep0_many::<R>(200, 1_000)),
            target: Target::YIELDS,
        },
        Workload {
            key: "ping_pong",
            what: "1,000 ping tasks, each spawning a pong; one round trip over oneshots",
            unit: Unit::NsPer {
                ops: 1_000,
                op: "pair",
            },
            runners: all_runtimes!(|R| work::ping_pong::<R>(1_000)),
            target: Target::TASKS,
        },
        Workload {
            key: "chained_spawn",
            what: "chain of 1,000 tasks, each spawning the next and awaiting it",
            unit: Unit::NsPer {
                ops: 1_000,
                op: "task",
            },
            runners: all_runtimes!(|R| work::chained_spawn::<R>(1_000)),
            target: Target::TASKS,
        },
        Workload {
            key: "timers_sleep_100k",
            what: "100,000 tasks each sleeping 10 ms (floor: 10 ms)",
            unit: Unit::Ms,
            runners: timer_runtimes!(|R| work::sleep_many::<R>(100_000, Duration::from_millis(10))),
            target: Target::TIMERS,
        },
        Workload {
            key: "timers_arm_cancel_100k",
            what: "100,000 x (create a 60 s sleep, poll it once so it is armed, drop it)",
            unit: Unit::NsPer {
                ops: 100_000,
                op: "timer",
            },
            runners: timer_runtimes!(|R| work::arm_cancel::<R>(100_000)),
            target: Target::TIMERS,
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
                Some(|reps| {
                    timed::<RawAsyncTask, _, _>(reps, || work::spawn_many::<RawAsyncTask>(GROUP))
                }),
            ],
            target: Target::TASKS,
        },
        Workload {
            key: "group_sleep0_1k",
            what: "task_group! of 1,000 children each doing sleep(0) (tokio: JoinSet; others: handles awaited in order)",
            unit: Unit::NsPer {
                ops: GROUP,
                op: "task",
            },
            runners: sleep0_peers(|reps| timed_tether(reps, || work::tether_group_sleep0(GROUP))),
            target: Target::TASKS,
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
                None,
            ],
            target: Target::TASKS,
        },
        Workload {
            key: "taskset_background_1k",
            what: "asyncio's background-task set: TaskSet::background of 1,000 tasks each doing sleep(0), waited until empty (tokio: JoinSet; others: handles)",
            unit: Unit::NsPer {
                ops: GROUP,
                op: "task",
            },
            runners: sleep0_peers(|reps| timed_tether(reps, || work::tether_background(GROUP))),
            target: Target::TASKS,
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
                Some(|reps| timed::<RawAsyncTask, _, _>(reps, || work::join_all(GROUP))),
            ],
            target: Target::TASKS,
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
                Some(|reps| timed::<RawAsyncTask, _, _>(reps, work::join_all8)),
            ],
            target: Target::TASKS,
        },
        Workload {
            key: "queue_ping_pong",
            what: "two tasks, 1,000 round trips over two bounded queues of 1 (tether Queue, tokio mpsc, async-channel)",
            unit: Unit::NsPer {
                ops: work::ROUND_TRIPS,
                op: "round trip",
            },
            runners: sync_runtimes!(
                |R, C| work::queue_ping_pong::<R, C>(work::ROUND_TRIPS),
                tether: TetherQueue,
                tokio: TokioChannel,
                smol: SmolChannel
            ),
            target: Target::TASKS,
        },
        Workload {
            key: "event_ping_pong",
            what: "two tasks, 1,000 round trips over two events (tether Event, tokio Notify, a flag + event-listener)",
            unit: Unit::NsPer {
                ops: work::ROUND_TRIPS,
                op: "round trip",
            },
            runners: sync_runtimes!(
                |R, S| work::event_ping_pong::<R, S>(work::ROUND_TRIPS),
                tether: tether::sync::Event,
                tokio: tokio::sync::Notify,
                smol: SmolEvent
            ),
            target: Target::TASKS,
        },
        Workload {
            key: "lock_contended_100",
            what: "100 tasks x 10 acquisitions of one lock, each held across a sleep(0) (tether Lock, tokio Mutex, async-lock Mutex)",
            unit: Unit::NsPer {
                ops: work::LOCK_TASKS * work::LOCK_ROUNDS,
                op: "acquire",
            },
            runners: sync_runtimes!(
                |R, L| work::lock_contended::<R, L>(),
                tether: tether::sync::Lock,
                tokio: tokio::sync::Mutex<()>,
                smol: async_lock::Mutex<()>
            ),
            target: Target::TASKS,
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
