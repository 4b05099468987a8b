//! What runs on this thread right now: the task being polled, and debug-mode timing.

use std::cell::Cell;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use super::header::Header;
use crate::context::{Context, swap_current};

struct Running {
    /// The task whose future is being polled (or dropped) on this thread.
    task: Cell<Option<NonNull<Header>>>,
    /// Debug mode: report polls longer than this.
    slow_poll: Cell<Option<Duration>>,
    /// Time spent in polls nested inside the current one (group children run inside their
    /// group's task), so that a slow child is blamed once, not again in its parent.
    nested: Cell<Duration>,
}

thread_local! {
    static RUNNING: Running = const {
        Running {
            task: Cell::new(None),
            slow_poll: Cell::new(None),
            nested: Cell::new(Duration::ZERO),
        }
    };
}

/// The header of the task being polled on this thread.
///
/// Valid for as long as that poll lasts: a task's header lives in its allocation, which
/// outlives every poll of its future.
pub(crate) fn running() -> Option<NonNull<Header>> {
    RUNNING.try_with(|r| r.task.get()).ok().flatten()
}

/// The id of the task being polled on this thread.
pub(crate) fn running_id() -> Option<super::TaskId> {
    // SAFETY: `running` is only set while that task is being polled, and its header outlives
    // the poll (see `running`); the id is copied out before this returns.
    running().map(|header| unsafe { header.as_ref() }.id)
}

/// Sets debug mode's slow-poll threshold for this thread (`None`: off).
pub(crate) fn set_slow_poll(threshold: Option<Duration>) {
    let _ = RUNNING.try_with(|r| r.slow_poll.set(threshold));
}

/// Marks a task as running and puts its context in place, for one poll or drop.
pub(crate) struct Entered<'a> {
    outer_task: Option<NonNull<Header>>,
    outer_context: Option<Context>,
    context: &'a mut Context,
    started: Option<(Instant, Duration)>,
    header: &'a Header,
    /// The task's span, entered for the poll (the `tracing` feature).
    #[cfg(feature = "tracing")]
    _span: tracing::span::Entered<'a>,
}

pub(crate) fn enter<'a>(header: &'a Header, context: &'a mut Context) -> Entered<'a> {
    let (outer_task, started) = RUNNING
        .try_with(|r| {
            let outer = r.task.replace(Some(NonNull::from(header)));
            let started =
                slow_poll_threshold(r).map(|_| (Instant::now(), r.nested.replace(Duration::ZERO)));
            (outer, started)
        })
        .unwrap_or((None, None));
    let outer_context = Some(swap_current(std::mem::take(context)));
    Entered {
        outer_task,
        outer_context,
        context,
        started,
        header,
        #[cfg(feature = "tracing")]
        _span: header.span.enter(),
    }
}

/// The threshold polls are timed against: debug mode's, or with the `tracing` feature the
/// default one (slow polls are then `tracing` events).
fn slow_poll_threshold(r: &Running) -> Option<Duration> {
    let debug = r.slow_poll.get();
    if cfg!(feature = "tracing") {
        return debug.or(Some(crate::debug::DEFAULT_SLOW_POLL));
    }
    debug
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if let Some(outer) = self.outer_context.take() {
            *self.context = swap_current(outer);
        }
        let outer_task = self.outer_task;
        let slow = RUNNING
            .try_with(|r| {
                r.task.set(outer_task);
                let (started, outer_nested) = self.started?;
                let threshold = slow_poll_threshold(r)?;
                let took = started.elapsed();
                let own = took.saturating_sub(r.nested.get());
                r.nested.set(outer_nested + took);
                (own > threshold).then_some((own, threshold))
            })
            .ok()
            .flatten();
        if let Some((took, threshold)) = slow {
            crate::trace::slow_poll(took, threshold);
            if RUNNING
                .try_with(|r| r.slow_poll.get().is_some())
                .unwrap_or(false)
            {
                crate::debug::report_slow_poll(self.header, took, threshold);
            }
        }
    }
}
