//! Files and directories on the blocking pool: tokio's `tokio::fs` (and smol's `async-fs`) for
//! tether.
//!
//! Operating systems have no readiness for regular files (epoll refuses them), so every call
//! here runs std's own function on the runtime's blocking pool (the one
//! [`to_thread`](crate::to_thread) uses, [`Builder::blocking_threads`](crate::Builder::blocking_threads)
//! bounds it) and awaits it; the calling task's worker is never blocked. A [`File`] keeps a
//! buffer so that small reads and writes do not each cost a trip to the pool.
//!
//! ```
//! use futures::StreamExt;
//!
//! tether::run(async {
//!     # let dir = std::env::temp_dir().join(format!("tether-doc-fs-{}", std::process::id()));
//!     tether::fs::create_dir_all(dir.join("drafts")).await.unwrap();
//!     tether::fs::write(dir.join("drafts/hello.txt"), "hello").await.unwrap();
//!     tether::fs::rename(dir.join("drafts/hello.txt"), dir.join("hello.txt")).await.unwrap();
//!     assert_eq!(tether::fs::read_to_string(dir.join("hello.txt")).await.unwrap(), "hello");
//!     let entries = tether::fs::read_dir(&dir).await.unwrap().count().await;
//!     assert_eq!(entries, 2); // drafts/ and hello.txt
//!     tether::fs::remove_dir_all(&dir).await.unwrap();
//! });
//! ```
//!
//! - **Errors name their path.** Each error is an `io::Error` whose message says what was being
//!   done to which path ("could not read \`/etc/missing\`: No such file or directory (os
//!   error 2)") and whose [`kind`](io::Error::kind) is the OS error's. (The OS error number itself,
//!   `raw_os_error`, is not kept: match on the kind.)
//! - **Cancellation.** Dropping the future of a call here does not undo it: the call runs to
//!   its end on the pool (a thread cannot be interrupted safely) and its result is dropped. A
//!   cancelled [`write()`] may have written the whole file, part of it (`std::fs::write` is a
//!   create then a series of writes), or nothing; a cancelled [`rename`] or [`remove_file`]
//!   has happened or not. See [`File`] for what a cancelled write on an open file leaves.
//! - **Ownership.** Nothing here starts a task: a call runs on the pool only while its future
//!   (or its `File`) is around to receive the outcome, and an accepted write is never dropped
//!   (see [`File`] on dropping a file with unwritten data).

mod buffer;
mod error;
mod file;
mod read_dir;

pub use file::{File, OpenOptions};
pub use read_dir::{DirEntry, ReadDir, read_dir};

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

use crate::runtime::to_thread::submit;
use error::{panicked, with_path, with_paths};

/// Runs `f(path)` on the blocking pool; its error names `op` and `path`.
async fn on_pool<T, F>(op: &'static str, path: PathBuf, f: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
{
    let shown = path.clone();
    submit(move || f(&path).map_err(|error| with_path(error, op, &path)))
        .await
        .unwrap_or_else(|panic| Err(panicked(panic, op, &shown)))
}

/// Runs `f(from, to)` on the blocking pool; its error names `op` and both paths.
async fn on_pool_from_to<T, F>(op: &'static str, from: PathBuf, to: PathBuf, f: F) -> io::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Path, &Path) -> io::Result<T> + Send + 'static,
{
    let shown = from.clone();
    submit(move || f(&from, &to).map_err(|error| with_paths(error, op, &from, &to)))
        .await
        .unwrap_or_else(|panic| Err(panicked(panic, op, &shown)))
}

/// The whole file at `path`: std's [`fs::read`](std::fs::read), on the blocking pool.
///
/// # Errors
///
/// When the file cannot be opened or read; the error names `path`.
///
/// ```
/// tether::run(async {
///     # let path = std::env::temp_dir().join(format!("tether-doc-read-{}", std::process::id()));
///     tether::fs::write(&path, [1, 2, 3]).await.unwrap();
///     assert_eq!(tether::fs::read(&path).await.unwrap(), [1, 2, 3]);
///     # tether::fs::remove_file(&path).await.unwrap();
///
///     let missing = tether::fs::read("/no/such/file").await.unwrap_err();
///     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
///     assert!(missing.to_string().starts_with("could not read `/no/such/file`"), "{missing}");
/// });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_pool("read", path.as_ref().to_owned(), |path| std::fs::read(path)).await
}

/// The whole file at `path` as UTF-8 text: std's [`fs::read_to_string`](std::fs::read_to_string).
///
/// # Errors
///
/// When the file cannot be read, or is not UTF-8 ([`InvalidData`](io::ErrorKind::InvalidData));
/// the error names `path`.
///
/// ```
/// tether::run(async {
///     # let path = std::env::temp_dir().join(format!("tether-doc-read-to-string-{}", std::process::id()));
///     tether::fs::write(&path, "text").await.unwrap();
///     assert_eq!(tether::fs::read_to_string(&path).await.unwrap(), "text");
///     # tether::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_pool("read", path.as_ref().to_owned(), |path| {
        std::fs::read_to_string(path)
    })
    .await
}

/// Writes `contents` as the whole file at `path`, creating or truncating it: std's
/// [`fs::write`](std::fs::write). The bytes are copied once, to move them to the pool.
///
/// # Errors
///
/// When the file cannot be created or written; the error names `path`. If the future is
/// dropped, the write still runs to its end on the pool (see [Cancellation](self)).
///
/// ```
/// tether::run(async {
///     # let path = std::env::temp_dir().join(format!("tether-doc-write-{}", std::process::id()));
///     tether::fs::write(&path, "first").await.unwrap();
///     tether::fs::write(&path, "second").await.unwrap();
///     assert_eq!(tether::fs::read_to_string(&path).await.unwrap(), "second");
///     # tether::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_owned();
    on_pool("write", path.as_ref().to_owned(), move |path| {
        std::fs::write(path, contents)
    })
    .await
}

/// Copies the file at `from` to `to` (contents and permissions), returning the number of bytes
/// copied: std's [`fs::copy`](std::fs::copy).
///
/// # Errors
///
/// When either file cannot be opened, or the copy fails; the error names both paths.
///
/// ```
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-copy-{}", std::process::id()));
///     # tether::fs::create_dir_all(&dir).await.unwrap();
///     tether::fs::write(dir.join("a"), "data").await.unwrap();
///     assert_eq!(tether::fs::copy(dir.join("a"), dir.join("b")).await.unwrap(), 4);
///     assert_eq!(tether::fs::read(dir.join("b")).await.unwrap(), b"data");
///     # tether::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    on_pool_from_to("copy", from, to, |from, to| std::fs::copy(from, to)).await
}

/// Renames `from` to `to`, replacing `to` if it is a file: std's [`fs::rename`](std::fs::rename).
///
/// # Errors
///
/// When the OS refuses (a missing `from`, another file system, ...); the error names both paths.
///
/// ```
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-rename-{}", std::process::id()));
///     # tether::fs::create_dir_all(&dir).await.unwrap();
///     tether::fs::write(dir.join("old"), "x").await.unwrap();
///     tether::fs::rename(dir.join("old"), dir.join("new")).await.unwrap();
///     assert!(!tether::fs::try_exists(dir.join("old")).await.unwrap());
///     assert!(tether::fs::try_exists(dir.join("new")).await.unwrap());
///     # tether::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    on_pool_from_to("rename", from, to, |from, to| std::fs::rename(from, to)).await
}

/// Makes `link` a new name for the file at `original`: std's [`fs::hard_link`](std::fs::hard_link).
///
/// # Errors
///
/// When the OS refuses; the error names both paths.
///
/// ```
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-hard-link-{}", std::process::id()));
///     # tether::fs::create_dir_all(&dir).await.unwrap();
///     tether::fs::write(dir.join("a"), "x").await.unwrap();
///     tether::fs::hard_link(dir.join("a"), dir.join("b")).await.unwrap();
///     assert_eq!(tether::fs::read(dir.join("b")).await.unwrap(), b"x");
///     # tether::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    on_pool_from_to("link", original, link, |from, to| {
        std::fs::hard_link(from, to)
    })
    .await
}

/// Removes the file at `path`: std's [`fs::remove_file`](std::fs::remove_file).
///
/// # Errors
///
/// When there is no file there ([`NotFound`](io::ErrorKind::NotFound)) or the OS refuses; the
/// error names `path`.
///
/// ```
/// tether::run(async {
///     # let path = std::env::temp_dir().join(format!("tether-doc-remove-file-{}", std::process::id()));
///     tether::fs::write(&path, "").await.unwrap();
///     tether::fs::remove_file(&path).await.unwrap();
///     let again = tether::fs::remove_file(&path).await.unwrap_err();
///     assert_eq!(again.kind(), std::io::ErrorKind::NotFound);
/// });
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("remove", path.as_ref().to_owned(), |path| {
        std::fs::remove_file(path)
    })
    .await
}

/// Removes the empty directory at `path`: std's [`fs::remove_dir`](std::fs::remove_dir).
///
/// # Errors
///
/// When it is missing, not empty or not a directory; the error names `path`.
///
/// ```
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-remove-dir-{}", std::process::id()));
///     tether::fs::create_dir(&dir).await.unwrap();
///     tether::fs::remove_dir(&dir).await.unwrap();
/// });
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("remove the directory", path.as_ref().to_owned(), |path| {
        std::fs::remove_dir(path)
    })
    .await
}

/// Removes the directory at `path` and everything in it: std's
/// [`fs::remove_dir_all`](std::fs::remove_dir_all).
///
/// # Errors
///
/// When anything in it cannot be removed (what could be removed is gone); the error names `path`.
///
/// ```
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-remove-dir-all-{}", std::process::id()));
///     tether::fs::create_dir_all(dir.join("a/b")).await.unwrap();
///     tether::fs::write(dir.join("a/b/c"), "").await.unwrap();
///     tether::fs::remove_dir_all(&dir).await.unwrap();
///     assert!(!tether::fs::try_exists(&dir).await.unwrap());
/// });
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("remove the directory", path.as_ref().to_owned(), |path| {
        std::fs::remove_dir_all(path)
    })
    .await
}

/// Creates the directory at `path`; its parent must exist: std's
/// [`fs::create_dir`](std::fs::create_dir).
///
/// # Errors
///
/// When it exists ([`AlreadyExists`](io::ErrorKind::AlreadyExists)), its parent does not, or
/// the OS refuses; the error names `path`.
///
/// ```
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-create-dir-{}", std::process::id()));
///     tether::fs::create_dir(&dir).await.unwrap();
///     let again = tether::fs::create_dir(&dir).await.unwrap_err();
///     assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
///     # tether::fs::remove_dir(&dir).await.unwrap();
/// });
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("create the directory", path.as_ref().to_owned(), |path| {
        std::fs::create_dir(path)
    })
    .await
}

/// Creates the directory at `path` and every missing parent; an existing directory is fine:
/// std's [`fs::create_dir_all`](std::fs::create_dir_all).
///
/// # Errors
///
/// When a directory cannot be created (a file is in the way, say); the error names `path`.
///
/// ```
/// tether::run(async {
///     # let dir = std::env::temp_dir().join(format!("tether-doc-create-dir-all-{}", std::process::id()));
///     tether::fs::create_dir_all(dir.join("a/b/c")).await.unwrap();
///     tether::fs::create_dir_all(dir.join("a/b/c")).await.unwrap(); // already there: fine
///     # tether::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_pool("create the directory", path.as_ref().to_owned(), |path| {
        std::fs::create_dir_all(path)
    })
    .await
}

/// The metadata of the file or directory at `path`, following symlinks: std's
/// [`fs::metadata`](std::fs::metadata).
///
/// # Errors
///
/// When there is nothing at `path` or it cannot be read; the error names `path`.
///
/// ```
/// tether::run(async {
///     # let path = std::env::temp_dir().join(format!("tether-doc-metadata-{}", std::process::id()));
///     tether::fs::write(&path, "1234").await.unwrap();
///     let metadata = tether::fs::metadata(&path).await.unwrap();
///     assert!(metadata.is_file());
///     assert_eq!(metadata.len(), 4);
///     # tether::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_pool("read the metadata of", path.as_ref().to_owned(), |path| {
        std::fs::metadata(path)
    })
    .await
}

/// The metadata of the file, directory or symlink at `path`, without following a symlink:
/// std's [`fs::symlink_metadata`](std::fs::symlink_metadata).
///
/// # Errors
///
/// As [`metadata`].
///
/// ```
/// tether::run(async {
///     let root = tether::fs::symlink_metadata("/").await.unwrap();
///     assert!(root.is_dir());
/// });
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_pool("read the metadata of", path.as_ref().to_owned(), |path| {
        std::fs::symlink_metadata(path)
    })
    .await
}

/// Whether something exists at `path` (following symlinks): std's
/// [`fs::exists`](std::fs::exists) (`Path::try_exists`).
///
/// # Errors
///
/// When the OS cannot tell (a parent directory is not readable, say); the error names `path`.
///
/// ```
/// tether::run(async {
///     assert!(tether::fs::try_exists("/").await.unwrap());
///     assert!(!tether::fs::try_exists("/no/such/file").await.unwrap());
/// });
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_pool("look for", path.as_ref().to_owned(), |path| {
        path.try_exists()
    })
    .await
}

/// The absolute path of `path`, with symlinks and `..` resolved: std's
/// [`fs::canonicalize`](std::fs::canonicalize).
///
/// # Errors
///
/// When `path` does not exist; the error names it.
///
/// ```
/// tether::run(async {
///     assert_eq!(tether::fs::canonicalize("/..").await.unwrap(), std::path::Path::new("/"));
/// });
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_pool("resolve", path.as_ref().to_owned(), |path| {
        std::fs::canonicalize(path)
    })
    .await
}

/// Where the symlink at `path` points: std's [`fs::read_link`](std::fs::read_link).
///
/// # Errors
///
/// When `path` is not a symlink; the error names it.
///
/// ```
/// tether::run(async {
///     let error = tether::fs::read_link("/").await.unwrap_err();
///     assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_pool("read the link", path.as_ref().to_owned(), |path| {
        std::fs::read_link(path)
    })
    .await
}

/// Sets the permissions of the file or directory at `path`: std's
/// [`fs::set_permissions`](std::fs::set_permissions).
///
/// # Errors
///
/// When there is nothing at `path` or the OS refuses; the error names `path`.
///
/// ```
/// tether::run(async {
///     # let path = std::env::temp_dir().join(format!("tether-doc-set-permissions-{}", std::process::id()));
///     tether::fs::write(&path, "").await.unwrap();
///     let mut permissions = tether::fs::metadata(&path).await.unwrap().permissions();
///     permissions.set_readonly(true);
///     tether::fs::set_permissions(&path, permissions).await.unwrap();
///     assert!(tether::fs::metadata(&path).await.unwrap().permissions().readonly());
///     # tether::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, permissions: Permissions) -> io::Result<()> {
    on_pool(
        "set the permissions of",
        path.as_ref().to_owned(),
        move |path| std::fs::set_permissions(path, permissions),
    )
    .await
}
