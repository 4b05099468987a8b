//! [`Handle`]: a reference to a running loop.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex};

use std::future::Future;

use crate::scheduler::event_loop::{EventLoop, Shared};
use crate::task::{Owner, Task};
use crate::task_core::header::Header;
use crate::task_core::raw::{FreeSlot, Spawn, TaskSlots, create};
use crate::util::loom_facade::{lock, unpoison};

/// A reference to an event loop, usable from any thread (`Send + Sync + Clone`).
///
/// asyncio's `get_running_loop()`. Get one with [`Handle::current`] or [`Handle::try_current`]
/// inside a loop.
///
/// # Examples
///
/// ```
/// assert!(tether::Handle::try_current().is_err());
/// tether::run(async {
///     let handle = tether::Handle::current();
///     assert!(!handle.is_closed());
/// });
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

/// The error [`Handle::try_current`] returns outside a running loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "no tether event loop is running on this thread; call this from code run by tether::run, \
     #[tether::main] or #[tether::test]"
)]
pub struct NoRunningLoop;

impl Handle {
    /// The loop running on this thread.
    ///
    /// # Panics
    ///
    /// Outside a running loop; use [`Handle::try_current`] to get an error instead.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(error) => panic!("{error}"),
        }
    }

    /// The loop running on this thread, or [`NoRunningLoop`].
    pub fn try_current() -> Result<Handle, NoRunningLoop> {
        EventLoop::with_current(|lp| Handle {
            shared: lp.shared().clone(),
        })
        .ok_or(NoRunningLoop)
    }

    /// `true` once the loop has finished and shut down.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

/// The error of a [`Handle`] whose loop has shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the event loop has shut down, so it runs nothing more; submit work while it runs")]
pub struct LoopClosed;

/// Why [`Handle::dump_tasks`] could not get the task tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DumpError {
    /// The loop has shut down: it has no tasks left.
    #[error("the event loop has shut down, so it has no tasks to show")]
    Closed,
    /// The loop did not answer in time: a task is keeping it busy without yielding (which is
    /// itself the likely problem: look for blocking calls inside tasks).
    #[error(
        "the event loop did not answer in time: a task is blocking it without yielding; \
         look for blocking calls inside tasks, or turn on debug mode to have them reported"
    )]
    Busy,
}

impl Handle {
    /// Runs `f` on the loop soon, from any thread: asyncio's `loop.call_soon_threadsafe`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// tether::run(async {
    ///     let handle = tether::Handle::current();
    ///     let (tx, rx) = mpsc::channel();
    ///     std::thread::spawn(move || {
    ///         handle.call_soon_threadsafe(move || tx.send(tether::current_task().is_none()).unwrap())
    ///     })
    ///     .join()
    ///     .unwrap()
    ///     .unwrap();
    ///     tether::yield_now().await;
    ///     assert_eq!(rx.recv().unwrap(), true, "it ran on the loop, outside any task");
    /// });
    /// ```
    pub fn call_soon_threadsafe<F>(&self, f: F) -> Result<(), LoopClosed>
    where
        F: FnOnce() + Send + 'static,
    {
        self.shared.call_soon(Box::new(f)).map_err(|_| LoopClosed)
    }

    /// Starts `future` as a task on this loop from any thread, owned by the returned handle:
    /// asyncio's `run_coroutine_threadsafe`. The handle is usable (awaited, cancelled, dropped)
    /// from any thread; dropping it cancels the task, as always.
    ///
    /// If the loop closes before the task runs, the task ends as cancelled. On a
    /// [multi-threaded runtime](crate::Builder::workers), the task may run on any worker, as one
    /// made with [`spawn`](crate::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let handle = tether::Handle::current();
    ///     let worker = std::thread::spawn(move || {
    ///         let task = handle.spawn_threadsafe(async { 40 + 2 }).unwrap();
    ///         // Any executor can await the handle; here, a loop of this thread's own.
    ///         tether::run(task)
    ///     });
    ///     while !worker.is_finished() {
    ///         tether::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    ///     assert_eq!(worker.join().unwrap().unwrap(), 42);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_threadsafe<F>(&self, future: F) -> Result<Task<F::Output>, LoopClosed>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        #[cfg(feature = "workers")]
        if self.shared.runtime() != 0 {
            // A worker of a multi-threaded runtime: the task is `Send`, so it goes where any
            // worker can take it, as `tether::spawn` would send it.
            let Some(workers) = crate::scheduler::workers::by_id(self.shared.runtime()) else {
                return Err(LoopClosed);
            };
            if workers.is_closed() {
                return Err(LoopClosed);
            }
            let spawn = Spawn::new(Owner::Handle, std::panic::Location::caller());
            return Ok(Task::from_raw(workers.spawn(future, spawn)));
        }
        if self.shared.is_current() {
            return Ok(crate::task::create_task(future));
        }
        if self.shared.is_closed() {
            return Err(LoopClosed);
        }
        let slots = Adopted {
            loop_id: self.shared.id(),
        };
        let adopt = move || {
            let shutting_down = EventLoop::with_current(|lp| {
                crate::task_core::current::with_running(|header| {
                    let (key, shutting_down) = lp.adopt(header);
                    header.set_slot(key);
                    if shutting_down {
                        header.request_cancel(None);
                    }
                    shutting_down
                })
                .expect("a task is being polled")
            });
            // Cancelled above (or not on a loop at all): wait to be dropped.
            shutting_down == Some(false)
        };
        let future = AdoptThenPoll {
            adopt: Some(adopt),
            parked: false,
            future,
        };
        let shared = self.shared.clone();
        let mut spawn = Spawn::new(Owner::Handle, std::panic::Location::caller());
        // SAFETY: the future, the freer (`Adopted`) and the schedule function are
        // `Send + 'static`, so the runnable may run and drop anywhere: on the loop, or on the
        // thread that finds the loop closed (`schedule_send`).
        let raw = unsafe {
            create(
                &slots,
                future,
                &mut spawn,
                move |runnable| shared.schedule_send(runnable),
                |_, outcome| outcome,
            )
        };
        Ok(Task::from_raw(raw))
    }

    /// The loop's live task tree as text (see [`dump_tasks`](crate::dump_tasks)), from any
    /// thread: a way to see inside a running program without changing it. Give the handle to
    /// a watchdog thread, a signal handler thread, or an admin endpoint.
    ///
    /// Waits up to `timeout` for the loop to answer between two polls.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tether::run(async {
    ///     let handle = tether::Handle::current();
    ///     let watchdog = std::thread::spawn(move || handle.dump_tasks(Duration::from_secs(5)));
    ///     let _busy = tether::create_task(std::future::pending::<()>());
    ///     while !watchdog.is_finished() {
    ///         tether::sleep(Duration::from_millis(1)).await;
    ///     }
    ///     let tree = watchdog.join().unwrap().unwrap();
    ///     assert!(tree.contains("owned by its Task handle"), "{tree}");
    /// });
    /// ```
    pub fn dump_tasks(&self, timeout: std::time::Duration) -> Result<String, DumpError> {
        if self.shared.is_current() {
            return Ok(crate::task::introspect::dump_tasks());
        }
        let reply = Arc::new(DumpReply {
            state: Mutex::new(Reply::Waiting),
            settled: Condvar::new(),
        });
        let answer = DumpAnswer(reply.clone());
        self.shared
            .call_soon(Box::new(move || {
                answer.send(crate::task::introspect::dump_tasks())
            }))
            .map_err(|_| DumpError::Closed)?;
        let state = lock(&reply.state);
        let (mut state, _) = unpoison(
            reply
                .settled
                .wait_timeout_while(state, timeout, |state| matches!(state, Reply::Waiting)),
        );
        match std::mem::replace(&mut *state, Reply::Abandoned) {
            Reply::Answered(tree) => Ok(tree),
            Reply::Abandoned => Err(DumpError::Closed),
            Reply::Waiting => Err(DumpError::Busy),
        }
    }
}

/// Where the loop answers a [`Handle::dump_tasks`] from another thread. A mutex and a condition
/// variable rather than a channel: one answer, one waiter.
struct DumpReply {
    state: Mutex<Reply>,
    settled: Condvar,
}

enum Reply {
    Waiting,
    Answered(String),
    /// The loop dropped the request unanswered (it closed, or the dump panicked).
    Abandoned,
}

/// The loop's side of a [`DumpReply`]: answers it, or, dropped unanswered, abandons it.
struct DumpAnswer(Arc<DumpReply>);

impl DumpAnswer {
    fn send(self, tree: String) {
        self.settle(Reply::Answered(tree));
    }

    fn settle(&self, reply: Reply) {
        let mut state = lock(&self.0.state);
        if matches!(*state, Reply::Waiting) {
            *state = reply;
            self.0.settled.notify_one();
        }
    }
}

impl Drop for DumpAnswer {
    fn drop(&mut self) {
        self.settle(Reply::Abandoned);
    }
}

/// The slot of a task submitted from another thread: taken in the loop's table by the task
/// itself when it first runs on the loop (`EventLoop::adopt`), which records the key in its
/// header (none until then); this thread cannot touch the loop's table.
#[derive(Clone, Copy)]
struct Adopted {
    loop_id: u64,
}

impl TaskSlots for Adopted {
    type Freer = Adopted;

    fn reserve(&self) -> usize {
        // Taken on the loop, on the first poll.
        usize::MAX
    }

    fn fill(&self, _: usize, _: &Header) {}

    fn refuses(&self) -> bool {
        // The task finds out on the loop (`EventLoop::adopt`).
        false
    }

    fn freer(&self) -> Adopted {
        *self
    }
}

impl FreeSlot for Adopted {
    fn free(self, header: &Header) {
        // Only the loop's thread reads or writes the key, and only there is it freed.
        let key = header.slot();
        if key != usize::MAX {
            EventLoop::free_slot_of(self.loop_id, key);
        }
    }
}

impl PartialEq for Handle {
    /// Two handles are equal when they refer to the same loop.
    fn eq(&self, other: &Handle) -> bool {
        self.shared.id() == other.shared.id()
    }
}

impl Eq for Handle {}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("loop", &self.shared.id())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// A thread-safe task's future: `adopt` runs at its first poll, on the loop, and says whether to
/// go on (else the task waits to be dropped); then `future` is polled in place.
///
/// Not an `async` block awaiting `future`: rustc never drops the output of an `.await` whose
/// future panics in its destructor after returning it. Here the user's future stays in place
/// after returning, and the task's supervisor drops it under its panic guard.
struct AdoptThenPoll<F, A> {
    adopt: Option<A>,
    parked: bool,
    future: F,
}

impl<F: Future, A: FnOnce() -> bool> Future for AdoptThenPoll<F, A> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        // SAFETY: only `future` is pinned structurally: it is never moved out of `self` (there is
        // no other access to it and no `Drop` impl), so it is dropped where it was pinned. The
        // other fields are never pinned: `adopt` may be moved out.
        let this = unsafe { self.get_unchecked_mut() };
        if let Some(adopt) = this.adopt.take() {
            this.parked = !adopt();
        }
        if this.parked {
            return std::task::Poll::Pending;
        }
        // SAFETY: see above.
        unsafe { std::pin::Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}
