//! Whether a loop sits in its poller, and a pending notification if it does not: the poller's
//! version of a thread's park token.
//!
//! A waker from another thread queues its work first, then calls [`ParkState::notify`]: a
//! single atomic swap, and an `eventfd` write only if the loop is parked in the poller. A loop
//! that is awake is not interrupted; the notification stays pending, and its next
//! [`ParkState::begin`] returns `false` (do not block), exactly as `thread::park` returns at once
//! after an early `unpark`. So the loop's existing protocol (queue, then unpark; look, then
//! park) keeps its guarantee: a loom model beside the inbox (`event_loop/inbox.rs`) checks the two
//! together.

use crate::loom_facade::{AtomicUsize, Ordering};

const AWAKE: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

pub(crate) struct ParkState(AtomicUsize);

impl ParkState {
    pub(crate) fn new() -> ParkState {
        ParkState(AtomicUsize::new(AWAKE))
    }

    /// The loop is about to block in the poller. `false`: a notification was pending (now
    /// consumed), so do not block.
    pub(crate) fn begin(&self) -> bool {
        match self
            .0
            .compare_exchange(AWAKE, PARKED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => true,
            Err(_) => {
                // NOTIFIED (only the loop's own thread sets PARKED). A swap, not a store: a
                // read-modify-write reads the latest notification, and so synchronises with
                // the notifier whose work the loop must now see.
                self.0.swap(AWAKE, Ordering::SeqCst);
                false
            }
        }
    }

    /// The loop is back from the poller (woken, timed out, or events came).
    pub(crate) fn end(&self) {
        // A swap, not a store, for the same reason as in `begin`: a plain store could
        // overwrite a notification without the loop seeing the work queued before it, and the
        // loop would then park with that work waiting (the loom model finds this).
        self.0.swap(AWAKE, Ordering::SeqCst);
    }

    /// Notifies the loop; `true` if it is parked in the poller and must be woken there.
    pub(crate) fn notify(&self) -> bool {
        self.0.swap(NOTIFIED, Ordering::SeqCst) == PARKED
    }
}
