//! What each waiting task awaits: asyncio 3.14's await call graph, for [`dump_tasks`],
//! [`TaskInfo::awaiting`](crate::task::TaskInfo::awaiting) and deadlock reports.
//!
//! Recording is switched on per runtime ([`Builder::track_waits`](crate::Builder::track_waits),
//! debug mode, and every `#[tether::test]`, which needs it for deadlock reports). While no
//! running loop has it on, a wait costs one relaxed atomic load to find that out and nothing
//! else; with it on, a wait that really parks (never one that completes at once) records one
//! entry in a process-wide table, keyed by a token its future keeps and removes when it ends.
//!
//! The table holds only plain values (ids, names, addresses used as identities), never a
//! pointer that is dereferenced, so a record can never outlive what it describes unsafely.
//!
//! [`dump_tasks`]: crate::dump_tasks

mod record;
mod remote;

use std::fmt;
use std::net::SocketAddr;

pub(crate) use record::{
    Tracking, WaitRecord, holder_acquired, holder_released, snapshot, tracked,
};

use super::header::TaskId;
use super::info::GroupId;
use crate::util::instant::Instant;

/// What a waiting task is waiting for.
///
/// # Examples
///
/// ```
/// use tether::sync::Lock;
/// use tether::task::Awaiting;
///
/// let runtime = tether::Runtime::builder().track_waits(true).build();
/// runtime.run(async {
///     static DB: Lock = Lock::named("db");
///     let guard = DB.lock().await;
///     let waiter = tether::task::Builder::new()
///         .name("writer")
///         .create_task(async { drop(DB.lock().await) });
///     tether::yield_now().await;
///     let info = tether::all_tasks().into_iter().find(|t| t.name == "writer").unwrap();
///     let Some(Awaiting::Sync { name, held_by, .. }) = info.awaiting else { panic!() };
///     assert_eq!(name, Some("db"));
///     assert_eq!(held_by, tether::current_task().map(|t| t.id));
///     drop(guard);
///     waiter.await.unwrap();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Awaiting {
    /// Another task's outcome (awaiting its [`Task`](crate::Task)).
    Task {
        /// The task awaited.
        id: TaskId,
    },
    /// The children of a task group (the group's scope is ending).
    Group {
        /// The group.
        id: GroupId,
    },
    /// A synchronisation primitive of [`sync`](crate::sync) or [`queue`](crate::queue).
    Sync {
        /// Which kind.
        kind: SyncKind,
        /// The name given at construction (`Lock::named("db")`), if any.
        name: Option<&'static str>,
        /// Tells primitives apart while they live (their address).
        object: usize,
        /// For a [`Lock`](crate::sync::Lock): the task holding it, if a task took it.
        held_by: Option<TaskId>,
    },
    /// A [`Promise`](crate::Promise): settled through its `Resolver`, possibly from another
    /// thread.
    Promise,
    /// A timer (a sleep or a timeout) and when it fires.
    Timer {
        /// The deadline.
        deadline: Instant,
    },
    /// I/O readiness of a socket or pipe registered with the loop's I/O driver
    /// ([`net`](crate::net), [`signal`](crate::signal), a child's pipes in
    /// [`process`](crate::process)).
    ///
    /// A read or write whose future was dropped before the socket became ready (a timeout
    /// around it ran out, a `select!` took another branch) stays recorded, as its waker stays
    /// registered, until the socket's next readiness or its closing; the task's later waits
    /// are newer and are the ones shown.
    #[non_exhaustive]
    Io {
        /// Waiting to read (or accept, or receive) or to write (or connect, or send).
        direction: IoDirection,
        /// What kind of resource: `"TCP stream"`, `"TCP listener"`, `"UDP socket"`,
        /// `"Unix stream"`, `"Unix listener"`, `"Unix datagram socket"`, `"signal pipe"` or
        /// `"pipe"` (a child process's standard stream).
        resource: &'static str,
        /// This end's address, for an IP socket.
        local: Option<SocketAddr>,
        /// The other end's address, for a connected IP socket.
        peer: Option<SocketAddr>,
        /// The file descriptor.
        fd: i32,
    },
    /// The exit of a child process ([`process::Child`](crate::process::Child)'s `wait`,
    /// `output` and their kin).
    Process {
        /// The child's process id.
        pid: u32,
        /// The child's program and arguments, shortened.
        command: CommandLine,
    },
}

/// A command line as diagnostics show it: the program and its arguments, shortened to at
/// most [`CommandLine::CAPACITY`] bytes (cut at a character boundary, with `…`). A plain value,
/// so that [`Awaiting`] stays `Copy`.
///
/// # Examples
///
/// ```
/// use tether::task::CommandLine;
///
/// assert_eq!(CommandLine::new("sleep 10").as_str(), "sleep 10");
/// let long = "x".repeat(200);
/// assert!(CommandLine::new(&long).as_str().ends_with('…'));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandLine {
    bytes: [u8; CommandLine::CAPACITY],
    len: u8,
}

impl CommandLine {
    /// The most bytes kept.
    pub const CAPACITY: usize = 64;

    /// `text`, shortened to fit.
    pub fn new(text: &str) -> CommandLine {
        const ELLIPSIS: &str = "…";
        let mut bytes = [0; CommandLine::CAPACITY];
        let len = if text.len() <= CommandLine::CAPACITY {
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            text.len()
        } else {
            // Room for the ellipsis, cut where a character starts.
            let mut cut = CommandLine::CAPACITY - ELLIPSIS.len();
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            bytes[..cut].copy_from_slice(&text.as_bytes()[..cut]);
            bytes[cut..cut + ELLIPSIS.len()].copy_from_slice(ELLIPSIS.as_bytes());
            cut + ELLIPSIS.len()
        };
        CommandLine {
            bytes,
            len: len as u8,
        }
    }

    /// The text kept.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .expect("made from a str, cut at a character boundary")
    }
}

impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Which readiness an [`Awaiting::Io`] wait is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IoDirection {
    /// Readable: data, a connection to accept, a datagram, or the end of the stream.
    Readable,
    /// Writable: room in the send buffer, or a connection established.
    Writable,
}

/// The kinds of primitive a task can wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyncKind {
    /// [`sync::Lock`](crate::sync::Lock).
    Lock,
    /// [`sync::Semaphore`](crate::sync::Semaphore) and its bounded twin.
    Semaphore,
    /// [`sync::Event`](crate::sync::Event).
    Event,
    /// [`sync::Condition`](crate::sync::Condition).
    Condition,
    /// [`sync::Barrier`](crate::sync::Barrier).
    Barrier,
    /// A queue of [`queue`](crate::queue) (waiting to get or to put).
    Queue,
}

impl Awaiting {
    /// A wait on the primitive `object` of kind `kind`.
    pub(crate) fn sync<T>(kind: SyncKind, name: Option<&'static str>, object: &T) -> Awaiting {
        Awaiting::Sync {
            kind,
            name,
            object: std::ptr::from_ref(object).addr(),
            held_by: None,
        }
    }

    /// Whether only tasks of the loop itself can end this wait (so the wait, with every other
    /// task stuck too, can never end). Promises, timers and I/O can end from outside (I/O by
    /// the other end of a socket, or a signal).
    pub(crate) fn is_local(&self) -> bool {
        matches!(
            self,
            Awaiting::Task { .. } | Awaiting::Group { .. } | Awaiting::Sync { .. }
        )
    }
}

impl fmt::Display for SyncKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyncKind::Lock => "Lock",
            SyncKind::Semaphore => "Semaphore",
            SyncKind::Event => "Event",
            SyncKind::Condition => "Condition",
            SyncKind::Barrier => "Barrier",
            SyncKind::Queue => "Queue",
        })
    }
}

/// Writes `awaiting` for a person; `name_of` turns task ids into names, and `now` (the loop's
/// clock, read by the caller: the core never reads the loop's clock) dates timers.
pub(crate) fn describe(
    awaiting: &Awaiting,
    name_of: &dyn Fn(TaskId) -> String,
    now: Instant,
) -> String {
    match *awaiting {
        Awaiting::Task { id } => format!("task {}", name_of(id)),
        Awaiting::Group { id } => format!("the children of group #{}", id.as_u64()),
        Awaiting::Sync {
            kind,
            name,
            object,
            held_by,
        } => {
            let mut text = match name {
                Some(name) => format!("{kind} \"{name}\""),
                None => format!("{kind} at {object:#x}"),
            };
            if let Some(holder) = held_by {
                text.push_str(&format!(" held by {}", name_of(holder)));
            }
            text
        }
        Awaiting::Promise => "a Promise".to_owned(),
        Awaiting::Timer { deadline } => {
            let left = deadline.duration_since(now);
            format!("a timer due in {left:?}")
        }
        Awaiting::Io {
            direction,
            resource,
            local,
            peer,
            fd,
        } => {
            let direction = match direction {
                IoDirection::Readable => "readable",
                IoDirection::Writable => "writable",
            };
            let mut text = format!("{direction} on {resource}");
            if let Some(local) = local {
                text.push_str(&format!(" {local}"));
            }
            match peer {
                Some(peer) => text.push_str(&format!(" (peer {peer}, fd {fd})")),
                None => text.push_str(&format!(" (fd {fd})")),
            }
            text
        }
        Awaiting::Process { pid, command } => format!("process {pid} `{command}`"),
    }
}
