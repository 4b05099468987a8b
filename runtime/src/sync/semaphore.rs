use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};

use super::waiters::{Cancelled, WaitList, lock, poll_waiter};
use crate::task_core::awaiting::{self, Awaiting, SyncKind};

/// A counter of permits that tasks wait for: asyncio's `Semaphore`.
///
/// [`acquire`](Semaphore::acquire) takes a permit, waiting while none is left, and returns a
/// [`SemaphorePermit`] that gives it back when dropped (asyncio's `async with sem:`). Use it to
/// bound concurrency: at most `permits` tasks hold one at a time.
///
/// asyncio's manual form is here too: [`SemaphorePermit::forget`] keeps a permit taken without
/// a guard, and [`Semaphore::release`] adds one. As in asyncio, `release` may raise the count
/// above its initial value; [`BoundedSemaphore`] refuses to.
///
/// # Fairness
///
/// First come, first served: a released permit goes straight to the task that has waited
/// longest, and `acquire` queues behind waiting tasks even when it runs first.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::time::Duration;
/// use tether::sync::Semaphore;
///
/// let downloads = Semaphore::new(2);
/// let (running, most) = (Cell::new(0), Cell::new(0));
/// tether::run(async {
///     tether::task_group!(|tg| {
///         for _ in 0..5 {
///             let (downloads, running, most) = (&downloads, &running, &most);
///             tg.create_task(async move {
///                 let _permit = downloads.acquire().await;
///                 running.set(running.get() + 1);
///                 most.set(most.get().max(running.get()));
///                 tether::sleep(Duration::from_millis(1)).await;
///                 running.set(running.get() - 1);
///             });
///         }
///     })
///     .unwrap();
/// });
/// assert_eq!(most.get(), 2);
/// ```
pub struct Semaphore {
    core: Core,
}

/// A semaphore that refuses to be released above its initial count: asyncio's
/// `BoundedSemaphore`.
///
/// It behaves as [`Semaphore`], except that [`release`](BoundedSemaphore::release) returns a
/// [`BoundedReleaseError`] unless a permit was taken out with
/// [`forget`](SemaphorePermit::forget) and not yet given back. Permits held by guards always
/// return on their own, so the count can never climb above where it started.
///
/// # Examples
///
/// ```
/// use tether::sync::BoundedSemaphore;
///
/// tether::run(async {
///     let sem = BoundedSemaphore::new(1);
///     sem.acquire().await.forget(); // asyncio's `await sem.acquire()`
///     assert_eq!(sem.available_permits(), 0);
///     sem.release().unwrap(); // asyncio's `sem.release()`
///     assert!(sem.release().is_err(), "one release too many");
/// });
/// ```
pub struct BoundedSemaphore {
    core: Core,
}

/// The error of releasing a [`BoundedSemaphore`] more times than permits were taken from it.
///
/// # Examples
///
/// ```
/// let sem = tether::sync::BoundedSemaphore::new(3);
/// let err = sem.release().unwrap_err();
/// assert_eq!(err.permits(), 3);
/// println!("{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "BoundedSemaphore released too many times: it already holds all {permits} of its permits; \
     release() only gives back permits taken with acquire().await.forget(), and a permit guard \
     gives its own back when dropped"
)]
pub struct BoundedReleaseError {
    permits: usize,
}

impl BoundedReleaseError {
    /// The semaphore's initial (and maximal) number of permits.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = tether::sync::BoundedSemaphore::new(5);
    /// assert_eq!(sem.release().unwrap_err().permits(), 5);
    /// ```
    pub fn permits(&self) -> usize {
        self.permits
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it gives the permit back.
///
/// # Examples
///
/// ```
/// use tether::sync::Semaphore;
///
/// tether::run(async {
///     let sem = Semaphore::new(1);
///     let permit = sem.acquire().await;
///     assert_eq!(sem.available_permits(), 0);
///     drop(permit);
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    core: &'a Core,
}

/// A permit that owns an `Arc` of its semaphore, so it can move into a `'static` task (one
/// spawned with [`create_task`](crate::create_task) or in a [`TaskSet`](crate::TaskSet)).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use tether::sync::Semaphore;
///
/// tether::run(async {
///     let sem = Arc::new(Semaphore::new(1));
///     let permit = sem.clone().acquire_owned().await;
///     let task = tether::create_task(async move {
///         let _permit = permit; // held until the task ends
///     });
///     task.await.unwrap();
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    /// `None` once forgotten.
    owner: Option<Owner>,
}

enum Owner {
    Semaphore(Arc<Semaphore>),
    BoundedSemaphore(Arc<BoundedSemaphore>),
}

impl Owner {
    fn core(&self) -> &Core {
        match self {
            Owner::Semaphore(sem) => &sem.core,
            Owner::BoundedSemaphore(sem) => &sem.core,
        }
    }
}

/// What both semaphores are made of.
struct Core {
    state: Mutex<State>,
    /// The initial count.
    initial: usize,
    /// The name given at construction, for `dump_tasks` and deadlock reports.
    name: Option<&'static str>,
}

struct State {
    /// Free permits. Never non-zero while `waiters` is non-empty: a released permit goes to a
    /// waiter first.
    permits: usize,
    waiters: WaitList<()>,
    /// Permits taken with `forget` and not yet released (what a bounded semaphore may release).
    forgotten: usize,
}

impl Core {
    const fn new(permits: usize, name: Option<&'static str>) -> Core {
        Core {
            name,
            state: Mutex::new(State {
                permits,
                waiters: WaitList::new(),
                forgotten: 0,
            }),
            initial: permits,
        }
    }

    async fn acquire(&self) {
        let mut wait = Wait {
            core: self,
            key: None,
        };
        let parked = poll_fn(|cx| {
            poll_waiter(
                &self.state,
                &mut wait.key,
                cx.waker(),
                |state| &mut state.waiters,
                |state| (state.permits > 0).then(|| state.permits -= 1),
            )
        });
        let what = || Awaiting::sync(SyncKind::Semaphore, self.name, self);
        awaiting::tracked(parked, what).await
    }

    fn try_acquire(&self) -> bool {
        let mut state = lock(&self.state);
        if state.permits == 0 {
            return false;
        }
        state.permits -= 1;
        true
    }

    /// Gives one permit to the longest waiter, or back to the pool.
    fn release(&self) {
        let waker = {
            let mut state = lock(&self.state);
            match state.waiters.grant_front(()) {
                Ok(waker) => Some(waker),
                Err(()) => match state.permits.checked_add(1) {
                    Some(permits) => {
                        state.permits = permits;
                        None
                    }
                    None => {
                        // Checked in release builds too: a wrapped count would lose every
                        // permit. Unlocked first, so the semaphore stays usable for whoever
                        // catches the panic.
                        drop(state);
                        panic!("{TOO_MANY_PERMITS}");
                    }
                },
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn forget(&self) {
        lock(&self.state).forgotten += 1;
    }

    /// Releases a permit taken with `forget`: the bounded semaphore's `release`.
    fn release_forgotten(&self) -> Result<(), BoundedReleaseError> {
        {
            let mut state = lock(&self.state);
            if state.forgotten == 0 {
                return Err(BoundedReleaseError {
                    permits: self.initial,
                });
            }
            state.forgotten -= 1;
        }
        self.release();
        Ok(())
    }

    fn available(&self) -> usize {
        lock(&self.state).permits
    }

    fn waiting(&self) -> usize {
        lock(&self.state).waiters.len()
    }

    fn fmt(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct(name)
            .field("permits", &state.permits)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// A parked acquire: leaves the queue when dropped, passing on a permit it was handed.
struct Wait<'a> {
    core: &'a Core,
    key: Option<usize>,
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let gone = lock(&self.core.state).waiters.cancel(key);
            match gone {
                Cancelled::Queued(waker) => drop(waker),
                Cancelled::Granted(()) => self.core.release(),
            }
        }
    }
}

/// The methods both semaphores share, written once with the type's name in the examples.
macro_rules! semaphore_methods {
    ($name:ident) => {
        impl $name {
            #[doc = concat!("A new ", stringify!($name), " with `permits` permits. `const`, so it can be a `static`.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use tether::sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("static CONNECTIONS: ", stringify!($name), " = ", stringify!($name), "::new(100);")]
            /// assert_eq!(CONNECTIONS.available_permits(), 100);
            /// ```
            pub const fn new(permits: usize) -> $name {
                $name {
                    core: Core::new(permits, None),
                }
            }

            #[doc = concat!("A new ", stringify!($name), " with `permits` permits and a name, which [`dump_tasks`](crate::dump_tasks), [`TaskInfo::awaiting`](crate::task::TaskInfo::awaiting) and deadlock reports show for the tasks waiting on it. `const`, so it can be a `static`.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use tether::sync::", stringify!($name), ";")]
            ///
            #[doc = concat!("static POOL: ", stringify!($name), " = ", stringify!($name), "::named(10, \"db pool\");")]
            /// assert_eq!(POOL.name(), Some("db pool"));
            /// ```
            pub const fn named(permits: usize, name: &'static str) -> $name {
                $name {
                    core: Core::new(permits, Some(name)),
                }
            }

            #[doc = concat!("The name given to [`", stringify!($name), "::named`], if any.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert_eq!(tether::sync::", stringify!($name), "::new(1).name(), None);")]
            /// ```
            pub fn name(&self) -> Option<&'static str> {
                self.core.name
            }

            /// Waits for a permit and returns the guard that gives it back when dropped.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe. Dropped while waiting, the future leaves the queue; dropped after
            /// a permit was handed to it but before it ran, it passes the permit on to the
            /// next waiter (or back to the pool): no permit is ever lost.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use tether::sync::", stringify!($name), ";")]
            ///
            /// tether::run(async {
            #[doc = concat!("    let sem = ", stringify!($name), "::new(1);")]
            ///     let permit = sem.acquire().await;
            ///     assert!(sem.try_acquire().is_none());
            ///     drop(permit);
            ///     assert!(sem.try_acquire().is_some());
            /// });
            /// ```
            pub async fn acquire(&self) -> SemaphorePermit<'_> {
                self.core.acquire().await;
                SemaphorePermit { core: &self.core }
            }

            /// Like [`acquire`](Self::acquire), for a semaphore in an `Arc`: the permit keeps
            /// the semaphore alive and can move into a `'static` task.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe, as [`acquire`](Self::acquire).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            #[doc = concat!("use tether::sync::", stringify!($name), ";")]
            ///
            /// tether::run(async {
            #[doc = concat!("    let sem = Arc::new(", stringify!($name), "::new(2));")]
            ///     let mut set = tether::TaskSet::new();
            ///     for i in 0..4 {
            ///         let permit = sem.clone().acquire_owned().await;
            ///         set.create_task(async move {
            ///             let _permit = permit;
            ///             tether::yield_now().await;
            ///             i
            ///         });
            ///     }
            ///     assert_eq!(set.join_all().await.len(), 4);
            /// });
            /// ```
            pub async fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
                self.core.acquire().await;
                OwnedSemaphorePermit {
                    owner: Some(Owner::$name(self)),
                }
            }

            /// Takes a permit if one is free right now; `None` otherwise (also when every
            /// free permit is promised to a waiter that has not run yet).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = tether::sync::", stringify!($name), "::new(1);")]
            /// let permit = sem.try_acquire().unwrap();
            /// assert!(sem.try_acquire().is_none());
            /// drop(permit);
            /// ```
            pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
                // Not `then_some`: a permit made eagerly would release on drop.
                if self.core.try_acquire() {
                    Some(SemaphorePermit { core: &self.core })
                } else {
                    None
                }
            }

            /// Like [`try_acquire`](Self::try_acquire), for a semaphore in an `Arc`.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            ///
            #[doc = concat!("let sem = Arc::new(tether::sync::", stringify!($name), "::new(1));")]
            /// let permit = sem.clone().try_acquire_owned().unwrap();
            /// assert!(sem.clone().try_acquire_owned().is_none());
            /// drop(permit);
            /// assert_eq!(sem.available_permits(), 1);
            /// ```
            pub fn try_acquire_owned(self: Arc<Self>) -> Option<OwnedSemaphorePermit> {
                if self.core.try_acquire() {
                    Some(OwnedSemaphorePermit {
                        owner: Some(Owner::$name(self)),
                    })
                } else {
                    None
                }
            }

            /// How many permits are free right now.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = tether::sync::", stringify!($name), "::new(3);")]
            /// let _permit = sem.try_acquire();
            /// assert_eq!(sem.available_permits(), 2);
            /// ```
            pub fn available_permits(&self) -> usize {
                self.core.available()
            }

            /// `true` if [`acquire`](Self::acquire) would wait: no permit is free (asyncio's
            /// `locked()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = tether::sync::", stringify!($name), "::new(1);")]
            /// let permit = sem.try_acquire();
            /// assert!(sem.is_locked());
            /// drop(permit);
            /// assert!(!sem.is_locked());
            /// ```
            pub fn is_locked(&self) -> bool {
                self.core.available() == 0
            }

            /// How many tasks are waiting for a permit.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use tether::sync::", stringify!($name), ";")]
            ///
            /// tether::run(async {
            #[doc = concat!("    let sem = ", stringify!($name), "::new(0);")]
            ///     tether::task_group!(|tg| {
            ///         let waiter = tg.create_task(async { drop(sem.acquire().await) });
            ///         tether::yield_now().await;
            ///         assert_eq!(sem.waiting(), 1);
            ///         waiter.cancel();
            ///     })
            ///     .unwrap();
            ///     assert_eq!(sem.waiting(), 0);
            /// });
            /// ```
            pub fn waiting(&self) -> usize {
                self.core.waiting()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.core.fmt(stringify!($name), f)
            }
        }
    };
}

semaphore_methods!(Semaphore);
semaphore_methods!(BoundedSemaphore);

/// The message of a release past [`Semaphore::MAX_PERMITS`].
const TOO_MANY_PERMITS: &str = "Semaphore::release: the semaphore already holds \
    Semaphore::MAX_PERMITS (usize::MAX) free permits and cannot count another; release only \
    permits taken with acquire().await.forget(), or use a BoundedSemaphore, which refuses \
    releases past its initial count";

impl Semaphore {
    /// The most free permits a semaphore can count: [`new`](Semaphore::new) accepts any
    /// `usize`, and [`release`](Semaphore::release) panics rather than go past this.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    /// assert_eq!(sem.available_permits(), usize::MAX);
    /// ```
    pub const MAX_PERMITS: usize = usize::MAX;

    /// Adds a permit, waking the longest waiter if there is one: asyncio's `release()`.
    ///
    /// Pair it with [`SemaphorePermit::forget`] for asyncio's manual `acquire()`/`release()`.
    /// As in asyncio, releasing more than was acquired raises the count past its start; use a
    /// [`BoundedSemaphore`] to have that refused.
    ///
    /// # Panics
    ///
    /// If the semaphore already holds [`Semaphore::MAX_PERMITS`] free permits: its count has
    /// no room for another (tokio's limit is lower, `usize::MAX >> 3`, checked the same way).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Semaphore;
    ///
    /// tether::run(async {
    ///     let sem = Semaphore::new(1);
    ///     sem.acquire().await.forget();
    ///     assert_eq!(sem.available_permits(), 0);
    ///     sem.release();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn release(&self) {
        self.core.release();
    }
}

impl BoundedSemaphore {
    /// Gives back a permit taken with [`forget`](SemaphorePermit::forget), waking the longest
    /// waiter if there is one: asyncio's `release()`.
    ///
    /// # Errors
    ///
    /// [`BoundedReleaseError`] if no forgotten permit is outstanding: the release would raise
    /// the count above the initial value (asyncio raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::BoundedSemaphore;
    ///
    /// tether::run(async {
    ///     let sem = BoundedSemaphore::new(2);
    ///     sem.acquire().await.forget();
    ///     assert_eq!(sem.release(), Ok(()));
    ///     assert!(sem.release().is_err());
    ///     assert_eq!(sem.available_permits(), 2);
    /// });
    /// ```
    pub fn release(&self) -> Result<(), BoundedReleaseError> {
        self.core.release_forgotten()
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken without a guard: the semaphore's count stays lowered until a
    /// [`Semaphore::release`] (or [`BoundedSemaphore::release`]) gives it back.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn forget(self) {
        self.core.forget();
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.core.release();
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permit taken without a guard, as [`SemaphorePermit::forget`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tether::sync::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        if let Some(owner) = self.owner.take() {
            owner.core().forget();
        }
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.take() {
            owner.core().release();
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .finish_non_exhaustive()
    }
}
