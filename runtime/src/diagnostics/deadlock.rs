//! Deadlock reports: when nothing can ever run again, say who waits on what, and the cycle.
//!
//! The loop asks [`check`] when it is about to park with no timer armed (so only another
//! thread could wake it). It is a deadlock, for certain, when all of these hold:
//!
//! - no job of the blocking pool is queued or running;
//! - nothing outside the loop holds a way to wake it: no [`Handle`](crate::Handle) and no
//!   [`Promise`](crate::Promise) (whose `Resolver` may be on another thread) is alive, no
//!   socket, signal or child process is registered with its I/O driver (the other end may write), and no
//!   wake-up is queued from another thread;
//! - every live task is parked on something only the loop's own tasks can end: another task,
//!   a group's children, a [`sync`](crate::sync) primitive or a [`queue`](crate::queue)
//!   (never a timer, a promise, a socket or a child process, which the world outside can end).
//!
//! What the loop cannot see: a waker handed to a foreign thread or reactor (by a future tether
//! does not know, such as async-io's), and a lock guard or primitive shared with a plain thread.
//! A task parked on such a future has no record (or a non-local one), so the loop never calls
//! that a deadlock: it keeps waiting, as any runtime must, and debug mode reports the stall
//! instead (see [`may_be_stalled`] for when), listing what each task waits for. A task that
//! waits on two things at once (a `select`) is recorded by the one it parked on last; if the
//! other one is a foreign waker, the report can be wrong, which is why only tests and debug
//! mode run it.

use std::fmt::Write;

use crate::diagnostics::listing::{ById, task_label};
use crate::task_core::awaiting::{Awaiting, SyncKind, describe};
use crate::task_core::header::TaskId;
use crate::task_core::info::TaskInfo;
use crate::util::instant::Instant;

/// How long debug mode lets a loop sit idle on waits it cannot judge before reporting them.
pub(crate) const STALL_REPORT_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// The headline of a stall report.
pub(crate) const STALLED: &str = "stalled: nothing has run for 10 s and no timer is armed; some task waits on \
     something tether cannot see (a foreign waker, a handle or promise held by another thread), \
     so this may or may not be a deadlock";

/// What the loop looks at before it parks with no timer.
pub(crate) struct Idle<'a> {
    /// Every live task, with what it awaits.
    pub(crate) tasks: &'a [TaskInfo],
    /// The blocking pool has nothing queued or running.
    pub(crate) blocking_idle: bool,
    /// Nothing outside the loop holds a way to wake it (handles, promises, I/O registrations).
    pub(crate) no_outside_wakers: bool,
    /// The loop's clock, for the report's timers.
    pub(crate) now: Instant,
}

/// The report, if `idle` is a deadlock for certain.
pub(crate) fn check(idle: &Idle<'_>) -> Option<String> {
    let certain = idle.blocking_idle
        && idle.no_outside_wakers
        && !idle.tasks.is_empty()
        && idle
            .tasks
            .iter()
            .all(|task| task.awaiting.as_ref().is_some_and(Awaiting::is_local));
    certain.then(|| report(idle.tasks, idle.now, "deadlock: every task is waiting, and nothing can wake any of them (no timer is armed, no blocking job runs, no socket is registered, no other thread holds a handle, promise or wake-up)"))
}

/// Whether an idle loop that is not deadlocked for certain is worth debug mode's stall report:
/// some task waits on something tether cannot see, or tasks wait on each other in a cycle, or
/// no task waits on anything the outside world ends (a socket, a promise) while the loop is
/// kept alive only by a handle or a blocking job. A server whose tasks wait for clients on
/// their sockets is idle, not stalled.
pub(crate) fn may_be_stalled(tasks: &[TaskInfo]) -> bool {
    let unseen = tasks.iter().any(|task| task.awaiting.is_none());
    let outside = tasks.iter().any(|task| {
        matches!(
            task.awaiting,
            Some(Awaiting::Io { .. } | Awaiting::Promise | Awaiting::Process { .. })
        )
    });
    unseen || !outside || find_cycle(tasks).is_some()
}

/// The wait-for report of `tasks` at `now` (the loop's clock), headed by `headline`.
pub(crate) fn report(tasks: &[TaskInfo], now: Instant, headline: &str) -> String {
    let by_id = ById::new(tasks);
    let name_of = |id: TaskId| task_label(by_id.get(id).map(|t| t.name.as_str()), id);
    let mut out = format!("tether: {headline}\n");
    for task in tasks {
        let what = task.awaiting.as_ref().map_or_else(
            || "something tether cannot see (a foreign future or waker)".to_owned(),
            |what| describe(what, &name_of, now),
        );
        let _ = writeln!(
            out,
            "  {} (created at {}) awaits {what}",
            name_of(task.id),
            task.location
        );
    }
    if let Some(cycle) = find_cycle(tasks) {
        let mut line = String::from("cycle: ");
        for (task, what) in &cycle {
            let _ = write!(line, "{} -> {} -> ", name_of(*task), short(what));
        }
        line.push_str(&name_of(cycle[0].0));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The primitive or task a wait points at, without its holder.
fn short(what: &Awaiting) -> String {
    match *what {
        Awaiting::Sync {
            kind,
            name: Some(name),
            ..
        } => format!("{kind} \"{name}\""),
        Awaiting::Sync { kind, object, .. } => format!("{kind} at {object:#x}"),
        Awaiting::Task { .. } => "awaits".to_owned(),
        _ => "waits".to_owned(),
    }
}

/// The task another task's wait depends on: the awaited task, or the holder of a lock.
fn blocker(what: &Awaiting) -> Option<TaskId> {
    match *what {
        Awaiting::Task { id } => Some(id),
        Awaiting::Sync {
            kind: SyncKind::Lock,
            held_by,
            ..
        } => held_by,
        _ => None,
    }
}

/// A cycle of waits, as (task, what it awaits) pairs, if there is one: the first found
/// walking from each waiting task in id order.
fn find_cycle(tasks: &[TaskInfo]) -> Option<Vec<(TaskId, Awaiting)>> {
    let by_id = ById::new(tasks);
    // Positions already walked from, with no cycle through them.
    let mut done = vec![false; tasks.len()];
    for start in by_id.positions() {
        if tasks[start].awaiting.is_none() {
            continue;
        }
        let mut path: Vec<usize> = Vec::new();
        let mut at = start;
        while !done[at] {
            if let Some(pos) = path.iter().position(|&t| t == at) {
                return Some(
                    path[pos..]
                        .iter()
                        .filter_map(|&t| Some((tasks[t].id, tasks[t].awaiting?)))
                        .collect(),
                );
            }
            path.push(at);
            match tasks[at]
                .awaiting
                .as_ref()
                .and_then(blocker)
                .and_then(|next| by_id.position(next))
            {
                Some(next) => at = next,
                None => break,
            }
        }
        for walked in path {
            done[walked] = true;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_core::info::{Owner, TaskState};

    fn task(awaiting: Option<Awaiting>) -> TaskInfo {
        TaskInfo {
            id: TaskId::next(),
            name: String::new(),
            state: TaskState::Waiting,
            owner: Owner::Handle,
            parent: None,
            location: std::panic::Location::caller(),
            awaiting,
        }
    }

    fn lock(object: usize, held_by: Option<TaskId>) -> Awaiting {
        Awaiting::Sync {
            kind: SyncKind::Lock,
            name: None,
            object,
            held_by,
        }
    }

    fn socket() -> Awaiting {
        Awaiting::Io {
            direction: crate::task_core::awaiting::IoDirection::Readable,
            resource: "TCP listener",
            local: None,
            peer: None,
            fd: 3,
        }
    }

    #[test]
    fn a_server_waiting_for_clients_is_not_stalled() {
        let acceptor = task(Some(socket()));
        let main = task(Some(Awaiting::Task { id: acceptor.id }));
        assert!(!may_be_stalled(&[main, acceptor]));
    }

    #[test]
    fn a_supervisor_awaiting_its_child_process_is_not_stalled_and_says_so() {
        let child = Awaiting::Process {
            pid: 4242,
            command: crate::task_core::awaiting::CommandLine::new("sleep 10"),
        };
        let supervisor = task(Some(child));
        assert!(!may_be_stalled(std::slice::from_ref(&supervisor)));
        let text = report(
            &[supervisor],
            Instant::from_std(std::time::Instant::now()),
            "stalled",
        );
        assert!(text.contains("awaits process 4242 `sleep 10`"), "{text}");
    }

    #[test]
    fn a_wait_tether_cannot_see_may_be_a_stall() {
        assert!(may_be_stalled(&[task(Some(socket())), task(None)]));
    }

    #[test]
    fn local_waits_kept_alive_by_a_handle_may_be_a_stall() {
        let waiter = task(Some(Awaiting::sync(SyncKind::Event, None, &0u8)));
        assert!(may_be_stalled(&[waiter]));
    }

    #[test]
    fn a_lock_cycle_is_reported_even_beside_a_socket() {
        let mut a = task(None);
        let mut b = task(None);
        a.awaiting = Some(lock(1, Some(b.id)));
        b.awaiting = Some(lock(2, Some(a.id)));
        assert!(may_be_stalled(&[
            a.clone(),
            b.clone(),
            task(Some(socket()))
        ]));
        let cycle = find_cycle(&[a.clone(), b.clone()]).expect("a cycle");
        assert_eq!(cycle.len(), 2);
    }
}
