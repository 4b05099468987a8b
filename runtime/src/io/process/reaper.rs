//! Children dropped while they run: killed by their `Child`'s drop, then reaped here when
//! they exit, without blocking the loop and without a thread.
//!
//! An orphan keeps its exit watch (pidfd or `SIGCHLD` listener) registered with the driver,
//! with a waker of its own rather than a task's: when the exit is reported, the driver's
//! dispatch wakes it, and waking it reaps the child (`waitpid` with `WNOHANG`, which cannot
//! block) and deregisters the watch. So the orphan needs no task and no owner: the kernel's
//! exit event finishes it. What the driver can no longer report (its loop has finished) is
//! reaped by [`sweep`], which the driver runs as it closes: the children have been sent
//! `SIGKILL` already, so the blocking `waitpid` there is brief.

use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};

use super::exit_watch::ExitWatch;
use crate::scheduler::io_driver::Handle;
use crate::util::loom_facade::lock;

/// Every orphan not yet reaped, for [`sweep`].
static ORPHANS: Mutex<Vec<Arc<Orphan>>> = Mutex::new(Vec::new());

struct Orphan {
    /// `None` once reaped.
    state: Mutex<Option<(std::process::Child, ExitWatch)>>,
    /// Which driver's [`sweep`] reaps it. Weak: the driver keeps the orphan's waker (in the
    /// readiness of its watch, until the next turn frees it), and a strong handle here would
    /// make a cycle that keeps the driver's fds open for good.
    driver: Weak<Handle>,
}

/// Takes `child`, already sent `SIGKILL`, and reaps it once it has exited: through `watch` on
/// `driver` if that loop still runs, else at once, blocking for the moment a killed process
/// takes to go.
pub(super) fn adopt(mut child: std::process::Child, watch: Option<ExitWatch>, driver: Arc<Handle>) {
    let Some(watch) = watch.filter(|_| !driver.is_closed()) else {
        let _ = child.wait();
        return;
    };
    let orphan = Arc::new(Orphan {
        state: Mutex::new(Some((child, watch))),
        driver: Arc::downgrade(&driver),
    });
    lock(&ORPHANS).push(orphan.clone());
    orphan.reap_or_wait();
}

/// Reaps every orphan of `driver`: run by the driver as it closes. (Only its own: another
/// loop's orphans are that loop's to reap, and its own sweep must find them still there, to
/// return only once they are reaped.)
pub(super) fn sweep(driver: &Handle) {
    let closed: Vec<Arc<Orphan>> = lock(&ORPHANS)
        .iter()
        .filter(|orphan| std::ptr::eq(orphan.driver.as_ptr(), driver))
        .cloned()
        .collect();
    for orphan in closed {
        let taken = lock(&orphan.state).take();
        if let Some((mut child, watch)) = taken {
            drop(watch);
            let _ = child.wait();
        }
        orphan.forget();
    }
}

/// How many children were dropped while running and are not reaped yet (for tests).
pub(crate) fn orphans() -> usize {
    lock(&ORPHANS).len()
}

impl Orphan {
    /// Reaps the child if it has exited; else waits for the watch's next event, with this
    /// orphan's own waker.
    fn reap_or_wait(self: &Arc<Self>) {
        let mut state = lock(&self.state);
        let Some((child, watch)) = state.as_mut() else {
            return;
        };
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            // Reaped, or not ours to reap any more (ECHILD: someone waited for all children).
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            watch.not_yet();
            match watch.poll_exit(&mut cx) {
                Poll::Pending => return,
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => {
                    // The loop has finished: nothing will report the exit.
                    let _ = child.wait();
                    break;
                }
            }
        }
        // The watch deregisters here (from a waker the driver dispatches, too: deregistering
        // takes no lock the dispatching driver holds).
        let done = state.take();
        drop(state);
        drop(done);
        self.forget();
    }

    fn forget(self: &Arc<Self>) {
        let mut orphans = lock(&ORPHANS);
        if let Some(at) = orphans.iter().position(|known| Arc::ptr_eq(known, self)) {
            orphans.swap_remove(at);
        }
    }
}

impl Wake for Orphan {
    fn wake(self: Arc<Self>) {
        self.reap_or_wait();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.reap_or_wait();
    }
}
