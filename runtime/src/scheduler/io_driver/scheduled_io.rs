//! One registered resource's readiness, edge-triggered, and the wakers waiting on it (tokio's
//! `ScheduledIo` design).
//!
//! The readiness word holds the ready bits the poller reported and, above them, the driver's
//! tick of the turn that last set them. A task that saw readiness and then got `WouldBlock`
//! clears what it saw, but only if the tick is unchanged: an event that arrived in between (a
//! newer edge, which the poller will not report again) is not lost.

use std::sync::atomic::AtomicUsize;
use std::task::Waker;
#[cfg(any(feature = "net", feature = "signal", feature = "process"))]
use std::task::{Context, Poll};

#[cfg(any(feature = "net", feature = "signal", feature = "process"))]
use crate::task_core::awaiting::Awaiting;
use crate::task_core::awaiting::WaitRecord;
use crate::util::loom_facade::{Mutex, Ordering, lock};

const READABLE: u8 = 1;
const WRITABLE: u8 = 1 << 1;
const READ_CLOSED: u8 = 1 << 2;
const WRITE_CLOSED: u8 = 1 << 3;
const ERROR: u8 = 1 << 4;

const READY_MASK: usize = 0xff;
const TICK_SHIFT: u32 = 8;

/// Which direction a task waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
}

impl Interest {
    /// The ready bits that end a wait in this direction.
    fn mask(self) -> u8 {
        match self {
            Interest::Read => READABLE | READ_CLOSED | ERROR,
            Interest::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

#[cfg(any(feature = "net", feature = "signal", feature = "process"))]
/// What a task saw ready: give it back to [`ScheduledIo::clear_readiness`] on `WouldBlock`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadyEvent {
    tick: u16,
    ready: u8,
}

/// The ready bits of one poller event.
pub(crate) fn ready_bits(event: &mio::event::Event) -> u8 {
    let mut ready = 0;
    if event.is_readable() {
        ready |= READABLE;
    }
    if event.is_writable() {
        ready |= WRITABLE;
    }
    if event.is_read_closed() {
        ready |= READ_CLOSED;
    }
    if event.is_write_closed() {
        ready |= WRITE_CLOSED;
    }
    if event.is_error() {
        ready |= ERROR;
    }
    ready
}

#[derive(Default)]
pub(crate) struct ScheduledIo {
    /// Ready bits in the low byte, the tick of the turn that last set them above.
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

#[derive(Default)]
struct Waiters {
    /// Usually one each (a stream's reader and writer); more when several tasks share a
    /// socket through `&`: each is woken, and the one that finds nothing registers again.
    reader: Vec<Waker>,
    writer: Vec<Waker>,
    /// What the tasks behind `reader` and `writer` await, while waits are recorded
    /// (`crate::task_core::awaiting`): one record per waker registered then, ended when its wakers
    /// are taken or the resource deregisters. Always empty while nothing records.
    reader_waits: Vec<WaitRecord>,
    writer_waits: Vec<WaitRecord>,
}

impl ScheduledIo {
    /// Records what the poller reported in turn `tick`, and takes the wakers it ends the wait
    /// of into `wakers` (woken by the caller, outside any lock).
    pub(crate) fn set_readiness(&self, tick: u16, ready: u8, wakers: &mut Vec<Waker>) {
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                Some(
                    ((current | usize::from(ready)) & READY_MASK)
                        | (usize::from(tick) << TICK_SHIFT),
                )
            });
        // The waiter lock orders this with `poll_ready`: a task that registered before this
        // lock is taken here; one that registers after it sees the bits just set.
        let mut waiters = lock(&self.waiters);
        let mut ended = Vec::new();
        if ready & Interest::Read.mask() != 0 {
            wakers.append(&mut waiters.reader);
            ended.append(&mut waiters.reader_waits);
        }
        if ready & Interest::Write.mask() != 0 {
            wakers.append(&mut waiters.writer);
            ended.append(&mut waiters.writer_waits);
        }
        drop(waiters);
        // The woken tasks wait no more: their records end here, outside the waiter lock.
        drop(ended);
    }

    /// Ends the records of the waits on this resource: it is deregistered, and can never
    /// become ready for them.
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    pub(crate) fn forget_waits(&self) {
        let ended = {
            let mut waiters = lock(&self.waiters);
            let mut ended = std::mem::take(&mut waiters.reader_waits);
            ended.append(&mut waiters.writer_waits);
            ended
        };
        drop(ended);
    }

    /// Ready if the resource is ready in `interest`'s direction; else registers the task's
    /// waker and waits, recording `what` for the task while waits are recorded (nothing if
    /// `what` gives `None`: the owner records a wait of its own).
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        what: impl FnOnce() -> Option<Awaiting>,
    ) -> Poll<ReadyEvent> {
        if let Some(event) = self.ready(interest) {
            return Poll::Ready(event);
        }
        let mut guard = lock(&self.waiters);
        let waiters = &mut *guard;
        let (list, waits) = match interest {
            Interest::Read => (&mut waiters.reader, &mut waiters.reader_waits),
            Interest::Write => (&mut waiters.writer, &mut waiters.writer_waits),
        };
        let mut recorded = false;
        if !list.iter().any(|waker| waker.will_wake(cx.waker())) {
            list.push(cx.waker().clone());
            if let Some(record) = WaitRecord::parked(what) {
                waits.push(record);
                recorded = true;
            }
        }
        // Again under the lock: readiness set before the driver took the lock is seen here.
        match self.ready(interest) {
            Some(event) => {
                // Not parked after all: the record just made ends at once.
                let record = if recorded { waits.pop() } else { None };
                drop(guard);
                drop(record);
                Poll::Ready(event)
            }
            None => Poll::Pending,
        }
    }

    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    fn ready(&self, interest: Interest) -> Option<ReadyEvent> {
        let current = self.readiness.load(Ordering::Acquire);
        let ready = (current & READY_MASK) as u8 & interest.mask();
        (ready != 0).then_some(ReadyEvent {
            tick: (current >> TICK_SHIFT) as u16,
            ready,
        })
    }

    /// Clears the readiness `event` saw (not the closed, error or shutdown bits, which stay),
    /// unless a newer event has come since.
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = usize::from(event.ready & (READABLE | WRITABLE));
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                ((current >> TICK_SHIFT) as u16 == event.tick).then_some(current & !clear)
            });
    }
}
