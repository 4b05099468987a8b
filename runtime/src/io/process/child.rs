//! [`Child`]: a running process that its owner owns, as a [`Task`](crate::Task) owns its task.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::process::{ExitStatus, Output};
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use super::exit_watch::ExitWatch;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use super::reaper;
use crate::scheduler::io_driver::{Handle, PollEvented};
use crate::task::graceful::{CancellationRequested, cancellation_requested};
use crate::task_core::awaiting::{Awaiting, CommandLine, WaitRecord};

/// A child process, from [`Command::spawn`](super::Command::spawn). **It owns its process**:
/// dropping a `Child` whose process still runs kills it (`SIGKILL`) and reaps it, without
/// blocking the loop (the exit is collected when the kernel reports it). No zombie is left,
/// and no process outlives the value that owns it. To let a process go on running, await it
/// ([`wait`](Child::wait), [`output`](Child::output)) or keep the `Child` where it lives
/// long enough (a task, a struct, a [`TaskSet`](crate::TaskSet)'s task).
///
/// As with [`Task`](crate::Task), `let _ = command.spawn();` does not compile inside
/// `#[tether::main]`, `#[tether::test]` and `#[tether::owned]` code: it would kill the process
/// at once.
///
/// **Cancellation.** A task that awaits its child ([`wait`](Child::wait),
/// [`output`](Child::output), [`run`](super::run)) and is asked to stop gracefully
/// ([`Task::cancel_gracefully`](crate::Task::cancel_gracefully), a group's or set's
/// `shutdown_gracefully`) passes the request on to the process as `SIGTERM`, once, and keeps
/// awaiting it: the process gets the grace period to finish. A plain cancellation drops the
/// task's future, and with it the `Child`: `SIGKILL`.
///
/// ```
/// use tether::process::Command;
///
/// tether::run(async {
///     let child = Command::new("sleep").arg("10").spawn().unwrap();
///     let pid = child.id();
///     drop(child); // SIGKILL at once; reaped when the kernel reports the exit
///     # while tether::__private::process_orphans() > 0 {
///     #     tether::sleep(std::time::Duration::from_millis(1)).await;
///     # }
///     // Soon gone, not even a zombie (signal 0 only asks whether `pid` exists):
///     // SAFETY: `kill` with signal 0 sends nothing.
///     assert_eq!(unsafe { libc::kill(pid as libc::pid_t, 0) }, -1);
/// });
/// ```
pub struct Child {
    /// The child's standard input, if it was [`Stdio::piped`](super::Stdio::piped).
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was [`Stdio::piped`](super::Stdio::piped).
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was [`Stdio::piped`](super::Stdio::piped).
    pub stderr: Option<ChildStderr>,
    /// `None` only while being dropped.
    process: Option<std::process::Child>,
    pid: u32,
    /// Set once the process is reaped: its number may belong to another process from then on,
    /// so no signal is sent after.
    status: Option<ExitStatus>,
    /// `None` once reaped.
    watch: Option<ExitWatch>,
    driver: Arc<Handle>,
    command: CommandLine,
}

impl Child {
    /// Wraps a process just spawned on `driver`'s loop: its pipes and its exit watch registered
    /// there. On failure the process is killed and reaped before the error is returned.
    pub(super) fn new(
        mut process: std::process::Child,
        driver: Arc<Handle>,
        command: CommandLine,
    ) -> io::Result<Child> {
        let pid = process.id();
        let stdin = process.stdin.take();
        let stdout = process.stdout.take();
        let stderr = process.stderr.take();
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            process: Some(process),
            pid,
            status: None,
            watch: None,
            driver: driver.clone(),
            command,
        };
        // From here on, an error drops `child`, which kills and reaps the process.
        child.watch = Some(ExitWatch::new(pid, &driver)?);
        driver.on_close(reaper::sweep);
        child.stdin = stdin.map(|p| ChildStdin::new(p, &driver)).transpose()?;
        child.stdout = stdout.map(|p| ChildStdout::new(p, &driver)).transpose()?;
        child.stderr = stderr.map(|p| ChildStderr::new(p, &driver)).transpose()?;
        Ok(child)
    }

    /// The process id (still the child's number after it has exited, but not meaningful once
    /// it has been reaped: [`try_wait`](Child::try_wait) or [`wait`](Child::wait) returned).
    ///
    /// ```
    /// tether::run(async {
    ///     let child = tether::process::Command::new("true").spawn().unwrap();
    ///     assert!(child.id() > 0);
    ///     # drop(child);
    /// });
    /// ```
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// The exit status if the process has exited (reaping it), `None` if it still runs. Never
    /// blocks.
    ///
    /// ```
    /// tether::run(async {
    ///     let mut child = tether::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     assert!(child.try_wait().unwrap().is_none());
    ///     child.kill().unwrap();
    ///     child.wait().await.unwrap();
    ///     assert!(child.try_wait().unwrap().is_some());
    /// });
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let process = self.process.as_mut().expect("present until dropped");
        let status = process.try_wait()?;
        if status.is_some() {
            self.status = status;
            // Deregisters the pidfd (or the `SIGCHLD` listener) and closes it.
            self.watch = None;
        }
        Ok(status)
    }

    /// Waits for the process to exit and returns its status (asyncio's `Process.wait()`).
    /// Pipes are left as they are: a child that fills a piped stdout nobody reads never
    /// exits; [`output`](Child::output) reads them for you.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future leaves the process running (as asyncio's cancelled
    /// `wait` does), still owned by this `Child`. A graceful cancellation request to the task
    /// is passed on as `SIGTERM` (see [`Child`]).
    ///
    /// ```
    /// tether::run(async {
    ///     let mut child = tether::process::Command::new("sh").args(["-c", "exit 3"])
    ///         .spawn().unwrap();
    ///     assert_eq!(child.wait().await.unwrap().code(), Some(3));
    /// });
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let mut forward = Forward::new();
        let mut record = WaitRecord::new();
        let what = self.awaiting();
        poll_fn(|cx| {
            forward.check(cx, self);
            let poll = self.poll_wait(cx);
            record.track(poll, || what)
        })
        .await
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Poll::Ready(Ok(status));
            }
            let watch = self.watch.as_mut().expect("present until reaped");
            watch.not_yet();
            ready!(watch.poll_exit(cx))?;
        }
    }

    /// Writes `input` to the child's stdin and closes it, reads its stdout and stderr to the
    /// end, all at once (so a child that fills one pipe while the parent writes to another
    /// cannot deadlock them), then waits for it to exit: asyncio's `Process.communicate`.
    /// Streams that are not piped (or were taken) are not read, and their `Output` field is
    /// empty. A child that closes its stdin before reading all of `input` is not an error (as
    /// in asyncio): it chose not to read the rest.
    ///
    /// Fails with [`InvalidInput`](io::ErrorKind::InvalidInput) if `input` is not empty and
    /// stdin is not piped.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the `Child` (which it took), and so kills the process. A
    /// graceful cancellation request is passed on as `SIGTERM`, and the output that came
    /// until the process exited is returned.
    ///
    /// ```
    /// use tether::process::{Command, Stdio};
    ///
    /// tether::run(async {
    ///     let child = Command::new("tr").args(["a-z", "A-Z"])
    ///         .stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    ///     let output = child.output(b"hello").await.unwrap();
    ///     assert_eq!(output.stdout, b"HELLO");
    ///     assert!(output.status.success());
    /// });
    /// ```
    pub async fn output(mut self, input: &[u8]) -> io::Result<Output> {
        if !input.is_empty() && self.stdin.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "cannot write input to `{}`: its stdin is not piped; spawn it with \
                     `.stdin(Stdio::piped())`",
                    self.command
                ),
            ));
        }
        let mut stdin = self.stdin.take();
        let mut stdout = self.stdout.take().map(|pipe| pipe.io);
        let mut stderr = self.stderr.take().map(|pipe| pipe.io);
        let (mut out, mut err, mut written) = (Vec::new(), Vec::new(), 0);
        let mut forward = Forward::new();
        let mut record = WaitRecord::new();
        let what = self.awaiting();
        let status = poll_fn(|cx| {
            forward.check(cx, &mut self);
            let poll = (|| {
                let wrote = poll_write_all(&mut stdin, input, &mut written, cx)?;
                let read_out = poll_read_to_end(&mut stdout, &mut out, cx)?;
                let read_err = poll_read_to_end(&mut stderr, &mut err, cx)?;
                if wrote.is_pending() || read_out.is_pending() || read_err.is_pending() {
                    return Poll::Pending;
                }
                self.poll_wait(cx)
            })();
            record.track(poll, || what)
        })
        .await?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }

    /// Sends `SIGKILL` (ends the process at once; std's `Child::kill`). Does nothing once the
    /// process has been reaped. Await [`wait`](Child::wait) for its status.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// tether::run(async {
    ///     let mut child = tether::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     child.kill().unwrap();
    ///     assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
    /// });
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGKILL)
    }

    /// Sends `SIGTERM` (asks the process to end; asyncio's `Process.terminate`). Does nothing
    /// once the process has been reaped.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// tether::run(async {
    ///     let mut child = tether::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     child.terminate().unwrap();
    ///     assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGTERM));
    /// });
    /// ```
    pub fn terminate(&mut self) -> io::Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// Sends signal `signum` (`libc::SIGHUP`, ...) to the process (asyncio's
    /// `Process.send_signal`). Does nothing once the process has been reaped, so a signal
    /// never reaches another process that took the number since.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// tether::run(async {
    ///     let mut child = tether::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     child.send_signal(libc::SIGHUP).unwrap();
    ///     assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGHUP));
    /// });
    /// ```
    pub fn send_signal(&mut self, signum: i32) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        let pid = libc::pid_t::try_from(self.pid).expect("a pid fits pid_t");
        // SAFETY: `kill` touches no memory. The process is our child and not reaped (`status`
        // is unset, and only this value reaps it), so `pid` still names it, if only as a zombie.
        if unsafe { libc::kill(pid, signum) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Ends the process politely: `SIGTERM`, up to `grace` for it to exit, then `SIGKILL`;
    /// returns its exit status (trio's `deliver_cancel`, asyncio's `terminate` + `wait_for` +
    /// `kill`).
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use std::time::Duration;
    /// use futures::io::AsyncReadExt;
    /// use tether::process::{Command, Stdio};
    ///
    /// tether::run(async {
    ///     // Ignores SIGTERM (from its first line on): killed when the grace is over.
    ///     let mut child = Command::new("sh")
    ///         .args(["-c", "trap '' TERM; echo ready; exec sleep 10"])
    ///         .stdout(Stdio::piped()).spawn().unwrap();
    ///     let mut ready = [0; 6];
    ///     child.stdout.as_mut().unwrap().read_exact(&mut ready).await.unwrap();
    ///     let status = child.terminate_gracefully(Duration::from_millis(100)).await.unwrap();
    ///     assert_eq!(status.signal(), Some(libc::SIGKILL));
    /// });
    /// ```
    pub async fn terminate_gracefully(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        self.terminate()?;
        match crate::time::timeout(grace, self.wait()).await {
            Ok(status) => status,
            Err(_) => {
                self.kill()?;
                self.wait().await
            }
        }
    }

    fn awaiting(&self) -> Awaiting {
        Awaiting::Process {
            pid: self.pid,
            command: self.command,
        }
    }
}

/// Writes what is left of `input` to `pipe`; closes it (sets it to `None`) when all is
/// written, or when the child has closed its end.
fn poll_write_all(
    pipe: &mut Option<ChildStdin>,
    input: &[u8],
    written: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while let Some(stdin) = pipe {
        if *written == input.len() {
            *pipe = None;
            break;
        }
        match ready!(stdin.io.poll_write(cx, &input[*written..])) {
            Ok(n) => *written += n,
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => *pipe = None,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Poll::Ready(Err(error)),
        }
    }
    Poll::Ready(Ok(()))
}

/// How much one read asks for at most: a pipe holds 64 KiB by default, and the bytes offered
/// to a read are zeroed first.
const READ_CHUNK: usize = 64 * 1024;

/// Reads `pipe` to its end into `buf`, then closes it (sets it to `None`).
fn poll_read_to_end(
    pipe: &mut Option<PollEvented<super::pipes::Fd>>,
    buf: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    while let Some(io) = pipe {
        let len = buf.len();
        buf.resize(len + READ_CHUNK, 0);
        let read = io.poll_read(cx, &mut buf[len..]);
        let n = match &read {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        buf.truncate(len + n);
        match read {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(0)) => *pipe = None,
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
        }
    }
    Poll::Ready(Ok(()))
}

/// Passes a graceful cancellation request of the awaiting task on to the child as `SIGTERM`,
/// once.
struct Forward {
    request: Option<CancellationRequested>,
}

impl Forward {
    fn new() -> Forward {
        Forward {
            request: Some(cancellation_requested()),
        }
    }

    fn check(&mut self, cx: &mut Context<'_>, child: &mut Child) {
        if let Some(request) = &mut self.request {
            if Pin::new(request).poll(cx).is_ready() {
                self.request = None;
                // Fails only if the process is gone already, which the wait then reports.
                let _ = child.terminate();
            }
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut process) = self.process.take() else {
            return;
        };
        if self.status.is_some() || !matches!(process.try_wait(), Ok(None)) {
            return;
        }
        let _ = process.kill();
        reaper::adopt(process, self.watch.take(), self.driver.clone());
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid)
            .field("command", &self.command)
            .field("status", &self.status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}

// Dropping a `Child` kills its process, as dropping a `Task` cancels its task: `let _ =` on
// one is refused by the macros' check (its `Result` and `Option` impls cover `spawn()`'s
// `io::Result<Child>`).
impl crate::task::owning::OwnsTask for Child {
    type Verdict = crate::task::owning::WouldKill;
}
