//! [`File`]: an open file whose operations run on the blocking pool, with a buffer so that
//! small reads and writes do not each cost a trip to the pool; and [`OpenOptions`].

use std::fmt;
use std::fs::Metadata;
use std::future::poll_fn;
use std::io::{self, SeekFrom};
use std::mem;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::buffer::{Buf, Done, MAX_CHUNK, Op, READ_AHEAD};
use super::error::{panicked, with_path};
use crate::runtime::to_thread::{Blocking, submit, submit_kept};

/// An open file: std's [`File`](std::fs::File) for async code. It implements the `futures`
/// crate's [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`], so the `futures::io` helpers
/// (`read_to_end`, `write_all`, `seek`, `BufReader`, `copy`, ...) work on it.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
/// use tether::fs::File;
///
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-file-{}", std::process::id()));
///     # tether::fs::create_dir_all(&dir).await.unwrap();
///     let path = dir.join("notes.txt");
///     let mut file = File::create(&path).await.unwrap();
///     for line in ["one\n", "two\n", "three\n"] {
///         // Each small write lands in the file's buffer: no trip to the pool.
///         file.write_all(line.as_bytes()).await.unwrap();
///     }
///     // Writes the buffer out and reports any error (a drop would write it too, silently).
///     file.close().await.unwrap();
///
///     let mut file = File::open(&path).await.unwrap();
///     file.seek(SeekFrom::Start(4)).await.unwrap();
///     let mut rest = String::new();
///     file.read_to_string(&mut rest).await.unwrap();
///     assert_eq!(rest, "two\nthree\n");
///     # tether::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
///
/// # How it works
///
/// One operation is in flight at a time: the file's buffer goes to a pool thread with the
/// operation and comes back with its outcome, so the operations of one file happen in the order
/// they were made, with no lock. A read asks the OS for at least 64 KiB and serves the next
/// reads from what it got; writes collect in the buffer, which goes to the pool once it holds
/// 1 MiB (a write of up to 2 MiB into an empty buffer is taken whole). While that buffer is
/// written, writes fill a second one, so producing data overlaps with writing it; a write
/// waits only when both are full. A write is therefore
/// *accepted* (`poll_write` returns `Ready(Ok(n))`) before it reaches the OS; a read, a seek, a
/// flush or any other operation writes the pending data first, so every call sees the file as
/// if each write had gone straight to it.
///
/// `File` is `Send` and `Sync`: a task made with [`spawn`](crate::spawn) may own one and run on
/// any worker.
///
/// # Errors
///
/// Every error names the file and the operation ("could not write to \`/data/log\`: No space
/// left on device (os error 28)") and keeps the OS error's [`ErrorKind`](io::ErrorKind).
///
/// A write accepted into the buffer can fail later, when the buffer is written out. That error
/// is never dropped while the `File` lives: the next call on the file, whatever it is (a write,
/// a read, a seek, [`flush`](futures_io::AsyncWrite::poll_flush), [`close`](File::close),
/// [`sync_all`](File::sync_all), ...), returns it, and the data that could not be written (with
/// any accepted behind it, which would otherwise land at the wrong offset) is discarded. Call `close` (or `flush`, or `sync_all` for durability) before dropping a file
/// whose writes matter: that is where their errors are reported.
///
/// # Cancel safety
///
/// - **A cancelled write** (its future dropped: a timeout, a `select!`, a cancelled task) keeps
///   every byte that an earlier `poll_write` accepted, and only those: they reach the file, in
///   order, with the next operation or the drop. So what a cancelled `write_all(data)` leaves in
///   the file is a prefix of `data`, which may be empty or whole; bytes never accepted are never
///   written. The write in flight on the pool, if any, finishes there.
/// - **A cancelled read** loses nothing: the read in flight finishes on the pool and the next
///   read returns its data.
/// - **A cancelled seek**, `set_len` or `sync_all` may or may not take effect (it runs on the
///   pool anyway); call it again.
///
/// # Dropping a file with unwritten data
///
/// Dropping a `File` never blocks and never loses an accepted write: if its buffer holds data
/// not yet written, the drop hands that data to the blocking pool, which writes it and then
/// closes the file (an operation still in flight finishes the same way). What a drop cannot do
/// is report an error: call [`close`](File::close) first when you need to know. The pool runs
/// the write soon after the drop, but not before it returns: another handle on the same path
/// opening the file at once may not see the data yet (close the file first). The run waits for
/// it: [`run`](crate::run) (and `#[tether::main]`) returns only once every write a dropped file
/// handed to the pool has ended, so returning from `main` loses nothing. (A `File` dropped
/// outside any run, or a process ended by `std::process::exit` while its run goes on, is not
/// waited for.)
pub struct File {
    std: Arc<std::fs::File>,
    path: Arc<Path>,
    state: State,
    /// Writes accepted while a write is in flight, so that filling one buffer overlaps with
    /// writing the other. Empty unless the operation in flight is an [`Op::Write`].
    next: Buf,
}

/// Who holds the buffer.
enum State {
    /// The file: no operation in flight.
    Idle(Buf),
    /// A pool thread, running `Op`.
    Busy(Op, Blocking<(Buf, io::Result<Done>)>),
}

impl File {
    /// Opens the file at `path` for reading: std's [`File::open`](std::fs::File::open).
    ///
    /// # Errors
    ///
    /// When the file cannot be opened; the error names `path` (a missing file's kind is
    /// [`NotFound`](io::ErrorKind::NotFound)).
    ///
    /// ```
    /// tether::run(async {
    ///     let error = tether::fs::File::open("/no/such/file").await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(error.to_string().contains("/no/such/file"), "{error}");
    /// });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens the file at `path` for writing, creating it if needed and truncating it if it
    /// exists: std's [`File::create`](std::fs::File::create).
    ///
    /// # Errors
    ///
    /// When the file cannot be created or opened; the error names `path`.
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    ///
    /// tether::run(async {
    ///     # let path = std::env::temp_dir().join(format!("tether-doc-create-{}", std::process::id()));
    ///     let mut file = tether::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"hello").await.unwrap();
    ///     file.close().await.unwrap();
    ///     assert_eq!(tether::fs::read(&path).await.unwrap(), b"hello");
    ///     # tether::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// A builder for other ways to open a file (append, read and write, create only if new).
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    ///
    /// tether::run(async {
    ///     # let path = std::env::temp_dir().join(format!("tether-doc-options-{}", std::process::id()));
    ///     # tether::fs::write(&path, "a").await.unwrap();
    ///     let mut log = tether::fs::File::options().append(true).open(&path).await.unwrap();
    ///     log.write_all(b"b").await.unwrap();
    ///     log.close().await.unwrap();
    ///     assert_eq!(tether::fs::read_to_string(&path).await.unwrap(), "ab");
    ///     # tether::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// The path the file was opened with (what its errors name).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Truncates or extends the file to `size` bytes: std's
    /// [`File::set_len`](std::fs::File::set_len). Pending writes are written first; the cursor
    /// does not move.
    ///
    /// # Errors
    ///
    /// When the file is not open for writing, or the OS refuses; or the error of an earlier
    /// write (see [Errors](File#errors)).
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    ///
    /// tether::run(async {
    ///     # let path = std::env::temp_dir().join(format!("tether-doc-set-len-{}", std::process::id()));
    ///     let mut file = tether::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"hello, world").await.unwrap();
    ///     file.set_len(5).await.unwrap();
    ///     assert_eq!(file.metadata().await.unwrap().len(), 5);
    ///     # tether::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        self.operate(Op::SetLen(size)).await.map(drop)
    }

    /// Writes pending data, then has the OS write the file's data and metadata to the device:
    /// std's [`File::sync_all`](std::fs::File::sync_all).
    ///
    /// # Errors
    ///
    /// When the OS cannot sync, or a write fails (this one or an earlier one, see
    /// [Errors](File#errors)).
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    ///
    /// tether::run(async {
    ///     # let path = std::env::temp_dir().join(format!("tether-doc-sync-{}", std::process::id()));
    ///     let mut file = tether::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"durable").await.unwrap();
    ///     file.sync_all().await.unwrap(); // on the device, or an error
    ///     # tether::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.operate(Op::SyncAll).await.map(drop)
    }

    /// As [`sync_all`](File::sync_all), but metadata the data does not need (such as the
    /// modification time) may stay unsynced: std's
    /// [`File::sync_data`](std::fs::File::sync_data).
    ///
    /// # Errors
    ///
    /// As `sync_all`.
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    ///
    /// tether::run(async {
    ///     # let path = std::env::temp_dir().join(format!("tether-doc-sync-data-{}", std::process::id()));
    ///     let mut file = tether::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"data").await.unwrap();
    ///     file.sync_data().await.unwrap();
    ///     # tether::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.operate(Op::SyncData).await.map(drop)
    }

    /// The file's metadata: std's [`File::metadata`](std::fs::File::metadata). Pending writes
    /// stay pending, so the length does not count them (flush first to see them).
    ///
    /// # Errors
    ///
    /// When the OS refuses; or the error of an earlier write (see [Errors](File#errors)).
    ///
    /// ```
    /// tether::run(async {
    ///     # let path = std::env::temp_dir().join(format!("tether-doc-file-metadata-{}", std::process::id()));
    ///     # tether::fs::write(&path, "1234").await.unwrap();
    ///     let file = tether::fs::File::open(&path).await.unwrap();
    ///     # let mut file = file;
    ///     assert_eq!(file.metadata().await.unwrap().len(), 4);
    ///     # tether::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn metadata(&mut self) -> io::Result<Metadata> {
        match self.operate(Op::Metadata).await? {
            Done::Metadata(metadata) => Ok(metadata),
            _ => unreachable!("a metadata job answers with metadata"),
        }
    }

    /// Writes pending data and closes the file, reporting any error a drop would have to
    /// swallow: what to call at the end of writing (the same as `futures`'
    /// `close` (`futures::io::AsyncWriteExt::close`), without its import).
    ///
    /// # Errors
    ///
    /// When pending data cannot be written, or an earlier write failed.
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    ///
    /// tether::run(async {
    ///     # let path = std::env::temp_dir().join(format!("tether-doc-close-{}", std::process::id()));
    ///     let mut file = tether::fs::File::create(&path).await.unwrap();
    ///     file.write_all(b"all of it").await.unwrap();
    ///     file.close().await.unwrap();
    ///     # tether::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn close(mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush_buffer(cx)).await
    }

    /// Runs `op` after whatever is in flight, and returns its outcome.
    async fn operate(&mut self, op: Op) -> io::Result<Done> {
        poll_fn(|cx| {
            loop {
                if let Some(done) = ready!(self.poll_idle(cx, |running| running == op))? {
                    return Poll::Ready(Ok(done));
                }
                self.start(op);
            }
        })
        .await
    }

    /// Waits until no operation is in flight. The finished operation's outcome is returned
    /// (`Some`) if `mine` claims it: the caller made it, possibly in an earlier poll. Otherwise
    /// it belonged to a call that was cancelled, and only a failed write is reported (its data
    /// is lost; no one else would hear of it).
    fn poll_idle(
        &mut self,
        cx: &mut Context<'_>,
        mine: impl Fn(Op) -> bool,
    ) -> Poll<io::Result<Option<Done>>> {
        let State::Busy(op, job) = &mut self.state else {
            return Poll::Ready(Ok(None));
        };
        let op = *op;
        let (mut buf, outcome) = match ready!(Pin::new(job).poll(cx)) {
            Ok(finished) => finished,
            Err(panic) => {
                // The buffer went down with the thread: treat its data as a failed write.
                let mut buf = Buf::new();
                buf.failed_write = true;
                (buf, Err(panicked(panic, "write to", &self.path)))
            }
        };
        // Read once: a later job that does not settle the buffer (metadata) must not see it.
        let failed_write = mem::take(&mut buf.failed_write);
        self.state = State::Idle(buf);
        if self.next.has_pending_writes() {
            if failed_write {
                // Written after a chunk that could not be, it would land at the wrong offset.
                self.next.clear();
            } else {
                // The writes accepted meanwhile become the pending data; the written buffer,
                // empty, keeps its memory for the next round.
                let State::Idle(written) = &mut self.state else {
                    unreachable!("just set")
                };
                mem::swap(written, &mut self.next);
            }
        }
        Poll::Ready(match outcome {
            outcome if mine(op) => outcome.map(Some),
            Err(error) if failed_write => Err(error),
            _ => Ok(None),
        })
    }

    /// The buffer, when no operation is in flight.
    fn buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(buf) => buf,
            State::Busy(..) => unreachable!("the buffer is read only when the file is idle"),
        }
    }

    /// Sends `op` and the buffer to the pool. The file must be idle.
    fn start(&mut self, op: Op) {
        let State::Idle(mut buf) = mem::replace(&mut self.state, State::Idle(Buf::new())) else {
            unreachable!("one operation at a time")
        };
        let (file, path) = (self.std.clone(), self.path.clone());
        // Kept: if the file is dropped with this job in flight, the run still waits for it.
        let job = submit_kept(move || {
            let outcome = buf.run(&file, &path, op);
            (buf, outcome)
        });
        self.state = State::Busy(op, job);
    }

    /// Writes whatever is pending; `Ready(Ok)` once nothing is.
    fn poll_flush_buffer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_idle(cx, |_| false))?;
            if !self.buf().has_pending_writes() {
                return Poll::Ready(Ok(()));
            }
            self.start(Op::Write);
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            ready!(this.poll_idle(cx, |op| matches!(op, Op::Read(_))))?;
            let buf = this.buf();
            if buf.unread() > 0 {
                return Poll::Ready(Ok(buf.take(dst)));
            }
            if buf.eof || dst.is_empty() {
                buf.eof = false;
                return Poll::Ready(Ok(0));
            }
            this.start(Op::Read(dst.len().clamp(READ_AHEAD, MAX_CHUNK)));
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if matches!(this.state, State::Busy(Op::Write, _)) && !this.next.is_full() {
            // Fill the other buffer while this one is written.
            return Poll::Ready(Ok(this.next.accept(src)));
        }
        loop {
            ready!(this.poll_idle(cx, |_| false))?;
            let buf = this.buf();
            if buf.unread() > 0 || buf.is_full() {
                // Move the cursor back over the read-ahead data, or make room.
                this.start(Op::Write);
                continue;
            }
            let accepted = buf.accept(src);
            if buf.is_full() {
                this.start(Op::Write);
            }
            return Poll::Ready(Ok(accepted));
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_buffer(cx)
    }

    /// Writes pending data. The file itself closes when the `File` is dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_buffer(cx)
    }
}

impl AsyncSeek for File {
    /// Writes pending data, then seeks. The position is the one the user sees: read-ahead data
    /// not consumed yet is accounted for.
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            if let Some(Done::Position(at)) = ready!(this.poll_idle(cx, |op| op == Op::Seek(pos)))?
            {
                return Poll::Ready(Ok(at));
            }
            this.start(Op::Seek(pos));
        }
    }
}

impl Drop for File {
    /// Hands pending writes to the pool (see [Dropping a file](File#dropping-a-file-with-unwritten-data)).
    fn drop(&mut self) {
        let next = mem::replace(&mut self.next, Buf::new());
        match mem::replace(&mut self.state, State::Idle(Buf::new())) {
            State::Idle(buf) => {
                if buf.has_pending_writes() {
                    self.state = State::Idle(buf);
                    // The job holds the std file until it is done; its outcome goes nowhere.
                    self.start(Op::Write);
                }
            }
            State::Busy(_, in_flight) => {
                if next.has_pending_writes() {
                    // The writes behind the one in flight must follow it: a job waits for it
                    // on the pool (it was queued first, so it is running or done by then),
                    // then writes them, unless it failed.
                    let (file, path) = (self.std.clone(), self.path.clone());
                    let _detached = submit_kept(move || {
                        let Ok((before, _)) = wait(in_flight) else {
                            return;
                        };
                        if !before.failed_write {
                            let mut next = next;
                            let _ = next.run(&file, &path, Op::Write);
                        }
                    });
                }
            }
        }
    }
}

/// Blocks this (pool) thread until `job` is done.
fn wait<R>(mut job: Blocking<R>) -> Result<R, crate::BlockingError> {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(outcome) = Pin::new(&mut job).poll(&mut cx) {
            return outcome;
        }
        std::thread::park();
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("File");
        out.field("path", &self.path);
        match &self.state {
            State::Idle(buf) => out.field("buffered", &buf.data.len()),
            State::Busy(op, _) => out
                .field("in_flight", op)
                .field("buffered", &self.next.data.len()),
        };
        out.finish()
    }
}

/// Options for opening a file: std's [`OpenOptions`](std::fs::OpenOptions), opened on the
/// blocking pool. Made by [`File::options`] or [`OpenOptions::new`].
///
/// ```
/// tether::run(async {
///     # let path = std::env::temp_dir().join(format!("tether-doc-open-options-{}", std::process::id()));
///     let options = tether::fs::OpenOptions::new().write(true).create_new(true).clone();
///     let file = options.open(&path).await.unwrap();
///     drop(file);
///     // Already there now.
///     let error = options.open(&path).await.unwrap_err();
///     assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
///     # tether::fs::remove_file(&path).await.unwrap();
/// });
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Options with every flag off: std's [`OpenOptions::new`](std::fs::OpenOptions::new).
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for appending: every write goes to the end of the file.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate an existing file to 0 bytes when opening it.
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with [`AlreadyExists`](io::ErrorKind::AlreadyExists) if it
    /// exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// Opens the file at `path` with these options, on the blocking pool.
    ///
    /// # Errors
    ///
    /// std's, with `path` named in the message and the kind kept.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path: Arc<Path> = Arc::from(path.as_ref());
        let (options, opened) = (self.0.clone(), path.clone());
        let std = submit(move || {
            options
                .open(&opened)
                .map_err(|error| with_path(error, "open", &opened))
        })
        .await
        .map_err(|panic| panicked(panic, "open", &path))??;
        Ok(File {
            std: Arc::new(std),
            path,
            state: State::Idle(Buf::new()),
            next: Buf::new(),
        })
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

// `File` may be owned by a `spawn`ed task on any worker.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<File>();
    send_and_sync::<OpenOptions>();
};
