//! [`MaybeDone`]: a future, then its output, in one place that does not move.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future until it finishes, then its output until that is taken. Dropping the future as
/// soon as it finishes frees what it held while the others still run.
///
/// What `gather!`'s expansion keeps each of its futures in (one per future, pinned on the
/// calling task's stack), and what [`gather()`](fn@crate::gather) keeps a few futures in.
#[derive(Debug)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Future(F),
    /// Finished; the output is not taken yet.
    Done(F::Output),
    /// Finished, and the output taken.
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// The running future, if it is still running.
    fn future(self: Pin<&mut Self>) -> Option<Pin<&mut F>> {
        // SAFETY: the future is pinned structurally: it is never moved out of a pinned
        // `MaybeDone`. It leaves only through `Pin::set` (in `poll`), which drops it in place,
        // or with the `MaybeDone` itself; `take_output` moves the value out only once it is
        // `Done`, when no future is left in it.
        unsafe {
            match self.get_unchecked_mut() {
                MaybeDone::Future(future) => Some(Pin::new_unchecked(future)),
                MaybeDone::Done(_) | MaybeDone::Gone => None,
            }
        }
    }

    /// The output, while it is there to take.
    pub fn output_mut(self: Pin<&mut Self>) -> Option<&mut F::Output> {
        // SAFETY: only the output is reached, which is never pinned (see `future`): nothing
        // pinned is moved.
        match unsafe { self.get_unchecked_mut() } {
            MaybeDone::Done(output) => Some(output),
            MaybeDone::Future(_) | MaybeDone::Gone => None,
        }
    }

    /// Takes the output out, leaving `Gone`; `None` while the future runs or once taken.
    pub fn take_output(self: Pin<&mut Self>) -> Option<F::Output> {
        if !matches!(*self, MaybeDone::Done(_)) {
            return None;
        }
        // SAFETY: `self` is `Done`, so it holds no future: moving the whole value out (to take
        // the output) moves nothing pinned.
        let this = unsafe { self.get_unchecked_mut() };
        match std::mem::replace(this, MaybeDone::Gone) {
            MaybeDone::Done(output) => Some(output),
            MaybeDone::Future(_) | MaybeDone::Gone => unreachable!("checked above: Done"),
        }
    }
}

impl<F: Future> Future for MaybeDone<F> {
    type Output = ();

    /// Ready once the future has finished (and from then on).
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(future) = self.as_mut().future() else {
            return Poll::Ready(());
        };
        let Poll::Ready(output) = future.poll(cx) else {
            return Poll::Pending;
        };
        self.set(MaybeDone::Done(output));
        Poll::Ready(())
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::MaybeDone;

    #[test]
    fn keeps_the_output_until_taken_once() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut once = pin!(MaybeDone::Future(super::super::PendingOnce::new(7)));
        assert!(once.as_mut().poll(&mut cx).is_pending());
        assert!(once.as_mut().output_mut().is_none());
        assert!(once.as_mut().take_output().is_none());
        assert_eq!(once.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(once.as_mut().output_mut(), Some(&mut 7));
        assert_eq!(once.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(once.as_mut().take_output(), Some(7));
        assert!(once.as_mut().take_output().is_none());
        assert!(matches!(*once, MaybeDone::Gone));
    }
}
