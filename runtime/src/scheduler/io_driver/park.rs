//! Whether a loop is parked, and where (in the poller, or on its thread because another loop
//! of its runtime sits in their shared poller), and a pending notification if it is not: the
//! poller's version of a thread's park token.
//!
//! A waker from another thread queues its work first, then calls [`ParkState::notify`]: a
//! single atomic swap, and a wake-up (an `eventfd` write, or a thread unpark) only if the loop
//! is parked. A loop that is awake is not interrupted; the notification stays pending, and its
//! next [`ParkState::begin`] returns `false` (do not block), exactly as `thread::park` returns
//! at once after an early `unpark`. So the loop's existing protocol (queue, then unpark; look,
//! then park) keeps its guarantee: a loom model beside the inbox (`event_loop/inbox.rs`) checks
//! the two together.

use std::sync::Arc;
use std::thread::Thread;
use std::time::Duration;

use super::driver::Handle;
use crate::util::loom_facade::{AtomicUsize, Ordering};

const AWAKE: usize = 0;
const IN_POLLER: usize = 1;
const ON_THREAD: usize = 2;
const NOTIFIED: usize = 3;

/// Where a notified loop was parked: what wakes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parked {
    /// Not parked: the notification waits for its next park.
    No,
    /// Blocked in the poller: its waker's `eventfd` write wakes it.
    InPoller,
    /// Blocked on its thread's park token.
    OnThread,
}

pub(crate) struct ParkState(AtomicUsize);

impl ParkState {
    pub(crate) fn new() -> ParkState {
        ParkState(AtomicUsize::new(AWAKE))
    }

    /// The loop is about to block, in the poller if `in_poller`, else on its thread. `false`:
    /// a notification was pending (now consumed), so do not block.
    pub(crate) fn begin(&self, in_poller: bool) -> bool {
        let parked = if in_poller { IN_POLLER } else { ON_THREAD };
        match self
            .0
            .compare_exchange(AWAKE, parked, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => true,
            Err(_) => {
                // NOTIFIED (only the loop's own thread parks). A swap, not a store: a
                // read-modify-write reads the latest notification, and so synchronises with
                // the notifier whose work the loop must now see.
                self.0.swap(AWAKE, Ordering::SeqCst);
                false
            }
        }
    }

    /// The loop is awake again (woken, timed out, or events came).
    pub(crate) fn end(&self) {
        // A swap, not a store, for the same reason as in `begin`: a plain store could
        // overwrite a notification without the loop seeing the work queued before it, and the
        // loop would then park with that work waiting (the loom model finds this).
        self.0.swap(AWAKE, Ordering::SeqCst);
    }

    /// Notifies the loop; says where it is parked, if it is, so the caller wakes it there.
    pub(crate) fn notify(&self) -> Parked {
        match self.0.swap(NOTIFIED, Ordering::SeqCst) {
            IN_POLLER => Parked::InPoller,
            ON_THREAD => Parked::OnThread,
            _ => Parked::No,
        }
    }
}

/// One loop's parking: its state, its thread, and the poller it may block in (shared with the
/// other workers of its runtime).
pub(crate) struct Parker {
    state: ParkState,
    thread: Thread,
    poller: Arc<Handle>,
}

impl Parker {
    /// The parker of the loop that runs on this thread and polls `poller`.
    pub(crate) fn new(poller: Arc<Handle>) -> Parker {
        Parker {
            state: ParkState::new(),
            thread: std::thread::current(),
            poller,
        }
    }

    pub(crate) fn state(&self) -> &ParkState {
        &self.state
    }

    /// Wakes the loop if it is parked; otherwise makes its next park return at once. An atomic
    /// swap while the loop is awake: no syscall.
    pub(crate) fn unpark(&self) {
        match self.state.notify() {
            Parked::No => {}
            // Whoever sits in the shared poller now is woken: this loop, or (if it has just
            // left and another took its place) that other one, which looks and parks again.
            Parked::InPoller => self.poller.wake(),
            Parked::OnThread => self.thread.unpark(),
        }
    }

    /// Blocks on this thread (another loop sits in the shared poller) for at most `timeout`,
    /// unless a notification is pending. Called on the loop's own thread.
    pub(crate) fn park_thread(&self, timeout: Option<Duration>) {
        if !self.state.begin(false) {
            return;
        }
        match timeout {
            None => std::thread::park(),
            Some(timeout) => std::thread::park_timeout(timeout),
        }
        self.state.end();
    }
}
