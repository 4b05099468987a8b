use std::fmt;
use std::future::poll_fn;
use std::sync::Mutex;

use super::waiters::{Cancelled, WaitList, lock, poll_waiter};
use crate::task_core::awaiting::{
    Awaiting, SyncKind, WaitRecord, holder_acquired, holder_released,
};

/// A mutual-exclusion lock for tasks: asyncio's `Lock`.
///
/// [`lock`](Lock::lock) waits until the lock is free and returns a [`LockGuard`]; the lock is
/// released when the guard is dropped (asyncio's `async with lock:`). Unlike a
/// `std::sync::Mutex`, the guard may be held across `.await` points: waiting for it parks the
/// task, not the thread.
///
/// As asyncio's lock, it guards no data of its own: it orders *tasks*. Keep the shared state
/// next to it (a `Cell` or `RefCell` for tasks on one loop, an atomic or a `std::sync::Mutex`
/// across threads) and touch it only while holding the guard.
///
/// # Fairness
///
/// Strictly first come, first served. Releasing the lock hands it straight to the task that
/// has waited longest; a task that calls `lock` while others wait queues behind them, even if
/// it happens to run first.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::time::Duration;
/// use tether::sync::Lock;
///
/// let lock = Lock::new();
/// let log = RefCell::new(Vec::new());
/// tether::run(async {
///     tether::task_group!(|tg| {
///         for name in ["a", "b"] {
///             let (lock, log) = (&lock, &log);
///             tg.create_task(async move {
///                 let _guard = lock.lock().await;
///                 log.borrow_mut().push(format!("{name} in"));
///                 tether::sleep(Duration::from_millis(1)).await;
///                 log.borrow_mut().push(format!("{name} out"));
///             });
///         }
///     })
///     .unwrap();
/// });
/// assert_eq!(log.into_inner(), ["a in", "a out", "b in", "b out"]);
/// ```
pub struct Lock {
    state: Mutex<State>,
    /// The name given at construction, for `dump_tasks` and deadlock reports.
    name: Option<&'static str>,
}

struct State {
    /// Held by a guard, or handed to a waiter that has not run yet. Never `false` while
    /// `waiters` is non-empty.
    locked: bool,
    waiters: WaitList<()>,
}

/// Holds a [`Lock`]; dropping the guard releases it (to the longest waiter, if any).
///
/// # Examples
///
/// ```
/// use tether::sync::Lock;
///
/// tether::run(async {
///     let lock = Lock::new();
///     let guard = lock.lock().await;
///     assert!(lock.is_locked());
///     drop(guard);
///     assert!(!lock.is_locked());
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Lock {
    /// A new, unlocked lock. `const`, so a lock can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Lock;
    ///
    /// static LOCK: Lock = Lock::new();
    /// assert!(!LOCK.is_locked());
    /// ```
    pub const fn new() -> Lock {
        Lock {
            state: Mutex::new(State {
                locked: false,
                waiters: WaitList::new(),
            }),
            name: None,
        }
    }

    /// A new, unlocked lock with a name, which [`dump_tasks`](crate::dump_tasks),
    /// [`TaskInfo::awaiting`](crate::task::TaskInfo::awaiting) and deadlock reports show for the
    /// tasks waiting on it. `const`, so a named lock can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Lock;
    ///
    /// static ACCOUNTS: Lock = Lock::named("accounts");
    /// assert_eq!(ACCOUNTS.name(), Some("accounts"));
    /// ```
    pub const fn named(name: &'static str) -> Lock {
        let mut lock = Lock::new();
        lock.name = Some(name);
        lock
    }

    /// The name given to [`Lock::named`], if any.
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// What a task parked in [`lock`](Lock::lock) awaits.
    fn awaited(&self) -> Awaiting {
        Awaiting::Sync {
            kind: SyncKind::Lock,
            name: self.name,
            object: self.address(),
            held_by: None,
        }
    }

    fn address(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// Waits until the lock is free, takes it, and returns the guard that releases it.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe. Dropped while waiting, the future leaves the queue. Dropped after the lock
    /// was handed to it but before it ran, it passes the lock on to the next waiter (or
    /// releases it): the lock is never left held by nobody.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Lock;
    ///
    /// tether::run(async {
    ///     let lock = Lock::new();
    ///     {
    ///         let _guard = lock.lock().await;
    ///         // ... the critical section, awaits allowed ...
    ///     }
    ///     assert!(!lock.is_locked());
    /// });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_> {
        let mut wait = Wait {
            lock: self,
            key: None,
        };
        let mut record = WaitRecord::new();
        poll_fn(|cx| {
            let poll = poll_waiter(
                &self.state,
                &mut wait.key,
                cx.waker(),
                |state| &mut state.waiters,
                |state| (!state.locked).then(|| state.locked = true),
            );
            record.track(poll, || self.awaited())
        })
        .await;
        holder_acquired(self.address());
        LockGuard { lock: self }
    }

    /// Takes the lock if it is free right now; `None` if it is held (or promised to a waiter).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Lock;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.try_lock().expect("nobody holds it");
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        let mut state = lock(&self.state);
        if state.locked {
            return None;
        }
        state.locked = true;
        drop(state);
        holder_acquired(self.address());
        Some(LockGuard { lock: self })
    }

    /// `true` if the lock is held (or has been handed to a waiter that has not run yet).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = tether::sync::Lock::new();
    /// assert!(!lock.is_locked());
    /// let _guard = lock.try_lock();
    /// assert!(lock.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        lock(&self.state).locked
    }

    /// Gives the lock to the longest waiter, or marks it free.
    fn unlock(&self) {
        holder_released(self.address());
        let waker = {
            let mut state = lock(&self.state);
            match state.waiters.grant_front(()) {
                Ok(waker) => Some(waker),
                Err(()) => {
                    state.locked = false;
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<'a> LockGuard<'a> {
    /// The lock this guard holds.
    pub(crate) fn lock(&self) -> &'a Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

/// A parked [`Lock::lock`]: leaves the queue when dropped, passing on a lock it was handed.
struct Wait<'a> {
    lock: &'a Lock,
    key: Option<usize>,
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let gone = lock(&self.lock.state).waiters.cancel(key);
            match gone {
                Cancelled::Queued(waker) => drop(waker),
                Cancelled::Granted(()) => self.lock.unlock(),
            }
        }
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        let mut out = f.debug_struct("Lock");
        if let Some(name) = self.name {
            out.field("name", &name);
        }
        out.field("locked", &state.locked)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}
