use std::fmt;
use std::ptr::NonNull;
use std::task::Waker;

use super::TaskId;
use crate::task_core::header::Header;

/// Cancels a task from anywhere without owning it (tokio's `AbortHandle`).
///
/// `Send + Sync + Clone`: give one to another thread or to a callback. Cancelling through it is
/// the same request as [`Task::cancel`](crate::Task::cancel): the future is dropped the next time
/// the task runs, and the owner's `.await` reports [`Cancelled`](crate::TaskError::Cancelled).
///
/// # Examples
///
/// ```
/// tether::run(async {
///     let task = tether::create_task(std::future::pending::<()>());
///     let handle = task.cancel_handle();
///     std::thread::spawn(move || handle.cancel_with("from another thread")).join().unwrap();
///     assert!(task.await.unwrap_err().is_cancelled());
/// });
/// ```
#[derive(Clone)]
pub struct CancelHandle {
    /// `None` once the task's future had already ended when the handle was made.
    live: Option<Live>,
}

#[derive(Clone)]
struct Live {
    header: NonNull<Header>,
    id: TaskId,
    /// The task's own waker: it keeps the task's allocation, and so the header, alive.
    _keep_alive: Waker,
}

// SAFETY: `Header` is `Send + Sync` (atomics and a mutex), the pointer is only turned into
// `&Header` while `_keep_alive` keeps the allocation alive, and `Waker` is `Send + Sync`.
unsafe impl Send for CancelHandle {}
// SAFETY: as above; every method takes `&self` and only uses `&Header`.
unsafe impl Sync for CancelHandle {}

impl CancelHandle {
    pub(crate) fn new(header: &Header) -> CancelHandle {
        CancelHandle {
            live: header.waker().map(|waker| Live {
                header: NonNull::from(header),
                id: header.id,
                _keep_alive: waker,
            }),
        }
    }

    /// The task's header, while the handle keeps it alive (`None` if its future had already
    /// ended when the handle was made).
    pub(crate) fn header(&self) -> Option<&Header> {
        // SAFETY: `_keep_alive` holds a reference count on the task's allocation, which
        // contains the header, for as long as `self` lives.
        self.live
            .as_ref()
            .map(|live| unsafe { live.header.as_ref() })
    }

    /// Asks the task to stop. Returns `false` if it has already finished.
    pub fn cancel(&self) -> bool {
        self.header()
            .is_some_and(|header| header.request_cancel(None))
    }

    /// Asks the task to stop, with a message for the awaiting side.
    pub fn cancel_with(&self, message: impl Into<String>) -> bool {
        self.header()
            .is_some_and(|header| header.request_cancel(Some(message.into())))
    }

    /// `true` once the task has finished.
    pub fn is_finished(&self) -> bool {
        self.header().is_none_or(Header::is_finished)
    }

    /// The task's id, if the task was still running when this handle was made.
    pub fn id(&self) -> Option<TaskId> {
        self.live.as_ref().map(|live| live.id)
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
