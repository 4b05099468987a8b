//! `tether::fs` on real files in a scratch directory under the system's temp dir, on both
//! flavours: every free function, errors that name their path, `read_dir` as a stream, `File`'s
//! reads, writes and seeks in every interleaving, `set_len`, `sync_all`, a cancelled write and
//! a cancelled read, a file dropped with data still in its buffer, errors of buffered writes reported later, and
//! large files.
//!
//! Miri's isolation refuses file system calls (scripts/miri.sh does not lift it), so the whole
//! file is left out under Miri.
#![cfg(not(miri))]

use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use futures::{StreamExt, poll};
use tether::fs::{self, File};

/// A directory of its own for one test, removed (with everything in it) when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tether-fs-{test}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bytes that differ from one offset to the next, so that a misplaced chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
        .collect()
}

tether_tests::on_both_flavors!(
    whole_file_functions,
    errors_name_their_path_and_keep_their_kind,
    read_dir_is_a_stream,
    a_seek_after_buffered_writes_sees_them,
    a_write_after_a_read_lands_at_the_read_position,
    a_read_after_a_write_continues_after_it,
    relative_seeks_count_read_ahead_data,
    set_len_writes_pending_data_first,
    sync_all_and_sync_data,
    a_cancelled_write_leaves_a_prefix,
    a_cancelled_read_loses_nothing,
    a_failed_buffered_write_is_reported_by_the_next_call,
    a_full_device_is_reported_by_flush,
    large_files_round_trip,
    a_file_moves_between_spawned_tasks,
    open_options,
);

/// The drop scenarios, with a pool of one thread: jobs run in the order they were submitted,
/// which they rely on (see their comments).
mod one_pool_thread {
    use super::*;

    tether_tests::on_both_flavors!(
        with |builder| builder.blocking_threads(1);
        dropping_a_file_writes_its_buffer,
        dropping_a_file_with_a_write_in_flight_writes_everything,
    );
}

async fn whole_file_functions() {
    let dir = Scratch::new("whole");
    let a = dir.path("a.txt");
    fs::write(&a, "hello").await.unwrap();
    assert_eq!(fs::read(&a).await.unwrap(), b"hello");
    assert_eq!(fs::read_to_string(&a).await.unwrap(), "hello");
    let metadata = fs::metadata(&a).await.unwrap();
    assert!(metadata.is_file());
    assert_eq!(metadata.len(), 5);

    assert_eq!(fs::copy(&a, dir.path("b.txt")).await.unwrap(), 5);
    assert_eq!(fs::read(dir.path("b.txt")).await.unwrap(), b"hello");
    fs::rename(dir.path("b.txt"), dir.path("c.txt"))
        .await
        .unwrap();
    assert!(!fs::try_exists(dir.path("b.txt")).await.unwrap());
    assert!(fs::try_exists(dir.path("c.txt")).await.unwrap());
    fs::remove_file(dir.path("c.txt")).await.unwrap();
    assert!(!fs::try_exists(dir.path("c.txt")).await.unwrap());

    fs::hard_link(&a, dir.path("hard")).await.unwrap();
    assert_eq!(fs::read(dir.path("hard")).await.unwrap(), b"hello");
    std::os::unix::fs::symlink(&a, dir.path("soft")).unwrap();
    assert_eq!(fs::read_link(dir.path("soft")).await.unwrap(), a);
    assert!(
        fs::symlink_metadata(dir.path("soft"))
            .await
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::canonicalize(dir.path("soft")).await.unwrap(),
        fs::canonicalize(&a).await.unwrap()
    );

    let mut permissions = fs::metadata(&a).await.unwrap().permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&a, permissions).await.unwrap();
    assert!(fs::metadata(&a).await.unwrap().permissions().readonly());

    let deep = dir.path("x/y/z");
    fs::create_dir_all(&deep).await.unwrap();
    fs::create_dir_all(&deep).await.unwrap();
    fs::create_dir(dir.path("x/y/z/w")).await.unwrap();
    fs::remove_dir(dir.path("x/y/z/w")).await.unwrap();
    fs::write(deep.join("f"), [0u8; 10]).await.unwrap();
    fs::remove_dir_all(dir.path("x")).await.unwrap();
    assert!(!fs::try_exists(dir.path("x")).await.unwrap());
}

/// The message names the operation and the path; the kind is the OS error's.
fn assert_names(error: &std::io::Error, kind: ErrorKind, words: &[&str]) {
    assert_eq!(error.kind(), kind, "{error}");
    for word in words {
        assert!(error.to_string().contains(word), "{word:?} not in: {error}");
    }
}

async fn errors_name_their_path_and_keep_their_kind() {
    let dir = Scratch::new("errors");
    let missing = dir.path("missing.txt");
    let shown = missing.display().to_string();
    let read = fs::read(&missing).await.unwrap_err();
    assert_names(&read, ErrorKind::NotFound, &["could not read", &shown]);
    let opened = File::open(&missing).await.unwrap_err();
    assert_names(&opened, ErrorKind::NotFound, &["could not open", &shown]);
    let metadata = fs::metadata(&missing).await.unwrap_err();
    assert_names(&metadata, ErrorKind::NotFound, &["metadata", &shown]);
    let removed = fs::remove_file(&missing).await.unwrap_err();
    assert_names(&removed, ErrorKind::NotFound, &["could not remove", &shown]);
    let listed = fs::read_dir(&missing).await.unwrap_err();
    assert_names(&listed, ErrorKind::NotFound, &["directory", &shown]);

    let target = dir.path("target.txt").display().to_string();
    let copied = fs::copy(&missing, dir.path("target.txt"))
        .await
        .unwrap_err();
    assert_names(
        &copied,
        ErrorKind::NotFound,
        &["could not copy", &shown, &target],
    );
    let renamed = fs::rename(&missing, dir.path("target.txt"))
        .await
        .unwrap_err();
    assert_names(&renamed, ErrorKind::NotFound, &["rename", &shown, &target]);

    let made = fs::create_dir(&dir.0).await.unwrap_err();
    assert_names(
        &made,
        ErrorKind::AlreadyExists,
        &[&dir.0.display().to_string()],
    );

    let binary = dir.path("binary");
    fs::write(&binary, [0xff, 0xfe]).await.unwrap();
    let text = fs::read_to_string(&binary).await.unwrap_err();
    assert_names(
        &text,
        ErrorKind::InvalidData,
        &[&binary.display().to_string()],
    );
}

async fn read_dir_is_a_stream() {
    let dir = Scratch::new("read-dir");
    // More entries than one batch from the pool.
    let mut expected: Vec<String> = (0..100).map(|i| format!("file-{i:03}")).collect();
    for name in &expected {
        fs::write(dir.path(name), name).await.unwrap();
    }
    fs::create_dir(dir.path("sub")).await.unwrap();

    let mut names = Vec::new();
    let mut directories = 0;
    let mut entries = fs::read_dir(&dir.0).await.unwrap();
    while let Some(entry) = entries.next().await {
        let entry = entry.unwrap();
        assert_eq!(entry.path(), dir.0.join(entry.file_name()));
        if entry.file_type().await.unwrap().is_dir() {
            directories += 1;
            assert!(entry.metadata().await.unwrap().is_dir());
        } else {
            let name = entry.file_name().into_string().unwrap();
            assert_eq!(entry.metadata().await.unwrap().len(), name.len() as u64);
            names.push(name);
        }
    }
    // A finished stream stays finished.
    assert!(entries.next().await.is_none());
    names.sort();
    assert_eq!(names, expected);
    assert_eq!(directories, 1);

    // The same through next_entry.
    let mut entries = fs::read_dir(&dir.0).await.unwrap();
    let mut count = 0;
    while let Some(entry) = entries.next_entry().await.unwrap() {
        assert!(entry.file_name().to_string_lossy().len() >= 3);
        count += 1;
    }
    assert_eq!(count, 101);
    expected.clear();
}

/// The file at `path` with `contents`, open for reading and writing at its start.
async fn read_write(path: &Path, contents: &str) -> File {
    fs::write(path, contents).await.unwrap();
    File::options()
        .read(true)
        .write(true)
        .open(path)
        .await
        .unwrap()
}

async fn a_seek_after_buffered_writes_sees_them() {
    let dir = Scratch::new("seek-after-write");
    let path = dir.path("f");
    let mut file = read_write(&path, "").await;
    file.write_all(b"hello ").await.unwrap();
    file.write_all(b"world").await.unwrap();
    // Both writes are still in the buffer; the seek writes them first.
    assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 11);
    assert_eq!(file.seek(SeekFrom::Start(0)).await.unwrap(), 0);
    let mut hello = [0; 5];
    file.read_exact(&mut hello).await.unwrap();
    assert_eq!(&hello, b"hello");
    assert_eq!(file.seek(SeekFrom::End(-5)).await.unwrap(), 6);
    let mut rest = String::new();
    file.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "world");
    file.close().await.unwrap();
}

async fn a_write_after_a_read_lands_at_the_read_position() {
    let dir = Scratch::new("write-after-read");
    let path = dir.path("f");
    let mut file = read_write(&path, "0123456789").await;
    let mut two = [0; 2];
    // The read fetched the whole file ahead; the write must go at offset 2, not 10.
    file.read_exact(&mut two).await.unwrap();
    assert_eq!(&two, b"01");
    file.write_all(b"ab").await.unwrap();
    // And reading goes on after what was written.
    file.read_exact(&mut two).await.unwrap();
    assert_eq!(&two, b"45");
    file.close().await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "01ab456789");
}

async fn a_read_after_a_write_continues_after_it() {
    let dir = Scratch::new("read-after-write");
    let path = dir.path("f");
    let mut file = read_write(&path, "0123456789").await;
    file.write_all(b"abc").await.unwrap();
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"3456789");
    // At the end: a read returns 0, and a write appends.
    assert_eq!(file.read(&mut [0; 4]).await.unwrap(), 0);
    file.write_all(b"!").await.unwrap();
    file.close().await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "abc3456789!");
}

async fn relative_seeks_count_read_ahead_data() {
    let dir = Scratch::new("relative-seek");
    let path = dir.path("f");
    fs::write(&path, "0123456789").await.unwrap();
    let mut file = File::open(&path).await.unwrap();
    let mut three = [0; 3];
    file.read_exact(&mut three).await.unwrap();
    assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 3);
    assert_eq!(file.seek(SeekFrom::Current(2)).await.unwrap(), 5);
    file.read_exact(&mut three).await.unwrap();
    assert_eq!(&three, b"567");
    assert_eq!(file.seek(SeekFrom::Current(-8)).await.unwrap(), 0);
    file.read_exact(&mut three).await.unwrap();
    assert_eq!(&three, b"012");
    let error = file.seek(SeekFrom::Current(-10)).await.unwrap_err();
    assert_names(
        &error,
        ErrorKind::InvalidInput,
        &["seek", &path.display().to_string()],
    );
}

async fn set_len_writes_pending_data_first() {
    let dir = Scratch::new("set-len");
    let path = dir.path("f");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(b"0123456789").await.unwrap();
    file.set_len(4).await.unwrap();
    assert_eq!(file.metadata().await.unwrap().len(), 4);
    assert_eq!(fs::read(&path).await.unwrap(), b"0123");
    // Extending fills with zeros; the cursor stays at 10, so the next write leaves a gap.
    file.set_len(6).await.unwrap();
    file.write_all(b"x").await.unwrap();
    file.close().await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"0123\0\0\0\0\0\0x");
    // A file opened for reading only cannot change length; the error names it.
    let mut reader = File::open(&path).await.unwrap();
    let error = reader.set_len(0).await.unwrap_err();
    assert_names(
        &error,
        ErrorKind::InvalidInput,
        &["set the length", &path.display().to_string()],
    );
}

async fn sync_all_and_sync_data() {
    let dir = Scratch::new("sync");
    let path = dir.path("f");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(b"durable").await.unwrap();
    file.sync_all().await.unwrap();
    // sync_all wrote the buffer: the data is there while the file is still open.
    assert_eq!(fs::read(&path).await.unwrap(), b"durable");
    file.write_all(b" data").await.unwrap();
    file.sync_data().await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"durable data");
    drop(file);
}

/// The docs: a cancelled `write_all` leaves a prefix of its data, made of the bytes that a
/// `poll_write` accepted, and they reach the file.
async fn a_cancelled_write_leaves_a_prefix() {
    let dir = Scratch::new("cancelled-write");
    let path = dir.path("f");
    let data = pattern(32 << 20);
    let mut file = File::create(&path).await.unwrap();
    file.write_all(b"head:").await.unwrap();
    {
        let mut writing = file.write_all(&data);
        // The first poll accepts a chunk and sends it to the pool; 32 MiB cannot all be
        // written before the next poll waits for the pool.
        assert!(poll!(&mut writing).is_pending());
    } // Cancelled here.
    file.close().await.unwrap();
    let written = fs::read(&path).await.unwrap();
    assert_eq!(&written[..5], b"head:");
    let kept = &written[5..];
    assert!(
        !kept.is_empty(),
        "the first chunk was accepted, so it is written"
    );
    assert!(kept.len() < data.len(), "the rest was never accepted");
    assert!(data.starts_with(kept), "what is on disk is a prefix");
}

/// The docs: the read in flight finishes on the pool, and the next read returns its data.
async fn a_cancelled_read_loses_nothing() {
    let dir = Scratch::new("cancelled-read");
    let path = dir.path("f");
    let data = pattern(300_000);
    fs::write(&path, &data).await.unwrap();
    let mut file = File::open(&path).await.unwrap();
    let mut back = Vec::new();
    let mut first = vec![0; 1000];
    {
        let mut reading = file.read(&mut first);
        // Almost always pending (the pool has not answered yet); if the read was that quick,
        // its bytes count as read.
        if let std::task::Poll::Ready(n) = poll!(&mut reading) {
            back.extend_from_slice(&first[..n.unwrap()]);
        }
    } // Cancelled here.
    file.read_to_end(&mut back).await.unwrap();
    assert!(back == data, "{} bytes back of {}", back.len(), data.len());
}

/// A file opened for reading accepts writes into its buffer; writing them out fails, and the
/// next call reports it, naming the file.
async fn a_failed_buffered_write_is_reported_by_the_next_call() {
    let dir = Scratch::new("failed-write");
    let path = dir.path("f");
    fs::write(&path, "original").await.unwrap();
    let shown = path.display().to_string();
    // What std says when writing to a file opened for reading (EBADF, a kind std does not name).
    let bad_fd = {
        use std::io::Write;
        let mut std_file = std::fs::File::open(&path).unwrap();
        std_file.write(b"x").unwrap_err().kind()
    };

    let mut file = File::open(&path).await.unwrap();
    assert_eq!(file.write(b"small").await.unwrap(), 5);
    let error = file.flush().await.unwrap_err();
    assert_names(&error, bad_fd, &["could not write to", &shown]);
    // Reported once: the data is dropped and the file goes on.
    file.flush().await.unwrap();

    // A write large enough to go to the pool on its own: the call after it reports its failure,
    // whatever that call is.
    let big = pattern(3 << 20);
    let accepted = file.write(&big).await.unwrap();
    assert!(accepted > 0);
    let error = file.metadata().await.unwrap_err();
    assert_names(&error, bad_fd, &["could not write to", &shown]);
    assert_eq!(file.metadata().await.unwrap().len(), 8);

    // close reports it too.
    file.write_all(b"more").await.unwrap();
    let error = file.close().await.unwrap_err();
    assert_names(&error, bad_fd, &["could not write to", &shown]);
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "original");
}

/// `/dev/full` refuses every write with ENOSPC: the buffered write's error comes back from
/// `flush` with its kind.
async fn a_full_device_is_reported_by_flush() {
    let mut full = File::options().write(true).open("/dev/full").await.unwrap();
    full.write_all(b"no room").await.unwrap();
    let error = full.flush().await.unwrap_err();
    assert_names(&error, ErrorKind::StorageFull, &["/dev/full"]);
    full.write_all(b"still no room").await.unwrap();
    let error = full.sync_all().await.unwrap_err();
    assert_names(&error, ErrorKind::StorageFull, &["/dev/full"]);
}

async fn large_files_round_trip() {
    let dir = Scratch::new("large");
    let path = dir.path("big");
    let data = pattern(24 << 20);
    let mut file = File::create(&path).await.unwrap();
    // Odd sizes: chunks straddle the buffer's limits.
    for chunk in data.chunks(100_003) {
        file.write_all(chunk).await.unwrap();
    }
    file.close().await.unwrap();
    assert_eq!(fs::metadata(&path).await.unwrap().len(), data.len() as u64);
    assert!(fs::read(&path).await.unwrap() == data);

    let mut file = File::open(&path).await.unwrap();
    let mut back = Vec::with_capacity(data.len());
    let mut chunk = vec![0; 7_777];
    loop {
        let n = file.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        back.extend_from_slice(&chunk[..n]);
    }
    assert!(back == data);
    // One big read goes through the buffer in rounds.
    file.seek(SeekFrom::Start(1)).await.unwrap();
    let mut all = vec![0; data.len() - 1];
    file.read_exact(&mut all).await.unwrap();
    assert!(all[..] == data[1..]);
}

async fn a_file_moves_between_spawned_tasks() {
    let dir = Scratch::new("spawned");
    let path = dir.path("f");
    let file = File::create(&path).await.unwrap();
    let writer = tether::spawn(async move {
        let mut file = file;
        for i in 0..1000u32 {
            file.write_all(&i.to_le_bytes()).await.unwrap();
        }
        file
    });
    let file = writer.await.unwrap();
    let reader = tether::spawn(async move {
        let file = file;
        file.close().await.unwrap();
        let mut file = File::open(&path).await.unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).await.unwrap();
        bytes
    });
    let bytes = reader.await.unwrap();
    let numbers: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(numbers, (0..1000).collect::<Vec<_>>());
}

async fn open_options() {
    let dir = Scratch::new("options");
    let path = dir.path("log");
    let mut log = File::options()
        .append(true)
        .create(true)
        .open(&path)
        .await
        .unwrap();
    log.write_all(b"one\n").await.unwrap();
    log.close().await.unwrap();
    let mut log = File::options().append(true).open(&path).await.unwrap();
    log.write_all(b"two\n").await.unwrap();
    log.close().await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "one\ntwo\n");
    let again = File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .await
        .unwrap_err();
    assert_names(
        &again,
        ErrorKind::AlreadyExists,
        &[&path.display().to_string()],
    );
    assert_eq!(File::open(&path).await.unwrap().path(), Path::new(&path));
}

/// The docs: a drop hands buffered data to the pool, which writes it. The pool has one thread
/// here, so the read submitted after the drop runs after that write.
async fn dropping_a_file_writes_its_buffer() {
    let dir = Scratch::new("drop");
    let path = dir.path("f");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(b"never flushed").await.unwrap();
    drop(file);
    assert_eq!(fs::read(&path).await.unwrap(), b"never flushed");
}

/// As above, with a write in flight on the pool and more data accepted behind it: the drop's
/// job waits for the first write, then writes the rest after it.
async fn dropping_a_file_with_a_write_in_flight_writes_everything() {
    let dir = Scratch::new("drop-in-flight");
    let path = dir.path("f");
    let data = pattern(2 << 20);
    let mut file = File::create(&path).await.unwrap();
    // A write into an empty buffer takes up to 2 MiB at once and, the buffer being full, sends
    // it to the pool; the next write lands in the second buffer.
    file.write_all(&data).await.unwrap();
    file.write_all(b"tail").await.unwrap();
    let state = format!("{file:?}");
    assert!(
        state.contains("in_flight: Write") && state.contains("buffered: 4"),
        "{state}"
    );
    drop(file);
    let written = fs::read(&path).await.unwrap();
    assert_eq!(written.len(), data.len() + 4);
    assert!(written[..data.len()] == data[..]);
    assert_eq!(&written[data.len()..], b"tail");
}

/// A file dropped as `main` ends: `run` returns only once the drop's writes have reached the
/// file. The pool's one thread is held by a job that a second thread releases only after the
/// drop, so the drop's writes are still queued when the main task returns.
#[test]
fn a_file_dropped_as_the_run_ends_is_written_before_run_returns() {
    for workers in [1, 2] {
        let dir = Scratch::new("drop-at-exit");
        let path = dir.path("f");
        // Less than the buffer holds: it all stays in the buffer until the drop.
        let data = pattern(512 << 10);
        let (release, held) = std::sync::mpsc::channel::<()>();
        tether::Runtime::builder()
            .blocking_threads(1)
            .workers(workers)
            .build()
            .run(async {
                let mut file = File::create(&path).await.unwrap();
                let hold = tether::to_thread(move || held.recv());
                let mut hold = std::pin::pin!(hold);
                // Started, so it occupies the pool's thread; its outcome is not awaited.
                assert!(poll!(hold.as_mut()).is_pending());
                file.write_all(&data).await.unwrap();
                file.write_all(b"tail").await.unwrap();
                drop(file);
                std::thread::spawn(move || release.send(()).unwrap());
            });
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written.len(), data.len() + 4, "workers = {workers}");
        assert!(written[..data.len()] == data[..]);
        assert_eq!(&written[data.len()..], b"tail");
    }
}
