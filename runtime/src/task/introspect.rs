//! Seeing what runs: [`current_task`], [`all_tasks`] and [`dump_tasks`].

use crate::diagnostics::listing::{render, snapshot};
use crate::scheduler::event_loop::EventLoop;
use crate::task::TaskInfo;
use crate::task_core::current;

/// The task being polled on this thread: asyncio's `asyncio.current_task()`.
///
/// `None` outside any task (for instance in a plain destructor run by no task).
///
/// # Examples
///
/// ```
/// use tether::task::Builder;
///
/// tether::run(async {
///     let task = Builder::new().name("worker").create_task(async {
///         tether::current_task().unwrap().name
///     });
///     assert_eq!(task.await.unwrap(), "worker");
/// });
/// ```
pub fn current_task() -> Option<TaskInfo> {
    current::with_running(snapshot)
}

/// Every live task of the loop running on this thread, oldest first: asyncio's
/// `asyncio.all_tasks()`. Group children included. Empty outside a loop.
///
/// On a worker of a multi-threaded runtime ([`Builder::workers`](crate::Builder::workers)):
/// this worker's own tasks (made with `create_task`, and their groups' children), and every
/// `Send` task of the runtime (made with [`spawn`](crate::spawn), and the children of send
/// groups), wherever it runs. Another worker's own tasks are that worker's to list.
///
/// # Examples
///
/// ```
/// tether::run(async {
///     let _worker = tether::create_task(std::future::pending::<()>());
///     let names: Vec<String> = tether::all_tasks().into_iter().map(|t| t.name).collect();
///     assert_eq!(names.len(), 2, "the main task and the worker: {names:?}");
/// });
/// ```
pub fn all_tasks() -> Vec<TaskInfo> {
    EventLoop::with_current(EventLoop::task_infos).unwrap_or_default()
}

/// The live task tree of the loop running on this thread, as text: asyncio's
/// `python -m asyncio pstree`. On a worker, the same tasks as [`all_tasks`].
///
/// Top-level tasks are roots (with their owner: a `Task` handle or a `TaskSet`); under a task,
/// each group it runs, and under each group its children, recursively. Every line gives the
/// task's name, id, state and where it was created. From another thread, use
/// [`Handle::dump_tasks`](crate::Handle::dump_tasks).
///
/// # Examples
///
/// ```
/// tether::run(async {
///     tether::task_group!(|tg| {
///         let stuck = tg.create_task(std::future::pending::<()>());
///         stuck.set_name("stuck");
///         tether::yield_now().await;
///         let tree = tether::dump_tasks();
///         assert!(tree.contains("group #"), "{tree}");
///         assert!(tree.contains("stuck (Task-"), "{tree}");
///         stuck.cancel();
///     })
///     .unwrap();
/// });
/// ```
pub fn dump_tasks() -> String {
    EventLoop::with_current(|lp| render(&lp.task_infos(), lp.now()))
        .unwrap_or_else(|| "no tether event loop is running on this thread\n".to_owned())
}
