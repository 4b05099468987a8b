//! What runs on this thread right now: the task being polled, debug-mode timing, and the hooks
//! of the loop running here (the task core calls the loop only through them).

use std::cell::Cell;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use super::callbacks::Callback;
use super::header::Header;
use crate::context::{Context, enter_context, leave_context};
use crate::util::published::counting_polls;

struct Running {
    /// The task whose future is being polled (or dropped) on this thread.
    task: Cell<Option<NonNull<Header>>>,
    /// Debug mode: report polls longer than this.
    slow_poll: Cell<Option<Duration>>,
    /// Time each poll: for the slow-poll report, or for an outside tool that counts polls
    /// (`crate::util::published`). Worked out when the loop's hooks go in and each time the
    /// loop polls its I/O driver, so that a poll checks one flag.
    timed: Cell<bool>,
    /// Time spent in polls nested inside the current one (group children run inside their
    /// group's task), so that a slow child is blamed once, not again in its parent.
    nested: Cell<Duration>,
    /// The hooks of the loop running on this thread (`None`: no loop runs here).
    hooks: Cell<Option<LoopHooks>>,
    /// The effective deadline of the code being polled: the earliest of the timeouts around it
    /// (see `with_deadline`).
    deadline: Cell<Option<Instant>>,
}

/// What the task core needs from the loop running on its thread, installed by the loop while it
/// runs (`install`): the core knows nothing of the loop beyond these.
#[derive(Clone, Copy)]
pub(crate) struct LoopHooks {
    /// Debug mode: report polls longer than this (`None`: off).
    pub(crate) slow_poll: Option<Duration>,
    /// Reports a poll of a task that took the first duration, over the threshold, the second.
    pub(crate) report_slow_poll: fn(&Header, Duration, Duration),
    /// Runs a callback on the loop soon; gives it back if the loop has closed.
    pub(crate) call_soon: fn(Callback) -> Result<(), Callback>,
}

/// The default slow-poll threshold, as asyncio's `slow_callback_duration`: debug mode's unless
/// set, and the `tracing` feature's.
pub(crate) const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(100);

thread_local! {
    static RUNNING: Running = const {
        Running {
            task: Cell::new(None),
            slow_poll: Cell::new(None),
            timed: Cell::new(false),
            nested: Cell::new(Duration::ZERO),
            hooks: Cell::new(None),
            deadline: Cell::new(None),
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

/// The address of this thread's cell that holds the running task's header address (null
/// between polls), for outside tools (`crate::util::published`): valid while the thread lives.
pub(crate) fn running_cell() -> usize {
    RUNNING
        .try_with(|r| std::ptr::from_ref(&r.task).addr())
        .unwrap_or(0)
}

/// Calls `f` with the header of the task being polled (or dropped) on this thread, if any.
pub(crate) fn with_running<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    // SAFETY: `running` is only set while that task is being polled or dropped, and its header
    // (in the task's allocation) outlives that; `f` cannot keep the reference beyond this call.
    running().map(|header| f(unsafe { header.as_ref() }))
}

/// Installs the hooks of the loop that runs on this thread from now on (`None`: it stopped).
pub(crate) fn install(hooks: Option<LoopHooks>) {
    let _ = RUNNING.try_with(|r| {
        r.slow_poll.set(hooks.and_then(|hooks| hooks.slow_poll));
        r.hooks.set(hooks);
        work_out_timing(r);
    });
}

/// Looks again at whether an outside tool asks for polls to be counted (the loop calls this
/// each time it polls its I/O driver: a switch set meanwhile takes effect within a few dozen
/// polls).
pub(crate) fn refresh_timing() {
    let _ = RUNNING.try_with(work_out_timing);
}

/// Whether polls on this thread are timed: for the slow-poll report, or for a tool.
fn work_out_timing(r: &Running) {
    r.timed
        .set(slow_poll_threshold(r).is_some() || counting_polls());
}

/// Runs `callback` on the loop running on this thread soon, or here and now when no loop runs
/// here (or the loop has closed).
pub(crate) fn run_soon(callback: Callback) {
    let hooks = RUNNING.try_with(|r| r.hooks.get()).ok().flatten();
    let refused = match hooks {
        Some(hooks) => (hooks.call_soon)(callback).err(),
        None => Some(callback),
    };
    if let Some(callback) = refused {
        callback();
    }
}

/// The effective deadline of the code being polled on this thread, if any.
pub(crate) fn deadline() -> Option<Instant> {
    RUNNING.try_with(|r| r.deadline.get()).ok().flatten()
}

/// Polls (runs `f`) under `deadline` as well as every deadline already around it: the nested
/// code sees the earliest. Timeouts call this around each poll of what they time, so the
/// stack of deadlines is the call stack, and costs nothing between polls.
pub(crate) fn with_deadline<R>(deadline: Option<Instant>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = RUNNING.try_with(|r| r.deadline.set(self.0));
        }
    }
    let outer = deadline_of_outer(deadline);
    let _restore = Restore(outer);
    f()
}

/// Installs the earlier of `deadline` and the current one; returns the current one.
fn deadline_of_outer(deadline: Option<Instant>) -> Option<Instant> {
    RUNNING
        .try_with(|r| {
            let outer = r.deadline.get();
            let inner = match (outer, deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            r.deadline.set(inner);
            outer
        })
        .ok()
        .flatten()
}

/// Marks a task as running and puts its context in place, for one poll or drop.
pub(crate) struct Entered<'a> {
    outer_task: Option<NonNull<Header>>,
    /// What was current before the task's context went in (`None`: nothing was swapped, both
    /// were empty).
    outer_context: Option<Context>,
    /// The deadline around the poll that entered this task, cleared for the task's own poll and
    /// back in place when it ends (`None`: there was none, or the task is a group child, which
    /// keeps it).
    outer_deadline: Option<Instant>,
    context: &'a mut Context,
    started: Option<(Instant, Duration)>,
    header: &'a Header,
    /// The task's span, entered for the poll (the `tracing` feature).
    #[cfg(feature = "tracing")]
    _span: tracing::span::Entered<'a>,
}

// Inlined into each task's poll, as is the guard's drop: they run around every poll, and the
// guard is several words that would otherwise be built in memory and copied back.
#[inline]
pub(crate) fn enter<'a>(header: &'a Header, context: &'a mut Context) -> Entered<'a> {
    // A group child is polled inside its group, so the deadlines around the group are its own
    // (the group is dropped when they pass). Any other task outlives the code that made it:
    // it starts with no deadline, even when polled eagerly inside a timeout.
    let in_group = header.in_group();
    let (outer_task, started, outer_deadline) = RUNNING
        .try_with(|r| {
            let outer = r.task.replace(Some(NonNull::from(header)));
            // Every change of the deadline below this point is undone before the poll returns
            // (`with_deadline` restores it with a guard, and nested polls enter and leave the
            // same way), so only a deadline cleared here has to be put back, and an absent one
            // costs a load.
            let outer_deadline = if in_group { None } else { r.deadline.get() };
            if outer_deadline.is_some() {
                r.deadline.set(None);
            }
            let started = r.timed.get().then(|| start_timing(r));
            (outer, started, outer_deadline)
        })
        .unwrap_or((None, None, None));
    let outer_context = enter_context(context);
    Entered {
        outer_task,
        outer_context,
        outer_deadline,
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
        return debug.or(Some(DEFAULT_SLOW_POLL));
    }
    debug
}

/// The start of a timed poll, and the nested time of the poll around it.
#[cold]
fn start_timing(r: &Running) -> (Instant, Duration) {
    (Instant::now(), r.nested.replace(Duration::ZERO))
}

impl Drop for Entered<'_> {
    #[inline]
    fn drop(&mut self) {
        leave_context(self.context, self.outer_context.take());
        let outer_task = self.outer_task;
        let outer_deadline = self.outer_deadline;
        let _ = RUNNING.try_with(|r| {
            r.task.set(outer_task);
            if outer_deadline.is_some() {
                r.deadline.set(outer_deadline);
            }
        });
        if let Some(started) = self.started {
            self.end_timing(started);
        }
    }
}

impl Entered<'_> {
    /// Counts the poll that ends now for an outside tool if it asks, and reports it if it
    /// took longer than the slow-poll threshold.
    #[cold]
    fn end_timing(&self, (started, outer_nested): (Instant, Duration)) {
        let slow = RUNNING
            .try_with(|r| {
                let took = started.elapsed();
                let own = took.saturating_sub(r.nested.get());
                r.nested.set(outer_nested + took);
                if counting_polls() {
                    self.header.count_poll(own);
                }
                let threshold = slow_poll_threshold(r)?;
                (own > threshold).then_some((own, threshold))
            })
            .ok()
            .flatten();
        if let Some((took, threshold)) = slow {
            crate::task_core::trace::slow_poll(took, threshold);
            // With only the `tracing` feature timing polls, debug mode's report stays off.
            let hooks = RUNNING.try_with(|r| r.hooks.get()).ok().flatten();
            if let Some(hooks) = hooks.filter(|hooks| hooks.slow_poll.is_some()) {
                (hooks.report_slow_poll)(self.header, took, threshold);
            }
        }
    }
}
