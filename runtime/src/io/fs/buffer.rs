//! A [`File`](super::File)'s buffer and the operations it sends to the blocking pool.
//!
//! The buffer is owned by whoever works on the file: the `File` while it is idle, a pool thread
//! while an operation runs (the buffer travels with the job and comes back with its outcome).
//! So there is never more than one operation in flight per file, and never a lock.
//!
//! The buffer holds either data read ahead (the OS cursor is past it) or data accepted by writes
//! and not yet written (the OS cursor is before it). Every job first *settles* the buffer —
//! writes what is pending, or moves the cursor back over what was read ahead and not consumed —
//! so the OS cursor is where the user thinks it is before anything else happens.

use std::fs::Metadata;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::error::with_path;

/// How much a read asks the OS for at least: small reads are served from the buffer.
pub(super) const READ_AHEAD: usize = 64 * 1024;
/// How much written data the buffer collects before it goes to the pool on its own.
pub(super) const WRITE_BEHIND: usize = 1024 * 1024;
/// The most one `write` system call is given: a job writes its buffer in pieces of this size.
/// One `write` of the whole megabyte made the kernel fill larger page-cache folios, and on the
/// benchmark machine (a VM) 1 GiB written that way took 0.7 to 3.9 s from round to round
/// against 0.25 to 0.32 s in 64 KiB pieces, the size tokio's writes have (BENCHMARKS.md,
/// "Files"). The extra system calls cost little next to the copy.
pub(super) const WRITE_PIECE: usize = 64 * 1024;
/// The most one read or write moves through the buffer at once (larger user buffers take
/// several rounds), so that the buffer's memory stays bounded.
pub(super) const MAX_CHUNK: usize = 2 * 1024 * 1024;

/// What the buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Nothing.
    Empty,
    /// `data[pos..]` was read ahead and not consumed yet.
    Reading,
    /// `data` was accepted by writes and is not written yet.
    Writing,
}

#[derive(Debug)]
pub(super) struct Buf {
    pub(super) data: Vec<u8>,
    pub(super) pos: usize,
    pub(super) mode: Mode,
    /// The last read job reached the end of the file: the next `poll_read` returns 0 (once).
    pub(super) eof: bool,
    /// The last job could not write the pending data (now dropped): its error must reach the
    /// caller, whichever call it is, since the data is lost.
    pub(super) failed_write: bool,
}

/// An operation on the pool. Every one but `Metadata` settles the buffer first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// Write the buffer out (a flush).
    Write,
    /// Read up to this many bytes into the buffer.
    Read(usize),
    Seek(SeekFrom),
    SetLen(u64),
    SyncAll,
    SyncData,
    Metadata,
}

/// What a job produced besides the buffer.
#[derive(Debug)]
pub(super) enum Done {
    Nothing,
    Position(u64),
    Metadata(Metadata),
}

impl Buf {
    pub(super) fn new() -> Buf {
        Buf {
            data: Vec::new(),
            pos: 0,
            mode: Mode::Empty,
            eof: false,
            failed_write: false,
        }
    }

    /// Bytes read ahead and not consumed.
    pub(super) fn unread(&self) -> usize {
        match self.mode {
            Mode::Reading => self.data.len() - self.pos,
            _ => 0,
        }
    }

    /// Data accepted by writes and not written yet.
    pub(super) fn has_pending_writes(&self) -> bool {
        self.mode == Mode::Writing && !self.data.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.data.clear();
        self.pos = 0;
        self.mode = Mode::Empty;
    }

    /// Copies read-ahead data into `dst`; how many bytes.
    pub(super) fn take(&mut self, dst: &mut [u8]) -> usize {
        let n = self.unread().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.data.len() {
            self.clear();
        }
        n
    }

    /// Accepts what fits of `src` as pending writes; how many bytes. Read-ahead data must have
    /// been dropped first ([`Buf::discard_read_ahead`]).
    pub(super) fn accept(&mut self, src: &[u8]) -> usize {
        debug_assert_ne!(self.mode, Mode::Reading);
        let room = if self.data.is_empty() {
            MAX_CHUNK
        } else {
            WRITE_BEHIND.saturating_sub(self.data.len())
        };
        let n = src.len().min(room);
        self.data.extend_from_slice(&src[..n]);
        self.mode = Mode::Writing;
        self.eof = false;
        n
    }

    /// The buffer is full enough to be written out on its own.
    pub(super) fn is_full(&self) -> bool {
        self.mode == Mode::Writing && self.data.len() >= WRITE_BEHIND
    }

    /// Runs `op` on `file` (on a pool thread), settling the buffer first.
    pub(super) fn run(&mut self, file: &std::fs::File, path: &Path, op: Op) -> io::Result<Done> {
        let op_name = name(op);
        let named = |error| with_path(error, op_name, path);
        if op == Op::Metadata {
            return file.metadata().map(Done::Metadata).map_err(named);
        }
        self.eof = false;
        // A relative seek over read-ahead data folds the move back into the seek itself.
        let mut op = op;
        if let (Op::Seek(SeekFrom::Current(offset)), Mode::Reading) = (op, self.mode) {
            op = Op::Seek(SeekFrom::Current(offset - self.unread() as i64));
            self.clear();
        }
        self.failed_write = false;
        self.settle(file).map_err(|error| {
            let writing = self.mode == Mode::Writing;
            self.failed_write = writing;
            // What could not be written is dropped: its error is what reports it.
            self.clear();
            with_path(error, if writing { "write to" } else { "seek in" }, path)
        })?;
        match op {
            Op::Write => Ok(Done::Nothing),
            Op::Read(want) => {
                self.data.resize(want, 0);
                // A read interrupted by a signal is retried, as `read_exact` does.
                let read = loop {
                    match (&*file).read(&mut self.data) {
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                match read {
                    Ok(n) => {
                        self.data.truncate(n);
                        self.pos = 0;
                        self.mode = if n == 0 { Mode::Empty } else { Mode::Reading };
                        self.eof = n == 0;
                        Ok(Done::Nothing)
                    }
                    Err(error) => {
                        self.clear();
                        Err(named(error))
                    }
                }
            }
            Op::Seek(to) => (&*file).seek(to).map(Done::Position).map_err(named),
            Op::SetLen(len) => file.set_len(len).map(|()| Done::Nothing).map_err(named),
            Op::SyncAll => file.sync_all().map(|()| Done::Nothing).map_err(named),
            Op::SyncData => file.sync_data().map(|()| Done::Nothing).map_err(named),
            Op::Metadata => unreachable!("answered before the buffer is settled"),
        }
    }

    /// Writes pending data, or moves the cursor back over unconsumed read-ahead data.
    fn settle(&mut self, file: &std::fs::File) -> io::Result<()> {
        match self.mode {
            Mode::Empty => {}
            Mode::Writing => {
                for piece in self.data.chunks(WRITE_PIECE) {
                    (&*file).write_all(piece)?;
                }
            }
            Mode::Reading => {
                let unread = self.unread();
                if unread > 0 {
                    (&*file).seek(SeekFrom::Current(-(unread as i64)))?;
                }
            }
        }
        self.clear();
        Ok(())
    }
}

/// The verb of an error message: "could not {name} `path`".
fn name(op: Op) -> &'static str {
    match op {
        Op::Write => "write to",
        Op::Read(_) => "read from",
        Op::Seek(_) => "seek in",
        Op::SetLen(_) => "set the length of",
        Op::SyncAll | Op::SyncData => "sync",
        Op::Metadata => "read the metadata of",
    }
}
