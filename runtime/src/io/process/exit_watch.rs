//! How a child's exit reaches the loop: its pidfd registered with the I/O driver (Linux 5.3 and
//! later), or else `SIGCHLD` through [`signal`](crate::io::signal). Either way an exit is a
//! readiness event: nothing polls, no thread blocks in `waitpid`.
//!
//! A pidfd becomes readable when its process exits, and stays so; the exit status is then
//! collected with a `waitpid(pid, WNOHANG)` that cannot block. `SIGCHLD` says only that *some*
//! child changed state: each watcher looks at its own child when one comes, and waits again
//! if it is still running.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use super::pipes::Fd;
use crate::io::signal::unix::{Signal, signal};
use crate::scheduler::io_driver::scheduled_io::ReadyEvent;
use crate::scheduler::io_driver::{Handle, Interest, PollEvented};

/// Set by tether's own tests to run the `SIGCHLD` path on a kernel that has pidfds.
static FORCE_SIGCHLD: AtomicBool = AtomicBool::new(false);

/// Makes children spawned from now on use `SIGCHLD` even where pidfds work (for tests).
pub(crate) fn force_sigchld(on: bool) {
    FORCE_SIGCHLD.store(on, Ordering::SeqCst);
}

/// What tells the loop a child may have exited.
#[derive(Debug)]
pub(super) enum ExitWatch {
    /// The child's pidfd: readable once it has exited. With the readiness last seen, cleared
    /// if the child turns out to be running after all.
    Pidfd(PollEvented<Fd>, Option<ReadyEvent>),
    /// A listener for `SIGCHLD`, made before the child's state was first looked at, so no
    /// exit after that is missed.
    Sigchld(Signal),
}

impl ExitWatch {
    /// Watches the exit of `pid`, a child of this process not yet reaped, on `driver`.
    pub(super) fn new(pid: u32, driver: &Arc<Handle>) -> io::Result<ExitWatch> {
        if !FORCE_SIGCHLD.load(Ordering::Relaxed) {
            match pidfd_open(pid) {
                Ok(fd) => {
                    let io = PollEvented::with_kind(Fd::new(fd), driver.clone(), "pidfd")?;
                    return Ok(ExitWatch::Pidfd(io.unrecorded(), None));
                }
                // Kernels before 5.3 (ENOSYS) and sandboxes that filter the call (EPERM).
                Err(error) if matches!(error.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(ExitWatch::Sigchld(signal(libc::SIGCHLD)?))
    }

    /// Ready when the child may have exited: the caller looks (`waitpid` with `WNOHANG`), and
    /// if it has not, calls [`ExitWatch::not_yet`] and polls again. An error once the loop the
    /// child was spawned on has finished (nothing will report the exit any more).
    pub(super) fn poll_exit(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            ExitWatch::Pidfd(io, seen) => {
                *seen = Some(ready!(io.poll_ready(cx, Interest::Read))?);
                Poll::Ready(Ok(()))
            }
            ExitWatch::Sigchld(signal) => match ready!(signal.poll_recv(cx)) {
                Some(()) => Poll::Ready(Ok(())),
                None => Poll::Ready(Err(closed())),
            },
        }
    }

    /// The child had not exited after all: the next [`ExitWatch::poll_exit`] waits for the next
    /// event. (Usually a `SIGCHLD` for another child, whose listener has counted it already; a
    /// pidfd is readable only once its process has exited.)
    pub(super) fn not_yet(&mut self) {
        if let ExitWatch::Pidfd(io, seen) = self {
            if let Some(event) = seen.take() {
                io.clear_readiness(event);
            }
        }
    }
}

fn closed() -> io::Error {
    io::Error::other(
        "the event loop this child process was spawned on has finished: spawn it inside the \
         loop that awaits it",
    )
}

/// `pidfd_open(2)`: an fd that refers to process `pid` itself (never to a later process that
/// reuses the number).
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    #[cfg(target_os = "linux")]
    {
        let pid =
            libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `pidfd_open` takes a pid and flags (none) and returns a new fd or -1; it
        // touches no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the syscall returned a new fd that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }
}
