use std::borrow::Borrow;
use std::fmt;
use std::future::poll_fn;
use std::sync::Mutex;
use std::task::Poll;

use super::lock::{Lock, LockGuard};
use super::waiters::{Cancelled, Polled, WaitList, Wakers, lock, wake_all};
use crate::task_core::awaiting::tracked;
use crate::task_core::awaiting::{Awaiting, SyncKind};

/// A condition variable for tasks: asyncio's `Condition`.
///
/// A condition pairs a [`Lock`] with a queue of tasks waiting to be told that something
/// changed. The usual shape: take the lock with [`lock`](Condition::lock), check the shared
/// state, and if it is not right yet, [`wait`](Condition::wait) (or let
/// [`wait_for`](Condition::wait_for) loop for you). `wait` releases the lock while it waits and
/// takes it back before it returns. Whoever changes the state does so under the lock and calls
/// [`notify`](Condition::notify) or [`notify_all`](Condition::notify_all).
///
/// asyncio checks at run time that `wait` and `notify` are called with the lock held; here they
/// take the [`LockGuard`] itself, so the compiler checks it. Passing the guard of a *different*
/// lock panics.
///
/// The lock is the condition's own ([`Condition::new`]), or one you pass in
/// ([`Condition::with_lock`]): an `&Lock` or `Arc<Lock>` shared by several conditions, as
/// asyncio's `Condition(lock)`.
///
/// # Fairness and cancellation
///
/// Waiters are notified in the order they started waiting. A waiter dropped after it was
/// notified, before its `wait` returned, passes the notification on to the next waiter, so
/// `notify(n)` wakes `n` tasks that actually get to look at the state.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use tether::sync::Condition;
///
/// let cond = Condition::new();
/// let inbox = RefCell::new(Vec::new());
/// tether::run(async {
///     tether::task_group!(|tg| {
///         tg.create_task(async {
///             let guard = cond.lock().await;
///             let _guard = cond.wait_for(guard, || !inbox.borrow().is_empty()).await;
///             println!("got {:?}", inbox.borrow());
///         });
///         tg.create_task(async {
///             let guard = cond.lock().await;
///             inbox.borrow_mut().push("hello");
///             cond.notify(&guard, 1);
///         });
///     })
///     .unwrap();
/// });
/// ```
pub struct Condition<L: Borrow<Lock> = Lock> {
    lock: L,
    waiters: Mutex<WaitList<()>>,
    /// The name given at construction, for `dump_tasks` and deadlock reports.
    name: Option<&'static str>,
}

impl Condition<Lock> {
    /// A new condition with a lock of its own. `const`, so a condition can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Condition;
    ///
    /// static COND: Condition = Condition::new();
    /// assert!(!COND.is_locked());
    /// ```
    pub const fn new() -> Condition<Lock> {
        Condition::with_lock(Lock::new())
    }

    /// A new condition with a lock of its own, both named `name`:
    /// [`dump_tasks`](crate::dump_tasks), [`TaskInfo::awaiting`](crate::task::TaskInfo::awaiting)
    /// and deadlock reports show it for the tasks waiting to be notified (`Condition "name"`)
    /// and for those waiting for its lock (`Lock "name"`). `const`, so it can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Condition;
    ///
    /// static JOBS: Condition = Condition::named("jobs");
    /// assert_eq!(JOBS.name(), Some("jobs"));
    /// ```
    pub const fn named(name: &'static str) -> Condition<Lock> {
        Condition::with_lock_named(Lock::named(name), name)
    }
}

impl<L: Borrow<Lock>> Condition<L> {
    /// A new condition over an existing lock: `Lock`, `&Lock`, `Arc<Lock>`, anything that
    /// borrows as a [`Lock`] (asyncio's `Condition(lock)`).
    ///
    /// # Examples
    ///
    /// Two conditions sharing one lock:
    ///
    /// ```
    /// use tether::sync::{Condition, Lock};
    ///
    /// tether::run(async {
    ///     let lock = Lock::new();
    ///     let not_empty = Condition::with_lock(&lock);
    ///     let not_full = Condition::with_lock(&lock);
    ///     let guard = not_empty.lock().await;
    ///     assert!(not_full.is_locked());
    ///     not_full.notify_all(&guard); // the same lock: allowed
    /// });
    /// ```
    pub const fn with_lock(lock: L) -> Condition<L> {
        Condition {
            lock,
            waiters: Mutex::new(WaitList::new()),
            name: None,
        }
    }

    /// [`with_lock`](Condition::with_lock), with a name that
    /// [`dump_tasks`](crate::dump_tasks) and deadlock reports show for the tasks waiting to be
    /// notified: several conditions over one lock are told apart by it. (Name the lock itself
    /// with [`Lock::named`].)
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::{Condition, Lock};
    ///
    /// let lock = Lock::named("buffer");
    /// let not_empty = Condition::with_lock_named(&lock, "not empty");
    /// let not_full = Condition::with_lock_named(&lock, "not full");
    /// assert_eq!(not_empty.name(), Some("not empty"));
    /// assert_eq!(not_full.name(), Some("not full"));
    /// ```
    pub const fn with_lock_named(lock: L, name: &'static str) -> Condition<L> {
        Condition {
            lock,
            waiters: Mutex::new(WaitList::new()),
            name: Some(name),
        }
    }

    /// The name given at construction ([`Condition::named`],
    /// [`Condition::with_lock_named`]), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tether::sync::Condition::new().name(), None);
    /// ```
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// Takes the condition's lock: asyncio's `async with cond:`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as [`Lock::lock`].
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let cond = tether::sync::Condition::new();
    ///     let guard = cond.lock().await;
    ///     assert!(cond.is_locked());
    ///     drop(guard);
    /// });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_> {
        self.lock.borrow().lock().await
    }

    /// Takes the condition's lock if it is free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = tether::sync::Condition::new();
    /// let guard = cond.try_lock().unwrap();
    /// assert!(cond.try_lock().is_none());
    /// drop(guard);
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        self.lock.borrow().try_lock()
    }

    /// `true` if the condition's lock is held.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = tether::sync::Condition::new();
    /// assert!(!cond.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.lock.borrow().is_locked()
    }

    /// Releases the lock, waits to be notified, takes the lock back and returns its guard.
    ///
    /// As with every condition variable, check the state again after waking (or use
    /// [`wait_for`](Condition::wait_for)): another task may have changed it between the
    /// notification and the moment this one got the lock back.
    ///
    /// # Panics
    ///
    /// If `guard` holds a lock other than this condition's.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future gives up the lock: the guard passed in is consumed (the lock was
    /// released when the wait began). A notification it had already received, and not yet
    /// returned with, goes to the next waiter instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use tether::sync::Condition;
    ///
    /// let cond = Condition::new();
    /// let ready = Cell::new(false);
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         tg.create_task(async {
    ///             let mut guard = cond.lock().await;
    ///             while !ready.get() {
    ///                 guard = cond.wait(guard).await;
    ///             }
    ///         });
    ///         tg.create_task(async {
    ///             let guard = cond.lock().await;
    ///             ready.set(true);
    ///             cond.notify_all(&guard);
    ///         });
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    pub async fn wait<'a>(&'a self, guard: LockGuard<'a>) -> LockGuard<'a> {
        self.check(&guard, "wait");
        let mut wait = Wait {
            cond: self.waiters(),
            key: None,
            notified: false,
        };
        let mut guard = Some(guard);
        let parked = poll_fn(|cx| {
            let mut waiters = lock(&self.waiters);
            let stale = match wait.key {
                None => {
                    // Queue first, then release: nobody can notify in between, since
                    // notifying takes the guard this task still holds.
                    wait.key = Some(waiters.push(cx.waker().clone()));
                    drop(waiters);
                    drop(guard.take());
                    return Poll::Pending;
                }
                Some(key) => match waiters.poll(key, cx.waker()) {
                    Polled::Granted(()) => {
                        wait.key = None;
                        wait.notified = true;
                        return Poll::Ready(());
                    }
                    Polled::Waiting(stale) => stale,
                },
            };
            drop(waiters);
            drop(stale);
            Poll::Pending
        });
        tracked(parked, || {
            Awaiting::sync(SyncKind::Condition, self.name, self)
        })
        .await;
        let guard = self.lock.borrow().lock().await;
        wait.notified = false;
        guard
    }

    /// Waits until `predicate` returns `true`, checking it under the lock first and after
    /// every notification: asyncio's `wait_for`. Returns the guard, with the predicate true.
    ///
    /// # Panics
    ///
    /// If `guard` holds a lock other than this condition's.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Condition::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use tether::sync::Condition;
    ///
    /// let cond = Condition::new();
    /// let count = Cell::new(0);
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         tg.create_task(async {
    ///             let guard = cond.lock().await;
    ///             let _guard = cond.wait_for(guard, || count.get() >= 3).await;
    ///             assert_eq!(count.get(), 3);
    ///         });
    ///         tg.create_task(async {
    ///             for _ in 0..3 {
    ///                 let guard = cond.lock().await;
    ///                 count.set(count.get() + 1);
    ///                 cond.notify(&guard, 1);
    ///             }
    ///         });
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    pub async fn wait_for<'a>(
        &'a self,
        mut guard: LockGuard<'a>,
        mut predicate: impl FnMut() -> bool,
    ) -> LockGuard<'a> {
        self.check(&guard, "wait_for");
        while !predicate() {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiting tasks, longest waiting first. `guard` proves the lock is held.
    ///
    /// # Panics
    ///
    /// If `guard` holds a lock other than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use tether::sync::Condition;
    ///
    /// let cond = Condition::new();
    /// let woken = Cell::new(0);
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         for _ in 0..3 {
    ///             tg.create_task(async {
    ///                 let guard = cond.lock().await;
    ///                 let _guard = cond.wait(guard).await;
    ///                 woken.set(woken.get() + 1);
    ///             });
    ///         }
    ///         tether::yield_now().await;
    ///         let guard = cond.lock().await;
    ///         cond.notify(&guard, 2);
    ///         drop(guard);
    ///         tether::yield_now().await;
    ///         assert_eq!(woken.get(), 2);
    ///         cond.notify_all(&cond.lock().await);
    ///     })
    ///     .unwrap();
    /// });
    /// assert_eq!(woken.get(), 3);
    /// ```
    pub fn notify(&self, guard: &LockGuard<'_>, n: usize) {
        self.check(guard, "notify");
        let mut wakers = Wakers::new();
        {
            let mut waiters = lock(&self.waiters);
            for _ in 0..n {
                match waiters.grant_front(()) {
                    Ok(waker) => wakers.push(waker),
                    Err(()) => break,
                }
            }
        }
        wake_all(wakers);
    }

    /// Wakes every waiting task. `guard` proves the lock is held.
    ///
    /// # Panics
    ///
    /// If `guard` holds a lock other than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let cond = tether::sync::Condition::new();
    ///     let guard = cond.lock().await;
    ///     cond.notify_all(&guard); // nobody waits: nothing happens
    ///     assert_eq!(cond.waiting(), 0);
    /// });
    /// ```
    pub fn notify_all(&self, guard: &LockGuard<'_>) {
        self.check(guard, "notify_all");
        let mut wakers = Wakers::new();
        lock(&self.waiters).grant_all(|| (), &mut wakers);
        wake_all(wakers);
    }

    /// How many tasks are waiting to be notified.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = tether::sync::Condition::new();
    /// assert_eq!(cond.waiting(), 0);
    /// ```
    pub fn waiting(&self) -> usize {
        lock(&self.waiters).len()
    }

    fn waiters(&self) -> &Mutex<WaitList<()>> {
        &self.waiters
    }

    #[track_caller]
    fn check(&self, guard: &LockGuard<'_>, method: &str) {
        assert!(
            std::ptr::eq(guard.lock(), self.lock.borrow()),
            "Condition::{method} was given the guard of a different Lock; pass the guard \
             returned by this condition's own `lock().await` (or by the lock it was made with)"
        );
    }
}

/// A waiting [`Condition::wait`]: leaves the queue when dropped, and passes on a notification
/// it received but did not return with.
struct Wait<'a> {
    cond: &'a Mutex<WaitList<()>>,
    key: Option<usize>,
    /// Notified, and taking the lock back.
    notified: bool,
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let mut pass_on = self.notified;
        if let Some(key) = self.key.take() {
            let gone = lock(self.cond).cancel(key);
            match gone {
                Cancelled::Queued(waker) => drop(waker),
                Cancelled::Granted(()) => pass_on = true,
            }
        }
        if pass_on {
            let next = lock(self.cond).grant_front(());
            if let Ok(waker) = next {
                waker.wake();
            }
        }
    }
}

impl Default for Condition<Lock> {
    fn default() -> Self {
        Condition::new()
    }
}

impl<L: Borrow<Lock>> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("name", &self.name)
            .field("lock", self.lock.borrow())
            .field("waiters", &self.waiting())
            .finish()
    }
}
