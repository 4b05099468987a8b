//! The process-wide table of current waits, and the switch that turns recording on.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::Awaiting;
use crate::task::header::TaskId;

/// How many live loops record waits. Zero: every wait skips recording after one load.
static TRACKING: AtomicUsize = AtomicUsize::new(0);

/// The current waits: token -> (waiting task, what it awaits).
static WAITS: Mutex<BTreeMap<u64, (TaskId, Awaiting)>> = Mutex::new(BTreeMap::new());

/// The holder of every held `Lock`, by the lock's address (only while recording is on).
static HOLDERS: Mutex<BTreeMap<usize, TaskId>> = Mutex::new(BTreeMap::new());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[inline]
fn is_on() -> bool {
    TRACKING.load(Ordering::Relaxed) != 0
}

/// Recording switched on for as long as this lives (one per loop that asks for it).
#[derive(Debug)]
pub(crate) struct Tracking(());

impl Tracking {
    pub(crate) fn start() -> Tracking {
        TRACKING.fetch_add(1, Ordering::Relaxed);
        Tracking(())
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        TRACKING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One wait of one future: recorded the first time it parks, removed when it ends (completes,
/// or the future is dropped). Keep it in the waiting future's state, next to what it waits on.
#[derive(Debug, Default)]
pub(crate) struct WaitRecord {
    /// 0 while nothing is recorded.
    token: u64,
}

impl WaitRecord {
    pub(crate) const fn new() -> WaitRecord {
        WaitRecord { token: 0 }
    }

    /// Records `what` for the running task if `poll` is pending (and recording is on); forgets
    /// it once `poll` is ready. Returns `poll`.
    #[inline]
    pub(crate) fn track<T>(
        &mut self,
        poll: std::task::Poll<T>,
        what: impl FnOnce() -> Awaiting,
    ) -> std::task::Poll<T> {
        if poll.is_pending() {
            if self.token == 0 && is_on() {
                self.start(what());
            }
        } else if self.token != 0 {
            self.end();
        }
        poll
    }

    /// Records `what` for the running task now, for a wait kept by a resource rather than by
    /// a future (the I/O driver keeps one beside each waker it holds): `None` while recording
    /// is off or no task runs here. Dropping the record ends it.
    #[inline]
    pub(crate) fn parked(what: impl FnOnce() -> Awaiting) -> Option<WaitRecord> {
        if !is_on() {
            return None;
        }
        let mut record = WaitRecord::new();
        record.start(what());
        (record.token != 0).then_some(record)
    }

    #[cold]
    fn start(&mut self, what: Awaiting) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let Some(task) = crate::task::raw::running_id() else {
            return;
        };
        let token = NEXT.fetch_add(1, Ordering::Relaxed);
        lock(&WAITS).insert(token, (task, what));
        self.token = token;
    }

    #[cold]
    fn end(&mut self) {
        lock(&WAITS).remove(&std::mem::take(&mut self.token));
    }
}

impl Drop for WaitRecord {
    #[inline]
    fn drop(&mut self) {
        if self.token != 0 {
            self.end();
        }
    }
}

/// The running task took the `Lock` at `object` (recorded only while recording is on).
#[inline]
pub(crate) fn holder_acquired(object: usize) {
    if is_on() {
        if let Some(task) = crate::task::raw::running_id() {
            lock(&HOLDERS).insert(object, task);
        }
    }
}

/// The `Lock` at `object` was released.
#[inline]
pub(crate) fn holder_released(object: usize) {
    if is_on() {
        lock(&HOLDERS).remove(&object);
    }
}

/// What each task of `tasks` awaits, most recent wait last, with lock holders filled in.
pub(crate) fn snapshot(tasks: &[TaskId]) -> BTreeMap<TaskId, Awaiting> {
    let mut found = BTreeMap::new();
    if !is_on() {
        return found;
    }
    {
        let waits = lock(&WAITS);
        // Tokens grow, so a task's latest wait comes last and wins (a task waiting on several
        // things at once, in a select or a gather, shows the one it parked on most recently).
        for (task, what) in waits.values() {
            if tasks.binary_search(task).is_ok() {
                found.insert(*task, *what);
            }
        }
    }
    let holders = lock(&HOLDERS);
    for what in found.values_mut() {
        if let Awaiting::Sync {
            kind: super::SyncKind::Lock,
            object,
            held_by,
            ..
        } = what
        {
            *held_by = holders.get(object).copied();
        }
    }
    found
}

/// Runs `future`, recording `what()` for the running task while it is parked.
pub(crate) async fn tracked<F: std::future::Future>(
    future: F,
    what: impl Fn() -> Awaiting,
) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut record = WaitRecord::new();
    std::future::poll_fn(|cx| {
        let poll = future.as_mut().poll(cx);
        record.track(poll, &what)
    })
    .await
}
