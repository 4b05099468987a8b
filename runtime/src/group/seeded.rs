//! A group's children under a seeded schedule (`crate::schedule`): each is picked by the
//! loop's seeded order among those queued when the batch began, as the loop picks its tasks.

use std::collections::VecDeque;

use crate::scheduler::event_loop::EventLoop;
use crate::task_core::raw::Runnable;

/// A batch of a group's children under a seeded schedule: see [`group_batch`].
pub(crate) struct GroupBatch {
    left: usize,
}

/// `Some` if the loop running here has a seeded schedule: then the group's next `limit`
/// children are picked by it, among the `queued()` ones queued now.
pub(crate) fn group_batch(limit: usize, queued: impl FnOnce() -> usize) -> Option<GroupBatch> {
    EventLoop::with_current(|lp| lp.order().is_some())
        .unwrap_or(false)
        .then(|| GroupBatch {
            left: limit.min(queued()),
        })
}

impl GroupBatch {
    /// Whether the batch has children left to pick.
    pub(crate) fn is_done(&self) -> bool {
        self.left == 0
    }

    /// Which child of `queue` (a group's ready queue, not empty) runs next.
    pub(crate) fn choose(&mut self, queue: &VecDeque<Runnable>) -> usize {
        let n = self.left.min(queue.len()).max(1);
        self.left = self.left.saturating_sub(1);
        EventLoop::with_current(|lp| lp.order().map(|order| order.borrow_mut().pick(queue, n)))
            .flatten()
            .unwrap_or(0)
    }
}
