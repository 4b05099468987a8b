//! The tokio bridge (feature `tokio-bridge`): one tokio runtime on a helper thread, started by a
//! run of tether's runtime the first time something needs it, and shut down when that run ends.
//! `tether::compat::tokio(fut)` polls `fut` with its context entered; `Builder::tokio(true)`
//! enters it on every loop thread for the whole run.
//!
//! The helper is a current-thread tokio runtime whose thread does nothing but drive it
//! (`block_on` of the stop signal): its I/O and timer drivers, and the tasks spawned on it.
//! Entering its context on a tether thread makes `tokio::net`, `tokio::time` and
//! `tokio::spawn` find it there; their wakers then come from the helper's thread.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

use crate::scheduler::event_loop::RunExtension;

/// How long the end of a run waits for the helper's tasks (spawned with `tokio::spawn`, owned
/// by nobody) to stop before it lets the thread go.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The bridge of one run: nothing until first used.
pub(crate) struct TokioBridge {
    /// Enter the helper's context on every loop thread for the whole run.
    always: bool,
    started: OnceLock<tokio::runtime::Handle>,
    /// The helper thread and what stops it, taken by `shutdown`.
    helper: Mutex<Option<Helper>>,
}

struct Helper {
    /// Dropped to stop the helper.
    stop: tokio::sync::oneshot::Sender<()>,
    thread: thread::JoinHandle<()>,
}

impl TokioBridge {
    pub(crate) fn new(always: bool) -> Arc<TokioBridge> {
        Arc::new(TokioBridge {
            always,
            started: OnceLock::new(),
            helper: Mutex::new(None),
        })
    }

    /// The helper runtime's handle, starting it on first use.
    ///
    /// # Panics
    ///
    /// If the helper thread or its runtime cannot be created (out of threads or descriptors).
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.started.get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                // Its blocking pool's threads (`spawn_blocking`, name lookups); Linux keeps 15
                // bytes of a thread's name.
                .thread_name("tether-tokio-bl")
                .build()
                .unwrap_or_else(|error| {
                    panic!("tether could not start the tokio bridge's runtime: {error}")
                });
            let handle = runtime.handle().clone();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let thread = thread::Builder::new()
                .name("tether-tokio".into())
                .spawn(move || {
                    // Drives the runtime (its drivers, the tasks spawned on it) until the run
                    // ends and drops `stop`.
                    let _ = runtime.block_on(stopped);
                    runtime.shutdown_timeout(SHUTDOWN_GRACE);
                })
                .unwrap_or_else(|error| {
                    panic!("tether could not start the tokio bridge's thread: {error}")
                });
            *self.helper.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(Helper { stop, thread });
            handle
        })
    }

    /// Stops the helper, if it started, and waits for its thread.
    pub(crate) fn shutdown(&self) {
        let helper = self
            .helper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(Helper { stop, thread }) = helper {
            drop(stop);
            // The thread only drives the runtime; a panic there is tokio's, already reported.
            let _ = thread.join();
        }
    }
}

impl RunExtension for TokioBridge {
    fn within(&self, run: &mut dyn FnMut()) {
        if self.always {
            let _entered = self.handle().enter();
            run();
        } else {
            run();
        }
    }
}

impl fmt::Debug for TokioBridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioBridge")
            .field("always", &self.always)
            .field("started", &self.started.get().is_some())
            .finish()
    }
}

/// Stops the bridge when the run ends, however it ends.
pub(crate) struct ShutdownOnDrop(pub(crate) Arc<TokioBridge>);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}
