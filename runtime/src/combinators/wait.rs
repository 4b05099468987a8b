//! Waiting on several tasks: [`wait`] (asyncio's `asyncio.wait`), [`as_completed`], [`shield`].

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use crate::combinators::join::Unordered;
use crate::group::TaskHandle;
use crate::task::owning::OwnsTask;
use crate::task::{Task, TaskError};
use crate::time::{Instant, Sleep, sleep_until};

/// A task handle that [`wait`], [`as_completed`] and [`shield`] accept: [`Task`] or
/// [`TaskHandle`].
///
/// Sealed: these functions rely on a handle that keeps its task's outcome when it finishes.
pub trait Waitable:
    Future<Output = Result<Self::Value, TaskError>> + Unpin + sealed::Sealed
{
    /// The task's output type.
    type Value;

    #[doc(hidden)]
    fn poll_finished(&mut self, cx: &mut Context<'_>) -> Poll<()>;

    #[doc(hidden)]
    fn has_failed(&self) -> bool;

    #[doc(hidden)]
    fn is_done(&self) -> bool;
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for crate::task::Task<T> {}
    impl<T> Sealed for crate::group::TaskHandle<T> {}
}

impl<T> Waitable for Task<T> {
    type Value = T;

    fn poll_finished(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Task::poll_finished(self, cx)
    }

    fn has_failed(&self) -> bool {
        Task::has_failed(self)
    }

    fn is_done(&self) -> bool {
        self.is_finished()
    }
}

impl<T> Waitable for TaskHandle<T> {
    type Value = T;

    fn poll_finished(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.task_mut().poll_finished(cx)
    }

    fn has_failed(&self) -> bool {
        self.task().has_failed()
    }

    fn is_done(&self) -> bool {
        self.is_finished()
    }
}

/// Resolves to its task once the task has finished (its outcome kept inside).
struct WhenDone<W>(Option<W>);

impl<W: Waitable> Future for WhenDone<W> {
    type Output = W;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<W> {
        let task = self
            .0
            .as_mut()
            .expect("a WhenDone is polled until it resolves, then dropped");
        match task.poll_finished(cx) {
            Poll::Ready(()) => Poll::Ready(self.0.take().expect("checked above")),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// When [`wait`] returns: asyncio's `return_when`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task finishes (or is cancelled).
    FirstCompleted,
    /// As soon as any task fails (panics, or returns `Err` in a fallible group); otherwise when
    /// all have finished. A cancelled task is not a failure.
    FirstException,
    /// When every task has finished.
    AllCompleted,
}

/// Waits for tasks until `when` holds, and splits them into those done and those still pending:
/// asyncio's `done, pending = await asyncio.wait(tasks, return_when=...)`.
///
/// Nothing is cancelled: pending tasks come back, still owned by you. A done task's outcome is
/// ready: `.await` it, or read it with [`Task::try_result`]. Add a time limit with
/// [`Wait::timeout`] or [`Wait::deadline`]; when it passes, `wait` returns what is done by then.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::ReturnWhen;
///
/// tether::run(async {
///     let tasks = [50, 10, 30].map(|ms| {
///         tether::create_task(async move {
///             tether::sleep(Duration::from_millis(ms)).await;
///             ms
///         })
///     });
///     let waited = tether::wait(tasks, ReturnWhen::FirstCompleted).await;
///     assert_eq!(waited.done.len(), 1);
///     assert_eq!(waited.pending.len(), 2);
///     for task in waited.done {
///         assert_eq!(task.await.unwrap(), 10);
///     }
/// });
/// ```
pub fn wait<I, W>(tasks: I, when: ReturnWhen) -> Wait<W>
where
    I: IntoIterator<Item = W>,
    W: Waitable,
{
    Wait {
        running: Unordered::new(tasks.into_iter().map(|task| WhenDone(Some(task)))),
        done: Vec::new(),
        when,
        limit: None,
    }
}

/// The future returned by [`wait`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<W> {
    running: Unordered<WhenDone<W>>,
    done: Vec<W>,
    when: ReturnWhen,
    limit: Option<Sleep>,
}

/// What [`wait`] resolves to.
#[derive(Debug)]
pub struct Waited<W> {
    /// Every task that had finished when `wait` returned: those it saw finish, in that order,
    /// then any that finished in the same moment, in input order (asyncio also puts every
    /// task that is `done()` here).
    pub done: Vec<W>,
    /// The tasks still running when `wait` returned, in input order.
    pub pending: Vec<W>,
}

impl<W: Waitable> Wait<W> {
    /// Returns after `duration` at the latest, with whatever is done by then (asyncio's
    /// `timeout=`).
    pub fn timeout(self, duration: Duration) -> Wait<W> {
        self.deadline(Instant::now().saturating_add(duration))
    }

    /// Returns at `deadline` at the latest.
    pub fn deadline(mut self, deadline: Instant) -> Wait<W> {
        self.limit = Some(sleep_until(deadline));
        self
    }

    /// Splits the tasks by whether they have finished *now*, not by what this future has
    /// polled: two tasks that finish in the same tick both wake it, and it returns after the
    /// first, so the second would otherwise be reported as still running.
    fn finish(&mut self) -> Waited<W> {
        let rest = self.running.take_unfinished();
        let mut done = std::mem::take(&mut self.done);
        let mut pending = Vec::with_capacity(rest.len());
        for task in rest.into_iter().filter_map(|WhenDone(task)| task) {
            if task.is_done() {
                done.push(task);
            } else {
                pending.push(task);
            }
        }
        Waited { done, pending }
    }
}

impl<W: Waitable> Future for Wait<W> {
    type Output = Waited<W>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Waited<W>> {
        let this = &mut *self;
        loop {
            if this.running.is_empty() {
                return Poll::Ready(this.finish());
            }
            match this.running.poll_next(cx) {
                Poll::Ready(Some((_, task))) => {
                    let failed = task.has_failed();
                    this.done.push(task);
                    match this.when {
                        ReturnWhen::FirstCompleted => return Poll::Ready(this.finish()),
                        ReturnWhen::FirstException if failed => return Poll::Ready(this.finish()),
                        _ => {}
                    }
                }
                Poll::Ready(None) => return Poll::Ready(this.finish()),
                Poll::Pending => break,
            }
        }
        if let Some(limit) = &mut this.limit {
            if Pin::new(limit).poll(cx).is_ready() {
                return Poll::Ready(this.finish());
            }
        }
        Poll::Pending
    }
}

// A `Wait` or `AsCompleted` over task owners owns those tasks: `let _ =` on one is rejected
// (`crate::task::owning`).
impl<W: OwnsTask> OwnsTask for Wait<W> {
    type Verdict = W::Verdict;
}
impl<W: OwnsTask> OwnsTask for AsCompleted<W> {
    type Verdict = W::Verdict;
}

impl<W> fmt::Debug for Wait<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("running", &self.running.len())
            .field("done", &self.done.len())
            .field("when", &self.when)
            .finish()
    }
}

/// Yields tasks as they finish, in completion order: asyncio's `as_completed`.
///
/// Each yielded task has finished: `.await` it for its outcome, at once. Dropping the stream
/// drops the tasks not yet yielded, which cancels them (the stream owns them).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// // A paused clock: the order depends on the sleeps alone, however slowly this runs.
/// tether::Runtime::builder().start_paused(true).build().run(async {
///     let tasks = [30, 10, 20].map(|ms| {
///         tether::create_task(async move {
///             tether::sleep(Duration::from_millis(ms)).await;
///             ms
///         })
///     });
///     let mut order = Vec::new();
///     let mut finished = tether::as_completed(tasks);
///     while let Some(task) = finished.next().await {
///         order.push(task.await.unwrap());
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub fn as_completed<I, W>(tasks: I) -> AsCompleted<W>
where
    I: IntoIterator<Item = W>,
    W: Waitable,
{
    AsCompleted {
        running: Unordered::new(tasks.into_iter().map(|task| WhenDone(Some(task)))),
    }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<W> {
    running: Unordered<WhenDone<W>>,
}

impl<W: Waitable> AsCompleted<W> {
    /// The next task to finish, or `None` once every task has been yielded. The same as
    /// `StreamExt::next`, without importing it.
    pub async fn next(&mut self) -> Option<W> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<W> AsCompleted<W> {
    /// How many tasks have not been yielded yet.
    pub fn len(&self) -> usize {
        self.running.len()
    }

    /// `true` once every task has been yielded.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }
}

impl<W: Waitable> Stream for AsCompleted<W> {
    type Item = W;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<W>> {
        self.running
            .poll_next(cx)
            .map(|arrived| arrived.map(|(_, task)| task))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.running.len(), Some(self.running.len()))
    }
}

impl<W> fmt::Debug for AsCompleted<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("running", &self.running.len())
            .finish()
    }
}

/// Awaits a task without letting a cancellation of the awaiter reach the task: asyncio's
/// `asyncio.shield(task)`.
///
/// The shield borrows the task. If the awaiting code is cancelled (its future dropped, say by a
/// [`timeout`](crate::timeout)), only the shield is dropped: the task goes on, still owned by
/// whoever holds it, and can be awaited again. Ownership stays explicit: there is no way to
/// shield a task that nobody keeps.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tether::run(async {
///     let mut task = tether::create_task(async {
///         tether::sleep(Duration::from_millis(30)).await;
///         "finished anyway"
///     });
///     let hurried = tether::timeout(Duration::from_millis(5), tether::shield(&mut task)).await;
///     assert!(hurried.is_err());
///     assert_eq!(task.await.unwrap(), "finished anyway");
/// });
/// ```
pub fn shield<W: Waitable>(task: &mut W) -> Shield<'_, W> {
    Shield { task }
}

/// The future returned by [`shield`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Shield<'a, W> {
    task: &'a mut W,
}

impl<W: Waitable> Future for Shield<'_, W> {
    type Output = Result<W::Value, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.task).poll(cx)
    }
}

impl<W> fmt::Debug for Shield<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield").finish_non_exhaustive()
    }
}
