//! Raising the soft limit on open files to the hard limit, as a server holding thousands of
//! connections must (Go's runtime does it at start-up; the default soft limit is often 1,024).
//! Shared by the server examples, each of which includes this file with `#[path]`.

use std::io;

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit; returns the limit now in
/// force.
///
/// # Errors
///
/// If the limit cannot be read or set (the OS error).
pub fn raise_fd_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes into the `rlimit` we pass, which lives for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `setrlimit` only reads the `rlimit` we pass; raising the soft limit up to the
        // hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}
