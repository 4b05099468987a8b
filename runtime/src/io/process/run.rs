//! [`run`]: trio's `run_process`, a command run to its end with its output.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::process::Output;

use super::command::Command;
use super::error::RunError;

/// Runs `command` to its end and returns its output: trio's `run_process`, Python's
/// `subprocess.run(..., capture_output=True, check=True)`.
///
/// - stdout and stderr are captured unless the command sets them (say to
///   [`Stdio::inherit`](super::Stdio::inherit));
/// - stdin reads [`input`](Run::input) if given, else nothing (`/dev/null`), unless the
///   command sets it;
/// - **checked** by default: a process that exits with a code other than 0, or is ended by a
///   signal, is a [`RunError::Failed`] whose message names the program, its status and the
///   end of its stderr; [`check(false)`](Run::check) returns its output instead.
///
/// Cancellation follows the [`Child`](super::Child)'s rules: dropping the future kills the
/// process; a graceful cancellation request to the awaiting task is passed on as `SIGTERM`.
///
/// ```
/// use tether::process::{Command, run};
///
/// tether::run(async {
///     let output = run(Command::new("echo").arg("hi")).await.unwrap();
///     assert_eq!(output.stdout, b"hi\n");
///
///     let upper = run(Command::new("tr").args(["a-z", "A-Z"])).input("shout").await.unwrap();
///     assert_eq!(upper.stdout, b"SHOUT");
///
///     let error = run(Command::new("sh").args(["-c", "echo broken >&2; exit 2"]))
///         .await.unwrap_err();
///     assert_eq!(error.status().unwrap().code(), Some(2));
///     assert!(error.to_string().contains("`sh` failed: exit status: 2"));
///     assert!(error.to_string().contains("broken"));
///
///     let unchecked = run(&mut Command::new("false")).check(false).await.unwrap();
///     assert!(!unchecked.status.success());
/// });
/// ```
pub fn run(command: &mut Command) -> Run<'_> {
    Run {
        command,
        input: Vec::new(),
        check: true,
    }
}

/// A [`run`] to configure, then await.
#[derive(Debug)]
#[must_use = "a run does nothing until awaited"]
pub struct Run<'a> {
    command: &'a mut Command,
    input: Vec<u8>,
    check: bool,
}

impl Run<'_> {
    /// Writes `input` to the process's stdin (then closes it).
    pub fn input(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.input = input.into();
        self
    }

    /// Whether a failing process is an error (`true`, the default) or returns its output.
    pub fn check(mut self, check: bool) -> Self {
        self.check = check;
        self
    }
}

impl<'a> IntoFuture for Run<'a> {
    type Output = Result<Output, RunError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Output, RunError>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let Run {
                command,
                input,
                check,
            } = self;
            let program = command.program();
            let io_error = |source| RunError::Io {
                program: program.clone(),
                source,
            };
            command.capture(input.is_empty());
            let child = command.spawn().map_err(io_error)?;
            let output = child.output(&input).await.map_err(io_error)?;
            if check && !output.status.success() {
                return Err(RunError::Failed { program, output });
            }
            Ok(output)
        })
    }
}
