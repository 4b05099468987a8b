//! A process-wide list of live things by id, held weakly: how a wake from another thread finds
//! the loop or multi-threaded runtime of a task whose schedule function holds nothing.

use std::sync::{Arc, RwLock, Weak};

use crate::util::loom_facade::unpoison;

pub(crate) struct Registry<T> {
    entries: RwLock<Vec<(u64, Weak<T>)>>,
}

impl<T> Registry<T> {
    pub(crate) const fn new() -> Registry<T> {
        Registry {
            entries: RwLock::new(Vec::new()),
        }
    }

    pub(crate) fn insert(&self, id: u64, value: &Arc<T>) {
        unpoison(self.entries.write()).push((id, Arc::downgrade(value)));
    }

    pub(crate) fn remove(&self, id: u64) {
        unpoison(self.entries.write()).retain(|(entry, _)| *entry != id);
    }

    /// The entry `id`, if it is listed and still alive.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<T>> {
        unpoison(self.entries.read())
            .iter()
            .find(|(entry, _)| *entry == id)
            .and_then(|(_, value)| value.upgrade())
    }
}
