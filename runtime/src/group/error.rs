//! What a failed group reports: asyncio's `ExceptionGroup`, as a value.

use std::convert::Infallible;
use std::fmt;

use crate::task::Panic;

/// One failure inside a task group.
#[derive(Debug, thiserror::Error)]
pub enum TaskFailure<E = Infallible> {
    /// A child, or the group's body, panicked.
    #[error("{task} panicked: {panic}")]
    Panicked {
        /// The task's name (`body` for the group's body).
        task: String,
        /// The caught panic.
        panic: Panic,
    },
    /// A child of a fallible group (`task_group!(try |tg| ...)`) returned `Err`.
    #[error("{task} returned an error: {error}")]
    Failed {
        /// The task's name.
        task: String,
        /// The error it returned.
        error: E,
    },
}

impl<E> TaskFailure<E> {
    /// The name of the task that failed (`body` for the group's body).
    pub fn task_name(&self) -> &str {
        match self {
            TaskFailure::Panicked { task, .. } | TaskFailure::Failed { task, .. } => task,
        }
    }
}

/// Why a task group failed: every failure it saw, in the order it saw them.
///
/// When a child (or the body) fails, the group cancels everything else, waits for it, and
/// resolves to this error, as asyncio's `TaskGroup` raises an `ExceptionGroup`. Children
/// cancelled by that clean-up are not failures and are not listed.
///
/// Cancellation drops a task at its next await point, so once a group fails no other child
/// runs again (as in asyncio, where a cancelled task gets `CancelledError` at its `await`).
/// What the list can hold besides the first failure: panics raised while the rest is being
/// dropped (a destructor that panics), and the body's failure next to a child's.
///
/// This is a struct holding a list rather than an enum: one group can fail several ways at
/// once. Each entry is a [`TaskFailure`] enum.
///
/// # A cancelled group
///
/// A group ended by [`TaskGroup::cancel`](crate::TaskGroup::cancel) before its body returned
/// has no value to give, and resolves to a `GroupError` that lists no failure:
/// [`is_cancelled`](GroupError::is_cancelled) is `true` and [`failures`](GroupError::failures)
/// is empty. [`GroupError::cancelled_as_none`] turns that case back into `Ok(None)`.
///
/// # Examples
///
/// ```
/// let result = tether::run(async {
///     tether::task_group!(|tg| {
///         tg.create_task(async { panic!("disk full") });
///     })
/// });
/// let error = result.unwrap_err();
/// assert_eq!(error.failures().len(), 1);
/// assert!(error.to_string().contains("disk full"));
/// ```
pub struct GroupError<E = Infallible> {
    failures: Vec<TaskFailure<E>>,
}

impl<E> GroupError<E> {
    pub(crate) fn new(failures: Vec<TaskFailure<E>>) -> GroupError<E> {
        debug_assert!(
            !failures.is_empty(),
            "a group error lists at least one failure"
        );
        GroupError { failures }
    }

    /// What a group ended by [`TaskGroup::cancel`](crate::TaskGroup::cancel) before its body
    /// returned, and with nothing failed, resolves to.
    pub(crate) fn cancelled() -> GroupError<E> {
        GroupError {
            failures: Vec::new(),
        }
    }

    /// `true` if the group was ended by [`TaskGroup::cancel`](crate::TaskGroup::cancel) before
    /// its body returned, and nothing in it failed: not a failure, only the absence of the
    /// body's value. [`failures`](GroupError::failures) is then empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let result = tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         tg.cancel();
    ///         tether::yield_now().await; // the body is dropped here
    ///         unreachable!("a cancelled body does not run on");
    ///     })
    /// });
    /// assert!(result.unwrap_err().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.failures.is_empty()
    }

    /// The outcome of a group that may be cancelled, with cancellation as `Ok(None)`: `Ok(Some(v))`
    /// if the body returned `v` and nothing failed, `Ok(None)` if
    /// [`TaskGroup::cancel`](crate::TaskGroup::cancel) ended the group first, and `Err` if a
    /// task failed. The way to read a group as asyncio 3.15 reads one that `tg.cancel()` ended:
    /// no exception, and no result from the body.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::GroupError;
    ///
    /// let answer = tether::run(async {
    ///     let outcome = tether::task_group!(|tg| {
    ///         tg.create_task(async { tg.cancel() });
    ///         std::future::pending::<u32>().await
    ///     });
    ///     GroupError::cancelled_as_none(outcome)
    /// });
    /// assert_eq!(answer.unwrap(), None);
    /// ```
    pub fn cancelled_as_none<R>(
        outcome: Result<R, GroupError<E>>,
    ) -> Result<Option<R>, GroupError<E>> {
        match outcome {
            Ok(value) => Ok(Some(value)),
            Err(error) if error.is_cancelled() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every failure, in the order the group saw them.
    pub fn failures(&self) -> &[TaskFailure<E>] {
        &self.failures
    }

    /// Every failure, by value (to re-raise a panic, or take an error out).
    pub fn into_failures(self) -> Vec<TaskFailure<E>> {
        self.failures
    }

    /// The names of the tasks that failed.
    pub fn task_names(&self) -> impl Iterator<Item = &str> {
        self.failures.iter().map(TaskFailure::task_name)
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("failures", &self.failures)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        if n == 0 {
            return f.write_str(
                "the task group was cancelled (TaskGroup::cancel) before its body returned, so it \
                 has no value; no task failed (GroupError::cancelled_as_none reads this as None)",
            );
        }
        write!(
            f,
            "{n} task{} of the group failed: ",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GroupError<E> {}

/// Why a task group refused a new task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CreateTaskError {
    /// A task of the group failed, and the group is cancelling the rest.
    #[error(
        "the task group is shutting down because one of its tasks failed, so it refused a new \
         task (dropped without running); create tasks while the group is healthy, or use \
         try_create_task to handle the refusal"
    )]
    ShuttingDown,
    /// The group was cancelled with [`TaskGroup::cancel`](crate::TaskGroup::cancel) and is
    /// ending.
    #[error(
        "the task group was cancelled (TaskGroup::cancel) and is ending, so it refused a new \
         task (dropped without running); create tasks before cancelling the group"
    )]
    Cancelled,
    /// The group's scope is ending: it is dropping its children.
    #[error(
        "the task group is closing, so it refused a new task (dropped without running); \
         create tasks before the group's scope ends"
    )]
    Closed,
}
