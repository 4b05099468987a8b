//! The task core's making of a task: the supervised `async_task` task with its header, the
//! one routine every owner creates tasks through ([`create`]), and the trait of an owner that
//! holds task slots ([`TaskSlots`]).
//!
//! Nothing here knows the event loop: the schedule function is the caller's, and what must run
//! on the loop (done callbacks) goes through the hooks the loop installs (`current::install`).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Waker;

use super::callbacks::Callbacks;
use super::current;
use super::error::{self, TaskError};
use super::header::{Header, Origin, TaskId};
use super::info::{Outcome, Owner, TaskDone};
use super::supervise;

/// The scheduler's view of a task.
pub(crate) type Runnable = async_task::Runnable<Header>;

/// The async-task handle of a task run under `supervise`.
pub(crate) type RawTask<T> = async_task::Task<Result<Contained<T>, TaskError>, Header>;

/// A task's output while it waits in the task's allocation for its owner.
///
/// If nobody claims it (a detached group child, a background set), async-task drops it, under a
/// guard that aborts the process on a panic. This wrapper runs the output's destructor itself,
/// and reports a panic from it instead of letting it reach that guard.
pub(crate) struct Contained<T>(Option<T>);

impl<T> Contained<T> {
    pub(crate) fn into_inner(mut self) -> T {
        self.0.take().expect("an output is claimed once")
    }
}

impl<T> Drop for Contained<T> {
    fn drop(&mut self) {
        if let Some(output) = self.0.take() {
            error::contain_panic(
                || "dropping the unclaimed output of a task".to_owned(),
                || drop(output),
            );
        }
    }
}

/// The distance from a task's allocation (what its wakers point at) to its tether header, as
/// async-task lays it out: learnt from the first task made, `usize::MAX` until then.
static HEADER_OFFSET: AtomicUsize = AtomicUsize::new(usize::MAX);

/// `true` if `waker` is the waker of the tether task being polled on this thread. Only addresses
/// are compared: should async-task lay tasks out otherwise, the answer is `false`, and the
/// forwarding waker (correct, a little slower) is used.
pub(crate) fn is_running_tasks_waker(waker: &Waker) -> bool {
    let Some(running) = current::running() else {
        return false;
    };
    let offset = HEADER_OFFSET.load(Ordering::Relaxed);
    offset != usize::MAX
        && (waker.data() as usize).wrapping_add(offset) == running.as_ptr() as usize
}

/// How a task is to be made: what its header records, its context, and whether it starts
/// eagerly.
pub(crate) struct Spawn {
    pub(crate) name: Option<String>,
    /// `None`: a copy of the creator's context.
    pub(crate) context: Option<crate::context::Context>,
    pub(crate) eager: bool,
    pub(crate) owner: Owner,
    pub(crate) location: &'static std::panic::Location<'static>,
    /// The id of the loop or runtime whose schedule function the task gets (0: none), recorded
    /// in the header so that the function itself can be a plain `fn` (see `Header::home`).
    pub(crate) home: u64,
    /// The task starts asked to stop gracefully (a child of a group that has been asked).
    pub(crate) stop_requested: bool,
}

impl Spawn {
    pub(crate) fn new(owner: Owner, location: &'static std::panic::Location<'static>) -> Spawn {
        Spawn {
            name: None,
            context: None,
            eager: false,
            owner,
            location,
            home: 0,
            stop_requested: false,
        }
    }
}

/// Starts a task made by `spawn_supervised`: its first poll right here if eager (a task that
/// finishes at once never touches a run queue), else through its schedule function.
fn start(runnable: Runnable, eager: bool) {
    if eager {
        runnable.run();
    } else {
        runnable.schedule();
    }
}

/// The id of the task being polled on this thread.
pub(crate) fn running_id() -> Option<TaskId> {
    current::with_running(|header| header.id)
}

/// An owner that holds task slots: the loop's table, the runtime's table of `Send` tasks, a
/// group's children, or a task submitted from another thread (its slot is taken on the loop
/// when it first runs there). [`create`] reserves a slot, frees it when the task's future ends,
/// and fills it once the task exists.
pub(crate) trait TaskSlots {
    /// What the task keeps (in its end hook) to free its slot.
    type Freer: FreeSlot;
    /// Sets aside a slot for a task about to be made; its key.
    fn reserve(&self) -> usize;
    /// Puts the new task's header in slot `key`.
    fn fill(&self, key: usize, header: &Header);
    /// `true` if the owner takes no new work (it is shutting down): the task is made cancelled,
    /// and never starts; the owner drops it with the rest.
    fn refuses(&self) -> bool;
    /// What frees a slot of this owner when a task's future ends.
    fn freer(&self) -> Self::Freer;
}

/// Frees a slot of a [`TaskSlots`] owner: run by the task's end hook, with the task's header,
/// which holds the key ([`Header::slot`]).
pub(crate) trait FreeSlot {
    fn free(self, header: &Header);
}

/// Creates a task owned by `owner`: reserves its slot, allocates the supervised task with an
/// end hook that frees the slot, fills the slot, and starts the task (eagerly if `spawn` says
/// so), unless `owner` refuses new work, in which case the task is made cancelled and never
/// starts. The one task-creation routine: the loop, the workers, groups and the thread-safe
/// handle all create tasks here.
///
/// # Safety
///
/// As [`spawn_supervised`], with `owner.freer()` in the place of `on_end`.
pub(crate) unsafe fn create<O, F, T, S, Fin>(
    owner: &O,
    future: F,
    spawn: &mut Spawn,
    schedule: S,
    finish: Fin,
) -> RawTask<T>
where
    O: TaskSlots,
    F: Future,
    S: Fn(Runnable),
    Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> Result<T, TaskError>,
{
    let key = owner.reserve();
    let freer = owner.freer();
    let on_end = move |header: &Header| freer.free(header);
    // SAFETY: forwarded to the caller.
    let (runnable, task) =
        unsafe { spawn_supervised(future, spawn, key, schedule, on_end, finish) };
    owner.fill(key, task.metadata());
    let refused = owner.refuses();
    if refused {
        task.metadata().request_cancel(None);
    }
    if spawn.stop_requested {
        task.metadata().request_stop();
    }
    start(runnable, spawn.eager && !refused);
    task
}

/// Allocates a tether task: `future` wrapped in `supervise`, with a fresh header.
///
/// `slot` is the task's key in its owner's table, kept in its header for `on_end`, which runs
/// when the future is gone (finished or dropped); `finish` turns the supervised
/// outcome into the task's output, for an owner that wants to see it first (a group records
/// failures there). The runnable is returned unscheduled.
///
/// # Safety
///
/// The contract of [`async_task::Builder::spawn_unchecked`]: if `F` is not `Send`, the runnable
/// must be run and dropped on this thread; if `F` (or `on_end`, `finish`) is not `'static`,
/// everything it borrows must outlive the runnable; likewise for `schedule` and the task's wakers.
pub(crate) unsafe fn spawn_supervised<F, T, S, E, Fin>(
    future: F,
    spawn: &mut Spawn,
    slot: usize,
    schedule: S,
    on_end: E,
    finish: Fin,
) -> (Runnable, RawTask<T>)
where
    F: Future,
    S: Fn(Runnable),
    E: FnOnce(&Header),
    Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> Result<T, TaskError>,
{
    // The creating task, if a task creates this one: its id, and its stop node, so that
    // graceful stop requests to it reach the new task.
    let (parent, stop_parent) =
        current::with_running(|creator| (creator.id, creator.stop_node())).unzip();
    let builder = async_task::Builder::new().metadata(Header::new(Origin {
        name: spawn.name.take(),
        parent,
        owner: spawn.owner,
        location: spawn.location,
        home: spawn.home,
        stop_parent,
        slot,
    }));
    let context = spawn
        .context
        .take()
        .unwrap_or_else(crate::context::copy_context);
    // SAFETY: forwarded to the caller. The future borrows the header, which async-task keeps in
    // the same allocation and drops after the future.
    let (runnable, task) = unsafe {
        builder.spawn_unchecked(
            move |header| run_task(future, context, header, on_end, finish),
            schedule,
        )
    };
    let waker = runnable.waker();
    if HEADER_OFFSET.load(Ordering::Relaxed) == usize::MAX {
        let header = task.metadata() as *const Header as usize;
        HEADER_OFFSET.store(
            header.wrapping_sub(waker.data() as usize),
            Ordering::Relaxed,
        );
    }
    task.metadata().set_waker(waker);
    (runnable, task)
}

/// The whole life of a task: supervised, then handed to its owner's `finish`.
fn run_task<F, T, E, Fin>(
    future: F,
    context: crate::context::Context,
    header: &Header,
    end: E,
    finish: Fin,
) -> impl Future<Output = Result<Contained<T>, TaskError>>
where
    F: Future,
    E: FnOnce(&Header),
    Fin: FnOnce(&Header, Result<F::Output, TaskError>) -> Result<T, TaskError>,
{
    supervise::supervise(future, context, header, end, move |header, outcome| {
        let output = finish(header, outcome);
        let kind = match &output {
            Ok(_) => Outcome::Returned,
            Err(TaskError::Cancelled { .. }) => Outcome::Cancelled,
            Err(TaskError::Panicked(_)) => Outcome::Panicked,
            Err(TaskError::Failed) => Outcome::Failed,
        };
        let callbacks = header.finish(kind);
        if !callbacks.is_empty() {
            schedule_callbacks(header, callbacks);
        }
        output.map(|value| Contained(Some(value)))
    })
}

/// Runs done callbacks on the running loop soon (asyncio's `call_soon`), or here and now when
/// no loop runs on this thread.
pub(crate) fn schedule_callbacks(header: &Header, callbacks: Callbacks) {
    let done = TaskDone {
        id: header.id,
        name: header.name(),
        outcome: header
            .outcome()
            .expect("callbacks run after the task finished"),
    };
    current::run_soon(Box::new(move || callbacks.run(&done)));
}
