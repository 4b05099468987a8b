//! The owner check of a [`Sendable`] group: only the thread polling the group may use it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Fallible, Mode, Plain, Sendable, TaskGroup};

// Why a `Sendable` group may be `Send` and `Sync` although its state is in `Cell`s and
// `RefCell`s and its children table holds raw pointers to task headers (which are `Sync`):
//
// 1. Its state is only ever touched by the thread polling (or dropping) the scope future. The
//    group's internals run only there. Every public method (`create_task*`, `spawn*`, `len`,
//    `is_empty`, `id`, `is_shutting_down`, `Debug`) first calls `check_owner`, which panics
//    unless the calling thread is that one: each poll of the scope stores its thread's token
//    (unique per thread, forever) in the group and clears it when the poll ends (`Polling`),
//    and the teardown stores it for good. A thread reads its own token back only between its
//    store and its clear (only it stores that token, and coherence orders its own accesses),
//    and two polls never overlap (they need the pinned future exclusively). So a `&tg`
//    smuggled to another thread (a `std::thread::scope` thread made by the body: `&tg` cannot
//    outlive the body's poll) panics before it touches anything.
// 2. Between polls the group moves only inside its task's future, which the runtime hands from
//    worker to worker with the synchronisation any `Send` task gets.
// 3. Its children are `Send` with `Send` outputs (`Child<'_, Sendable<_>>`, which only tether
//    implements), so running them on the next worker is fine; their `on_end` and `finish`
//    hooks hold only `&TaskGroup` (`Sync`) and where the child is listed for introspection
//    (`Listing`: a send group on a worker lists in the runtime's shared table, behind a mutex).
// 4. Its failures hold `E`s, hence `E: Send`.
//
// SAFETY: by 1-4 above.
unsafe impl Send for TaskGroup<'_, '_, Sendable<Plain>> {}
// SAFETY: as for `Send` above: a `&TaskGroup` used on a thread that is not polling the group
// panics before touching anything.
unsafe impl Sync for TaskGroup<'_, '_, Sendable<Plain>> {}
// SAFETY: as for `Sendable<Plain>`.
unsafe impl<E: Send> Send for TaskGroup<'_, '_, Sendable<Fallible<E>>> {}
// SAFETY: as for `Sendable<Plain>`.
unsafe impl<E: Send> Sync for TaskGroup<'_, '_, Sendable<Fallible<E>>> {}

/// This thread's token for a [`Sendable`] group's owner check: never 0, and never the same for
/// two threads of the process, alive or dead.
pub(super) fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        // Const-initialised and without a destructor: usable until the thread is gone, even
        // from other thread-locals' destructors.
        static TOKEN: Cell<u64> = const { Cell::new(0) };
    }
    TOKEN.with(|token| {
        if token.get() == 0 {
            token.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        token.get()
    })
}

/// Why a [`Sendable`] group refused a call.
#[derive(Debug, thiserror::Error)]
#[error(
    "a TaskGroup may only be used from the task that opened it, while that task runs it: this \
     call came from another thread (a std::thread::scope thread, say). Create the group's \
     children from its body or its children; for work on other threads, hand it to tg.spawn or \
     tether::to_thread and await the handle in the group"
)]
struct NotTheOwner;

/// Marks the group as polled by this thread for one poll ([`Sendable`] groups only).
pub(super) struct Polling<'a, 'scope, 'env, M: Mode> {
    group: &'a TaskGroup<'scope, 'env, M>,
}

impl<'a, 'scope, 'env, M: Mode> Polling<'a, 'scope, 'env, M> {
    pub(super) fn enter(group: &'a TaskGroup<'scope, 'env, M>) -> Self {
        if M::CHECKED {
            group.poller.store(thread_token(), Ordering::Relaxed);
        }
        Polling { group }
    }
}

impl<M: Mode> Drop for Polling<'_, '_, '_, M> {
    fn drop(&mut self) {
        if M::CHECKED {
            self.group.poller.store(0, Ordering::Relaxed);
        }
    }
}

impl<M: Mode> TaskGroup<'_, '_, M> {
    /// Panics unless the caller is the thread polling (or tearing down) this group. Compiled
    /// away but for [`Sendable`] groups.
    ///
    /// Sound with `Relaxed`: only this thread ever stores its own token, and it clears it
    /// (stores 0) before its poll ends, so by coherence it reads its token back only between
    /// the two, inside its own poll, when no other thread may poll the group.
    #[track_caller]
    pub(super) fn check_owner(&self) {
        if M::CHECKED && self.poller.load(Ordering::Relaxed) != thread_token() {
            panic!("{NotTheOwner}");
        }
    }
}
