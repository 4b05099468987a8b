//! A loop's inbox: what other threads hand it (woken tasks, callbacks), and the flag that tells
//! the loop, without a lock, that there is something to take.
//!
//! The protocol with parking (the loom models check it): a sender pushes under the lock, sets
//! `pending`, then unparks the loop's thread; the loop looks at `pending` before it parks. Either
//! it sees the flag, or the unpark comes after its look, and a thread's park token makes the park
//! that follows return at once.

use crate::util::loom_facade::{AtomicBool, Mutex, MutexGuard, Ordering, lock};

pub(crate) struct Inbox<R, C> {
    state: Mutex<State<R, C>>,
    /// Something was pushed since the last `take`.
    pending: AtomicBool,
}

struct State<R, C> {
    runnables: Vec<R>,
    callbacks: Vec<C>,
    /// Set by `close`: pushes are refused from then on.
    closed: bool,
}

impl<R, C> Inbox<R, C> {
    pub(crate) fn new() -> Inbox<R, C> {
        Inbox {
            state: Mutex::new(State {
                runnables: Vec::new(),
                callbacks: Vec::new(),
                closed: false,
            }),
            pending: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<R, C>> {
        lock(&self.state)
    }

    /// Queues a woken task; gives it back if the inbox is closed. The caller unparks the loop.
    pub(crate) fn push_runnable(&self, runnable: R) -> Result<(), R> {
        let mut state = self.lock();
        if state.closed {
            return Err(runnable);
        }
        state.runnables.push(runnable);
        self.pending.store(true, Ordering::Release);
        Ok(())
    }

    /// Queues a callback; gives it back if the inbox is closed. The caller unparks the loop.
    pub(crate) fn push_callback(&self, callback: C) -> Result<(), C> {
        let mut state = self.lock();
        if state.closed {
            return Err(callback);
        }
        state.callbacks.push(callback);
        self.pending.store(true, Ordering::Release);
        Ok(())
    }

    /// `true` if something was pushed since the last `take`: the loop must not park.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes everything pushed so far, if anything was.
    pub(crate) fn take(&self) -> Option<(Vec<R>, Vec<C>)> {
        // A plain load first: the swap (a read-modify-write) only when there is something.
        if !self.pending.load(Ordering::Relaxed) || !self.pending.swap(false, Ordering::Acquire) {
            return None;
        }
        let mut state = self.lock();
        Some((
            std::mem::take(&mut state.runnables),
            std::mem::take(&mut state.callbacks),
        ))
    }

    /// Refuses further pushes and returns what is left.
    pub(crate) fn close(&self) -> (Vec<R>, Vec<C>) {
        let mut state = self.lock();
        state.closed = true;
        self.pending.store(false, Ordering::Relaxed);
        (
            std::mem::take(&mut state.runnables),
            std::mem::take(&mut state.callbacks),
        )
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! Run with `RUSTFLAGS="--cfg loom" cargo test -p tether --lib --release loom_models`.

    use loom::sync::Arc;
    use loom::thread;

    use super::Inbox;
    use crate::scheduler::io_driver::park::{ParkState, Parked};

    /// The loop's side, as `run_until` and `park` do it: take, else look at the flag, else park.
    fn run_loop(inbox: &Inbox<u32, u32>, expected: usize) -> Vec<u32> {
        let mut got = Vec::new();
        while got.len() < expected {
            if let Some((runnables, callbacks)) = inbox.take() {
                got.extend(runnables);
                got.extend(callbacks);
                continue;
            }
            if !inbox.has_pending() {
                thread::park();
            }
        }
        got
    }

    #[test]
    fn wakes_from_two_threads_reach_a_loop_that_is_going_to_park() {
        loom::model(|| {
            let inbox = Arc::new(Inbox::new());
            let looper = {
                let inbox = inbox.clone();
                thread::spawn(move || run_loop(&inbox, 2))
            };
            let waker = {
                let (inbox, looper) = (inbox.clone(), looper.thread().clone());
                thread::spawn(move || {
                    inbox.push_runnable(1).unwrap();
                    looper.unpark();
                })
            };
            inbox.push_callback(2).unwrap();
            looper.thread().unpark();
            waker.join().unwrap();
            // A lost wake-up would leave the loop parked forever: loom reports a deadlock.
            let mut got = looper.join().unwrap();
            got.sort_unstable();
            assert_eq!(got, [1, 2]);
        });
    }

    #[test]
    fn a_push_racing_close_is_either_taken_by_close_or_refused() {
        loom::model(|| {
            let inbox = Arc::new(Inbox::<u32, u32>::new());
            let sender = {
                let inbox = inbox.clone();
                thread::spawn(move || inbox.push_runnable(7).is_ok())
            };
            let (left, _) = inbox.close();
            let accepted = sender.join().unwrap();
            // Accepted means the loop's close saw it (and runs it); refused means the sender
            // got it back. Never both, never neither.
            assert_eq!(accepted, left == [7]);
            assert!(inbox.is_closed());
        });
    }

    #[test]
    fn a_wake_reaches_a_loop_that_parks_in_the_poller() {
        a_wake_reaches_a_parked_loop(true);
    }

    #[test]
    fn a_wake_reaches_a_worker_that_parks_on_its_thread() {
        // Another worker sits in the shared poller: this one parks on its thread.
        a_wake_reaches_a_parked_loop(false);
    }

    /// Two threads queue work for a loop that parks, in the poller if `in_poller` (modelled by
    /// the thread park the `eventfd` write ends) or on its thread.
    fn a_wake_reaches_a_parked_loop(in_poller: bool) {
        loom::model(move || {
            let inbox = Arc::new(Inbox::<u32, u32>::new());
            let park = Arc::new(ParkState::new());
            let looper = {
                let (inbox, park) = (inbox.clone(), park.clone());
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while got.len() < 2 {
                        if let Some((runnables, callbacks)) = inbox.take() {
                            got.extend(runnables);
                            got.extend(callbacks);
                            continue;
                        }
                        if !inbox.has_pending() && park.begin(in_poller) {
                            thread::park();
                            park.end();
                        }
                    }
                    got
                })
            };
            let expected = if in_poller {
                Parked::InPoller
            } else {
                Parked::OnThread
            };
            let waker = {
                let (inbox, park, looper) = (inbox.clone(), park.clone(), looper.thread().clone());
                thread::spawn(move || {
                    inbox.push_runnable(1).unwrap();
                    let parked = park.notify();
                    assert!(parked == Parked::No || parked == expected);
                    if parked != Parked::No {
                        looper.unpark();
                    }
                })
            };
            inbox.push_callback(2).unwrap();
            if park.notify() != Parked::No {
                looper.thread().unpark();
            }
            waker.join().unwrap();
            // A lost wake-up leaves the loop parked forever: loom reports a deadlock.
            let mut got = looper.join().unwrap();
            got.sort_unstable();
            assert_eq!(got, [1, 2]);
        });
    }
}
