//! The target process through `/proc` and `process_vm_readv`: its maps, its owner, its threads,
//! and reads (and the two switch writes) of its memory. The kernel allows these to the same
//! user or root only (ptrace's access check), which is the permission rule the tool keeps.

use std::io;

/// A mapping of a file into the target, from `/proc/PID/maps`.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub start: u64,
    pub offset: u64,
    pub path: String,
}

/// Every file-backed mapping of `pid`.
pub fn maps(pid: u32) -> io::Result<Vec<Mapping>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mut found = Vec::new();
    for line in text.lines() {
        // start-end perms offset dev inode path
        let mut fields = line.split_whitespace();
        let (Some(range), Some(_perms), Some(offset), Some(_dev), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let path = fields.collect::<Vec<_>>().join(" ");
        if inode == "0" || !path.starts_with('/') {
            continue;
        }
        let (Some(start), Ok(offset)) = (
            range
                .split('-')
                .next()
                .and_then(|start| u64::from_str_radix(start, 16).ok()),
            u64::from_str_radix(offset, 16),
        ) else {
            continue;
        };
        found.push(Mapping {
            start,
            offset,
            path,
        });
    }
    Ok(found)
}

/// The real user id that owns `pid` (`Uid:` of `/proc/PID/status`).
pub fn owner(pid: u32) -> io::Result<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|uids| uids.split_whitespace().next())
        .and_then(|uid| uid.parse().ok())
        .ok_or_else(|| io::Error::other("no Uid line in /proc/PID/status"))
}

/// The target's command line, arguments joined by spaces.
pub fn command(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            bytes
                .split(|&b| b == 0)
                .filter(|arg| !arg.is_empty())
                .map(String::from_utf8_lossy)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// A thread's name.
pub fn thread_name(pid: u32, tid: u64) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
        .map(|name| name.trim_end().to_owned())
        .unwrap_or_default()
}

/// `CLOCK_MONOTONIC` now, in nanoseconds (system-wide: the target's stamps are on it).
pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// The target's memory.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub pid: u32,
}

/// The most iovecs one call takes (`IOV_MAX` on Linux).
const BATCH: usize = 1024;

impl Memory {
    /// Reads `len` bytes at `address`.
    pub fn read(&self, address: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0; len];
        let got = self.transfer(&mut [(address, &mut bytes[..])], false)?;
        if got < len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("short read of {len} bytes at {address:#x}"),
            ));
        }
        Ok(bytes)
    }

    /// Reads `len` bytes at each address; an address that cannot be read gives `None`. In
    /// batches of [`BATCH`] per system call.
    pub fn read_many(&self, addresses: &[u64], len: usize) -> Vec<Option<Vec<u8>>> {
        let mut out: Vec<Option<Vec<u8>>> = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(BATCH) {
            let mut buffers: Vec<Vec<u8>> = vec![vec![0; len]; chunk.len()];
            let mut start = 0;
            while start < chunk.len() {
                let mut parts: Vec<(u64, &mut [u8])> = chunk[start..]
                    .iter()
                    .copied()
                    .zip(buffers[start..].iter_mut().map(|b| &mut b[..]))
                    .collect();
                // The kernel stops at the first part it cannot read: the ones before it are
                // whole; that one is skipped, and the rest read again.
                let got = self.transfer(&mut parts, false).unwrap_or(0);
                let whole = got / len.max(1);
                for _ in 0..whole {
                    out.push(Some(std::mem::take(&mut buffers[start])));
                    start += 1;
                }
                if start < chunk.len() {
                    out.push(None);
                    start += 1;
                }
            }
        }
        out
    }

    /// Writes `bytes` at `address` (the tool's switches only).
    pub fn write(&self, address: u64, bytes: &[u8]) -> io::Result<()> {
        let mut copy = bytes.to_vec();
        let got = self.transfer(&mut [(address, &mut copy[..])], true)?;
        if got < bytes.len() {
            return Err(io::Error::other("short write"));
        }
        Ok(())
    }

    fn transfer(&self, parts: &mut [(u64, &mut [u8])], write: bool) -> io::Result<usize> {
        let mut total = 0;
        for batch in parts.chunks_mut(BATCH) {
            let local: Vec<libc::iovec> = batch
                .iter_mut()
                .map(|(_, buffer)| libc::iovec {
                    iov_base: buffer.as_mut_ptr().cast(),
                    iov_len: buffer.len(),
                })
                .collect();
            let remote: Vec<libc::iovec> = batch
                .iter()
                .map(|(address, buffer)| libc::iovec {
                    iov_base: *address as usize as *mut libc::c_void,
                    iov_len: buffer.len(),
                })
                .collect();
            let want: usize = batch.iter().map(|(_, buffer)| buffer.len()).sum();
            let call = if write {
                libc::process_vm_writev
            } else {
                libc::process_vm_readv
            };
            // SAFETY: every local iovec points at a live buffer of its length (the batch's),
            // which outlives the call; the remote ones are addresses in the target, which the
            // kernel checks (an unreadable one ends the transfer; it is not UB here).
            let done = unsafe {
                call(
                    self.pid as libc::pid_t,
                    local.as_ptr(),
                    local.len() as libc::c_ulong,
                    remote.as_ptr(),
                    remote.len() as libc::c_ulong,
                    0,
                )
            };
            if done < 0 {
                let error = io::Error::last_os_error();
                if total == 0 {
                    return Err(error);
                }
                return Ok(total);
            }
            total += done as usize;
            if (done as usize) < want {
                return Ok(total);
            }
        }
        Ok(total)
    }
}
