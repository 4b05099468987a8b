//! Reading a running tether program from outside.
//!
//! **How.** The runtime publishes a table (`tether::__inspect::Published`) in an ELF section of
//! its own, `.tether_inspect`: where each field the tool needs sits in tether's types, the live
//! event loops (each with its thread, the task it is polling, and its task tables) and the
//! recorded waits. The tool finds the section in the section headers of the target's binary
//! (or of any file it has mapped), reads the table and everything it points to with
//! `process_vm_readv`, checks every record it follows, and builds a [`Snapshot`].
//!
//! **Why this way.** It is how Python 3.14's `python -m asyncio ps` attaches: nothing runs in
//! the target while nobody looks (no thread, no socket, no signal handler, no flag), and it
//! works while the target's loop is stuck in a long synchronous call, which an in-process
//! listener (Java's attach handshake, an endpoint checked with `SO_PEERCRED`) cannot answer
//! from. The target is never stopped: its loops are not paused at all. The kernel allows the
//! reads to the same user or root only, the rule the tool wants.
//!
//! **What it costs.** The first attach (unless `--read-only`) sets two switches in the target's table (with
//! `process_vm_writev`): record what each task waits for, and count polls and the time in them.
//! From then on the program pays what `Builder::track_waits` costs, and one clock read at each
//! end of a poll. Until then each switch costs one load where it is checked. So a task that
//! parked before the first attach shows no wait until it parks again, unless the program
//! records waits anyway (`track_waits`, debug mode, tests).
//!
//! **Consistency.** The target keeps running while the tool reads, so a task may end between
//! the read of its table slot and the read of its header. Every record is checked (magic
//! numbers, ids, kinds, lengths) and a task whose header no longer makes sense is left out.

mod bytes;
mod elf;
mod process;
mod read;

use std::io;

use thiserror::Error;

use crate::model::Snapshot;

/// Why the tool could not read a process.
#[derive(Debug, Error)]
pub enum AttachError {
    #[error("no process {pid}: it does not exist (or has exited)")]
    NoProcess { pid: u32 },
    #[error(
        "process {pid} belongs to user {owner}; tether reads only processes of its own user \
         (uid {me}), or any as root"
    )]
    OtherUser { pid: u32, owner: u32, me: u32 },
    #[error(
        "permission denied reading process {pid}: the kernel refused (ptrace access: same \
         user, and /proc/sys/kernel/yama/ptrace_scope 0, or run as root)"
    )]
    Denied { pid: u32 },
    #[error(
        "process {pid} ({command}) is not a tether program: none of its files has a .tether_inspect section (a tether program built without tether's `inspect` feature has none either: it is on by default)"
    )]
    NotTether { pid: u32, command: String },
    #[error(
        "process {pid} was built with tether {theirs} (table layout {their_layout}); this tool \
         is tether {ours} (layout {our_layout}): use the tether tool of the program's version"
    )]
    Version {
        pid: u32,
        theirs: String,
        their_layout: u32,
        ours: &'static str,
        our_layout: u32,
    },
    #[error("process {pid}: its tether table is not filled yet (no event loop has started)")]
    NotStarted { pid: u32 },
    #[error("process {pid}: {what}: {source}")]
    Read {
        pid: u32,
        what: &'static str,
        source: io::Error,
    },
}

/// Reads every loop and task of the tether program `pid`; `switch_on`: turn on the recording
/// of waits and the counting of polls if no tool has yet.
pub fn snapshot(pid: u32, switch_on: bool) -> Result<Snapshot, AttachError> {
    check_access(pid)?;
    let table = locate(pid)?;
    read::snapshot(pid, table, switch_on)
}

/// Refuses another user's process before touching it, with a message that says so.
fn check_access(pid: u32) -> Result<(), AttachError> {
    let owner = match process::owner(pid) {
        Ok(owner) => owner,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(AttachError::NoProcess { pid });
        }
        Err(source) => {
            return Err(AttachError::Read {
                pid,
                what: "cannot read /proc/PID/status",
                source,
            });
        }
    };
    // SAFETY: `geteuid` has no preconditions.
    let me = unsafe { libc::geteuid() };
    if me != 0 && owner != me {
        return Err(AttachError::OtherUser { pid, owner, me });
    }
    Ok(())
}

/// The run-time address of the target's published table.
fn locate(pid: u32) -> Result<u64, AttachError> {
    let maps = process::maps(pid).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => AttachError::NoProcess { pid },
        io::ErrorKind::PermissionDenied => AttachError::Denied { pid },
        _ => AttachError::Read {
            pid,
            what: "cannot read /proc/PID/maps",
            source,
        },
    })?;
    // The program's own binary first (through /proc/PID/exe, which opens even if the file
    // was replaced or deleted since it started), then every other file it has mapped (tether
    // may live in a shared library).
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|path| path.to_string_lossy().into_owned())
        .ok();
    let mut candidates: Vec<(String, String)> = Vec::new();
    if let Some(exe) = &exe {
        candidates.push((format!("/proc/{pid}/exe"), exe.clone()));
    }
    for mapping in &maps {
        if candidates.iter().all(|(_, mapped)| *mapped != mapping.path) {
            candidates.push((mapping.path.clone(), mapping.path.clone()));
        }
    }
    for (open, mapped) in &candidates {
        let Some(found) = elf::find_section(open, tether::__inspect::SECTION) else {
            continue;
        };
        // Where the file's offset 0 is mapped now, minus where it was at link time.
        let Some(base) = maps
            .iter()
            .find(|mapping| mapping.path == *mapped && mapping.offset == 0)
            .map(|mapping| mapping.start)
        else {
            continue;
        };
        if found.section_size < std::mem::size_of::<tether::__inspect::Published>() as u64 {
            continue;
        }
        let bias = base.wrapping_sub(found.first_load_vaddr);
        return Ok(found.section_addr.wrapping_add(bias));
    }
    Err(AttachError::NotTether {
        pid,
        command: process::command(pid),
    })
}
