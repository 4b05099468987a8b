//! The synchronisation primitives of the work-stealing path: std's, or loom's when the loom
//! models run (`RUSTFLAGS="--cfg loom" cargo test -p tether --lib --release workers::loom`), so
//! that the models check the very code the runtime runs.

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(all(test, loom))]
pub(crate) use loom::sync::{Mutex, MutexGuard};

/// Locks `mutex`, going on through poisoning: every critical section here leaves its data
/// consistent, so a panic elsewhere while the lock was held changes nothing.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
