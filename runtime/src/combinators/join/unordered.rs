//! [`Unordered`]: a fixed set of futures, each polled only when it was woken, whose outputs are
//! handed out as they arrive.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::pin_element;
// loom's, under the models at the end of this file: wakes come from any thread.
use crate::util::loom_facade::{AtomicBool, Ordering};
use crate::util::woken::WokenKeys;

/// The futures of a [`wait`](crate::wait), an [`as_completed`](crate::as_completed), a
/// [`first_ok`](crate::first_ok) or a large [`gather`](crate::gather), run inside the task
/// that polls this set.
///
/// Each future gets a waker of its own that records its index and wakes the polling task, so a
/// poll of the set polls only the futures woken since the last one, in the order they were
/// woken: n futures finishing one at a time cost n polls, not n². The set is filled once and
/// never grows, so the futures live in one pinned slice.
pub(crate) struct Unordered<F> {
    /// The futures, each `None` once it has finished.
    slots: Pin<Box<[Option<F>]>>,
    /// Each future's own waker.
    wakers: Box<[Waker]>,
    shared: Arc<Shared>,
    /// Indices woken and taken from `shared`, not yet polled: `batch[next..]`.
    batch: Vec<usize>,
    next: usize,
    /// How many futures have not finished.
    live: usize,
}

/// What the futures' wakers reach, from any thread.
struct Shared {
    /// Indices woken since the set last took them, in the order they were woken, and the
    /// waker of the task polling the set.
    woken: WokenKeys,
    /// Per future: already in `woken` (or in the set's batch, or finished), so a second wake
    /// adds nothing.
    queued: Box<[AtomicBool]>,
}

/// The waker of the future at `index`.
struct FutureWaker {
    shared: Arc<Shared>,
    index: usize,
}

impl Wake for FutureWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Acquire-release: pairs with the set's `swap(false)` before it polls the future, so
        // either this wake queues the index, or the poll that follows sees what led to it.
        if self.shared.queued[self.index].swap(true, Ordering::AcqRel) {
            return;
        }
        self.shared.woken.push(self.index);
    }
}

impl<F> Unordered<F> {
    /// How many futures have not finished.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }
}

impl<F: Future> Unordered<F> {
    /// A set of `futures`, each to be polled first in the order given.
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Unordered<F> {
        let slots: Box<[Option<F>]> = futures.into_iter().map(Some).collect();
        let len = slots.len();
        let shared = Arc::new(Shared {
            woken: WokenKeys::new(),
            // Every future starts in the batch, so each is queued already.
            queued: (0..len).map(|_| AtomicBool::new(true)).collect(),
        });
        let wakers = (0..len)
            .map(|index| {
                Waker::from(Arc::new(FutureWaker {
                    shared: shared.clone(),
                    index,
                }))
            })
            .collect();
        Unordered {
            slots: Box::into_pin(slots),
            wakers,
            shared,
            batch: (0..len).collect(),
            next: 0,
            live: len,
        }
    }

    /// The next output to arrive, with the index of its future in the order given; `None`
    /// once every future has finished.
    ///
    /// Polls what was woken before this call, then takes once what was woken meanwhile
    /// (registering `cx`'s waker at the same moment) and polls that: a future that wakes
    /// itself every poll is polled once per call, so one call always ends.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        if self.live == 0 {
            return Poll::Ready(None);
        }
        if let Some(arrived) = self.poll_batch() {
            return Poll::Ready(Some(arrived));
        }
        // The batch is empty (`poll_batch` ran to its end): the indices woken so far become
        // the next one, taken in the same step as the waker is registered.
        self.shared
            .woken
            .take_and_register(cx.waker(), &mut self.batch);
        match self.poll_batch() {
            Some(arrived) => Poll::Ready(Some(arrived)),
            // Whatever is woken from now on wakes `cx`'s waker, registered above.
            None => Poll::Pending,
        }
    }

    /// Polls the batch until a future finishes or the batch is done.
    fn poll_batch(&mut self) -> Option<(usize, F::Output)> {
        while let Some(&index) = self.batch.get(self.next) {
            self.next += 1;
            let mut slot = pin_element(self.slots.as_mut(), index);
            let Some(future) = slot.as_mut().as_pin_mut() else {
                // Not expected: a finished future's index is never queued again (its `queued`
                // flag stays set), and `take_unfinished` empties the slots only with `live`.
                continue;
            };
            self.shared.queued[index].swap(false, Ordering::AcqRel);
            let mut cx = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(output) = future.poll(&mut cx) {
                slot.set(None);
                // Finished: no wake queues it again.
                self.shared.queued[index].store(true, Ordering::Release);
                self.live -= 1;
                return Some((index, output));
            }
        }
        self.batch.clear();
        self.next = 0;
        None
    }
}

impl<F: Future + Unpin> Unordered<F> {
    /// Takes out the futures that have not finished, in the order given; the set is empty
    /// afterwards.
    pub(crate) fn take_unfinished(&mut self) -> Vec<F> {
        self.live = 0;
        self.slots
            .as_mut()
            .get_mut()
            .iter_mut()
            .filter_map(Option::take)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::future::{Future, pending};
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::task::{Context, Poll, Waker};

    use super::Unordered;
    use crate::combinators::join::PendingOnce;
    use crate::util::waker_slot::WakeCount;

    /// Pending until `woken` is woken from outside, then ready with `value`.
    struct Gate {
        waker: Arc<std::sync::Mutex<Option<Waker>>>,
        open: Arc<std::sync::atomic::AtomicBool>,
        value: u32,
    }

    impl Future for Gate {
        type Output = u32;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            if self.open.load(Ordering::SeqCst) {
                return Poll::Ready(self.value);
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    #[test]
    fn polls_only_what_was_woken_and_hands_out_outputs_as_they_arrive() {
        let gates: Vec<_> = (0..3)
            .map(|value| Gate {
                waker: Default::default(),
                open: Default::default(),
                value,
            })
            .collect();
        let handles: Vec<_> = gates
            .iter()
            .map(|gate| (gate.waker.clone(), gate.open.clone()))
            .collect();
        let mut set = Unordered::new(gates);
        let count = WakeCount::new();
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(set.len(), 3);

        // Open the last gate, then the first: they arrive in that order.
        for index in [2, 0] {
            handles[index].1.store(true, Ordering::SeqCst);
            let gate_waker = handles[index].0.lock().unwrap().take().unwrap();
            gate_waker.wake();
        }
        assert_eq!(count.count(), 1, "one wake of the set");
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((2, 2))));
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((0, 0))));
        assert!(set.poll_next(&mut cx).is_pending());
        assert_eq!(set.len(), 1);
        assert_eq!(set.take_unfinished().len(), 1);
        assert!(set.is_empty());
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(None));
    }

    #[test]
    fn a_future_that_wakes_itself_is_polled_once_per_call() {
        let mut set = Unordered::new([PendingOnce::new(1), PendingOnce::new(2)]);
        let mut cx = Context::from_waker(Waker::noop());
        // Each wakes itself on its first poll; the set then takes them once and they finish.
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((0, 1))));
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some((1, 2))));
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(None));

        let mut forever = Unordered::new([std::future::poll_fn(|cx: &mut Context<'_>| {
            cx.waker().wake_by_ref();
            Poll::<()>::Pending
        })]);
        assert!(forever.poll_next(&mut cx).is_pending());
        assert!(forever.poll_next(&mut cx).is_pending());
    }

    #[test]
    fn futures_left_unfinished_are_dropped_with_the_set() {
        let witness = Arc::new(());
        let set = Unordered::new((0..3).map(|_| {
            let witness = witness.clone();
            async move {
                pending::<()>().await;
                drop(witness);
            }
        }));
        assert_eq!(Arc::strong_count(&witness), 4);
        drop(set);
        assert_eq!(Arc::strong_count(&witness), 1);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! Run with `RUSTFLAGS="--cfg loom" cargo test -p tether --lib --release loom_models`.

    use std::future::{Future, poll_fn};
    use std::task::{Context, Poll, Wake, Waker};

    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::sync::{Arc, Mutex};
    use loom::thread;

    use super::Unordered;

    /// The polling task's waker: counts its wakes (`Waker::from` takes std's `Arc`).
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A future that is ready once `open` is set: it leaves its waker in `slot`, then looks.
    fn gate(
        open: Arc<AtomicBool>,
        slot: Arc<Mutex<Option<Waker>>>,
    ) -> impl Future<Output = ()> + Unpin {
        poll_fn(move |cx| {
            *slot.lock().unwrap() = Some(cx.waker().clone());
            if open.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    #[test]
    fn wakes_from_another_thread_are_never_lost() {
        loom::model(|| {
            let gates: Vec<_> = (0..2)
                .map(|_| {
                    (
                        Arc::new(AtomicBool::new(false)),
                        Arc::new(Mutex::new(None::<Waker>)),
                    )
                })
                .collect();
            let mut set = Unordered::new(
                gates
                    .iter()
                    .map(|(open, slot)| gate(open.clone(), slot.clone())),
            );
            let opener = thread::spawn(move || {
                for (open, slot) in gates {
                    open.store(true, Ordering::Release);
                    let waker = slot.lock().unwrap().take();
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                }
            });
            let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
            let waker = Waker::from(count.clone());
            let mut cx = Context::from_waker(&waker);
            let mut arrived = 0;
            let mut seen = 0;
            while arrived < 2 {
                match set.poll_next(&mut cx) {
                    Poll::Ready(Some(_)) => arrived += 1,
                    Poll::Ready(None) => panic!("the set ended before both gates opened"),
                    // A lost wake-up would spin here forever: loom reports it.
                    Poll::Pending => loop {
                        let now = count.0.load(Ordering::SeqCst);
                        if now != seen {
                            seen = now;
                            break;
                        }
                        thread::yield_now();
                    },
                }
            }
            assert!(set.is_empty());
            opener.join().unwrap();
        });
    }
}
