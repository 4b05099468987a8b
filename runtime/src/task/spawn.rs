//! [`spawn`]: a `Send` task, free to run on any worker.

use std::future::Future;
use std::panic::Location;

use super::{Owner, Task};
use crate::scheduler::event_loop::EventLoop;
use crate::task_core::raw::Spawn;

/// The message of the panic raised by `spawn` outside a loop.
const NO_LOOP_SPAWN: &str = "tether::spawn was called outside a running event loop; \
     call it from code run by tether::run, #[tether::main] or #[tether::test]";

/// Starts `future` as a new task that may run on any worker of a multi-threaded runtime, owned
/// by the returned handle.
///
/// The same as [`create_task`](crate::create_task) (the [`Task`] owns the task: drop it and the
/// task is cancelled), with one difference: the future must be `Send`, so that a worker with
/// nothing to do can take it over. On a runtime with
/// [more than one worker](crate::Builder::workers) that is what gives parallelism; on the
/// single-threaded loop it is exactly `create_task`.
///
/// Which to use: `create_task` for tasks that borrow or hold `!Send` data (`Rc`, `RefCell`
/// guards across an await); they stay on the worker that made them. `spawn` for tasks that
/// should use every core.
///
/// # Panics
///
/// Outside a running event loop.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "workers")] {
/// let runtime = tether::Runtime::builder().workers(2).build();
/// let total = runtime.run(async {
///     let halves = [0..500_000u64, 500_000..1_000_000u64]
///         .map(|range| tether::spawn(async move { range.sum::<u64>() }));
///     let mut total = 0;
///     for half in halves {
///         total += half.await.unwrap();
///     }
///     total
/// });
/// assert_eq!(total, 499_999_500_000);
/// # }
/// ```
///
/// A future that is not `Send` does not compile:
///
/// ```compile_fail
/// tether::run(async {
///     let task = tether::spawn(async {
///         let shared = std::rc::Rc::new(1);
///         tether::yield_now().await;
///         *shared
///     });
///     task.await.unwrap();
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_send(future, Spawn::new(Owner::Handle, Location::caller()))
}

/// Creates a `Send` task as `spawn` describes: on the workers if this loop is one, else on the
/// loop like any task.
pub(crate) fn spawn_send<F>(future: F, spawn: Spawn) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let Some(raw) = EventLoop::with_current(|lp| {
        #[cfg(feature = "workers")]
        if let Some(workers) = crate::scheduler::workers::of_loop(lp) {
            return workers.spawn(future, spawn);
        }
        // SAFETY: `F` is `'static`.
        unsafe { lp.spawn(future, spawn) }
    }) else {
        panic!("{NO_LOOP_SPAWN}");
    };
    Task::from_raw(raw)
}
