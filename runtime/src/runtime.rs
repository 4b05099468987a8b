//! Entry points: [`run`], and [`Runtime`] for a configured loop.

use std::future::Future;

use crate::event_loop::{Config, block_on};

/// Runs `future` to completion on a new event loop on this thread and returns its output:
/// asyncio's `asyncio.run(main())`.
///
/// When `future` finishes, every task still alive is cancelled and its future dropped before
/// `run` returns (destructors run), including tasks whose [`Task`](crate::Task) handle was
/// leaked with `mem::forget`. If `future` panics, the loop is shut down the same way and the
/// panic is resumed from `run`.
///
/// `future` need not be `'static`: it may borrow from the caller.
///
/// # Panics
///
/// Inside a running event loop (asyncio raises `RuntimeError` there): await the future instead.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let answer = tether::run(async {
///     tether::sleep(Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new().run(future)
}

/// A configured event loop runner: asyncio's `asyncio.Runner`.
///
/// Each call to [`Runtime::run`] starts a fresh loop on the calling thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::time::Instant;
///
/// let runtime = tether::Runtime::builder().start_paused(true).build();
/// let waited = runtime.run(async {
///     let start = Instant::now();
///     tether::sleep(Duration::from_secs(60)).await;
///     start.elapsed()
/// });
/// assert_eq!(waited, Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Runtime {
    config: Config,
}

impl Runtime {
    /// A runtime with the default settings: real time.
    pub fn new() -> Runtime {
        Runtime::default()
    }

    /// Starts configuring a runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion on a new loop; see [`run`].
    ///
    /// # Panics
    ///
    /// Inside a running event loop.
    #[track_caller]
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        let mut config = self.config.clone();
        config.debug = config.debug.with_env();
        block_on(config, future)
    }
}

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// let runtime = tether::Runtime::builder().start_paused(true).build();
/// assert_eq!(runtime.run(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    config: Config,
}

impl Builder {
    /// The default settings.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Runs the loop on a virtual clock that stands still while tasks run and jumps to the next
    /// timer whenever none is ready: long sleeps take no real time and times are exact. For
    /// tests; `#[tether::test(start_paused)]` sets it.
    pub fn start_paused(mut self, paused: bool) -> Builder {
        self.config.start_paused = paused;
        self
    }

    /// Debug mode (asyncio's `debug=True`): report polls that block the loop longer than the
    /// [slow-poll threshold](Builder::slow_poll_threshold), with the task's name and where it
    /// was created, and list the tasks still running when the loop shuts down. Also turned on
    /// by the environment variable `TETHER_DEBUG=1`, or `#[tether::main(debug)]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// #[derive(Clone, Default)]
    /// struct Captured(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Captured {
    ///     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
    ///         self.0.lock().unwrap().write(buf)
    ///     }
    ///     fn flush(&mut self) -> std::io::Result<()> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let captured = Captured::default();
    /// let runtime = tether::Runtime::builder()
    ///     .debug(true)
    ///     .slow_poll_threshold(Duration::from_millis(20))
    ///     .debug_output(captured.clone())
    ///     .build();
    /// runtime.run(async {
    ///     let blocking = tether::task::Builder::new().name("blocking").create_task(async {
    ///         std::thread::sleep(Duration::from_millis(50)); // blocks the loop
    ///     });
    ///     blocking.await.unwrap();
    /// });
    /// let report = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    /// assert!(report.contains("blocking (task #"), "{report}");
    /// ```
    pub fn debug(mut self, enabled: bool) -> Builder {
        self.config.debug.enabled = enabled;
        self
    }

    /// How long one poll may keep the loop busy before debug mode reports it (default 100 ms,
    /// asyncio's `slow_callback_duration`).
    pub fn slow_poll_threshold(mut self, threshold: std::time::Duration) -> Builder {
        self.config.debug.slow_poll = Some(threshold);
        self
    }

    /// Where debug mode writes its reports, instead of stderr.
    pub fn debug_output(mut self, output: impl std::io::Write + Send + 'static) -> Builder {
        self.config.debug.output = Some(std::sync::Arc::new(std::sync::Mutex::new(output)));
        self
    }

    /// The most threads [`to_thread`](crate::to_thread) runs blocking closures on at once
    /// (default 64); more work waits its turn.
    pub fn blocking_threads(mut self, threads: usize) -> Builder {
        self.config.blocking_threads = Some(threads);
        self
    }

    /// The configured runtime.
    pub fn build(self) -> Runtime {
        Runtime {
            config: self.config,
        }
    }
}
