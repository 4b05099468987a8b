//! Tasks: `create_task`, the owning [`Task`] handle, and what they are made of.

pub(crate) mod error;
pub(crate) mod header;
pub(crate) mod supervise;
pub(crate) mod table;
mod yield_now;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use error::{Panic, TaskError};
pub use header::TaskId;
pub use yield_now::{YieldNow, yield_now};

use crate::event_loop::EventLoop;
use header::Header;

/// The scheduler's view of a task.
pub(crate) type Runnable = async_task::Runnable<Header>;

/// The async-task handle of a task run under `supervise`.
pub(crate) type RawTask<T> = async_task::Task<Result<T, TaskError>, Header>;

/// The message of the panic raised by `create_task` outside a loop.
pub(crate) const NO_LOOP: &str = "tether::create_task was called outside a running event loop; \
     call it from code run by tether::run, #[tether::main] or #[tether::test]";

/// Allocates a tether task: `future` wrapped in `supervise`, with a fresh header.
///
/// `on_end` runs when the future is gone (finished or dropped); `finish` turns the supervised
/// outcome into the task's output, for an owner that wants to see it first (a group records
/// failures there). The runnable is returned unscheduled.
///
/// # Safety
///
/// The contract of [`async_task::Builder::spawn_unchecked`]: if `F` is not `Send`, the runnable
/// must be run and dropped on this thread; if `F` (or `on_end`, `finish`) is not `'static`,
/// everything it borrows must outlive the runnable; likewise for `schedule` and the task's wakers.
pub(crate) unsafe fn spawn_supervised<F, T, S, E, Fin>(
    future: F,
    name: Option<String>,
    schedule: S,
    on_end: E,
    finish: Fin,
) -> (Runnable, RawTask<T>)
where
    F: Future,
    S: Fn(Runnable),
    E: FnOnce(),
    Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> Result<T, TaskError>,
{
    let builder = async_task::Builder::new().metadata(Header::new(name));
    // SAFETY: forwarded to the caller. The future borrows the header, which async-task keeps in
    // the same allocation and drops after the future.
    let (runnable, task) = unsafe {
        builder.spawn_unchecked(
            move |header| {
                run_task(
                    header,
                    future,
                    supervise::OnEnd::new(header, on_end),
                    finish,
                )
            },
            schedule,
        )
    };
    task.metadata().set_waker(&runnable.waker());
    (runnable, task)
}

/// The whole life of a task: supervised, then handed to its owner's `finish`.
async fn run_task<F, T, E, Fin>(
    header: &Header,
    future: F,
    end: supervise::OnEnd<'_, E>,
    finish: Fin,
) -> Result<T, TaskError>
where
    F: Future,
    E: FnOnce(),
    Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> Result<T, TaskError>,
{
    let outcome = supervise::supervise(header, future, end).await;
    finish(header, outcome)
}

/// Starts `future` as a new task on the running event loop and returns the handle that owns it.
///
/// asyncio's `create_task`, with the one difference that matters: the returned [`Task`] *is* the
/// task's owner. Keep it and await it for the output; drop it and the task is cancelled (its
/// future is dropped at its next await point, destructors and all). There is no weak reference
/// to lose a task through. For fire-and-forget work, put tasks in a
/// [`TaskSet`](crate::TaskSet) or a task group.
///
/// Tasks start in the order they were created, after the tasks already ready to run.
///
/// # Panics
///
/// Outside a running event loop (asyncio raises `RuntimeError` there).
///
/// # Examples
///
/// ```
/// async fn nested() -> i32 {
///     42
/// }
///
/// tether::run(async {
///     let task = tether::create_task(nested());
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
#[track_caller]
pub fn create_task<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let Some(raw) = EventLoop::with_current(|lp| {
        // SAFETY: `F` is `'static`.
        unsafe { lp.spawn(future, None) }
    }) else {
        panic!("{NO_LOOP}");
    };
    Task::from_raw(raw)
}

/// An owned task: the handle [`create_task`] returns.
///
/// Awaiting it gives the task's output, or a [`TaskError`] if the task was cancelled or
/// panicked. Dropping it cancels the task: the only way a task keeps running is to have an owner.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tether::run(async {
///     let task = tether::create_task(async {
///         tether::sleep(Duration::from_secs(3600)).await;
///     });
///     task.cancel();
///     assert!(task.await.unwrap_err().is_cancelled());
/// });
/// ```
#[must_use = "a task must be owned by a Task handle, a TaskGroup or a TaskSet: dropping this `Task` cancels the task; await it, keep it, or spawn it in a TaskSet or group instead"]
pub struct Task<T> {
    raw: RawTask<T>,
}

impl<T> Task<T> {
    pub(crate) fn from_raw(raw: RawTask<T>) -> Task<T> {
        Task { raw }
    }

    /// Lets the task run on without an owner reading its output (a group still owns it).
    pub(crate) fn detach(self) {
        self.raw.detach();
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.metadata().id
    }

    /// The task's name: `Task-<id>` unless it was given one.
    pub fn name(&self) -> String {
        self.raw.metadata().name()
    }

    /// `true` once the task has finished: returned, panicked, or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }

    /// Asks the task to stop. Its future is dropped the next time the loop runs it, and awaiting
    /// this handle then gives [`TaskError::Cancelled`].
    ///
    /// Returns `false`, and does nothing, if the task has already finished.
    pub fn cancel(&self) -> bool {
        if self.is_finished() {
            return false;
        }
        self.raw.metadata().request_cancel(None);
        true
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.raw).poll(cx)
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}
