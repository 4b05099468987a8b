//! [`Command`]: std's process builder, spawning onto the loop.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::child::Child;
use crate::scheduler::event_loop::EventLoop;
use crate::task_core::awaiting::CommandLine;

/// A process to start: std's [`Command`](std::process::Command) builder (program, arguments,
/// environment, working directory, standard streams, process group), whose
/// [`spawn`](Command::spawn) gives a [`Child`] on the running loop.
///
/// ```
/// use tether::process::Command;
///
/// tether::run(async {
///     let output = Command::new("sh").args(["-c", "echo $GREETING from $PWD"])
///         .env("GREETING", "hello").current_dir("/").output().await.unwrap();
///     assert_eq!(output.stdout, b"hello from /\n");
/// });
/// ```
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    /// Which streams the caller chose, so that `output` and `run` pipe only the others.
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` if it has no `/`), with no
    /// arguments, this process's environment and directory, and its standard streams
    /// inherited (for [`spawn`](Command::spawn) and [`status`](Command::status)).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what [`env`](Command::env) adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's standard input: [`Stdio::piped`] gives a [`ChildStdin`](super::ChildStdin)
    /// in [`Child::stdin`].
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Sets the child's standard output: [`Stdio::piped`] gives a
    /// [`ChildStdout`](super::ChildStdout) in [`Child::stdout`].
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Sets the child's standard error: [`Stdio::piped`] gives a
    /// [`ChildStderr`](super::ChildStderr) in [`Child::stderr`].
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Puts the child in process group `pgroup` (0: a new group whose id is the child's pid),
    /// as std's `CommandExt::process_group`: a Ctrl-C at the terminal then no longer reaches
    /// it, and `kill(-pgid, ..)` reaches all it starts.
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        std::os::unix::process::CommandExt::process_group(&mut self.std, pgroup);
        self
    }

    /// The program this command runs.
    pub fn get_program(&self) -> &OsStr {
        self.std.get_program()
    }

    /// std's builder, for what this one does not repeat (`uid`, `pre_exec`, ...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the process, owned by the returned [`Child`] (dropping it kills the process).
    /// Its pipes and its exit are watched by the running loop's I/O driver.
    ///
    /// Fails with the OS error's kind and a message naming the program
    /// ([`NotFound`](io::ErrorKind::NotFound) for a program that does not exist), or if no
    /// tether loop runs on this thread.
    ///
    /// ```
    /// tether::run(async {
    ///     let error = tether::process::Command::new("no-such-program").spawn().unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(error.to_string().contains("no-such-program"));
    /// });
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        let driver = EventLoop::with_current(|lp| lp.shared().io().clone()).ok_or_else(|| {
            io::Error::other(format!(
                "cannot start `{}`: tether::process needs a running tether event loop; call it \
                 inside tether::run, #[tether::main] or a task",
                self.program()
            ))
        })?;
        let process = self.std.spawn().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("could not start `{}`: {error}", self.program()),
            )
        })?;
        Child::new(process, driver, self.command_line())
    }

    /// Runs the process to its end and returns its status and output: stdout and stderr are
    /// captured unless set otherwise, and stdin reads nothing (`/dev/null`) unless set
    /// otherwise (std's `Command::output`). The streams it chooses stay set on this builder.
    pub async fn output(&mut self) -> io::Result<Output> {
        self.capture(true);
        self.spawn()?.output(&[]).await
    }

    /// Runs the process to its end, its streams inherited unless set otherwise, and returns
    /// its exit status.
    ///
    /// ```
    /// tether::run(async {
    ///     let status = tether::process::Command::new("true").status().await.unwrap();
    ///     assert!(status.success());
    /// });
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Pipes stdout and stderr where the caller chose nothing, and stdin too (`/dev/null`
    /// instead if `null_stdin`).
    pub(super) fn capture(&mut self, null_stdin: bool) {
        if !self.stdin_set {
            self.stdin(if null_stdin {
                Stdio::null()
            } else {
                Stdio::piped()
            });
        }
        if !self.stdout_set {
            self.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.stderr(Stdio::piped());
        }
    }

    /// The program's name, for messages.
    pub(super) fn program(&self) -> String {
        self.std.get_program().to_string_lossy().into_owned()
    }

    /// The program and its arguments, for messages and diagnostics.
    pub(super) fn command_line(&self) -> CommandLine {
        let mut text = self.program();
        for arg in self.std.get_args() {
            text.push(' ');
            text.push_str(&arg.to_string_lossy());
            if text.len() > CommandLine::CAPACITY {
                break;
            }
        }
        CommandLine::new(&text)
    }
}

impl From<std::process::Command> for Command {
    /// Takes std's builder as it is; its standard streams count as chosen only if set here.
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }
}
