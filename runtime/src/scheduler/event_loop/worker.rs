//! What a loop needs from the multi-threaded runtime it may be a worker of. The loop defines
//! it; `crate::scheduler::workers` implements it, so the loop never names the workers.

use std::any::Any;
use std::sync::Arc;

use super::Shared;
use crate::task_core::header::Header;

/// How long an idle worker sleeps before it looks for work again, even if nobody woke it: the
/// bound on how long a task can wait behind a worker that is stuck in a long poll.
pub(crate) const IDLE_RECHECK: std::time::Duration = std::time::Duration::from_millis(10);

/// A loop's place in a multi-threaded runtime: what its event loop holds to take part.
pub(crate) trait Worker: Any {
    /// Makes this thread the worker, reachable through `shared`.
    fn enter(&self, shared: &Arc<Shared>);
    /// This thread is no longer the worker.
    fn exit(&self);
    /// Runs a bounded batch of the runtime's `Send` tasks; returns how many ran.
    fn run_batch(&self) -> usize;
    /// Runs every `Send` task queued for this worker, until none is left.
    fn drain(&self);
    /// Before parking: looks for work a little longer (and at `local`, the loop's own
    /// inbox), so that work queued a moment later needs no wake-up. `true` if work turned up
    /// (then do not park).
    fn look_before_parking(&self, local: &dyn Fn() -> bool) -> bool;
    /// The first half of parking; `false` if work turned up after all (then do not park).
    fn announce_sleep(&self) -> bool;
    /// The second half of parking: the worker is awake again.
    fn woke(&self);
    /// `true` once the runtime has told its workers to stop.
    #[cfg(feature = "workers")]
    fn is_stopped(&self) -> bool;
    /// `true` if this worker looks for work every [`IDLE_RECHECK`] while idle, even when
    /// nobody wakes it (only a few workers do, so idle workers cost the same however many).
    fn rechecks(&self) -> bool;
    /// How many of the runtime's `Send` tasks are alive.
    fn live_tasks(&self) -> usize;
    /// Calls `f` with the header of every live `Send` task (and child of a `Send` group).
    fn for_each_task(&self, f: &mut dyn FnMut(&Header));
    /// The loop of the worker whose loop id is `loop_id`.
    fn loop_by_id(&self, loop_id: u64) -> Option<Arc<Shared>>;
    /// Phase 1 of the runtime's shutdown: cancels every `Send` task.
    fn begin_shutdown(&self);
    /// Phase 2: tells every worker to shut its loop down and exit.
    fn stop(&self);
    /// The poller the runtime's workers share.
    fn poller(&self) -> Arc<crate::scheduler::io_driver::Poller>;
    /// The runtime's id (see `Shared::runtime`).
    fn runtime_id(&self) -> u64;
    /// This worker's index among the runtime's.
    fn index(&self) -> usize;
    /// Shows outside tools this worker's shard of the runtime's `Send` tasks.
    fn show_tables(&self, listed: &crate::task_core::inspect::ListedLoop);
    /// This worker as `Any`, for the runtime's own code to find its state.
    #[cfg(feature = "workers")]
    fn as_any(&self) -> &dyn Any;
}
