//! Subprocesses on the event loop (asyncio's "Subprocesses", trio's `run_process`), **owned**:
//! a [`Child`] owns its process as a [`Task`](crate::Task) owns its task.
//!
//! ```
//! use tether::process::{Command, Stdio};
//!
//! tether::run(async {
//!     // Run to the end and collect the output (trio's run_process, checked).
//!     let output = tether::process::run(Command::new("echo").arg("hello")).await.unwrap();
//!     assert_eq!(output.stdout, b"hello\n");
//!
//!     // Or spawn, talk to it, and await it (asyncio's create_subprocess_exec + communicate).
//!     let child = Command::new("sort").stdin(Stdio::piped()).stdout(Stdio::piped())
//!         .spawn().unwrap();
//!     let output = child.output(b"pear\napple\n").await.unwrap();
//!     assert_eq!(output.stdout, b"apple\npear\n");
//! });
//! ```
//!
//! - **Owned.** Dropping a [`Child`] whose process runs kills it (`SIGKILL`) and reaps it, on
//!   the loop, without blocking: no zombie, no process that outlives its owner. A task that
//!   awaits its child and is cancelled gracefully passes the request on as `SIGTERM`;
//!   [`Child::terminate_gracefully`] is `SIGTERM`, a grace period, then `SIGKILL`.
//!   `let _ = command.spawn();` is a compile error in `#[tether::main]`, `#[tether::test]` and
//!   `#[tether::owned]` code, as for a task.
//! - **On the loop's own I/O driver.** No thread per process, no second reactor: a child's exit
//!   reaches the loop through its pidfd, registered with the poller (Linux 5.3 and later), or
//!   else through `SIGCHLD`; its pipes are non-blocking and registered like sockets, and
//!   implement the `futures` crate's [`AsyncRead`](futures_io::AsyncRead) and
//!   [`AsyncWrite`](futures_io::AsyncWrite). Both flavors (one loop, and workers) work; a child
//!   may be awaited or dropped on any worker of its runtime.
//! - **Outside a loop.** [`Command::spawn`] needs a running loop. A `Child` that outlives its
//!   loop can no longer be awaited (an error), and dropping it then kills it and reaps it at
//!   once, blocking for the moment a killed process takes to go; children dropped while their
//!   loop runs and not yet reaped when it finishes are reaped so too, as the loop closes.
//! - **Diagnostics.** A task that awaits a child shows in [`dump_tasks`](crate::dump_tasks)
//!   and in deadlock and stall reports as awaiting ``process 4242 `sleep 10` ``.
//! - **Errors** are `std::io::Error`s that name the program (`could not start `nope`: No such
//!   file or directory`); [`run`] adds [`RunError`] for a process that failed. A child killed by
//!   a signal reports it through std's `ExitStatusExt::signal`.
//!
//! Unix only.

mod child;
mod command;
mod error;
pub(crate) mod exit_watch;
mod pipes;
pub(crate) mod reaper;
mod run;

pub use child::Child;
pub use command::Command;
pub use error::RunError;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
pub use run::{Run, run};
pub use std::process::{ExitStatus, Output, Stdio};
