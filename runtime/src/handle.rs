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
