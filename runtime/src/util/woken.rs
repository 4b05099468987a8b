//! [`WokenKeys`]: keys reported from any thread, and the waker of the one who takes them.

use std::task::Waker;

// loom's under the models: `join::Unordered`'s wakers report through this from any thread.
use crate::util::loom_facade::{Mutex, lock};

/// Keys (indices, slab keys) that other threads report, for one owner to take in on its own
/// thread: the futures of a `join::Unordered` that were woken, the `spawn`ed members of a
/// `TaskSet` that ended. Each report wakes the owner's registered waker once.
pub(crate) struct WokenKeys {
    state: Mutex<State>,
}

struct State {
    /// Reported since the owner last took them, in the order they came.
    keys: Vec<usize>,
    /// The owner's waker; taken by the first report after it registered.
    waker: Option<Waker>,
}

impl WokenKeys {
    pub(crate) fn new() -> WokenKeys {
        WokenKeys {
            state: Mutex::new(State {
                keys: Vec::new(),
                waker: None,
            }),
        }
    }

    /// Reports `key`, and wakes the owner if it waits (outside the lock: a waker is user code).
    pub(crate) fn push(&self, key: usize) {
        let waker = {
            let mut state = lock(&self.state);
            state.keys.push(key);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Registers `waker` for the next report and swaps the keys reported so far into `into`
    /// (which the caller has emptied). Both happen under one lock, or a report in between
    /// would find neither the waker nor its key taken.
    pub(crate) fn take_and_register(&self, waker: &Waker, into: &mut Vec<usize>) {
        let mut state = lock(&self.state);
        if state
            .waker
            .as_ref()
            .is_some_and(|kept| kept.will_wake(waker))
        {
            std::mem::swap(&mut state.keys, into);
            return;
        }
        // Cloned and dropped outside the lock (a waker is user code, and may report here).
        drop(state);
        let fresh = waker.clone();
        let mut state = lock(&self.state);
        let old = state.waker.replace(fresh);
        std::mem::swap(&mut state.keys, into);
        drop(state);
        drop(old);
    }

    /// Takes the keys reported so far, registering nothing.
    pub(crate) fn take(&self) -> Vec<usize> {
        std::mem::take(&mut lock(&self.state).keys)
    }
}
