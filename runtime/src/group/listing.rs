//! Where a group's children are listed for introspection.

use crate::scheduler::event_loop::EventLoop;
use crate::task_core::header::Header;

/// Where a group child is listed for introspection (`all_tasks`, `dump_tasks`); the group
/// itself owns the child, so nothing cancels it through this entry.
#[derive(Clone)]
pub(super) enum Listing {
    /// In the table of the loop `id`, touched only on that loop's thread: where every group
    /// that never leaves its thread lists its children.
    Loop { id: u64, key: usize },
    /// In the shared table of a multi-threaded runtime: for a `Sendable` group on a worker,
    /// whose children may end on another worker than the one that made them.
    #[cfg(feature = "workers")]
    Workers {
        workers: std::sync::Arc<crate::scheduler::workers::Workers>,
        key: usize,
    },
}

impl Listing {
    /// Reserves an entry on the running loop (`None` outside one).
    #[cfg_attr(not(feature = "workers"), expect(unused_variables))]
    pub(super) fn new(moves_between_threads: bool) -> Option<Listing> {
        EventLoop::with_current(|lp| {
            #[cfg(feature = "workers")]
            if let Some(workers) = crate::scheduler::workers::of_loop(lp)
                && moves_between_threads
            {
                let workers = workers.clone();
                let key = workers.reserve_slot();
                return Listing::Workers { workers, key };
            }
            Listing::Loop {
                id: lp.id(),
                key: lp.reserve_slot(),
            }
        })
    }

    pub(super) fn fill(&self, header: &Header) {
        match self {
            Listing::Loop { id, key } => {
                EventLoop::with_current(|lp| {
                    if lp.id() == *id {
                        lp.fill_slot(*key, header, false);
                    }
                });
            }
            #[cfg(feature = "workers")]
            Listing::Workers { workers, key } => workers.fill_slot(*key, header, false),
        }
    }

    pub(super) fn remove(self) {
        match self {
            Listing::Loop { id, key } => {
                // On the loop's own thread: the group never left it. (After the loop is gone,
                // there is no table left to clean.)
                EventLoop::free_slot_of(id, key);
            }
            #[cfg(feature = "workers")]
            Listing::Workers { workers, key } => workers.free_slot(key),
        }
    }
}
