//! The header every tether task carries in its allocation (async-task metadata).

use std::fmt;
use std::num::NonZeroU64;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Waker;

use futures::task::AtomicWaker;

/// A task's identity, unique for the life of the process.
///
/// Ids count up from 1 in creation order, which is also the number in a task's default name
/// (`Task-1`, `Task-2`, ... as asyncio names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    pub(crate) fn next() -> TaskId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        TaskId(NonZeroU64::new(id).expect("task ids never wrap: 2^64 tasks is not reachable"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Per-task state shared by the task's future, its handle and its owner.
///
/// Cancellation is a request, not an act: `request_cancel` sets a flag and wakes the task, and
/// the task's own wrapper future (see `supervise`) drops the user's future the next time it is
/// polled. That keeps every drop on the thread that runs the task, lets any thread cancel, and
/// means the task's output is `Err(Cancelled)` only once the future is really gone.
pub(crate) struct Header {
    pub(crate) id: TaskId,
    cancel_requested: AtomicBool,
    /// The task's own waker while its future is alive: what `request_cancel` wakes. It points
    /// back at this allocation, so `supervise` clears it when the future ends (no cycle).
    waker: AtomicWaker,
    /// Rarely set fields, boxed so that a plain task pays one pointer for them.
    extras: Mutex<Option<Box<Extras>>>,
}

#[derive(Default)]
struct Extras {
    name: Option<String>,
    cancel_message: Option<String>,
}

impl Header {
    pub(crate) fn new(name: Option<String>) -> Header {
        Header {
            id: TaskId::next(),
            cancel_requested: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            extras: Mutex::new(name.map(|name| {
                Box::new(Extras {
                    name: Some(name),
                    cancel_message: None,
                })
            })),
        }
    }

    fn with_extras<R>(&self, f: impl FnOnce(&mut Option<Box<Extras>>) -> R) -> R {
        f(&mut self.extras.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The task's name: the one it was given, or `Task-<id>`.
    pub(crate) fn name(&self) -> String {
        self.with_extras(|extras| extras.as_ref().and_then(|e| e.name.clone()))
            .unwrap_or_else(|| format!("Task-{}", self.id))
    }

    pub(crate) fn set_waker(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Drops the stored waker; called when the task's future ends.
    pub(crate) fn clear_waker(&self) {
        drop(self.waker.take());
    }

    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.cancel_requested.load(Ordering::Acquire)
    }

    /// Asks the task to stop. Returns `false` if it was asked already.
    pub(crate) fn request_cancel(&self, message: Option<String>) -> bool {
        if message.is_some() {
            self.with_extras(|extras| {
                extras.get_or_insert_with(Box::default).cancel_message = message;
            });
        }
        let first = !self.cancel_requested.swap(true, Ordering::AcqRel);
        self.waker.wake();
        first
    }

    pub(crate) fn cancel_message(&self) -> Option<String> {
        self.with_extras(|extras| extras.as_ref().and_then(|e| e.cancel_message.clone()))
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("cancel_requested", &self.is_cancel_requested())
            .finish()
    }
}
