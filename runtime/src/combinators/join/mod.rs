//! Joining futures inside the calling task (no task spawned): what [`gather`](crate::gather),
//! [`gather!`](crate::gather!), [`wait`](crate::wait), [`as_completed`](crate::as_completed)
//! and [`first_ok`](crate::first_ok) are built on.

mod maybe_done;
mod unordered;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use maybe_done::MaybeDone;
pub(crate) use unordered::Unordered;

/// Up to this many futures, [`JoinAll`] polls each one on every wake-up (no waker per future,
/// no allocation per future); above it, only those woken. futures' `join_all` draws the line
/// at the same place.
const FEW: usize = 30;

/// Every future's output, in the order given: the engine of [`gather`](crate::gather) and
/// [`try_gather`](crate::try_gather).
pub(crate) enum JoinAll<F: Future> {
    Few(Pin<Box<[MaybeDone<F>]>>),
    Many {
        running: Unordered<F>,
        outputs: Vec<Option<F::Output>>,
    },
}

impl<F: Future> JoinAll<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
        let futures: Vec<F> = futures.into_iter().collect();
        if futures.len() <= FEW {
            JoinAll::Few(Box::into_pin(
                futures.into_iter().map(MaybeDone::Future).collect(),
            ))
        } else {
            JoinAll::Many {
                outputs: std::iter::repeat_with(|| None)
                    .take(futures.len())
                    .collect(),
                running: Unordered::new(futures),
            }
        }
    }

    /// Ready with every output in order, or, as soon as an output for which `fails` holds
    /// arrives, with that output alone (the other futures stay, to be dropped with `self`).
    pub(crate) fn poll_join(
        &mut self,
        cx: &mut Context<'_>,
        fails: impl Fn(&F::Output) -> bool,
    ) -> Poll<Result<Vec<F::Output>, F::Output>> {
        match self {
            JoinAll::Few(slots) => {
                let mut all_done = true;
                for index in 0..slots.len() {
                    let mut slot = pin_element(slots.as_mut(), index);
                    if slot.as_mut().poll(cx).is_pending() {
                        all_done = false;
                    } else if slot
                        .as_mut()
                        .output_mut()
                        .is_some_and(|output| fails(output))
                    {
                        let failure = slot.take_output().expect("checked above: done");
                        return Poll::Ready(Err(failure));
                    }
                }
                if !all_done {
                    return Poll::Pending;
                }
                let outputs = (0..slots.len())
                    .map(|index| {
                        pin_element(slots.as_mut(), index)
                            .take_output()
                            .expect("every future is done, its output not taken")
                    })
                    .collect();
                Poll::Ready(Ok(outputs))
            }
            JoinAll::Many { running, outputs } => {
                while let Some((index, output)) = std::task::ready!(running.poll_next(cx)) {
                    if fails(&output) {
                        return Poll::Ready(Err(output));
                    }
                    outputs[index] = Some(output);
                }
                Poll::Ready(Ok(std::mem::take(outputs)
                    .into_iter()
                    .map(|output| output.expect("every future has finished"))
                    .collect()))
            }
        }
    }
}

/// The element at `index` of a pinned slice, pinned.
fn pin_element<T>(slice: Pin<&mut [T]>, index: usize) -> Pin<&mut T> {
    // SAFETY: pinning a slice pins its elements: the slices given here live in a
    // `Pin<Box<[T]>>` that is never resized, and nothing moves an element out of one
    // (`Unordered` and `MaybeDone` replace an element only through `Pin::set`, which drops it in
    // place; `Unordered::take_unfinished` moves elements out only when they are `Unpin`).
    unsafe { slice.map_unchecked_mut(|slice| &mut slice[index]) }
}

/// A future that is pending on its first poll (waking itself) and ready with its value on the
/// second.
#[cfg(test)]
pub(crate) struct PendingOnce<T> {
    value: Option<T>,
    polled: bool,
}

#[cfg(test)]
impl<T> PendingOnce<T> {
    pub(crate) fn new(value: T) -> PendingOnce<T> {
        PendingOnce {
            value: Some(value),
            polled: false,
        }
    }
}

#[cfg(test)]
impl<T: Unpin> Future for PendingOnce<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if !self.polled {
            self.polled = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.value.take().expect("polled after it finished"))
    }
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll, Waker};

    use super::{FEW, JoinAll, PendingOnce};

    /// Polls `join` to its end (each `PendingOnce` wakes itself, so no poll is lost).
    fn finish(
        join: &mut JoinAll<PendingOnce<usize>>,
        fails: impl Fn(&usize) -> bool,
    ) -> Result<Vec<usize>, usize> {
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(outcome) = join.poll_join(&mut cx, &fails) {
                return outcome;
            }
        }
    }

    #[test]
    fn outputs_come_in_the_order_given_few_or_many() {
        for n in [0, 3, FEW, FEW + 1, 100] {
            let mut join = JoinAll::new((0..n).rev().map(PendingOnce::new));
            let expected: Vec<usize> = (0..n).rev().collect();
            assert_eq!(finish(&mut join, |_| false), Ok(expected), "{n}");
        }
    }

    #[test]
    fn a_failing_output_ends_the_join_with_it() {
        for n in [3, FEW + 5] {
            let mut join = JoinAll::new((0..n).map(PendingOnce::new));
            assert_eq!(finish(&mut join, |&value| value == 2), Err(2), "{n}");
        }
    }
}
