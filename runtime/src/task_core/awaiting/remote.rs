//! Waits as an outside tool reads them: [`Awaiting`] encoded into the plain integers of
//! `RemoteWait` (`crate::util::published`), since the tool cannot read a Rust enum.

use super::{Awaiting, IoDirection};
use crate::task_core::header::TaskId;
use crate::util::published::{RemoteWait, monotonic_ns};

/// `what`, awaited by `task`, as the `seq`-th wait.
pub(crate) fn encode(task: TaskId, seq: u64, what: &Awaiting) -> RemoteWait {
    let mut wait = RemoteWait {
        task: task.as_u64(),
        seq,
        ..RemoteWait::VACANT
    };
    match *what {
        Awaiting::Task { id } => {
            wait.kind = RemoteWait::TASK;
            wait.id = id.as_u64();
        }
        Awaiting::Group { id } => {
            wait.kind = RemoteWait::GROUP;
            wait.id = id.as_u64();
        }
        Awaiting::Sync {
            kind, name, object, ..
        } => {
            wait.kind = RemoteWait::SYNC;
            wait.detail = kind as u32;
            wait.id = object as u64;
            if let Some(name) = name {
                (wait.text, wait.text_len) = (name.as_ptr().addr() as u64, name.len() as u64);
            }
        }
        Awaiting::Promise => wait.kind = RemoteWait::PROMISE,
        Awaiting::Timer { deadline } => {
            wait.kind = RemoteWait::TIMER;
            let (now, clock) = (std::time::Instant::now(), monotonic_ns());
            let deadline = deadline.into_std();
            wait.deadline_ns = match deadline.checked_duration_since(now) {
                Some(ahead) => clock.saturating_add(ahead.as_nanos() as u64),
                None => clock.saturating_sub((now - deadline).as_nanos() as u64),
            };
        }
        Awaiting::Io {
            direction,
            resource,
            local,
            peer,
            fd,
        } => {
            wait.kind = RemoteWait::IO;
            wait.detail = match direction {
                IoDirection::Readable => 0,
                IoDirection::Writable => 1,
            };
            wait.id = fd as u64;
            (wait.text, wait.text_len) = (resource.as_ptr().addr() as u64, resource.len() as u64);
            if let Some(local) = local {
                wait.local_len = put(&mut wait.local, &local.to_string());
            }
            if let Some(peer) = peer {
                wait.peer_len = put(&mut wait.peer, &peer.to_string());
            }
        }
        Awaiting::Process { pid, command } => {
            wait.kind = RemoteWait::PROCESS;
            wait.id = u64::from(pid);
            wait.local_len = put(&mut wait.local, command.as_str());
        }
    }
    wait
}

/// Copies as much of `text` as fits (a command line is at most 64 bytes already; an address
/// always fits); returns how much.
fn put(into: &mut [u8; 64], text: &str) -> u8 {
    let len = text.len().min(into.len());
    into[..len].copy_from_slice(&text.as_bytes()[..len]);
    len as u8
}
