//! [`Handle`]: a reference to a running loop.

use std::fmt;
use std::sync::Arc;

use crate::event_loop::{EventLoop, Shared};

/// A reference to an event loop, usable from any thread (`Send + Sync + Clone`).
///
/// asyncio's `get_running_loop()`. Get one with [`Handle::current`] or [`Handle::try_current`]
/// inside a loop.
///
/// # Examples
///
/// ```
/// assert!(tether::Handle::try_current().is_err());
/// tether::run(async {
///     let handle = tether::Handle::current();
///     assert!(!handle.is_closed());
/// });
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// The error [`Handle::try_current`] returns outside a running loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "no tether event loop is running on this thread; call this from code run by tether::run, \
     #[tether::main] or #[tether::test]"
)]
pub struct NoRunningLoop;

impl Handle {
    /// The loop running on this thread.
    ///
    /// # Panics
    ///
    /// Outside a running loop; use [`Handle::try_current`] to get an error instead.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(error) => panic!("{error}"),
        }
    }

    /// The loop running on this thread, or [`NoRunningLoop`].
    pub fn try_current() -> Result<Handle, NoRunningLoop> {
        EventLoop::with_current(|lp| Handle {
            shared: lp.shared().clone(),
        })
        .ok_or(NoRunningLoop)
    }

    /// `true` once the loop has finished and shut down.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

/// Why [`Handle::dump_tasks`] could not get the task tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DumpError {
    /// The loop has shut down: it has no tasks left.
    #[error("the event loop has shut down, so it has no tasks to show")]
    Closed,
    /// The loop did not answer in time: a task is keeping it busy without yielding (which is
    /// itself the likely problem: look for blocking calls inside tasks).
    #[error(
        "the event loop did not answer in time: a task is blocking it without yielding;          look for blocking calls inside tasks, or turn on debug mode to have them reported"
    )]
    Busy,
}

impl Handle {
    /// The loop's live task tree as text (see [`dump_tasks`](crate::dump_tasks)), from any
    /// thread: a way to see inside a running program without changing it. Give the handle to
    /// a watchdog thread, a signal handler thread, or an admin endpoint.
    ///
    /// Waits up to `timeout` for the loop to answer between two polls.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tether::run(async {
    ///     let handle = tether::Handle::current();
    ///     let watchdog = std::thread::spawn(move || handle.dump_tasks(Duration::from_secs(5)));
    ///     let _busy = tether::create_task(std::future::pending::<()>());
    ///     while !watchdog.is_finished() {
    ///         tether::sleep(Duration::from_millis(1)).await;
    ///     }
    ///     let tree = watchdog.join().unwrap().unwrap();
    ///     assert!(tree.contains("owned by its Task handle"), "{tree}");
    /// });
    /// ```
    pub fn dump_tasks(&self, timeout: std::time::Duration) -> Result<String, DumpError> {
        if self.shared.is_current() {
            return Ok(crate::dump_tasks());
        }
        let (tx, rx) = std::sync::mpsc::channel();
        self.shared
            .call_soon(Box::new(move || {
                let _ = tx.send(crate::dump_tasks());
            }))
            .map_err(|_| DumpError::Closed)?;
        rx.recv_timeout(timeout).map_err(|error| match error {
            std::sync::mpsc::RecvTimeoutError::Timeout => DumpError::Busy,
            std::sync::mpsc::RecvTimeoutError::Disconnected => DumpError::Closed,
        })
    }
}

impl PartialEq for Handle {
    /// Two handles are equal when they refer to the same loop.
    fn eq(&self, other: &Handle) -> bool {
        self.shared.id() == other.shared.id()
    }
}

impl Eq for Handle {}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("loop", &self.shared.id())
            .field("closed", &self.is_closed())
            .finish()
    }
}
