//! [`IdleQueue`]: members waiting for input, oldest first, so that a server can shed the one
//! that has been idle longest when every slot is taken, and close those idle for too long.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::waiters::lock;
use crate::time::{Instant, sleep_until};
use crate::util::slab::Slab;

/// Who is idle, in the order they became idle: the shedding policy of a server that holds
/// many mostly idle connections.
///
/// Each connection takes an [`IdleMember`] ([`IdleQueue::member`]) and is *idle* unless it
/// holds a [`Busy`] guard ([`IdleMember::busy`]): an echo connection is idle while it waits for
/// the client's next message, an HTTP connection while it waits for (or reads) a request's
/// headers. The queue keeps the idle members in the order they last became idle, and lets the
/// server ask them to leave:
///
/// - [`shed_oldest`](IdleQueue::shed_oldest) sheds the member idle longest. Call it when every
///   connection slot is taken and a new client arrives: a crowd of clients that connect and
///   then say nothing (or send a request's headers one byte at a time: slowloris) cannot lock
///   out a well-behaved client, which is served at once, at the cost of the stalest idle one.
///   A busy member (in the middle of a request) is never shed.
/// - [`shed_idle_for`](IdleQueue::shed_idle_for) sheds every member idle for at least a limit,
///   and [`sweep`](IdleQueue::sweep) does it forever, on one timer for the whole queue: the idle
///   timeout of every connection at the cost of one sleeping future, not one timer each.
///
/// A shed member is told through [`IdleMember::shed`], a future the connection races with its
/// read (`select!`): it resolves once the member has been shed, and the connection closes.
/// Shedding is a request, as [`request_cancellation`](crate::graceful) is: nothing is dropped
/// from outside, so a connection that has just started a request finishes it first if it
/// chooses to.
///
/// The queue is `Send + Sync` and its members are `Send + Sync` and `Clone`: a server on a
/// [multi-threaded runtime](crate::Builder::workers) sheds members running on any worker.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::sync::IdleQueue;
///
/// tether::Runtime::builder().start_paused(true).build().run(async {
///     let idle = IdleQueue::new();
///     let first = idle.member(); // idle from now
///     tether::sleep(Duration::from_secs(1)).await;
///     let second = idle.member();
///     let busy = first.busy(); // in the middle of a request: not sheddable
///     assert!(idle.shed_oldest()); // sheds `second`, the only idle one
///     assert!(second.is_shed() && !first.is_shed());
///     drop(busy); // idle again, from now
///     assert_eq!(idle.idle(), 1);
///
///     // A connection races its read with `shed()`, and closes once shed.
///     let conn = tether::create_task(async move {
///         first.shed().await;
///         "closed: idle for too long"
///     });
///     tether::sleep(Duration::from_secs(30)).await;
///     assert_eq!(idle.shed_idle_for(Duration::from_secs(10)), 1);
///     assert_eq!(conn.await.unwrap(), "closed: idle for too long");
/// });
/// ```
pub struct IdleQueue {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
}

struct State {
    /// The next member to become idle gets this ticket: tickets grow with time, so the idle
    /// map's order is the order in which its members became idle.
    next_ticket: u64,
    /// The idle members: ticket to member key, oldest first.
    idle: BTreeMap<u64, usize>,
    members: Slab<MemberState>,
}

struct MemberState {
    /// `Some` while idle: the member's key in `State::idle`.
    ticket: Option<u64>,
    /// When it last became idle (meaningful while `ticket` is `Some`).
    since: Instant,
    /// How many `Busy` guards it holds.
    busy: usize,
    shed: bool,
    /// The task waiting in `IdleMember::shed`.
    waker: Option<Waker>,
}

impl State {
    /// Puts member `key` at the back of the idle queue, idle from now.
    fn enqueue(&mut self, key: usize) {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.idle.insert(ticket, key);
        if let Some(member) = self.members.get_mut(key) {
            member.ticket = Some(ticket);
            member.since = Instant::now();
        }
    }

    /// Sheds the idle member `key` (already taken off the idle map); returns its waker.
    fn shed(&mut self, key: usize) -> Option<Waker> {
        let member = self.members.get_mut(key)?;
        member.ticket = None;
        member.shed = true;
        member.waker.take()
    }
}

impl IdleQueue {
    /// An empty queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let idle = tether::sync::IdleQueue::new();
    /// assert_eq!((idle.len(), idle.idle()), (0, 0));
    /// assert!(!idle.shed_oldest()); // nobody to shed
    /// ```
    pub fn new() -> IdleQueue {
        IdleQueue {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    next_ticket: 0,
                    idle: BTreeMap::new(),
                    members: Slab::new(),
                }),
            }),
        }
    }

    /// A new member, idle from now (at the back of the queue). It leaves the queue when its
    /// last clone is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let idle = tether::sync::IdleQueue::new();
    /// let member = idle.member();
    /// assert_eq!(idle.idle(), 1);
    /// drop(member);
    /// assert_eq!(idle.len(), 0);
    /// ```
    pub fn member(&self) -> IdleMember {
        let mut state = lock(&self.shared.state);
        let key = state.members.reserve();
        state.members.fill(
            key,
            MemberState {
                ticket: None,
                since: Instant::now(),
                busy: 0,
                shed: false,
                waker: None,
            },
        );
        state.enqueue(key);
        drop(state);
        IdleMember {
            inner: Arc::new(MemberInner {
                shared: self.shared.clone(),
                key,
            }),
        }
    }

    /// Sheds the member that has been idle longest; `false` if no member is idle (every one is
    /// busy, or there are none).
    ///
    /// # Examples
    ///
    /// ```
    /// let idle = tether::sync::IdleQueue::new();
    /// let (old, new) = (idle.member(), idle.member());
    /// assert!(idle.shed_oldest());
    /// assert!(old.is_shed() && !new.is_shed());
    /// ```
    pub fn shed_oldest(&self) -> bool {
        let waker = {
            let mut state = lock(&self.shared.state);
            let Some((_, key)) = state.idle.pop_first() else {
                return false;
            };
            state.shed(key)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// Sheds every member that has been idle for `limit` or longer, on the loop's clock
    /// ([`Instant::now`]); returns how many.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tether::Runtime::builder().start_paused(true).build().run(async {
    ///     let idle = tether::sync::IdleQueue::new();
    ///     let old = idle.member();
    ///     tether::sleep(Duration::from_secs(5)).await;
    ///     let new = idle.member();
    ///     assert_eq!(idle.shed_idle_for(Duration::from_secs(5)), 1);
    ///     assert!(old.is_shed() && !new.is_shed());
    /// });
    /// ```
    pub fn shed_idle_for(&self, limit: Duration) -> usize {
        self.shed_expired(limit).0
    }

    /// Sheds what has been idle for `limit`; returns how many, and when the oldest member left
    /// will have been idle for `limit` (`now + limit` if none is idle: a member that becomes
    /// idle later expires later than that).
    fn shed_expired(&self, limit: Duration) -> (usize, Instant) {
        let now = Instant::now();
        let (mut shed, mut wakers) = (0, Vec::new());
        let next = {
            let mut state = lock(&self.shared.state);
            loop {
                let Some((&ticket, &key)) = state.idle.first_key_value() else {
                    break now.saturating_add(limit);
                };
                let expires = state
                    .members
                    .get_mut(key)
                    .map_or(now, |member| member.since.saturating_add(limit));
                if expires > now {
                    break expires;
                }
                state.idle.remove(&ticket);
                shed += 1;
                wakers.extend(state.shed(key));
            }
        };
        wakers.into_iter().for_each(Waker::wake);
        (shed, next)
    }

    /// Sheds every member once it has been idle for `limit`, forever: the idle timeout of every
    /// member, on one timer. Race it with the server's accept loop (`select!`); it never
    /// returns ([`Infallible`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::FutureExt;
    ///
    /// tether::Runtime::builder().start_paused(true).build().run(async {
    ///     let idle = tether::sync::IdleQueue::new();
    ///     let start = tether::time::Instant::now();
    ///     let member = idle.member();
    ///     tether::select! {
    ///         never = idle.sweep(Duration::from_secs(60)).fuse() => match never {},
    ///         () = member.shed().fuse() => {}
    ///     }
    ///     // Shed once it had been idle for the limit (the paused clock jumps there at once).
    ///     assert_eq!(start.elapsed().as_secs(), 60);
    ///     assert!(member.is_shed());
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// If `limit` is zero, which would shed every member the moment it became idle and wake
    /// the sweep in a loop; use [`shed_idle_for`](IdleQueue::shed_idle_for) for a one-off.
    pub async fn sweep(&self, limit: Duration) -> Infallible {
        assert!(
            !limit.is_zero(),
            "IdleQueue::sweep needs a positive idle limit: a zero limit sheds every member as \
             soon as it is idle, and the sweep would never sleep"
        );
        loop {
            let (_, next) = self.shed_expired(limit);
            sleep_until(next).await;
        }
    }

    /// How many members the queue holds, idle or busy (shed ones included, until dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// let idle = tether::sync::IdleQueue::new();
    /// let (a, b) = (idle.member(), idle.member());
    /// let _busy = a.busy();
    /// assert_eq!((idle.len(), idle.idle()), (2, 1));
    /// idle.shed_oldest(); // b: shed, but still a member until dropped
    /// assert_eq!((idle.len(), idle.idle()), (2, 0));
    /// drop(b);
    /// assert_eq!(idle.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.shared.state).members.len()
    }

    /// `true` if the queue holds no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many members are idle (sheddable) now.
    pub fn idle(&self) -> usize {
        lock(&self.shared.state).idle.len()
    }
}

impl Default for IdleQueue {
    fn default() -> Self {
        IdleQueue::new()
    }
}

impl fmt::Debug for IdleQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("IdleQueue")
            .field("members", &state.members.len())
            .field("idle", &state.idle.len())
            .finish()
    }
}

/// One member of an [`IdleQueue`]: a connection, idle unless it holds a [`Busy`] guard.
///
/// Clones are the same member (a connection's request handler may hold one); the member leaves
/// the queue when the last clone is dropped.
#[derive(Clone)]
pub struct IdleMember {
    inner: Arc<MemberInner>,
}

struct MemberInner {
    shared: Arc<Shared>,
    key: usize,
}

impl Drop for MemberInner {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        if let Some(member) = state.members.remove(self.key) {
            if let Some(ticket) = member.ticket {
                state.idle.remove(&ticket);
            }
            drop(state);
            drop(member.waker);
        }
    }
}

impl IdleMember {
    /// Marks the member busy until the guard is dropped: it is off the idle queue, so neither
    /// [`shed_oldest`](IdleQueue::shed_oldest) nor an idle timeout sheds it. When its last
    /// guard is dropped it is idle again, from then, at the back of the queue. Guards nest.
    ///
    /// # Examples
    ///
    /// ```
    /// let idle = tether::sync::IdleQueue::new();
    /// let member = idle.member();
    /// let busy = member.busy();
    /// assert!(!idle.shed_oldest());
    /// drop(busy);
    /// assert!(idle.shed_oldest());
    /// ```
    pub fn busy(&self) -> Busy {
        let mut state = lock(&self.inner.shared.state);
        let ticket = state.members.get_mut(self.inner.key).and_then(|member| {
            member.busy += 1;
            member.ticket.take()
        });
        if let Some(ticket) = ticket {
            state.idle.remove(&ticket);
        }
        Busy {
            member: self.clone(),
        }
    }

    /// Whether the member has been shed.
    pub fn is_shed(&self) -> bool {
        let mut state = lock(&self.inner.shared.state);
        state
            .members
            .get_mut(self.inner.key)
            .is_some_and(|member| member.shed)
    }

    /// Resolves once the member has been shed (at once if it already was). Cancel-safe; one
    /// task at a time should wait on a member (a later poll takes the place of an earlier one).
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let idle = tether::sync::IdleQueue::new();
    ///     let member = idle.member();
    ///     let waiting = tether::create_task({
    ///         let member = member.clone();
    ///         async move { member.shed().await }
    ///     });
    ///     tether::yield_now().await;
    ///     idle.shed_oldest();
    ///     waiting.await.unwrap();
    /// });
    /// ```
    pub fn shed(&self) -> impl Future<Output = ()> + Send + '_ {
        poll_fn(|cx| self.poll_shed(cx))
    }

    /// The poll behind [`shed`](IdleMember::shed), for hand-written futures.
    pub fn poll_shed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = lock(&self.inner.shared.state);
        let Some(member) = state.members.get_mut(self.inner.key) else {
            return Poll::Pending;
        };
        if member.shed {
            return Poll::Ready(());
        }
        let stale = match &member.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            _ => member.waker.replace(cx.waker().clone()),
        };
        drop(state);
        drop(stale);
        Poll::Pending
    }
}

impl fmt::Debug for IdleMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut state = lock(&self.inner.shared.state);
        let member = state.members.get_mut(self.inner.key);
        f.debug_struct("IdleMember")
            .field("idle", &member.as_ref().is_some_and(|m| m.ticket.is_some()))
            .field("shed", &member.is_some_and(|m| m.shed))
            .finish()
    }
}

/// A member marked busy ([`IdleMember::busy`]): it is not shed until this is dropped.
#[must_use = "the member is busy only while the guard is held"]
pub struct Busy {
    member: IdleMember,
}

impl Drop for Busy {
    fn drop(&mut self) {
        let inner = &self.member.inner;
        let mut state = lock(&inner.shared.state);
        let idle_again = state.members.get_mut(inner.key).is_some_and(|member| {
            member.busy -= 1;
            member.busy == 0 && !member.shed
        });
        if idle_again {
            state.enqueue(inner.key);
        }
    }
}

impl fmt::Debug for Busy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Busy").finish_non_exhaustive()
    }
}
