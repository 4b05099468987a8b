//! Reading a live target: the lead's module, not on this branch yet.
//!
//! This placeholder keeps the views buildable and testable on their own (through `--load`); it
//! is replaced by the real reader when the branches meet.

use std::io;

use crate::model::Snapshot;

/// A snapshot of the tether program `pid`.
pub fn snapshot(pid: u32) -> Result<Snapshot, io::Error> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "cannot attach to {pid}: attaching is not implemented on this branch (use --load FILE)"
        ),
    ))
}
