//! What awaiting a task can report besides its output.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Why a task produced no output.
///
/// Returned by awaiting a [`Task`](crate::Task). asyncio raises `CancelledError` or the task's own
/// exception at the `await`; tether hands back the same two outcomes as a value.
///
/// # Examples
///
/// ```
/// use tether::TaskError;
///
/// tether::run(async {
///     let task = tether::create_task(async { panic!("boom") });
///     match task.await {
///         Err(TaskError::Panicked(panic)) => assert_eq!(panic.message(), "boom"),
///         other => unreachable!("{other:?}"),
///     }
/// });
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task was cancelled before it finished: through its handle, because its owner went
    /// away, or because the event loop shut down. Its future has already been dropped.
    #[error("the task was cancelled{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Cancelled {
        /// The message given to `cancel_with`, if any.
        message: Option<String>,
    },
    /// The task's future panicked; the panic was caught on the event loop, which kept running.
    #[error("the task panicked: {0}")]
    Panicked(Panic),
    /// The task, a child of a fallible task group, returned `Err`; the error itself went to the
    /// group, which reports it in its [`GroupError`](crate::GroupError).
    #[error(
        "the task returned an error, which its task group collected: see the group's GroupError"
    )]
    Failed,
}

impl TaskError {
    /// `true` if the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled { .. })
    }

    /// `true` if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    pub(crate) fn cancelled(message: Option<String>) -> TaskError {
        TaskError::Cancelled { message }
    }

    /// What a task whose future panicked with `payload` reports. Two payloads are understood:
    /// a [`Panic`] (a wrapper that caught a panic and re-raised it, so that the task and its
    /// owner share one `Panic`), and [`OwnerFailure`] (the task failed its group: `Failed`).
    pub(crate) fn from_payload(payload: Box<dyn Any + Send>) -> TaskError {
        if payload.is::<OwnerFailure>() {
            return TaskError::Failed;
        }
        TaskError::Panicked(Panic::from_payload(payload))
    }
}

/// The payload a wrapper future unwinds with to end its task as [`TaskError::Failed`]: a child
/// of a fallible group that runs outside its group (`TaskGroup::spawn`) returned `Err`, which
/// the wrapper has already handed to the group. Raised with `resume_unwind`, so no panic hook
/// runs.
pub(crate) struct OwnerFailure;

/// A panic caught inside a task.
///
/// The message is read out of the payload when the panic is caught (a `&str` or `String`
/// payload, as `panic!` makes); the payload itself can be taken once, to re-raise it with
/// [`std::panic::resume_unwind`]. Clones share the payload.
#[derive(Clone)]
pub struct Panic {
    inner: Arc<PanicInner>,
}

struct PanicInner {
    message: String,
    payload: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Panic {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic with a payload that is not a string".to_owned()
        };
        Panic {
            inner: Arc::new(PanicInner {
                message,
                payload: Mutex::new(Some(payload)),
            }),
        }
    }

    /// `payload` as a `Panic`: the very one, if the payload is a re-raised `Panic`.
    pub(crate) fn from_payload(payload: Box<dyn Any + Send>) -> Panic {
        match payload.downcast::<Panic>() {
            Ok(panic) => *panic,
            Err(payload) => Panic::new(payload),
        }
    }

    /// The panic message, or a placeholder when the payload was not a string.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Takes the original payload, for [`std::panic::resume_unwind`]. Returns `None` if it was
    /// already taken (by this value or a clone of it).
    pub fn take_payload(&self) -> Option<Box<dyn Any + Send>> {
        crate::util::loom_facade::lock(&self.inner.payload).take()
    }

    /// Re-raises the panic on the current thread with its original payload when it is still
    /// here, or with the message otherwise.
    pub fn resume(self) -> ! {
        match self.take_payload() {
            Some(payload) => std::panic::resume_unwind(payload),
            None => std::panic::resume_unwind(Box::new(self.inner.message.clone())),
        }
    }
}

/// Runs `f` where a panic must not unwind (a destructor, a waker, a callback run by the loop):
/// a panic is reported on stderr as `tether: {what} panicked: {message}`, and the caller goes on.
pub(crate) fn contain_panic(what: impl FnOnce() -> String, f: impl FnOnce()) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        eprintln!(
            "tether: {} panicked: {}",
            what(),
            Panic::new(payload).message()
        );
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Panic").field(&self.inner.message).finish()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)
    }
}
