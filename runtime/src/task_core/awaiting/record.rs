//! The process-wide table of current waits, and the switch that turns recording on.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Awaiting;
use crate::task_core::header::TaskId;
use crate::util::loom_facade::lock;
use crate::util::published::{
    Holder, PUBLISHED, RemoteWait, count_recording_loop, recording_waits, set_array,
};
use crate::util::slab::Slab;

/// The current waits, each under the key its `WaitRecord` keeps. A slab, not an ordered map:
/// a wait starts and ends in O(1), and only a listing reads them all.
static WAITS: Mutex<Waits> = Mutex::new(Waits {
    slab: Slab::new(),
    remote: Vec::new(),
});

/// The holder of every held `Lock`, by the lock's address (only while recording is on). A
/// list: a task holds few locks at a time, so a search by address stays short. Published for
/// outside tools (`crate::util::published`) as it is.
static HOLDERS: Mutex<Vec<Holder>> = Mutex::new(Vec::new());

/// The waits, and the same waits encoded for outside tools under the same keys (a vacant
/// record's task is 0).
struct Waits {
    slab: Slab<Wait>,
    remote: Vec<RemoteWait>,
}

/// One recorded wait.
struct Wait {
    /// When it started, in the order of all waits: of a task's waits, the latest is listed.
    seq: u64,
    task: TaskId,
    what: Awaiting,
}

#[inline]
fn is_on() -> bool {
    recording_waits()
}

/// Recording switched on for as long as this lives (one per loop that asks for it).
#[derive(Debug)]
pub(crate) struct Tracking(());

impl Tracking {
    pub(crate) fn start() -> Tracking {
        count_recording_loop(true);
        Tracking(())
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        count_recording_loop(false);
    }
}

/// One wait of one future: recorded the first time it parks, removed when it ends (completes,
/// or the future is dropped). Keep it in the waiting future's state, next to what it waits on.
#[derive(Debug, Default)]
pub(crate) struct WaitRecord {
    /// The wait's key in `WAITS` plus one; 0 while nothing is recorded.
    token: usize,
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
    /// is off, no task runs here, or `what` gives `None`. Dropping the record ends it.
    #[inline]
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    pub(crate) fn parked(what: impl FnOnce() -> Option<Awaiting>) -> Option<WaitRecord> {
        if !is_on() {
            return None;
        }
        let mut record = WaitRecord::new();
        record.start(what()?);
        (record.token != 0).then_some(record)
    }

    #[cold]
    fn start(&mut self, what: Awaiting) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let Some(task) = crate::task_core::raw::running_id() else {
            return;
        };
        let seq = NEXT.fetch_add(1, Ordering::Relaxed);
        let remote = super::remote::encode(task, seq, &what);
        let mut waits = lock(&WAITS);
        let key = waits.slab.reserve();
        waits.slab.fill(key, Wait { seq, task, what });
        if key == waits.remote.len() {
            waits.remote.push(remote);
            let (at, len) = (waits.remote.as_ptr().addr(), waits.remote.len());
            set_array((&PUBLISHED.waits, &PUBLISHED.waits_len), at, len);
        } else {
            waits.remote[key] = remote;
        }
        self.token = key + 1;
    }

    #[cold]
    fn end(&mut self) {
        let key = std::mem::take(&mut self.token) - 1;
        let mut waits = lock(&WAITS);
        waits.slab.remove(key);
        waits.remote[key] = RemoteWait::VACANT;
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
        if let Some(task) = crate::task_core::raw::running_id() {
            let (object, task) = (object as u64, task.as_u64());
            let mut holders = lock(&HOLDERS);
            // An entry left for this address (recording was switched off before its release
            // was recorded) is replaced.
            match holders.iter_mut().find(|holder| holder.object == object) {
                Some(entry) => entry.task = task,
                None => {
                    holders.push(Holder { object, task });
                    publish_holders(&holders);
                }
            }
        }
    }
}

/// The `Lock` at `object` was released.
#[inline]
pub(crate) fn holder_released(object: usize) {
    if is_on() {
        let mut holders = lock(&HOLDERS);
        if let Some(at) = holders
            .iter()
            .position(|holder| holder.object == object as u64)
        {
            holders.swap_remove(at);
            publish_holders(&holders);
        }
    }
}

/// Tells outside tools where the holders are now.
fn publish_holders(holders: &[Holder]) {
    let pair = (&PUBLISHED.holders, &PUBLISHED.holders_len);
    set_array(pair, holders.as_ptr().addr(), holders.len());
}

/// What each task of `tasks` (sorted by id) awaits, in the same order, with lock holders
/// filled in.
pub(crate) fn snapshot(tasks: &[TaskId]) -> Vec<Option<Awaiting>> {
    if !is_on() {
        return Vec::new();
    }
    let mut found: Vec<Option<(u64, Awaiting)>> = vec![None; tasks.len()];
    {
        let waits = lock(&WAITS);
        // A task waiting on several things at once (in a select or a gather) shows the one it
        // parked on most recently.
        for wait in waits.slab.iter() {
            if let Ok(at) = tasks.binary_search(&wait.task) {
                if found[at].is_none_or(|(seq, _)| seq < wait.seq) {
                    found[at] = Some((wait.seq, wait.what));
                }
            }
        }
    }
    let holders = lock(&HOLDERS);
    found
        .into_iter()
        .map(|entry| {
            let (_, mut what) = entry?;
            if let Awaiting::Sync {
                kind: super::SyncKind::Lock,
                object,
                held_by,
                ..
            } = &mut what
            {
                *held_by = holders
                    .iter()
                    .find(|holder| holder.object == *object as u64)
                    .and_then(|holder| TaskId::from_u64(holder.task));
            }
            Some(what)
        })
        .collect()
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
