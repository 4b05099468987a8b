//! What a [`TaskSet`](super::TaskSet) holds: its members' handles under slab keys, and how a
//! member tells the set that its future ended.
//!
//! Every member runs inside a [`Member`] wrapper whose end report ([`EndLocal`] or
//! [`EndSend`]) is dropped with the member's future. What the set does with the report depends
//! on its kind:
//! - a set that keeps outcomes queues the member's key, in the order members end, and
//!   `join_next` takes the handle under the first queued key and reads its outcome;
//! - a background set removes the member's handle at once, so its memory stays flat.
//!
//! The set needs no second allocation per member for this (a `FuturesUnordered` would make
//! one): the report is a key and a pointer back to the set, in the member's own future.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::task::{Task, TaskError, TaskId, spawn_send, spawn_task};
use crate::task_core::raw::Spawn;
use crate::util::slab::Slab;
use crate::util::woken::WokenKeys;

/// The members of a set, shared with their end reports.
pub(super) struct Members<T>(Rc<Shared<T>>);

struct Shared<T> {
    tasks: RefCell<Slab<Task<T>>>,
    /// The set keeps each outcome until `join_next` takes it (else: a background set).
    keep: bool,
    /// For a set that keeps outcomes: the keys of members whose future has ended, in the order
    /// they ended. A key stays in use until `join_next` takes its handle.
    ended_keys: RefCell<VecDeque<usize>>,
    /// Whoever waits in `join_next`.
    waiter: Cell<Option<Waker>>,
    /// Where `spawn`ed members, which may end on another worker, report that they ended (see
    /// [`EndSend`]).
    ended_send: Arc<WokenKeys>,
    /// A `spawn`ed member has been started: `ended_send` must be looked at.
    has_send: Cell<bool>,
}

/// The end report of a `create_task` member.
struct EndLocal<T> {
    set: Weak<Shared<T>>,
    key: usize,
}

impl<T> Drop for EndLocal<T> {
    fn drop(&mut self) {
        if let Some(set) = self.set.upgrade() {
            set.member_ended(self.key);
        }
    }
}

/// The end report of a `spawn`ed member.
///
/// A `create_task` member reports its end itself ([`EndLocal`]): it ends on the set's thread,
/// where the set's `Rc` lives. A `spawn`ed one may end on any worker, so it only reports its
/// key to the set's [`WokenKeys`] (which wakes the set's waiter); the set takes these keys in
/// before it answers anything ([`Shared::reap`]). A key is never reused while it waits there:
/// its slot is freed only after the set has taken it in.
struct EndSend {
    ended: Arc<WokenKeys>,
    key: usize,
}

impl Drop for EndSend {
    fn drop(&mut self) {
        self.ended.push(self.key);
    }
}

/// A member's future with its end report: both dropped when the task's future ends.
///
/// Not an `async` block awaiting `future`: rustc never drops the output of an `.await` whose
/// future panics in its destructor after returning it, so a member that did would leak its
/// output. Here the user's future stays in place after returning, and the task's supervisor
/// drops it under its panic guard, as for any task.
struct Member<F, E> {
    future: F,
    _end: E,
}

impl<F: Future, E> Future for Member<F, E> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is pinned structurally: `Member` never moves it out (there is no
        // other access to it and no `Drop` impl), so it is dropped where it was pinned, with
        // `Member`; `Member` is `Unpin` only if `F` is (auto trait; `EndLocal` and `EndSend`
        // are `Unpin`).
        unsafe { self.map_unchecked_mut(|member| &mut member.future) }.poll(cx)
    }
}

impl<T> Shared<T> {
    /// A member's future has ended (on this thread, or taken in from `ended_send`).
    fn member_ended(&self, key: usize) {
        if self.keep {
            self.ended_keys.borrow_mut().push_back(key);
            self.wake_waiter();
        } else {
            let own = self.tasks.borrow_mut().remove(key);
            if self.tasks.borrow().is_empty() {
                self.wake_waiter();
            }
            // Dropped outside the borrow: a handle's drop runs code, if only to let go of its
            // task. Dropping a running task's own handle only marks it: it is finishing anyway.
            drop(own);
        }
    }

    fn wake_waiter(&self) {
        if let Some(waiter) = self.waiter.take() {
            waiter.wake();
        }
    }

    /// Takes in the keys of `spawn`ed members that have ended.
    fn reap(&self) {
        if !self.has_send.get() {
            return;
        }
        self.take_in(self.ended_send.take());
    }

    /// Takes in `ended`, keys of `spawn`ed members that have ended: each as if it had ended
    /// on this thread.
    fn take_in(&self, ended: Vec<usize>) {
        for key in ended {
            self.member_ended(key);
        }
    }
}

impl<T: 'static> Members<T> {
    pub(super) fn new(keep: bool) -> Members<T> {
        Members(Rc::new(Shared {
            tasks: RefCell::new(Slab::default()),
            keep,
            ended_keys: RefCell::new(VecDeque::new()),
            waiter: Cell::new(None),
            ended_send: Arc::new(WokenKeys::new()),
            has_send: Cell::new(false),
        }))
    }

    /// Starts a `create_task` member.
    pub(super) fn start_local<F>(&self, future: F, spawn: Spawn) -> TaskId
    where
        F: Future<Output = T> + 'static,
    {
        let set = &self.0;
        let key = set.tasks.borrow_mut().reserve();
        let end = EndLocal {
            set: Rc::downgrade(set),
            key,
        };
        let task = spawn_task(Member { future, _end: end }, spawn);
        let id = task.id();
        // An eager task may have ended already. A background set has then freed its key on
        // the way out; a set that keeps outcomes has queued the key, and holds the handle
        // until `join_next` takes it.
        if set.keep || !task.is_finished() {
            set.tasks.borrow_mut().fill(key, task);
        }
        id
    }

    /// Starts a `spawn`ed member.
    pub(super) fn start_send<F>(&self, future: F, spawn: Spawn) -> TaskId
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        let set = &self.0;
        // Takes in the members that ended since the last look: a background set that only
        // ever starts members (a server's accept loop) would otherwise keep every ended
        // member's handle, and its task's allocation, until someone asked for `len` or joined.
        set.reap();
        set.has_send.set(true);
        let key = set.tasks.borrow_mut().reserve();
        let end = EndSend {
            ended: set.ended_send.clone(),
            key,
        };
        let task = spawn_send(Member { future, _end: end }, spawn);
        let id = task.id();
        // Filled even if the task has ended already (eager, or on another worker): its key is
        // on `ended_send`, and the next `reap` takes it in.
        set.tasks.borrow_mut().fill(key, task);
        id
    }
}

impl<T> Members<T> {
    /// `"keep"` or `"background"`, for `Debug`.
    pub(super) fn kind(&self) -> &'static str {
        if self.0.keep { "keep" } else { "background" }
    }

    /// How many members the set holds.
    pub(super) fn len(&self) -> usize {
        self.0.reap();
        self.0.tasks.borrow().len()
    }

    /// Calls `f` on every member's handle.
    pub(super) fn for_each(&self, f: impl FnMut(&Task<T>)) {
        self.0.reap();
        self.0.tasks.borrow().iter().for_each(f);
    }

    /// `join_next`: the outcome of the member that ended first and has not been taken (a set
    /// that keeps outcomes), or `None` once the set is empty.
    pub(super) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Result<T, TaskError>>> {
        let set = &self.0;
        if set.has_send.get() {
            // Registered in the same step as the keys are taken: a member ending after it
            // finds the waker.
            let mut ended = Vec::new();
            set.ended_send.take_and_register(cx.waker(), &mut ended);
            set.take_in(ended);
        }
        loop {
            let first = set.ended_keys.borrow().front().copied();
            let Some(key) = first else {
                if set.tasks.borrow().is_empty() {
                    return Poll::Ready(None);
                }
                set.waiter.set(Some(cx.waker().clone()));
                return Poll::Pending;
            };
            // The member's future has ended; its outcome is stored when the poll that ended it
            // returns (at once on this thread; a `spawn`ed member may still be finishing on
            // another worker, and then its handle wakes us).
            let outcome = {
                let mut tasks = set.tasks.borrow_mut();
                tasks.get_mut(key).map(|task| Pin::new(task).poll(cx))
            };
            let outcome = match outcome {
                Some(Poll::Ready(outcome)) => outcome,
                Some(Poll::Pending) => return Poll::Pending,
                // No task under the key: it was never made (`create_task` or `spawn` panicked,
                // called outside a loop, and dropped the future, which reported its end). Its
                // key is given back.
                None => {
                    set.ended_keys.borrow_mut().pop_front();
                    set.tasks.borrow_mut().remove(key);
                    continue;
                }
            };
            set.ended_keys.borrow_mut().pop_front();
            let taken = set.tasks.borrow_mut().remove(key);
            drop(taken);
            return Poll::Ready(Some(outcome));
        }
    }
}
