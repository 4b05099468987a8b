//! [`read_dir`]: a directory's entries as a [`Stream`], fetched from the blocking pool in
//! batches.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::poll_fn;
use std::io;
use std::mem;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use super::error::{panicked, with_path};
use super::on_pool;
use crate::runtime::to_thread::{Blocking, submit};

/// Entries fetched per trip to the pool: a directory of a thousand entries costs 32 trips.
const BATCH: usize = 32;

/// The entries of the directory at `path`, as a [`Stream`] of [`DirEntry`]s (in the OS's
/// order; without `.` and `..`): std's [`read_dir`](std::fs::read_dir).
///
/// # Errors
///
/// When the directory cannot be opened; the error names `path`. Each entry may also be an
/// error (naming the directory).
///
/// ```
/// use futures::StreamExt;
///
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-read-dir-{}", std::process::id()));
///     # tether::fs::create_dir_all(&dir).await.unwrap();
///     tether::fs::write(dir.join("a.txt"), "a").await.unwrap();
///     tether::fs::write(dir.join("b.txt"), "b").await.unwrap();
///     let mut names: Vec<_> = tether::fs::read_dir(&dir)
///         .await
///         .unwrap()
///         .map(|entry| entry.unwrap().file_name())
///         .collect()
///         .await;
///     names.sort();
///     assert_eq!(names, ["a.txt", "b.txt"]);
///     # tether::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = Arc::from(path.as_ref());
    let entries = on_pool("read the directory", path.to_path_buf(), |path| {
        std::fs::read_dir(path)
    })
    .await?;
    Ok(ReadDir {
        path,
        state: State::Idle(Batch {
            entries: Some(entries),
            ready: VecDeque::new(),
        }),
    })
}

/// The entries of a directory, from [`read_dir`]: a [`Stream`] of `io::Result<DirEntry>`, or
/// [`next_entry`](ReadDir::next_entry) without the `Stream` trait.
///
/// Entries come from the blocking pool 32 at a time. Dropping the stream (or the future of
/// `next_entry`) loses no entry that a later call would have returned, except that a batch in
/// flight when the `ReadDir` itself is dropped is discarded with it.
pub struct ReadDir {
    path: Arc<Path>,
    state: State,
}

enum State {
    Idle(Batch),
    Busy(Blocking<Batch>),
}

/// The directory's iterator (`None` once it is exhausted) and the entries fetched from it.
struct Batch {
    entries: Option<std::fs::ReadDir>,
    ready: VecDeque<io::Result<DirEntry>>,
}

impl Batch {
    /// Fetches up to [`BATCH`] entries (on a pool thread).
    fn fill(&mut self, dir: &Path) {
        let Some(entries) = &mut self.entries else {
            return;
        };
        for _ in 0..BATCH {
            match entries.next() {
                Some(entry) => self.ready.push_back(
                    entry
                        .map(DirEntry::new)
                        .map_err(|error| with_path(error, "read an entry of", dir)),
                ),
                None => {
                    self.entries = None;
                    return;
                }
            }
        }
    }
}

impl ReadDir {
    /// The next entry, or `None` at the end.
    ///
    /// # Errors
    ///
    /// When the OS cannot read the next entry; the error names the directory.
    ///
    /// ```
    /// tether::run(async {
    ///     # let dir = std::env::temp_dir().join(format!("tether-doc-next-entry-{}", std::process::id()));
    ///     # tether::fs::create_dir_all(&dir).await.unwrap();
    ///     tether::fs::write(dir.join("only"), "").await.unwrap();
    ///     let mut entries = tether::fs::read_dir(&dir).await.unwrap();
    ///     let entry = entries.next_entry().await.unwrap().unwrap();
    ///     assert_eq!(entry.file_name(), "only");
    ///     assert!(entry.file_type().await.unwrap().is_file());
    ///     assert!(entries.next_entry().await.unwrap().is_none());
    ///     # tether::fs::remove_dir_all(&dir).await.unwrap();
    /// });
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Busy(job) => {
                    let batch = ready!(Pin::new(job).poll(cx)).unwrap_or_else(|panic| {
                        let mut ready = VecDeque::new();
                        ready.push_back(Err(panicked(panic, "read", &this.path)));
                        Batch {
                            entries: None,
                            ready,
                        }
                    });
                    this.state = State::Idle(batch);
                }
                State::Idle(batch) => {
                    if let Some(entry) = batch.ready.pop_front() {
                        return Poll::Ready(Some(entry));
                    }
                    if batch.entries.is_none() {
                        return Poll::Ready(None);
                    }
                    let mut batch = mem::replace(
                        batch,
                        Batch {
                            entries: None,
                            ready: VecDeque::new(),
                        },
                    );
                    let dir = this.path.clone();
                    this.state = State::Busy(submit(move || {
                        batch.fill(&dir);
                        batch
                    }));
                }
            }
        }
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").field("path", &self.path).finish()
    }
}

/// An entry of a directory, from [`ReadDir`]: std's [`DirEntry`](std::fs::DirEntry), with the
/// calls that may reach the disk made async.
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Read on the pool with the entry (on Linux it comes with the entry, at no cost).
    file_type: Option<FileType>,
}

impl DirEntry {
    fn new(std: std::fs::DirEntry) -> DirEntry {
        DirEntry {
            file_type: std.file_type().ok(),
            std: Arc::new(std),
        }
    }

    /// The entry's full path: the directory's path joined with [`file_name`](DirEntry::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name in its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, read on the pool (a symlink's own, not its target's).
    ///
    /// # Errors
    ///
    /// When the OS cannot read it (the entry was removed meanwhile, say); the error names the
    /// entry's path.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let entry = self.std.clone();
        on_pool("read the metadata of", self.path(), move |_| {
            entry.metadata()
        })
        .await
    }

    /// The entry's type (file, directory, symlink), fetched with the entry when the OS gives it
    /// at no cost, else read on the pool.
    ///
    /// # Errors
    ///
    /// As [`metadata`](DirEntry::metadata).
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let entry = self.std.clone();
        on_pool("read the type of", self.path(), move |_| entry.file_type()).await
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}
