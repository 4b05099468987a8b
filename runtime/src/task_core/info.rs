//! What a finished task reports to its done callbacks.

use super::header::TaskId;

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Its future returned a value.
    Returned = 0,
    /// It was cancelled.
    Cancelled = 1,
    /// Its future panicked.
    Panicked = 2,
    /// It returned `Err` as a child of a fallible group.
    Failed = 3,
}

impl Outcome {
    pub(crate) fn from_bits(bits: u8) -> Outcome {
        match bits {
            0 => Outcome::Returned,
            1 => Outcome::Cancelled,
            2 => Outcome::Panicked,
            _ => Outcome::Failed,
        }
    }
}

/// What a done callback is told about the task that finished.
///
/// The output itself stays with the task's owner; a callback learns which task ended and how.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskDone {
    /// The task's id.
    pub id: TaskId,
    /// The task's name when it finished.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// A task group's identity, for introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(pub(crate) u64);

impl GroupId {
    pub(crate) fn next() -> GroupId {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        GroupId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// Who owns a task: the rule that every task has an owner, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Owner {
    /// The [`Task`](crate::Task) handle `create_task` returned.
    Handle,
    /// A task group, run by the task `runner` (the one awaiting the group's scope).
    Group {
        /// The group.
        group: GroupId,
        /// The task running the group's scope, if it runs inside a tether task.
        runner: Option<TaskId>,
    },
    /// A [`TaskSet`](crate::TaskSet).
    Set,
}

/// What a live task is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Being polled right now (it, or a child of one of its groups, is running).
    Running,
    /// Waiting to be woken, or ready and waiting its turn.
    Waiting,
}

/// A snapshot of one live task: asyncio's `current_task()`/`all_tasks()` items.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskInfo {
    /// The task's id.
    pub id: TaskId,
    /// Its name: the one it was given, or `Task-<id>`.
    pub name: String,
    /// What it is doing.
    pub state: TaskState,
    /// Who owns it.
    pub owner: Owner,
    /// The task that created it, if a tether task did.
    pub parent: Option<TaskId>,
    /// Where it was created.
    pub location: &'static std::panic::Location<'static>,
    /// What it is waiting for, when it is parked on something tether knows (a task, a group,
    /// a primitive, a promise, a timer) and its runtime records waits
    /// ([`Builder::track_waits`](crate::Builder::track_waits)); `None` otherwise.
    pub awaiting: Option<super::awaiting::Awaiting>,
}
