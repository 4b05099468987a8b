//! Concurrency limits of groups and sets: at most `n` children run at once, the rest wait,
//! unpolled, in creation order.
//!
//! A limited owner holds one [`Limiter`]. Every child it makes takes a [`Slot`] at creation,
//! synchronously, so the queue's order is the order of creation whatever thread or worker the
//! children later run on. The child's future is wrapped in a [`Limited`], which polls the user's
//! future only once its slot has been granted; until then the task exists (it is owned, listed,
//! cancellable and awaitable) but its future has never been polled. A slot is given back when
//! the `Limited` is dropped, after the user's future (field order), so a freed slot is handed on
//! only once the child's destructors have run.
//!
//! Slots are handed on first in, first out, directly to the oldest waiter: a child made later
//! never overtakes one that waits, and the `_when_free` producers wait in the same queue.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::sync::waiters::{Wakers, wake_all};
use crate::util::loom_facade::{Mutex, lock};

/// The limit of one group or set, shared (by `Arc`) with its children's slots.
pub(crate) struct Limiter {
    limit: NonZeroUsize,
    state: Mutex<State>,
}

struct State {
    /// Slots nobody holds.
    free: usize,
    /// The ticket number of `queue[0]`; every ticket below it has been granted (or given up
    /// while queued). Invariant: `base + queue.len()` is the next ticket's number.
    base: u64,
    /// The tickets waiting for a slot, oldest first.
    queue: VecDeque<Waiting>,
    /// How many entries of `queue` are `Queued` (the others are `Gone`).
    waiting: usize,
    /// Closed: the owner is cancelling everything; no queued ticket is granted any more.
    closed: bool,
}

enum Waiting {
    /// Waiting, with the waker of its task once it has been polled.
    Queued(Option<Waker>),
    /// Given up while queued (its task was cancelled): skipped when its turn comes.
    Gone,
}

/// The panic message of a limit of zero.
pub(crate) const ZERO_LIMIT: &str =
    "a concurrency limit must be at least 1: with a limit of 0 no child could ever run";

impl Limiter {
    /// A limiter of `limit` slots.
    ///
    /// # Panics
    ///
    /// If `limit` is 0, with [`ZERO_LIMIT`].
    #[track_caller]
    pub(crate) fn new(limit: usize) -> Arc<Limiter> {
        let limit = NonZeroUsize::new(limit).expect(ZERO_LIMIT);
        Arc::new(Limiter {
            limit,
            state: Mutex::new(State {
                free: limit.get(),
                base: 0,
                queue: VecDeque::new(),
                waiting: 0,
                closed: false,
            }),
        })
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit.get()
    }

    /// How many children hold a slot: running, or granted one and about to run.
    #[cfg(test)]
    pub(crate) fn running(&self) -> usize {
        self.limit.get() - lock(&self.state).free
    }

    /// How many tickets wait for a slot.
    pub(crate) fn queued(&self) -> usize {
        lock(&self.state).waiting
    }

    /// Takes a ticket: granted at once if a slot is free and nobody waits, else queued behind
    /// every ticket taken before it.
    pub(crate) fn slot(self: &Arc<Self>) -> Slot {
        let mut state = lock(&self.state);
        let ticket = state.base + state.queue.len() as u64;
        let granted = state.free > 0 && state.queue.is_empty() && !state.closed;
        if granted {
            state.free -= 1;
            state.base += 1;
        } else {
            state.queue.push_back(Waiting::Queued(None));
            state.waiting += 1;
        }
        drop(state);
        Slot {
            limiter: self.clone(),
            ticket,
            granted,
        }
    }

    /// Stops granting slots: the owner is cancelling everything, and a queued child must not
    /// start in the meantime (on workers, a running child that was cancelled first could
    /// otherwise free a slot for one not cancelled yet). Slots already granted stay granted.
    pub(crate) fn close(&self) {
        lock(&self.state).closed = true;
    }

    /// Grants slots again, after [`close`](Limiter::close), to whatever still waits.
    pub(crate) fn reopen(&self) {
        let wakers = {
            let mut state = lock(&self.state);
            state.closed = false;
            state.grant()
        };
        wake_all(wakers);
    }
}

/// Reopens a [`Limiter`] when dropped: a shutdown closes its set's limit while it cancels, and
/// must reopen it even if the shutdown's future is dropped halfway.
pub(crate) struct ReopenOnDrop(pub(crate) Arc<Limiter>);

impl Drop for ReopenOnDrop {
    fn drop(&mut self) {
        self.0.reopen();
    }
}

impl State {
    /// Hands free slots to the oldest waiters; returns the wakers to wake once the lock is let
    /// go (a wake may run the woken task's clean-up right here, which takes the lock again).
    fn grant(&mut self) -> Wakers {
        let mut wakers = Wakers::new();
        while self.free > 0 && !self.closed {
            let Some(front) = self.queue.pop_front() else {
                break;
            };
            self.base += 1;
            if let Waiting::Queued(waker) = front {
                self.free -= 1;
                self.waiting -= 1;
                wakers.extend(waker);
            }
        }
        self.drop_gone_front();
        wakers
    }

    /// Drops the given-up tickets at the front of the queue, so that it holds only what may
    /// still be granted (and its memory does not grow with cancelled children).
    fn drop_gone_front(&mut self) {
        while let Some(Waiting::Gone) = self.queue.front() {
            self.queue.pop_front();
            self.base += 1;
        }
    }
}

/// One child's place under a [`Limiter`]: a ticket in its queue, then a slot. Dropping it gives
/// the slot back (or its place in the queue up).
pub(crate) struct Slot {
    limiter: Arc<Limiter>,
    ticket: u64,
    /// Known to be granted: no lock needed any more.
    granted: bool,
}

impl Slot {
    /// Ready once the slot is granted; until then the waker is kept to be woken then.
    pub(crate) fn poll_granted(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.granted {
            return Poll::Ready(());
        }
        let mut state = lock(&self.limiter.state);
        if self.ticket < state.base {
            self.granted = true;
            return Poll::Ready(());
        }
        let at = (self.ticket - state.base) as usize;
        match &mut state.queue[at] {
            Waiting::Queued(waker) => match waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            },
            Waiting::Gone => unreachable!("a slot is given up only when dropped"),
        }
        Poll::Pending
    }
}

/// Waits until `slot` (if any: `None` is no limit) is granted: the wait of the `_when_free`
/// methods.
pub(crate) async fn granted(mut slot: Option<Slot>) -> Option<Slot> {
    if let Some(slot) = &mut slot {
        std::future::poll_fn(|cx| slot.poll_granted(cx)).await;
    }
    slot
}

impl Drop for Slot {
    fn drop(&mut self) {
        let wakers = {
            let mut state = lock(&self.limiter.state);
            if self.granted || self.ticket < state.base {
                state.free += 1;
                state.grant()
            } else {
                let at = (self.ticket - state.base) as usize;
                state.queue[at] = Waiting::Gone;
                state.waiting -= 1;
                state.drop_gone_front();
                Wakers::new()
            }
        };
        wake_all(wakers);
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("ticket", &self.ticket)
            .field("granted", &self.granted)
            .finish()
    }
}

/// A limited child's future: `future`, first polled once `slot` is granted.
///
/// Field order is drop order: the user's future is dropped before the slot is given back.
pub(crate) struct Limited<F> {
    /// Structurally pinned.
    future: F,
    slot: Slot,
}

impl<F> Limited<F> {
    pub(crate) fn new(future: F, slot: Slot) -> Limited<F> {
        Limited { future, slot }
    }
}

impl<F: Future> Future for Limited<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: only `future` is pinned structurally: it is never moved out of `self` (there
        // is no other access to it, and `Limited` has no `Drop` impl), so it is dropped where it
        // was pinned, with `self`. `slot` is never pinned and may be used by `&mut`.
        let this = unsafe { self.get_unchecked_mut() };
        if !this.slot.granted {
            if this.slot.poll_granted(cx).is_pending() {
                return Poll::Pending;
            }
            if crate::task::graceful::is_cancellation_requested() {
                // Asked to stop before it ever started: it is not started at all. Cancelling
                // itself wakes the task, whose wrapper then drops this future, unpolled, and
                // the slot goes to the next in line.
                if crate::task_core::current::with_running(|header| header.request_cancel(None))
                    .is_some()
                {
                    return Poll::Pending;
                }
            }
        }
        // SAFETY: `future` lives in `self`, which is pinned, and is never moved (see above).
        unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    fn poll(slot: &mut Slot) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        slot.poll_granted(&mut cx).is_ready()
    }

    #[test]
    fn slots_are_granted_in_ticket_order() {
        let limiter = Limiter::new(2);
        let mut a = limiter.slot();
        let mut b = limiter.slot();
        let mut c = limiter.slot();
        let mut d = limiter.slot();
        assert!(poll(&mut a) && poll(&mut b));
        assert!(!poll(&mut c) && !poll(&mut d));
        assert_eq!((limiter.running(), limiter.queued()), (2, 2));
        drop(b);
        assert!(poll(&mut c));
        assert!(!poll(&mut d));
        drop(a);
        assert!(poll(&mut d));
        assert_eq!((limiter.running(), limiter.queued()), (2, 0));
    }

    #[test]
    fn a_given_up_ticket_is_skipped() {
        let limiter = Limiter::new(1);
        let a = limiter.slot();
        let b = limiter.slot();
        let mut c = limiter.slot();
        drop(b);
        assert_eq!(limiter.queued(), 1);
        drop(a);
        assert!(poll(&mut c));
        drop(c);
        assert_eq!((limiter.running(), limiter.queued()), (0, 0));
        // A new ticket after everything drained is granted at once.
        let mut e = limiter.slot();
        assert!(poll(&mut e));
    }

    #[test]
    fn a_closed_limiter_grants_nothing_until_reopened() {
        let limiter = Limiter::new(1);
        let a = limiter.slot();
        let mut b = limiter.slot();
        limiter.close();
        drop(a);
        assert!(!poll(&mut b));
        limiter.reopen();
        assert!(poll(&mut b));
    }

    #[test]
    #[should_panic(expected = "must be at least 1")]
    fn a_limit_of_zero_is_refused() {
        Limiter::new(0);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! Run with `RUSTFLAGS="--cfg loom" cargo test -p tether --lib --release loom_models`.

    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::thread;

    use super::Limiter;

    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_slot_freed_on_another_thread_reaches_the_waiter() {
        loom::model(|| {
            let limiter = Limiter::new(1);
            let running = limiter.slot();
            let mut waiting = limiter.slot();
            let flag = Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            let freer = thread::spawn(move || drop(running));
            let ready = waiting
                .poll_granted(&mut Context::from_waker(&waker))
                .is_ready();
            freer.join().unwrap();
            // Granted at the poll, or woken after it: a lost wake-up would leave it waiting.
            assert!(ready || flag.0.load(Ordering::SeqCst));
            assert!(
                waiting
                    .poll_granted(&mut Context::from_waker(&waker))
                    .is_ready()
            );
        });
    }

    #[test]
    fn a_waiter_giving_up_while_a_slot_frees_passes_it_on() {
        loom::model(|| {
            let limiter = Limiter::new(1);
            let running = limiter.slot();
            let quitter = limiter.slot();
            let mut last = limiter.slot();
            let freer = thread::spawn(move || drop(running));
            let quits = thread::spawn(move || drop(quitter));
            freer.join().unwrap();
            quits.join().unwrap();
            assert!(
                last.poll_granted(&mut Context::from_waker(Waker::noop()))
                    .is_ready()
            );
            assert_eq!((limiter.running(), limiter.queued()), (1, 0));
            drop(last);
            assert_eq!(limiter.running(), 0);
        });
    }
}
