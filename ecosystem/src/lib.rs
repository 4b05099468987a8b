//! What the ecosystem tests share: where `scripts/ecosystem.sh` started the servers, and the
//! checks that nothing leaks.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// An environment variable that `scripts/ecosystem.sh` sets.
///
/// # Panics
///
/// When it is not set: the tests need the servers the script starts.
pub fn server(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set: run these tests through scripts/ecosystem.sh, which starts \
             PostgreSQL and Redis and says where they are"
        )
    })
}

/// The file descriptors this process has open, each with what it points at.
pub fn open_fds() -> Vec<(String, String)> {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    let mut open: Vec<(String, String)> = fds
        .flatten()
        .map(|fd| {
            let target = std::fs::read_link(fd.path())
                .map_or_else(|error| error.to_string(), |to| to.display().to_string());
            (fd.file_name().to_string_lossy().into_owned(), target)
        })
        .collect();
    open.sort();
    open
}

/// Waits until no thread of this process has a name that starts with `prefix`: for a client's
/// own threads that outlive the client's `close` (sqlx's SQLite worker ends after `close()`
/// returns, dropping its wakers, and with them the bridge's tokio driver, only then).
///
/// # Panics
///
/// If such a thread is still there after ten seconds.
pub fn threads_gone(prefix: &str) {
    let names = || -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .filter(|name| name.starts_with(prefix))
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // A thread's exit has no event another thread can wait on without its handle: look again
    // until it is gone.
    while !names().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "threads named {prefix}* still running after 10 s: {:?}",
            names()
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Runs the tests of one file one at a time, so that each can count the process's descriptors
/// before and after itself.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Asserts that `body` leaves as many descriptors open as it found, allowing for the ones the
/// blocking pool and the tokio bridge hold while the run lasts: the count is taken after the run.
pub fn no_fd_leaked(body: impl FnOnce()) {
    let _serial = one_at_a_time();
    let before = open_fds();
    body();
    let after = open_fds();
    // Compared by count: the read of the directory itself takes a number that can differ.
    assert_eq!(
        before.len(),
        after.len(),
        "descriptors open before and after the run:\nbefore {before:?}\nafter  {after:?}"
    );
}

/// tether's two flavours: one loop, and two workers.
pub fn flavours() -> [tether::Runtime; 2] {
    [
        tether::Runtime::new(),
        tether::Runtime::builder().workers(2).build(),
    ]
}
