//! [`RunError`]: what [`run`](super::run) reports.

use std::io;
use std::process::{ExitStatus, Output};

/// How a [`run`](super::run) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The process could not be started, or its pipes read or written.
    #[error("could not run `{program}`: {source}")]
    Io {
        /// The program.
        program: String,
        /// The OS error (its kind is [`NotFound`](io::ErrorKind::NotFound) for a program that
        /// does not exist).
        #[source]
        source: io::Error,
    },
    /// The process ran and failed (with the check on, the default): it exited with a code
    /// other than 0, or a signal ended it.
    #[error("{}", failed(program, output))]
    Failed {
        /// The program.
        program: String,
        /// Its status and what it wrote on the captured streams.
        output: Output,
    },
}

impl RunError {
    /// The exit status of a process that ran and failed.
    pub fn status(&self) -> Option<ExitStatus> {
        match self {
            RunError::Failed { output, .. } => Some(output.status),
            RunError::Io { .. } => None,
        }
    }

    /// The output of a process that ran and failed.
    pub fn output(&self) -> Option<&Output> {
        match self {
            RunError::Failed { output, .. } => Some(output),
            RunError::Io { .. } => None,
        }
    }
}

/// How much of stderr the message shows, from its end.
const TAIL: usize = 1024;

fn failed(program: &str, output: &Output) -> String {
    let mut text = format!("`{program}` failed: {}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.trim_end();
    if stderr.is_empty() {
        text.push_str(" (its stderr was empty or not captured)");
    } else {
        let mut start = stderr.len().saturating_sub(TAIL);
        while !stderr.is_char_boundary(start) {
            start += 1;
        }
        let cut = if start > 0 { "…" } else { "" };
        text.push_str(&format!(
            "; its stderr ends with:\n{cut}{}",
            &stderr[start..]
        ));
    }
    text.push_str("\n(to get the output of a failing command instead, use `.check(false)`)");
    text
}
