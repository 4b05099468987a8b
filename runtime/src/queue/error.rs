//! The errors of the queues: asyncio's `QueueEmpty`, `QueueFull`, `QueueShutDown` and the
//! `ValueError` of one `task_done()` too many.
//!
//! The errors of putting carry the item back, so a refused item is never lost. Their `Debug`
//! does not print it, so `unwrap()` works whatever the item's type.

use std::fmt;

/// The error of [`Queue::get_nowait`](super::Queue::get_nowait) (and of the other queues'):
/// asyncio's `QueueEmpty`, or `QueueShutDown`.
///
/// # Examples
///
/// ```
/// use tether::queue::{Queue, TryGetError};
///
/// let queue = Queue::<u32>::unbounded();
/// assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
/// queue.shutdown(false);
/// assert_eq!(queue.get_nowait(), Err(TryGetError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryGetError {
    /// No item is there to take right now (asyncio's `QueueEmpty`).
    #[error(
        "the queue is empty: get_nowait() takes only an item that is already there; \
         use get().await to wait for one"
    )]
    Empty,
    /// The queue was shut down and holds no more items (asyncio's `QueueShutDown`).
    #[error(
        "the queue was shut down and has no items left: nothing more will arrive; \
         stop consuming from it"
    )]
    ShutDown,
}

/// The error of `put_nowait`: asyncio's `QueueFull`, or `QueueShutDown`. Carries the item back.
///
/// # Examples
///
/// ```
/// use tether::queue::{Queue, TryPutError};
///
/// let queue = Queue::new(1);
/// queue.put_nowait("first").unwrap();
/// let err = queue.put_nowait("second").unwrap_err();
/// assert!(matches!(err, TryPutError::Full("second")));
/// assert_eq!(err.into_inner(), "second");
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub enum TryPutError<T> {
    /// The queue holds `maxsize` items (asyncio's `QueueFull`).
    #[error(
        "the queue is full: put_nowait() never waits for space; use put().await to wait, \
         or make the queue bigger (its maxsize)"
    )]
    Full(T),
    /// The queue was shut down (asyncio's `QueueShutDown`).
    #[error(
        "the queue was shut down: it accepts no more items; stop producing into it \
         (the item is returned in the error)"
    )]
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = tether::queue::Queue::new(1);
    /// queue.shutdown(false);
    /// assert_eq!(queue.put_nowait(7).unwrap_err().into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.debug_tuple("Full").finish_non_exhaustive(),
            TryPutError::ShutDown(_) => f.debug_tuple("ShutDown").finish_non_exhaustive(),
        }
    }
}

/// The queue was shut down: asyncio's `QueueShutDown`.
///
/// `get().await` fails with `QueueShutDown` (holding `()`) once the queue is shut down and
/// empty; `put(item).await` fails with `QueueShutDown<T>`, which gives the item back.
///
/// # Examples
///
/// ```
/// use tether::queue::{Queue, QueueShutDown};
///
/// tether::run(async {
///     let queue = Queue::unbounded();
///     queue.shutdown(false);
///     assert_eq!(queue.put("late").await, Err(QueueShutDown("late")));
///     assert_eq!(queue.get().await, Err(QueueShutDown(())));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the queue was shut down: no more items can be put, and none are left to get; \
     stop using it (a refused item is returned in the error)"
)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that was not put (`()` for a `get`).
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let queue = tether::queue::Queue::unbounded();
    ///     queue.shutdown(true);
    ///     assert_eq!(queue.put(1).await.unwrap_err().into_inner(), 1);
    /// });
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("QueueShutDown").finish_non_exhaustive()
    }
}

/// The error of calling `task_done()` more times than items were put: asyncio's
/// `ValueError('task_done() called too many times')`.
///
/// # Examples
///
/// ```
/// let queue = tether::queue::Queue::<u8>::unbounded();
/// let err = queue.task_done().unwrap_err();
/// println!("{err}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "task_done() called more times than items were put in the queue: call it exactly once \
     per item taken with get(), after the item has been processed"
)]
pub struct TaskDoneError;
