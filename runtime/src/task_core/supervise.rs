//! The wrapper every task's future runs inside: cancellation, panic capture, clean-up.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::current;
use super::error::{Panic, TaskError, contain_panic};
use super::header::Header;
use crate::context::Context;

/// Runs `future` as the body of the task whose header is `header`, then hands its outcome to
/// `finish`, whose result is the task's output.
///
/// Before every poll it honours a cancellation request by dropping `future` in place, so the
/// task's destructors run before anyone can observe `Err(Cancelled)`. A panic while polling or
/// while dropping is caught and becomes `Err(Panicked)`, so it never unwinds into the event loop.
/// `end`, the owner's hook, runs when the task's future is gone, whichever way it went: before
/// `finish` when the task ends, or when the task is dropped unfinished (also before its first
/// poll).
///
/// Every poll runs with the task marked as the running one and its own `context` current.
///
/// This is a hand-written future rather than an `async fn`: an `async fn` keeps its arguments
/// apart from the locals it moves them into, so the user's future, the context and the hooks
/// were each stored twice (three times through `run_task`) in every task's allocation.
pub(crate) fn supervise<'a, F, E, Fin, R>(
    future: F,
    context: Context,
    header: &'a Header,
    end: E,
    finish: Fin,
) -> Supervised<'a, F, E, Fin>
where
    F: Future,
    E: FnOnce(&Header),
    Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> R,
{
    Supervised {
        future: Some(future),
        context,
        header,
        end: Some(end),
        finish: Some(finish),
    }
}

/// The future [`supervise`] returns.
///
/// The user's future goes first, then the context, and only then does `end` run, which relies
/// on the future being gone: in that order when the task ends (`poll`) and when it is dropped
/// unfinished (`drop`). The fields are side by side, not grouped in structs of their own, so
/// that the one-byte ones (the future's and the hooks' `Option` tags, often the whole of a small
/// future's state) share a word: an empty task's allocation is a word smaller.
pub(crate) struct Supervised<'a, F, E: FnOnce(&Header), Fin> {
    /// Structurally pinned; `None` once the future has ended (returned, panicked, dropped).
    future: Option<F>,
    context: Context,
    /// The task's header, in the same allocation (async-task drops it after the future).
    header: &'a Header,
    /// The owner's hook (it frees the task's slot); taken when it runs, once.
    end: Option<E>,
    /// Taken when the task ends.
    finish: Option<Fin>,
}

impl<F, E, Fin, R> Future for Supervised<'_, F, E, Fin>
where
    F: Future,
    E: FnOnce(&Header),
    Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> R,
{
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<R> {
        // SAFETY: only `future` is pinned structurally: it is never moved out of `self`, only
        // pinned in place below and dropped in place (`Option::take` is never used on it). The
        // other fields are never pinned and may be moved.
        let this = unsafe { self.get_unchecked_mut() };
        let header = this.header;
        let outcome = {
            let _entered = current::enter(header, &mut this.context);
            if header.is_cancel_requested() {
                crate::task_core::trace::cancelled();
                match drop_in_place(&mut this.future) {
                    Some(panic) => Err(TaskError::Panicked(panic)),
                    None => Err(TaskError::cancelled(header.cancel_message())),
                }
            } else {
                let Some(future) = this.future.as_mut() else {
                    unreachable!(
                        "a finished task is never polled again: async-task stops at Ready"
                    );
                };
                // SAFETY: `future` lives in `self`, which is pinned, and stays there until it is
                // dropped in place (see above).
                let future = unsafe { Pin::new_unchecked(future) };
                match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(Poll::Ready(output)) => Ok(output),
                    Ok(Poll::Pending) => return Poll::Pending,
                    Err(payload) => {
                        // The destructors of a future that panicked still run; a second panic
                        // from them is dropped in favour of the first, which is the one worth
                        // reporting.
                        let _ = drop_in_place(&mut this.future);
                        let error = TaskError::from_payload(payload);
                        if let TaskError::Panicked(panic) = &error {
                            crate::task_core::trace::panicked(panic.message());
                        }
                        Err(error)
                    }
                }
            }
        };
        // What a future that returned still holds goes now, outside the task's own context, then
        // the context itself, then the owner's hook runs: the same order as when the task's
        // future is dropped unfinished. The task's stored waker is dropped by `Header::finish`,
        // which `finish` calls (run_task's does), in the atomic step that marks the task
        // finished; `drop`, right after, is the safety net (a plain load otherwise).
        // Both may run user destructors (a context value's `Drop`): a panic there is the task's
        // panic, unless it already ended in one (the first panic is the one worth reporting); an
        // output that was ready is dropped then, also under the guard.
        let leftovers = drop_in_place(&mut this.future);
        let context = std::mem::take(&mut this.context)
            .drop_contained()
            .map(Panic::from_payload);
        let outcome = match (outcome, leftovers.or(context)) {
            (Ok(output), Some(panic)) => {
                let _ = catch_unwind(AssertUnwindSafe(|| drop(output)));
                Err(TaskError::Panicked(panic))
            }
            (Err(TaskError::Cancelled { .. }), Some(panic)) => Err(TaskError::Panicked(panic)),
            (outcome, _) => outcome,
        };
        this.run_end();
        let finish = this
            .finish
            .take()
            .expect("a task ends once: async-task stops polling at Ready");
        Poll::Ready(finish(header, outcome))
    }
}

impl<F, E: FnOnce(&Header), Fin> Supervised<'_, F, E, Fin> {
    /// Runs the owner's hook now, once (later calls do nothing), leaving the stored waker to the
    /// caller.
    fn run_end(&mut self) {
        if let Some(end) = self.end.take() {
            end(self.header);
        }
    }
}

impl<F, E: FnOnce(&Header), Fin> Drop for Supervised<'_, F, E, Fin> {
    /// A task dropped unfinished (its runnable dropped, never run again) has no outcome left to
    /// carry a panic from its future's or its context's destructors: it is reported on stderr,
    /// and never unwinds into async-task, which would abort. Then the stored waker goes and the
    /// owner's hook runs. After a task ended both have happened already (unless the owner's
    /// `finish` panicked), and this is a plain load.
    fn drop(&mut self) {
        if self.future.is_some() {
            // Dropped in place, as the pinning contract of `future` requires.
            contain_panic(
                || "the destructor of a dropped task's future".to_owned(),
                || {
                    self.future = None;
                },
            );
        }
        if let Some(payload) = std::mem::take(&mut self.context).drop_contained() {
            contain_panic(
                || "a context value of a dropped task".to_owned(),
                || std::panic::resume_unwind(payload),
            );
        }
        self.header.clear_waker();
        self.run_end();
    }
}

/// Drops the future held in `slot` in place, catching a panic from its destructors.
pub(crate) fn drop_in_place<F>(slot: &mut Option<F>) -> Option<Panic> {
    // Assigning drops the old value where it lies, as the pinning contract of `slot` requires.
    catch_unwind(AssertUnwindSafe(|| *slot = None))
        .err()
        .map(Panic::from_payload)
}
