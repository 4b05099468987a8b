//! Tasks: [`create_task`] and [`spawn`], the owning [`Task`] handle, its [`Builder`], and what a
//! task reports about itself ([`TaskInfo`], [`Awaiting`]).

mod builder;
mod cancel_handle;
// Documented at its public path, `tether::graceful` (re-exported in lib.rs).
#[doc(hidden)]
pub mod graceful;
pub(crate) mod introspect;
pub(crate) mod owning;
mod spawn;
mod yield_now;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

pub use crate::task_core::awaiting::{Awaiting, CommandLine, IoDirection, SyncKind};
pub use crate::task_core::error::{Panic, TaskError};
pub use crate::task_core::header::TaskId;
pub use crate::task_core::info::{GroupId, Outcome, Owner, TaskDone, TaskInfo, TaskState};
pub use builder::Builder;
pub use cancel_handle::CancelHandle;
pub use spawn::spawn;
pub(crate) use spawn::spawn_send;
pub use yield_now::{YieldNow, yield_now};

use crate::scheduler::event_loop::EventLoop;
use crate::task_core::callbacks::Callbacks;
use crate::task_core::error;
use crate::task_core::header::Header;
use crate::task_core::raw::{
    Contained, RawTask, Spawn, is_running_tasks_waker, schedule_callbacks,
};
use crate::util::waker_slot::WakerSlot;

/// A waker that forwards to the awaiter's waker, containing a panic from it.
///
/// async-task wakes a finished task's awaiter inside a guard that aborts the process on a
/// panic. A tether task's own waker cannot panic (it only schedules); any other waker is
/// somebody's code, so it is reached through this one, which reports a panic instead.
struct ForwardWaker {
    awaiter: WakerSlot,
}

impl Wake for ForwardWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        error::contain_panic(
            || "the waker of code awaiting a task".to_owned(),
            || self.awaiter.wake(),
        );
    }
}

/// The waker to hand async-task for an awaiter whose waker is `waker`: `None` for `waker`
/// itself, when it is the running tether task's own waker; otherwise the forwarding waker,
/// made once per `Task`.
fn awaiter_waker<'a>(
    forward: &'a mut Option<(Arc<ForwardWaker>, Waker)>,
    waker: &Waker,
) -> Option<&'a Waker> {
    if is_running_tasks_waker(waker) {
        return None;
    }
    let (inner, outer) = forward.get_or_insert_with(|| {
        let inner = Arc::new(ForwardWaker {
            awaiter: WakerSlot::new(),
        });
        let outer = Waker::from(inner.clone());
        (inner, outer)
    });
    inner.awaiter.register(waker);
    Some(outer)
}

/// The message of the panic raised by polling a task whose outcome was already taken.
const POLLED_AFTER_OUTCOME: &str = "a tether Task (or TaskHandle) was polled after it returned its outcome; \
     await a task once, or peek at a finished task with try_result()";

/// The message of the panic raised by `create_task` outside a loop.
pub(crate) const NO_LOOP: &str = "tether::create_task was called outside a running event loop; \
     call it from code run by tether::run, #[tether::main] or #[tether::test]";

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
    spawn_task(
        future,
        Spawn::new(Owner::Handle, std::panic::Location::caller()),
    )
}

/// Creates a top-level task as `spawn` describes.
#[track_caller]
pub(crate) fn spawn_task<F>(future: F, spawn: Spawn) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let Some(raw) = EventLoop::with_current(|lp| {
        // SAFETY: `F` is `'static`.
        unsafe { lp.spawn(future, spawn) }
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
/// A waker that panics when woken is reported and contained, also when it belongs to code
/// awaiting a `Task` from outside a tether task (another executor, a combinator's waker).
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
#[must_use = "dropping this `Task` cancels its task, and so does `let _ = ...`, which drops it at once: await it, bind it to a named variable (`let _task = ...`), or start it in a TaskSet or group instead"]
pub struct Task<T> {
    /// `None` once detached (by a group's handle, or by `drop`).
    raw: Option<RawTask<T>>,
    /// What async-task wakes when this task finishes, if the awaiter's own waker is not a
    /// tether task's (see `awaiter_waker`).
    forward: Option<(Arc<ForwardWaker>, Waker)>,
    /// The outcome, once read out of the finished task by `try_result` or a `wait`.
    output: Option<Result<T, TaskError>>,
    /// `.await` has returned the outcome.
    taken: bool,
    /// The awaiting task's record of this wait (see `crate::task_core::awaiting`).
    record: crate::task_core::awaiting::WaitRecord,
}

impl<T> Task<T> {
    pub(crate) fn from_raw(raw: RawTask<T>) -> Task<T> {
        Task {
            raw: Some(raw),
            forward: None,
            output: None,
            taken: false,
            record: crate::task_core::awaiting::WaitRecord::new(),
        }
    }

    fn raw(&self) -> &RawTask<T> {
        self.raw
            .as_ref()
            .expect("a Task holds its task until dropped")
    }

    /// Lets the task run on without an owner reading its output (a group still owns it).
    pub(crate) fn detach(mut self) {
        if let Some(raw) = self.raw.take() {
            raw.detach();
        }
    }

    pub(crate) fn header(&self) -> &Header {
        self.raw().metadata()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.header().id
    }

    /// The task's name: `Task-<id>` unless it was given one.
    pub fn name(&self) -> String {
        self.header().name()
    }

    /// Renames the task: asyncio's `set_name`.
    pub fn set_name(&self, name: impl Into<String>) {
        self.header().set_name(name.into());
    }

    /// `true` once the task has finished: returned, panicked, or been cancelled
    /// (asyncio's `done()`).
    pub fn is_finished(&self) -> bool {
        self.taken || self.output.is_some() || self.raw().is_finished()
    }

    /// `true` if the task finished by being cancelled (asyncio's `cancelled()`).
    pub fn is_cancelled(&self) -> bool {
        self.header().outcome() == Some(Outcome::Cancelled)
    }

    /// Asks the task to stop. Its future is dropped the next time the loop runs it, and awaiting
    /// this handle then gives [`TaskError::Cancelled`].
    ///
    /// Returns `false`, and does nothing, if the task has already finished.
    pub fn cancel(&self) -> bool {
        self.header().request_cancel(None)
    }

    /// Like [`Task::cancel`], with a message the awaiting side finds in
    /// [`TaskError::Cancelled`]. A later message replaces an earlier one.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::TaskError;
    ///
    /// tether::run(async {
    ///     let task = tether::create_task(std::future::pending::<()>());
    ///     task.cancel_with("shutting down");
    ///     match task.await {
    ///         Err(TaskError::Cancelled { message }) => assert_eq!(message.as_deref(), Some("shutting down")),
    ///         other => unreachable!("{other:?}"),
    ///     }
    /// });
    /// ```
    pub fn cancel_with(&self, message: impl Into<String>) -> bool {
        self.header().request_cancel(Some(message.into()))
    }

    /// Cancels the task and waits until its future has really been dropped (its destructors
    /// have run). Returns the output if the task finished before the request reached it.
    pub async fn cancel_and_wait(self) -> Result<T, TaskError> {
        self.cancel();
        self.await
    }

    /// A snapshot of the task: name, state, owner, parent, where it was created.
    pub fn info(&self) -> TaskInfo {
        crate::diagnostics::listing::snapshot(self.header())
    }

    /// A handle that can cancel this task from anywhere, without owning it.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle::new(self.header())
    }

    /// The outcome of a finished task, without waiting and without consuming it: asyncio's
    /// `result()`/`exception()`. `None` while it runs (or once `.await` has taken the outcome).
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let mut task = tether::create_task(async { 5 });
    ///     assert!(task.try_result().is_none());
    ///     tether::yield_now().await;
    ///     assert_eq!(task.try_result().unwrap().as_ref().ok(), Some(&5));
    ///     assert_eq!(task.await.unwrap(), 5);
    /// });
    /// ```
    pub fn try_result(&mut self) -> Option<&Result<T, TaskError>> {
        if self.output.is_none() && !self.taken && self.raw().is_finished() {
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let _ = self.poll_finished(&mut cx);
        }
        self.output.as_ref()
    }

    /// Waits for the task to finish and keeps its outcome here, for `try_result` and `.await`.
    pub(crate) fn poll_finished(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.output.is_some() {
            return Poll::Ready(());
        }
        assert!(!self.taken, "{POLLED_AFTER_OUTCOME}");
        let waker = awaiter_waker(&mut self.forward, cx.waker());
        let mut cx = Context::from_waker(waker.unwrap_or(cx.waker()));
        let raw = self
            .raw
            .as_mut()
            .expect("a Task holds its task until dropped");
        match Pin::new(raw).poll(&mut cx) {
            Poll::Ready(output) => {
                self.output = Some(output.map(Contained::into_inner));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// `true` if the task finished by panicking or failing (not by returning or cancellation).
    pub(crate) fn has_failed(&self) -> bool {
        matches!(
            self.header().outcome(),
            Some(Outcome::Panicked | Outcome::Failed)
        )
    }

    /// Calls `callback` on the loop after the task finishes: asyncio's `add_done_callback`.
    ///
    /// Callbacks run in the order they were added, once each. One added after the task finished
    /// runs soon, on the loop running on this thread (or right away if there is none). The
    /// returned key removes it again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use tether::task::Outcome;
    ///
    /// tether::run(async {
    ///     let seen = Arc::new(Mutex::new(None));
    ///     let task = tether::create_task(async {});
    ///     let sink = seen.clone();
    ///     task.add_done_callback(move |done| *sink.lock().unwrap() = Some(done.outcome));
    ///     task.await.unwrap();
    ///     tether::yield_now().await;
    ///     assert_eq!(*seen.lock().unwrap(), Some(Outcome::Returned));
    /// });
    /// ```
    pub fn add_done_callback<F>(&self, callback: F) -> CallbackKey
    where
        F: FnOnce(&TaskDone) + Send + 'static,
    {
        let header = self.header();
        match header.add_callback(Box::new(callback)) {
            Ok(key) => CallbackKey(key),
            Err(callback) => {
                let mut late = Callbacks::default();
                let key = late.push(callback);
                schedule_callbacks(header, late);
                CallbackKey(key)
            }
        }
    }

    /// Removes a done callback that has not run yet. Returns `false` if it was not there.
    pub fn remove_done_callback(&self, key: CallbackKey) -> bool {
        self.header().remove_callback(key.0) > 0
    }
}

// The cached output is never pinned: a `Task` may move freely, whatever `T` is.
impl<T> Unpin for Task<T> {}

/// Identifies a done callback, for [`Task::remove_done_callback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackKey(u64);

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let poll = this.poll_finished(cx);
        let id = this.id();
        match this
            .record
            .track(poll, || crate::task::Awaiting::Task { id })
        {
            Poll::Ready(()) => {
                this.taken = true;
                Poll::Ready(this.output.take().expect("poll_finished keeps the outcome"))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Finished once `.await` (or a poll) has handed out the outcome: a `Task` may then sit in a
/// [`select!`](crate::select!) loop without being polled again.
impl<T> futures_core::FusedFuture for Task<T> {
    fn is_terminated(&self) -> bool {
        self.taken
    }
}

impl<T> Drop for Task<T> {
    /// Cancels the task through tether's own path: the request reaches the task's wrapper,
    /// which drops the future (catching a panic from its destructors) and runs the done
    /// callbacks, as any cancellation does.
    fn drop(&mut self) {
        if let Some(raw) = self.raw.take() {
            // A task whose outcome this handle holds or handed out has ended: no request (an
            // atomic step and a look at its waker) for a task that cannot be cancelled.
            if !self.taken && self.output.is_none() {
                raw.metadata().request_cancel(None);
            }
            raw.detach();
        }
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

#[cfg(test)]
mod tests {
    use std::task::{Context, Waker};

    #[test]
    fn awaiting_from_a_tether_task_passes_its_own_waker_through() {
        crate::run(async {
            let mut task = crate::create_task(crate::yield_now());
            assert!(futures::poll!(&mut task).is_pending());
            assert!(
                task.forward.is_none(),
                "the running task's waker needs no forwarding"
            );
            task.await.unwrap();
        });
    }

    #[test]
    fn a_foreign_waker_is_reached_through_the_forwarding_waker() {
        crate::run(async {
            let mut task = crate::create_task(crate::yield_now());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(
                std::pin::Pin::new(&mut task)
                    .poll_finished(&mut cx)
                    .is_pending()
            );
            assert!(task.forward.is_some());
            task.await.unwrap();
        });
    }
}
