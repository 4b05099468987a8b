//! Done callbacks: asyncio's `add_done_callback`, run on the loop after a task finishes.

use super::error::contain_panic;
use super::info::TaskDone;

/// A function to run on the loop soon: asyncio's `call_soon` handle.
pub(crate) type Callback = Box<dyn FnOnce() + Send>;

/// A done callback. `Send`: a task's handle may live on another thread than its loop.
pub(crate) type DoneCallback = Box<dyn FnOnce(&TaskDone) + Send>;

/// A task's done callbacks, in the order they were added, each under a key for removal.
#[derive(Default)]
pub(crate) struct Callbacks {
    entries: Vec<(u64, DoneCallback)>,
    next_key: u64,
}

impl Callbacks {
    pub(crate) fn push(&mut self, callback: DoneCallback) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        self.entries.push((key, callback));
        key
    }

    /// Removes the callback under `key`; returns how many were removed (0 or 1).
    pub(crate) fn remove(&mut self, key: u64) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| *k != key);
        before - self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Runs every callback in order. A panicking callback is reported and the rest still run.
    pub(crate) fn run(self, done: &TaskDone) {
        for (_, callback) in self.entries {
            run_one(callback, done);
        }
    }
}

/// Runs one callback, reporting a panic on stderr instead of unwinding into the loop.
pub(crate) fn run_one(callback: DoneCallback, done: &TaskDone) {
    contain_panic(
        || format!("a done callback of {}", done.name),
        || callback(done),
    );
}
