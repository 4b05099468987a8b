//! [`WakerSlot`]: the waker of one future that another task, thread or callback wakes later.

use std::sync::Mutex;
use std::task::Waker;

use crate::util::loom_facade::lock;

/// One waker, registered by the future that waits and taken by whoever ends the wait.
///
/// A mutex, not a lock-free cell: the slot is touched once per poll of a group, a foreign
/// awaiter or a graceful shutdown, never per task step, and an uncontended lock costs the same
/// two atomic operations as a lock-free register or take. A waker is never cloned, woken or
/// dropped under the lock: each is user code that may come back to this slot.
#[derive(Debug, Default)]
pub(crate) struct WakerSlot {
    waker: Mutex<Option<Waker>>,
}

impl WakerSlot {
    pub(crate) const fn new() -> WakerSlot {
        WakerSlot {
            waker: Mutex::new(None),
        }
    }

    /// Keeps `waker` to be woken, in place of the one kept before (left alone if it would wake
    /// the same task, which saves a clone per poll).
    pub(crate) fn register(&self, waker: &Waker) {
        if lock(&self.waker)
            .as_ref()
            .is_some_and(|kept| kept.will_wake(waker))
        {
            return;
        }
        let fresh = waker.clone();
        let old = lock(&self.waker).replace(fresh);
        drop(old);
    }

    /// Takes the kept waker out: the next wake finds none until a poll registers again.
    pub(crate) fn take(&self) -> Option<Waker> {
        lock(&self.waker).take()
    }

    /// Wakes the kept waker, if any, and forgets it.
    pub(crate) fn wake(&self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }
}

/// A waker that counts how often it was woken, for tests.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct WakeCount(std::sync::atomic::AtomicUsize);

#[cfg(test)]
impl WakeCount {
    pub(crate) fn new() -> std::sync::Arc<WakeCount> {
        std::sync::Arc::default()
    }

    pub(crate) fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
impl std::task::Wake for WakeCount {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::Waker;

    use super::{WakeCount, WakerSlot};

    #[test]
    fn wakes_the_last_registered_waker_once() {
        let first = WakeCount::new();
        let second = WakeCount::new();
        let slot = WakerSlot::new();
        slot.wake(); // Nothing registered: nothing happens.
        slot.register(&Waker::from(first.clone()));
        slot.register(&Waker::from(second.clone()));
        slot.wake();
        slot.wake();
        assert_eq!(first.count(), 0);
        assert_eq!(second.count(), 1);
    }

    #[test]
    fn registering_the_same_task_again_keeps_one_waker() {
        let count = WakeCount::new();
        let waker = Waker::from(count.clone());
        let slot = WakerSlot::new();
        slot.register(&waker);
        slot.register(&waker.clone());
        // The slot holds one clone, `waker` the other, this test the `Arc` itself.
        assert_eq!(Arc::strong_count(&count), 3);
        // Woken to tell which waker was kept: `will_wake` compares vtable addresses, which Rust
        // does not promise to be unique (under Miri, the clone's vtable is another allocation).
        slot.take().expect("one waker is kept").wake();
        assert_eq!(count.count(), 1);
        assert!(slot.take().is_none());
    }
}
