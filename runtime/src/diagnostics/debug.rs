//! Debug mode: asyncio's `debug=True`, reporting what blocks the loop and what it leaves behind.
//!
//! Turned on by `#[tether::main(debug)]`, [`Builder::debug`](crate::Builder::debug) or the
//! environment variable `TETHER_DEBUG=1` (with `TETHER_SLOW_POLL_MS` for the threshold). Then:
//! - a poll that keeps the loop busy longer than the threshold (100 ms unless set) is reported
//!   with the task's name and where it was created;
//! - tasks still running when the loop shuts down are listed, as a tree, before they are
//!   cancelled.
//!
//! Reports go to stderr, or to the writer given to
//! [`Builder::debug_output`](crate::Builder::debug_output).

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::diagnostics::listing::render;
use crate::task_core::current::DEFAULT_SLOW_POLL;
use crate::task_core::header::Header;
use crate::task_core::info::TaskInfo;
use crate::util::instant::Instant;

/// Where debug reports go.
pub(crate) type Output = Arc<Mutex<dyn Write + Send>>;

#[derive(Clone, Default)]
pub(crate) struct DebugConfig {
    pub(crate) enabled: bool,
    pub(crate) slow_poll: Option<Duration>,
    pub(crate) output: Option<Output>,
}

impl DebugConfig {
    /// The settings with `TETHER_DEBUG` and `TETHER_SLOW_POLL_MS` applied.
    pub(crate) fn with_env(mut self) -> DebugConfig {
        if std::env::var("TETHER_DEBUG").is_ok_and(|v| !v.is_empty() && v != "0") {
            self.enabled = true;
        }
        if let Some(ms) = std::env::var("TETHER_SLOW_POLL_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            self.slow_poll = Some(Duration::from_millis(ms));
        }
        self
    }

    /// The slow-poll threshold, when debug mode is on.
    pub(crate) fn slow_poll(&self) -> Option<Duration> {
        self.enabled
            .then(|| self.slow_poll.unwrap_or(DEFAULT_SLOW_POLL))
    }

    /// Writes one report. The writer is user code: a panic in it is reported on stderr and
    /// goes no further, since reports are written where nothing may unwind (after a task's
    /// poll, in the middle of a group's teardown, while the loop shuts down).
    pub(crate) fn write(&self, report: &str) {
        match &self.output {
            Some(output) => crate::task_core::error::contain_panic(
                || "the debug output's writer".to_owned(),
                || {
                    let mut output = crate::util::loom_facade::lock(&**output);
                    let _ = writeln!(output, "{report}");
                },
            ),
            None => eprintln!("{report}"),
        }
    }
}

impl fmt::Debug for DebugConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugConfig")
            .field("enabled", &self.enabled)
            .field("slow_poll", &self.slow_poll)
            .field("custom_output", &self.output.is_some())
            .finish()
    }
}

/// Reports a poll of `header`'s task that took `took`, to `config`'s output.
pub(crate) fn report_slow_poll(
    config: &DebugConfig,
    header: &Header,
    took: Duration,
    threshold: Duration,
) {
    let report = format!(
        "tether debug: {} (task #{}, created at {}) blocked the event loop for {:.1?} in one poll \
         (threshold {:?}); await more often, or move blocking work off the loop",
        header.name(),
        header.id,
        header.location,
        took,
        threshold,
    );
    config.write(&report);
}

/// Lists the tasks still running (`infos`) as the loop shuts down, to `config`'s output;
/// `now` is the loop's clock.
pub(crate) fn report_unfinished(config: &DebugConfig, infos: &[TaskInfo], now: Instant) {
    let tree = render(infos, now);
    let count = infos.len();
    config.write(&format!(
        "tether debug: {count} task{} still running when the loop shut down; cancelling:\n{tree}",
        if count == 1 { " was" } else { "s were" }
    ));
}
