//! `tracing` integration (the `tracing` feature): a span per task, entered around each poll,
//! and events for cancellation, panics and slow polls, so any subscriber shows the task tree.
//!
//! Each task's span is `task` at level `TRACE` (target `tether::task`), made when the task is
//! created, with the fields `task.name`, `task.id`, `task.parent` (the creating task's id, or
//! 0), `task.owner` (`handle`, `group` or `set`) and `task.location` (where it was created).
//! Its parent span is the span current at creation, normally the creating task's, so the
//! spans nest as the tasks do. Events, inside the task's span:
//!
//! - `cancelled` (`DEBUG`): the task's future was dropped on a cancellation request;
//! - `panicked` (`ERROR`): its future panicked, with the panic's message;
//! - `slow poll` (`WARN`): one poll kept the loop busy longer than the slow-poll threshold
//!   (100 ms, or [`Builder::slow_poll_threshold`](crate::Builder::slow_poll_threshold)).
//!
//! `examples/examples/trace_tasks.rs` shows the tree through `tracing-subscriber`'s `fmt`
//! layer (`cargo run -p tether-examples --example trace_tasks --features tracing`).
//!
//! Without the feature this module is empty and costs nothing.

#[cfg(feature = "tracing")]
mod on {
    use std::time::Duration;

    /// The span of a task being created: its name, id, parent's id (0: none), owner kind
    /// (`handle`, `group` or `set`) and creation site. Plain values, so that this module needs
    /// nothing of the header that calls it.
    pub(crate) fn task_span(
        name: &str,
        id: u64,
        parent: u64,
        owner: &'static str,
        location: &std::panic::Location<'static>,
    ) -> tracing::Span {
        tracing::trace_span!(
            target: "tether::task",
            "task",
            task.name = %name,
            task.id = id,
            task.parent = parent,
            task.owner = owner,
            task.location = %location,
        )
    }

    pub(crate) fn cancelled() {
        tracing::debug!(target: "tether::task", "cancelled");
    }

    pub(crate) fn panicked(message: &str) {
        tracing::error!(target: "tether::task", panic = %message, "panicked");
    }

    pub(crate) fn slow_poll(took: Duration, threshold: Duration) {
        tracing::warn!(
            target: "tether::task",
            took_ms = took.as_secs_f64() * 1000.0,
            threshold_ms = threshold.as_secs_f64() * 1000.0,
            "slow poll"
        );
    }
}

#[cfg(feature = "tracing")]
pub(crate) use on::*;

/// No-ops without the feature, so call sites need no `cfg`.
#[cfg(not(feature = "tracing"))]
mod off {
    #[inline(always)]
    pub(crate) fn cancelled() {}
    #[inline(always)]
    pub(crate) fn panicked(_message: &str) {}
    #[inline(always)]
    pub(crate) fn slow_poll(_took: std::time::Duration, _threshold: std::time::Duration) {}
}

#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;
