//! What a finished task reports to its done callbacks.

use super::TaskId;

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
