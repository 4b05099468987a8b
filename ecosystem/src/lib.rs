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

/// How many file descriptors this process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |fds| fds.count())
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
    assert_eq!(before, after, "descriptors open before and after the run");
}

/// tether's two flavours: one loop, and two workers.
pub fn flavours() -> [tether::Runtime; 2] {
    [
        tether::Runtime::new(),
        tether::Runtime::builder().workers(2).build(),
    ]
}
