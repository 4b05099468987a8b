//! The queue machinery shared by the three queue types.
//!
//! # Hand-offs without losing anything
//!
//! Items always live in the store: a waiting `get` is never handed an item directly. When an
//! item arrives, the oldest waiting getter is granted a *claim* on one (counted in `claimed`)
//! and woken; when it runs, it pops whatever is first in line then. A getter dropped after the
//! grant gives its claim to the next getter, and the item it would have taken is still in the
//! queue, so nothing is lost and the queue never holds more than `maxsize` items.
//!
//! Space works the same way for putters: when an item leaves a full queue, the oldest waiting
//! putter is granted a *reservation* (counted in `reserved`) and woken; it inserts its item when
//! it runs. A putter dropped after the grant passes the reservation on; its item, which never
//! entered the queue, is dropped with its future (asyncio: the item was never inserted).
//!
//! Invariants, kept by every operation:
//! - getters wait only while every item is claimed (`items.len() <= claimed`);
//! - putters wait only while the queue is full (`items.len() + reserved >= maxsize`);
//! - after shutdown, nobody waits.

use std::fmt;
use std::future::poll_fn;
use std::sync::Mutex;
use std::task::Poll;

use super::error::{QueueShutDown, TaskDoneError, TryGetError, TryPutError};
use super::store::{Len, Store};
use crate::sync::waiters::{Cancelled, Polled, WaitList, Wakers, lock, poll_waiter, wake_all};
use crate::task_core::awaiting::{self, Awaiting, SyncKind};

/// What a waiting getter or putter is handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// A claim on an item (getter) or a reserved slot (putter).
    Go,
    /// The queue was shut down.
    ShutDown,
}

pub(crate) struct Core<T, S> {
    state: Mutex<State<T, S>>,
    /// 0 for unbounded.
    maxsize: usize,
    /// The name given at construction, for `dump_tasks` and deadlock reports.
    name: Option<&'static str>,
}

struct State<T, S> {
    items: S,
    /// Items promised to woken getters that have not run yet.
    claimed: usize,
    /// Slots promised to woken putters that have not run yet.
    reserved: usize,
    /// Items put and not yet marked done.
    unfinished: usize,
    shut: bool,
    getters: WaitList<Grant>,
    putters: WaitList<Grant>,
    joiners: WaitList<()>,
    _items: std::marker::PhantomData<T>,
}

impl<T, S: Len> State<T, S> {
    /// Items nobody has claimed yet.
    fn unclaimed(&self) -> usize {
        self.items.len().saturating_sub(self.claimed)
    }

    fn is_full(&self, maxsize: usize) -> bool {
        maxsize != 0 && self.items.len() + self.reserved >= maxsize
    }
}

impl<T, S: Store<T>> State<T, S> {
    /// Adds an item put by a producer and lets a getter claim it.
    fn insert(&mut self, item: T, wakers: &mut Wakers) {
        self.items.push(item);
        self.unfinished += 1;
        self.serve_getters(wakers);
    }

    /// Takes an item (already known to be there, claimed or not) and lets a putter into the
    /// room it leaves.
    fn take(&mut self, maxsize: usize, wakers: &mut Wakers) -> Option<T> {
        let item = self.items.pop()?;
        self.serve_putters(maxsize, wakers);
        Some(item)
    }

    /// Grants a claim to waiting getters while unclaimed items remain.
    fn serve_getters(&mut self, wakers: &mut Wakers) {
        while self.unclaimed() > 0 {
            match self.getters.grant_front(Grant::Go) {
                Ok(waker) => {
                    self.claimed += 1;
                    wakers.push(waker);
                }
                Err(_) => break,
            }
        }
    }

    /// Grants a reservation to waiting putters while there is room.
    fn serve_putters(&mut self, maxsize: usize, wakers: &mut Wakers) {
        while !self.shut && !self.is_full(maxsize) {
            match self.putters.grant_front(Grant::Go) {
                Ok(waker) => {
                    self.reserved += 1;
                    wakers.push(waker);
                }
                Err(_) => break,
            }
        }
    }
}

impl<T, S> Core<T, S> {
    /// The name given at construction, if any.
    pub(crate) fn name(&self) -> Option<&'static str> {
        self.name
    }

    pub(crate) const fn new(items: S, maxsize: usize, name: Option<&'static str>) -> Core<T, S> {
        Core {
            name,
            state: Mutex::new(State {
                items,
                claimed: 0,
                reserved: 0,
                unfinished: 0,
                shut: false,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
                _items: std::marker::PhantomData,
            }),
            maxsize,
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }
}

impl<T, S: Store<T>> Core<T, S> {
    pub(crate) fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            if state.shut {
                return Err(TryPutError::ShutDown(item));
            }
            if state.is_full(self.maxsize) {
                return Err(TryPutError::Full(item));
            }
            state.insert(item, &mut wakers);
        }
        wake_all(wakers);
        Ok(())
    }

    pub(crate) async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
        let mut wait = PutWait {
            core: self,
            key: None,
        };
        let mut item = Some(item);
        let mut wakers = Wakers::new();
        let what = || Awaiting::sync(SyncKind::Queue, self.name, self);
        let result = awaiting::tracked(
            poll_fn(|cx| {
                let mut state = lock(&self.state);
                let stale = match wait.key {
                    None if state.shut => return Poll::Ready(Err(())),
                    None if !state.is_full(self.maxsize) => {
                        state.insert(
                            item.take().expect("put polled after completion"),
                            &mut wakers,
                        );
                        return Poll::Ready(Ok(()));
                    }
                    None => {
                        wait.key = Some(state.putters.push(cx.waker().clone()));
                        None
                    }
                    Some(key) => match state.putters.poll(key, cx.waker()) {
                        Polled::Granted(grant) => {
                            wait.key = None;
                            if grant == Grant::Go {
                                state.reserved -= 1;
                            }
                            if state.shut {
                                return Poll::Ready(Err(()));
                            }
                            state.insert(
                                item.take().expect("put polled after completion"),
                                &mut wakers,
                            );
                            return Poll::Ready(Ok(()));
                        }
                        Polled::Waiting(stale) => stale,
                    },
                };
                drop(state);
                drop(stale);
                Poll::Pending
            }),
            what,
        )
        .await;
        wake_all(wakers);
        result.map_err(|()| QueueShutDown(item.take().expect("a refused item is still here")))
    }

    pub(crate) fn get_nowait(&self) -> Result<T, TryGetError> {
        let mut wakers = Wakers::new();
        let item = {
            let mut state = lock(&self.state);
            if state.unclaimed() == 0 {
                return Err(if state.shut {
                    TryGetError::ShutDown
                } else {
                    TryGetError::Empty
                });
            }
            state.take(self.maxsize, &mut wakers)
        };
        wake_all(wakers);
        Ok(item.expect("an unclaimed item is there"))
    }

    pub(crate) async fn get(&self) -> Result<T, QueueShutDown> {
        let mut wait = GetWait {
            core: self,
            key: None,
        };
        let mut wakers = Wakers::new();
        let what = || Awaiting::sync(SyncKind::Queue, self.name, self);
        let item = awaiting::tracked(
            poll_fn(|cx| {
                let mut state = lock(&self.state);
                let stale = match wait.key {
                    None if state.unclaimed() > 0 => {
                        return Poll::Ready(state.take(self.maxsize, &mut wakers));
                    }
                    None if state.shut => return Poll::Ready(None),
                    None => {
                        wait.key = Some(state.getters.push(cx.waker().clone()));
                        None
                    }
                    Some(key) => match state.getters.poll(key, cx.waker()) {
                        Polled::Granted(Grant::Go) => {
                            wait.key = None;
                            state.claimed -= 1;
                            // Only an immediate shutdown takes a claimed item away.
                            return Poll::Ready(state.take(self.maxsize, &mut wakers));
                        }
                        Polled::Granted(Grant::ShutDown) => {
                            wait.key = None;
                            return Poll::Ready(None);
                        }
                        Polled::Waiting(stale) => stale,
                    },
                };
                drop(state);
                drop(stale);
                Poll::Pending
            }),
            what,
        )
        .await;
        wake_all(wakers);
        item.ok_or(QueueShutDown(()))
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            if state.unfinished == 0 {
                return Err(TaskDoneError);
            }
            state.unfinished -= 1;
            if state.unfinished == 0 {
                state.joiners.grant_all(|| (), &mut wakers);
            }
        }
        wake_all(wakers);
        Ok(())
    }

    pub(crate) async fn join(&self) {
        let mut wait = JoinWait {
            core: self,
            key: None,
        };
        poll_fn(|cx| {
            poll_waiter(
                &self.state,
                &mut wait.key,
                cx.waker(),
                |state| &mut state.joiners,
                |state| (state.unfinished == 0).then_some(()),
            )
        })
        .await
    }

    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut wakers = Wakers::new();
        let dropped = {
            let mut state = lock(&self.state);
            state.shut = true;
            let dropped = if immediate {
                state.items.take_all()
            } else {
                Vec::new()
            };
            if !dropped.is_empty() {
                state.unfinished = state.unfinished.saturating_sub(dropped.len());
                if state.unfinished == 0 {
                    state.joiners.grant_all(|| (), &mut wakers);
                }
            }
            state.getters.grant_all(|| Grant::ShutDown, &mut wakers);
            state.putters.grant_all(|| Grant::ShutDown, &mut wakers);
            dropped
        };
        wake_all(wakers);
        // The items' destructors run outside the lock: they may use the queue.
        drop(dropped);
    }
}

impl<T, S: Len> Core<T, S> {
    pub(crate) fn qsize(&self) -> usize {
        lock(&self.state).items.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        lock(&self.state).is_full(self.maxsize)
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        lock(&self.state).shut
    }

    pub(crate) fn fmt(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct(name)
            .field("maxsize", &self.maxsize)
            .field("qsize", &state.items.len())
            .field("unfinished", &state.unfinished)
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("shut_down", &state.shut)
            .finish_non_exhaustive()
    }
}

/// A parked `put`: leaves the queue when dropped, passing on a reservation it was granted.
struct PutWait<'a, T, S: Store<T>> {
    core: &'a Core<T, S>,
    key: Option<usize>,
}

impl<T, S: Store<T>> Drop for PutWait<'_, T, S> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakers = Wakers::new();
        let gone = {
            let mut state = lock(&self.core.state);
            let gone = state.putters.cancel(key);
            if let Cancelled::Granted(Grant::Go) = gone {
                state.reserved -= 1;
                state.serve_putters(self.core.maxsize, &mut wakers);
            }
            gone
        };
        drop(gone);
        wake_all(wakers);
    }
}

/// A parked `get`: leaves the queue when dropped, passing on a claim it was granted.
struct GetWait<'a, T, S: Store<T>> {
    core: &'a Core<T, S>,
    key: Option<usize>,
}

impl<T, S: Store<T>> Drop for GetWait<'_, T, S> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakers = Wakers::new();
        let gone = {
            let mut state = lock(&self.core.state);
            let gone = state.getters.cancel(key);
            if let Cancelled::Granted(Grant::Go) = gone {
                state.claimed -= 1;
                state.serve_getters(&mut wakers);
            }
            gone
        };
        drop(gone);
        wake_all(wakers);
    }
}

/// A parked `join`: leaves the queue when dropped.
struct JoinWait<'a, T, S> {
    core: &'a Core<T, S>,
    key: Option<usize>,
}

impl<T, S> Drop for JoinWait<'_, T, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let gone = lock(&self.core.state).joiners.cancel(key);
            drop(gone);
        }
    }
}
