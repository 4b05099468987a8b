//! Errors that name their path: every `tether::fs` error is an `io::Error` whose message says
//! what was being done to which path, and whose kind is the OS error's.

use std::io;
use std::path::{Path, PathBuf};

use crate::runtime::to_thread::BlockingError;

/// What went wrong, on which path (and, for `copy`, `rename` and `hard_link`, to which path).
#[derive(Debug, thiserror::Error)]
#[error("could not {op} `{}`{}: {source}", path.display(), to_text(.to))]
pub(super) struct PathError {
    op: &'static str,
    path: PathBuf,
    to: Option<PathBuf>,
    source: io::Error,
}

fn to_text(to: &Option<PathBuf>) -> String {
    to.as_ref()
        .map(|to| format!(" to `{}`", to.display()))
        .unwrap_or_default()
}

/// `error`, its message prefixed with `op` and `path`; its kind is kept.
pub(super) fn with_path(error: io::Error, op: &'static str, path: &Path) -> io::Error {
    wrap(error, op, path, None)
}

/// `error` of an operation from `from` to `to` (`copy`, `rename`, `hard_link`).
pub(super) fn with_paths(error: io::Error, op: &'static str, from: &Path, to: &Path) -> io::Error {
    wrap(error, op, from, Some(to))
}

fn wrap(source: io::Error, op: &'static str, path: &Path, to: Option<&Path>) -> io::Error {
    io::Error::new(
        source.kind(),
        PathError {
            op,
            path: path.to_owned(),
            to: to.map(Path::to_owned),
            source,
        },
    )
}

/// A panic on the pool's thread (std's file calls do not panic; an allocation failure might)
/// as the `io::Error` the caller expects.
pub(super) fn panicked(error: BlockingError, op: &'static str, path: &Path) -> io::Error {
    with_path(io::Error::other(error), op, path)
}
