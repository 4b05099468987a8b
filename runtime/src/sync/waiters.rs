//! The waiting room every primitive in [`sync`](crate::sync) and [`queue`](crate::queue) is
//! built on: a first-in, first-out list of parked futures, each of which can be handed a
//! *grant* (the lock, a permit, an item, an error) before it runs again.
//!
//! # How a wait goes
//!
//! 1. A future that cannot proceed [`push`](WaitList::push)es its waker and keeps the key.
//! 2. Whoever frees the resource calls [`grant_front`](WaitList::grant_front): the oldest
//!    waiter is unlinked from the list, the grant is stored in its slot, and its waker is
//!    returned to be woken *after* the primitive's mutex is released.
//! 3. The waiter's next [`poll`](WaitList::poll) takes the grant and frees the slot.
//!
//! If the future is dropped instead, [`cancel`](WaitList::cancel) frees the slot and gives back
//! the grant it had been handed but never used, so the primitive can pass it on: nothing a
//! waiter was given is lost when it is cancelled between being woken and running.
//!
//! Slots live in a vector and are linked into a doubly linked list by index, so pushing,
//! granting and cancelling are all O(1). A slot is freed only by the future that owns its key,
//! so a key never outlives its slot and never names somebody else's.

use std::sync::Mutex;
use std::task::{Poll, Waker};

/// "No slot": the end of the list, or of the free list.
const NIL: usize = usize::MAX;

/// One slot of a [`WaitList`].
#[derive(Debug)]
enum Slot<G> {
    /// Unused; `next_free` chains the free slots.
    Vacant { next_free: usize },
    /// A parked waiter, linked into the list.
    Queued {
        waker: Waker,
        prev: usize,
        next: usize,
    },
    /// A waiter that was handed `G` and woken, but has not run yet. No longer in the list.
    Granted(G),
}

/// A FIFO list of waiters, each of which may be handed a grant of type `G`.
#[derive(Debug)]
pub(crate) struct WaitList<G> {
    slots: Vec<Slot<G>>,
    /// The first free slot.
    free: usize,
    /// The oldest queued waiter.
    head: usize,
    /// The newest queued waiter.
    tail: usize,
    /// How many waiters are queued (not counting granted ones).
    queued: usize,
    /// How many slots are in use, queued or granted.
    used: usize,
}

/// What [`WaitList::poll`] found.
#[derive(Debug)]
pub(crate) enum Polled<G> {
    /// The waiter was handed this; its slot is freed.
    Granted(G),
    /// Still queued. Holds the waker this poll replaced, if any: drop it outside the lock.
    Waiting(Option<Waker>),
}

/// What [`WaitList::cancel`] found.
#[derive(Debug)]
pub(crate) enum Cancelled<G> {
    /// The waiter was still queued: it left the list. Drop the waker outside the lock.
    Queued(Waker),
    /// The waiter had been handed this and never took it: pass it on.
    Granted(G),
}

impl<G> Default for WaitList<G> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl<G> WaitList<G> {
    /// An empty list (usable in a `const`, so primitives can be `static`).
    pub(crate) const fn new() -> WaitList<G> {
        WaitList {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            queued: 0,
            used: 0,
        }
    }

    /// How many waiters are queued.
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    /// Parks a waiter at the back of the list; the key is how it finds its slot again.
    pub(crate) fn push(&mut self, waker: Waker) -> usize {
        let slot = Slot::Queued {
            waker,
            prev: self.tail,
            next: NIL,
        };
        let key = if self.free == NIL {
            self.slots.push(slot);
            self.slots.len() - 1
        } else {
            let key = self.free;
            let Slot::Vacant { next_free } = self.slots[key] else {
                unreachable!("the free list holds only vacant slots");
            };
            self.free = next_free;
            self.slots[key] = slot;
            key
        };
        match self.tail {
            NIL => self.head = key,
            tail => self.set_next(tail, key),
        }
        self.tail = key;
        self.queued += 1;
        self.used += 1;
        key
    }

    /// Hands `grant` to the oldest queued waiter and returns its waker, to be woken once the
    /// primitive's lock is released. Gives `grant` back if nobody is waiting.
    pub(crate) fn grant_front(&mut self, grant: G) -> Result<Waker, G> {
        match self.head {
            NIL => Err(grant),
            key => Ok(self.grant(key, grant)),
        }
    }

    /// Hands every queued waiter a grant made by `make`, oldest first, and collects the wakers.
    pub(crate) fn grant_all(&mut self, mut make: impl FnMut() -> G, wakers: &mut Wakers) {
        while self.head != NIL {
            wakers.push(self.grant(self.head, make()));
        }
    }

    /// Checks on the waiter `key`: takes its grant, or records `waker` as the one to wake.
    pub(crate) fn poll(&mut self, key: usize, waker: &Waker) -> Polled<G> {
        match &mut self.slots[key] {
            Slot::Queued { waker: stored, .. } => {
                if stored.will_wake(waker) {
                    Polled::Waiting(None)
                } else {
                    Polled::Waiting(Some(std::mem::replace(stored, waker.clone())))
                }
            }
            Slot::Granted(_) => match self.release(key) {
                Slot::Granted(grant) => Polled::Granted(grant),
                _ => unreachable!(),
            },
            Slot::Vacant { .. } => unreachable!("a wait key outlived its slot"),
        }
    }

    /// The waiter `key` is gone: frees its slot and returns what it had not used.
    pub(crate) fn cancel(&mut self, key: usize) -> Cancelled<G> {
        if let Slot::Queued { .. } = self.slots[key] {
            self.unlink(key);
        }
        match self.release(key) {
            Slot::Queued { waker, .. } => Cancelled::Queued(waker),
            Slot::Granted(grant) => Cancelled::Granted(grant),
            Slot::Vacant { .. } => unreachable!("a wait key outlived its slot"),
        }
    }

    /// Unlinks the queued waiter `key`, stores its grant and returns its waker.
    fn grant(&mut self, key: usize, grant: G) -> Waker {
        self.unlink(key);
        match std::mem::replace(&mut self.slots[key], Slot::Granted(grant)) {
            Slot::Queued { waker, .. } => waker,
            _ => unreachable!("only queued waiters are granted"),
        }
    }

    /// Takes the queued waiter `key` out of the list (its slot stays in use).
    fn unlink(&mut self, key: usize) {
        let Slot::Queued { prev, next, .. } = self.slots[key] else {
            unreachable!("only queued waiters are linked");
        };
        match prev {
            NIL => self.head = next,
            prev => self.set_next(prev, next),
        }
        match next {
            NIL => self.tail = prev,
            next => self.set_prev(next, prev),
        }
        self.queued -= 1;
    }

    /// Frees slot `key` and returns what it held.
    fn release(&mut self, key: usize) -> Slot<G> {
        let slot = std::mem::replace(
            &mut self.slots[key],
            Slot::Vacant {
                next_free: self.free,
            },
        );
        self.free = key;
        self.used -= 1;
        if self.used == 0 {
            // Every key is gone: start afresh, keeping the memory.
            self.slots.clear();
            self.free = NIL;
        }
        slot
    }

    fn set_next(&mut self, key: usize, to: usize) {
        if let Slot::Queued { next, .. } = &mut self.slots[key] {
            *next = to;
        }
    }

    fn set_prev(&mut self, key: usize, to: usize) {
        if let Slot::Queued { prev, .. } = &mut self.slots[key] {
            *prev = to;
        }
    }
}

/// Locks a primitive's state. The state is kept consistent at every point where user code
/// could panic, so a poisoned mutex is simply used again.
pub(crate) use crate::util::loom_facade::lock;

/// One poll of a waiter queued in `list(state)`: the "wait your turn" every primitive shares.
///
/// On the first poll (`key` is `None`) `now` may finish at once, the fast path; otherwise the
/// waiter queues and keeps its key. A later poll finishes with the grant it was handed. A waker
/// replaced on the way is dropped after the lock is released.
pub(crate) fn poll_waiter<S, G>(
    state: &Mutex<S>,
    key: &mut Option<usize>,
    waker: &Waker,
    list: impl FnOnce(&mut S) -> &mut WaitList<G>,
    now: impl FnOnce(&mut S) -> Option<G>,
) -> Poll<G> {
    let mut guard = lock(state);
    let state = &mut *guard;
    let stale = match *key {
        None => {
            if let Some(done) = now(state) {
                return Poll::Ready(done);
            }
            *key = Some(list(state).push(waker.clone()));
            None
        }
        Some(queued) => match list(state).poll(queued, waker) {
            Polled::Granted(grant) => {
                *key = None;
                return Poll::Ready(grant);
            }
            Polled::Waiting(stale) => stale,
        },
    };
    drop(guard);
    drop(stale);
    Poll::Pending
}

/// Wakers collected under a primitive's lock, to be woken once it is released. The first is
/// kept inline: most releases wake one waiter, and a `Vec` would allocate for it.
#[derive(Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    pub(crate) fn new() -> Wakers {
        Wakers::default()
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }
}

impl Extend<Waker> for Wakers {
    fn extend<I: IntoIterator<Item = Waker>>(&mut self, wakers: I) {
        wakers.into_iter().for_each(|waker| self.push(waker));
    }
}

/// Wakes every waker in `wakers`, in the order they were pushed (call it once the primitive's
/// lock is released).
pub(crate) fn wake_all(wakers: Wakers) {
    // Two plain loops, not `first.into_iter().chain(rest)`: `Chain::fold` is generic code whose
    // inlining here depends on how the crate is split into codegen units (callgrind: on
    // queue_ping_pong it cost 34 instructions per round trip once it was not inlined).
    if let Some(first) = wakers.first {
        first.wake();
    }
    for waker in wakers.rest {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waker() -> Waker {
        Waker::noop().clone()
    }

    fn order(list: &WaitList<u32>) -> Vec<usize> {
        let mut keys = Vec::new();
        let mut key = list.head;
        while key != NIL {
            keys.push(key);
            key = match list.slots[key] {
                Slot::Queued { next, .. } => next,
                _ => unreachable!(),
            };
        }
        keys
    }

    #[test]
    fn grants_go_oldest_first() {
        let mut list = WaitList::default();
        let a = list.push(waker());
        let b = list.push(waker());
        let c = list.push(waker());
        assert_eq!(order(&list), [a, b, c]);
        assert!(list.grant_front(1).is_ok());
        assert_eq!(order(&list), [b, c]);
        assert!(matches!(list.poll(a, &waker()), Polled::Granted(1)));
        assert!(matches!(list.poll(b, &waker()), Polled::Waiting(_)));
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn cancelling_unlinks_from_anywhere() {
        let mut list = WaitList::default();
        let keys: Vec<_> = (0..5).map(|_| list.push(waker())).collect();
        assert!(matches!(list.cancel(keys[2]), Cancelled::Queued(_)));
        assert!(matches!(list.cancel(keys[0]), Cancelled::Queued(_)));
        assert!(matches!(list.cancel(keys[4]), Cancelled::Queued(_)));
        assert_eq!(order(&list), [keys[1], keys[3]]);
        let again = list.push(waker());
        assert_eq!(order(&list), [keys[1], keys[3], again]);
    }

    #[test]
    fn a_cancelled_grant_comes_back() {
        let mut list = WaitList::default();
        let a = list.push(waker());
        assert!(list.grant_front(7).is_ok());
        assert_eq!(list.len(), 0);
        assert!(matches!(list.cancel(a), Cancelled::Granted(7)));
        assert!(matches!(list.grant_front(8), Err(8)));
        assert!(list.slots.is_empty(), "the slots are reset once unused");
    }

    #[test]
    fn grant_all_empties_the_list() {
        let mut list = WaitList::default();
        let keys: Vec<_> = (0..3).map(|_| list.push(waker())).collect();
        let mut wakers = Wakers::new();
        let mut n = 0;
        list.grant_all(
            || {
                n += 1;
                n
            },
            &mut wakers,
        );
        assert_eq!(wakers.len(), 3);
        let grants: Vec<_> = keys
            .iter()
            .map(|&key| match list.poll(key, &waker()) {
                Polled::Granted(g) => g,
                Polled::Waiting(_) => panic!("not granted"),
            })
            .collect();
        assert_eq!(grants, [1, 2, 3]);
    }
}
