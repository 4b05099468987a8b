//! [`TaskHandle`]: a view of a task some group owns.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{CallbackKey, CancelHandle, Task, TaskDone, TaskError, TaskId};

/// A handle to a task owned by a task group: what `tg.create_task` returns.
///
/// Unlike [`Task`], this handle does not own the task: dropping it leaves the task running under
/// its group, so `tg.create_task(work());` as a statement is the normal form. Keep the handle to
/// await the output (also after the group has ended), to cancel the task, or to read its name.
///
/// # Examples
///
/// ```
/// let total = tether::run(async {
///     tether::task_group!(|tg| {
///         let a = tg.create_task(async { 1 });
///         let b = tg.create_task(async { 2 });
///         a.await.unwrap() + b.await.unwrap()
///     })
/// });
/// assert_eq!(total.unwrap(), 3);
/// ```
pub struct TaskHandle<T> {
    /// `None` only after `drop` has detached it.
    task: Option<Task<T>>,
}

impl<T> TaskHandle<T> {
    pub(crate) fn new(task: Task<T>) -> TaskHandle<T> {
        TaskHandle { task: Some(task) }
    }

    pub(crate) fn task(&self) -> &Task<T> {
        self.task
            .as_ref()
            .expect("a handle holds its task until dropped")
    }

    pub(crate) fn task_mut(&mut self) -> &mut Task<T> {
        self.task
            .as_mut()
            .expect("a handle holds its task until dropped")
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.task().id()
    }

    /// The task's name: `Task-<id>` unless it was given one.
    pub fn name(&self) -> String {
        self.task().name()
    }

    /// `true` once the task has finished: returned, panicked, or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.task().is_finished()
    }

    /// Asks the task to stop. The task is marked and woken; its future is dropped the next time
    /// its group runs, never from here. A task cancelled this way does not fail its group.
    ///
    /// Returns `false`, and does nothing, if the task has already finished.
    pub fn cancel(&self) -> bool {
        self.task().cancel()
    }

    /// Like [`TaskHandle::cancel`], with a message for the awaiting side.
    pub fn cancel_with(&self, message: impl Into<String>) -> bool {
        self.task().cancel_with(message)
    }

    /// Cancels the task and waits until its future has been dropped (by its group).
    pub async fn cancel_and_wait(mut self) -> Result<T, TaskError> {
        self.cancel();
        (&mut self).await
    }

    /// `true` if the task finished by being cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.task().is_cancelled()
    }

    /// Renames the task.
    pub fn set_name(&self, name: impl Into<String>) {
        self.task().set_name(name);
    }

    /// A handle that can cancel this task from anywhere.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.task().cancel_handle()
    }

    /// The outcome of a finished task, without waiting; see [`Task::try_result`].
    pub fn try_result(&mut self) -> Option<&Result<T, TaskError>> {
        self.task_mut().try_result()
    }

    /// Calls `callback` on the loop after the task finishes; see [`Task::add_done_callback`].
    pub fn add_done_callback<F>(&self, callback: F) -> CallbackKey
    where
        F: FnOnce(&TaskDone) + Send + 'static,
    {
        self.task().add_done_callback(callback)
    }

    /// Removes a done callback that has not run yet.
    pub fn remove_done_callback(&self, key: CallbackKey) -> bool {
        self.task().remove_done_callback(key)
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self
            .task
            .as_mut()
            .expect("a handle holds its task until dropped");
        Pin::new(task).poll(cx)
    }
}

impl<T> Drop for TaskHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}
