//! The synchronisation primitives of the cross-thread paths that the loom models check (a
//! loop's inbox, the workers' queues and sleepers, the wakers of a `join::Unordered`): std's, or loom's when the models run
//! (`RUSTFLAGS="--cfg loom" cargo test -p tether --lib --release loom_models`), so that the
//! models check the very code the runtime runs.

// `AtomicPtr` is the workers' LIFO slot's alone.
#[cfg(not(all(test, loom)))]
#[cfg_attr(not(feature = "workers"), allow(unused_imports))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
#[cfg(all(test, loom))]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(all(test, loom))]
pub(crate) use loom::cell::UnsafeCell;

/// `std`'s `UnsafeCell` with loom's access API, so that loom can check every access.
#[cfg(all(feature = "workers", not(all(test, loom))))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(all(feature = "workers", not(all(test, loom))))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to the contents; the caller's protocol makes access exclusive.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// A mutex [`lock`] can take: std's, or loom's under the models.
pub(crate) trait Lockable {
    type Guard<'a>
    where
        Self: 'a;
    fn lock_result(&self) -> std::sync::LockResult<Self::Guard<'_>>;
}

impl<T: ?Sized> Lockable for std::sync::Mutex<T> {
    type Guard<'a>
        = std::sync::MutexGuard<'a, T>
    where
        T: 'a;
    fn lock_result(&self) -> std::sync::LockResult<Self::Guard<'_>> {
        self.lock()
    }
}

#[cfg(all(test, loom))]
impl<T> Lockable for loom::sync::Mutex<T> {
    type Guard<'a>
        = loom::sync::MutexGuard<'a, T>
    where
        T: 'a;
    fn lock_result(&self) -> std::sync::LockResult<Self::Guard<'_>> {
        self.lock()
    }
}

/// Locks `mutex`, going on through poisoning: every critical section in tether leaves its data
/// consistent, so a panic elsewhere while the lock was held changes nothing. The one lock
/// helper of the crate, for std's mutexes and the loom facade's alike.
pub(crate) fn lock<M: Lockable + ?Sized>(mutex: &M) -> M::Guard<'_> {
    unpoison(mutex.lock_result())
}

/// The guard of a lock taken through poisoning (see [`lock`]): for the locks `lock` does not
/// take itself (`RwLock`, `Condvar` waits).
pub(crate) fn unpoison<G>(result: std::sync::LockResult<G>) -> G {
    result.unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Takes `mutex` if it is free, going on through poisoning as [`lock`] does; `None` if another
/// thread holds it.
pub(crate) fn try_lock<T: ?Sized>(
    mutex: &std::sync::Mutex<T>,
) -> Option<std::sync::MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}
