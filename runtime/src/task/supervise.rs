//! The wrapper every task's future runs inside: cancellation, panic capture, clean-up.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::task::Poll;

use super::current;
use super::error::{Panic, TaskError};
use super::header::Header;
use crate::context::Context;

/// Runs `future` as the body of the task described by `header`.
///
/// Before every poll it honours a cancellation request by dropping `future` in place, so the
/// task's destructors run before anyone can observe `Err(Cancelled)`. A panic while polling or
/// while dropping is caught and becomes `Err(Panicked)`, so it never unwinds into the event loop.
/// `_end` runs its hook when the task's future is gone, whichever way it went. It is an argument,
/// not a local, so that it also runs when the task is dropped before its first poll (dropping an
/// unstarted `async fn` drops only its arguments).
///
/// Every poll runs with the task marked as the running one and its own `context` current.
pub(crate) async fn supervise<F, E>(
    header: &Header,
    future: F,
    mut context: Context,
    _end: OnEnd<'_, E>,
) -> Result<F::Output, TaskError>
where
    F: Future,
    E: FnOnce(),
{
    let mut slot = pin!(Some(future));
    poll_fn(|cx| {
        let _entered = current::enter(header, &mut context);
        if header.is_cancel_requested() {
            let error = match drop_in_place(slot.as_mut()) {
                Some(panic) => TaskError::Panicked(panic),
                None => TaskError::cancelled(header.cancel_message()),
            };
            return Poll::Ready(Err(error));
        }
        let Some(future) = slot.as_mut().as_pin_mut() else {
            unreachable!("a finished task is never polled again: async-task stops at Ready");
        };
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                // The destructors of a future that panicked still run; a second panic from
                // them is dropped in favour of the first, which is the one worth reporting.
                let _ = drop_in_place(slot.as_mut());
                Poll::Ready(Err(TaskError::Panicked(Panic::new(payload))))
            }
        }
    })
    .await
}

/// Drops the future held in `slot`, catching a panic from its destructors.
fn drop_in_place<F>(mut slot: Pin<&mut Option<F>>) -> Option<Panic> {
    catch_unwind(AssertUnwindSafe(|| slot.set(None)))
        .err()
        .map(Panic::new)
}

/// Clears the task's stored waker and runs its owner's hook when the task's future ends.
pub(crate) struct OnEnd<'a, E: FnOnce()> {
    header: &'a Header,
    hook: Option<E>,
}

impl<'a, E: FnOnce()> OnEnd<'a, E> {
    pub(crate) fn new(header: &'a Header, hook: E) -> Self {
        OnEnd {
            header,
            hook: Some(hook),
        }
    }
}

impl<E: FnOnce()> Drop for OnEnd<'_, E> {
    fn drop(&mut self) {
        self.header.clear_waker();
        if let Some(hook) = self.hook.take() {
            hook();
        }
    }
}
