//! Synchronization primitives for tasks: asyncio's `Event`, `Lock`, `Semaphore`,
//! `BoundedSemaphore`, `Condition` and `Barrier`.
//!
//! | asyncio | tether |
//! | --- | --- |
//! | `asyncio.Event()`: `set`, `clear`, `is_set`, `await wait()` | [`Event`] |
//! | `asyncio.Lock()`: `async with lock:`, `locked()` | [`Lock`]: `lock().await` returns a [`LockGuard`]; [`Lock::try_lock`], [`Lock::is_locked`] |
//! | `asyncio.Semaphore(n)`: `async with sem:` | [`Semaphore`]: `acquire().await` returns a [`SemaphorePermit`] |
//! | `await sem.acquire()` … `sem.release()` | `sem.acquire().await.forget()` … [`Semaphore::release`] |
//! | `asyncio.BoundedSemaphore(n)`, its `ValueError` | [`BoundedSemaphore`], [`BoundedReleaseError`] |
//! | `asyncio.Condition(lock=None)` | [`Condition::new`], [`Condition::with_lock`] |
//! | `await cond.wait()`, `wait_for(pred)`, `notify(n)`, `notify_all()` | the same names; `wait` takes and returns the [`LockGuard`], `notify` borrows it |
//! | `asyncio.Barrier(n)`, `BrokenBarrierError` | [`Barrier`], [`BrokenBarrierError`] |
//! | (no asyncio equivalent: a server's idle connections, to shed the oldest or the expired) | [`IdleQueue`], [`IdleMember`], [`Busy`] |
//!
//! # What every primitive promises
//!
//! - **Fair.** Waiters are served first come, first served. A freed lock or permit is handed
//!   straight to the task that has waited longest, so a task that arrives later cannot take
//!   it first, however the loop happens to order them.
//! - **Cancel-safe.** Dropping a waiting future (a cancelled task, a `timeout`, a `select`)
//!   removes it from the queue in O(1). If it had already been handed what it waited for (the
//!   lock, a permit, a notification) and was dropped before it ran, it passes that on to the
//!   next waiter: nothing is lost.
//! - **`Send + Sync`.** State lives behind a `std::sync::Mutex`, held only for a few
//!   instructions: wakers are woken and dropped after it is released, and no user code runs
//!   under it (a `Condition` predicate runs with only the `Lock` held). A primitive can be borrowed by
//!   group children, shared through an `Rc` or `Arc` with tasks and [`TaskSet`](crate::TaskSet)
//!   members, kept in a `static`, or touched from another thread: an [`Event`] set by a plain
//!   thread wakes the task waiting on the loop.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tether::sync::{Event, Semaphore};
//!
//! tether::run(async {
//!     let start = Event::new();
//!     let slots = Semaphore::new(2);
//!     tether::task_group!(|tg| {
//!         for i in 0..4 {
//!             let (start, slots) = (&start, &slots);
//!             tg.create_task(async move {
//!                 start.wait().await;
//!                 let _slot = slots.acquire().await;
//!                 tether::sleep(Duration::from_millis(10)).await;
//!                 println!("job {i} done");
//!             });
//!         }
//!         start.set();
//!     })
//!     .unwrap();
//! });
//! ```

mod barrier;
mod condition;
mod event;
mod idle;
pub(crate) mod limit;
mod lock;
pub(crate) mod promise;
mod semaphore;
pub(crate) mod waiters;

pub use barrier::{Barrier, BarrierWaitResult, BrokenBarrierError};
pub use condition::Condition;
pub use event::Event;
pub use idle::{Busy, IdleMember, IdleQueue};
pub use lock::{Lock, LockGuard};
pub use semaphore::{
    BoundedReleaseError, BoundedSemaphore, OwnedSemaphorePermit, Semaphore, SemaphorePermit,
};

/// Every primitive is `Send + Sync`, and so are its guards: checked at compile time.
#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Event>();
    send_sync::<Lock>();
    send_sync::<LockGuard<'_>>();
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    send_sync::<SemaphorePermit<'_>>();
    send_sync::<OwnedSemaphorePermit>();
    send_sync::<Condition>();
    send_sync::<Barrier>();
    send_sync::<IdleQueue>();
    send_sync::<IdleMember>();
    send_sync::<Busy>();

    // The futures are `Send` too, so a `Send` task may await them.
    fn send<T: Send>(_: T) {}
    let (event, lock, sem, cond, barrier) = (
        Event::new(),
        Lock::new(),
        Semaphore::new(1),
        Condition::new(),
        Barrier::new(1),
    );
    send(event.wait());
    send(lock.lock());
    send(sem.acquire());
    send(std::sync::Arc::new(Semaphore::new(1)).acquire_owned());
    send(async {
        let guard = cond.lock().await;
        let guard = cond.wait(guard).await;
        cond.wait_for(guard, || true).await
    });
    send(barrier.wait());
    let idle = IdleQueue::new();
    let member = idle.member();
    send(member.shed());
    send(idle.sweep(std::time::Duration::from_secs(1)));
}
