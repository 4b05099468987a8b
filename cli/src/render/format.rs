//! The small pieces every view writes the same way: durations, task labels, owners, locations
//! and what a task awaits.

use crate::model::{Awaiting, Location, LoopInfo, Owner, Snapshot, State, Task};

/// A duration for a person: `850 ns`, `35 µs`, `35 ms`, `1.2 s`, `2 min 5 s`, `2 h 3 min`,
/// `3 d 4 h`. Two significant units at most: the columns stay short.
pub fn duration(ns: u64) -> String {
    const US: u64 = 1_000;
    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;
    const MIN: u64 = 60 * S;
    const H: u64 = 60 * MIN;
    const D: u64 = 24 * H;
    match ns {
        0..US => format!("{ns} ns"),
        US..MS => format!("{} µs", ns / US),
        MS..S => format!("{} ms", ns / MS),
        // Tenths of a second, rounded down so that `59.96 s` never reads `60.0 s`.
        S..MIN => format!("{}.{} s", ns / S, ns % S / (S / 10)),
        MIN..H => format!("{} min {} s", ns / MIN, ns % MIN / S),
        H..D => format!("{} h {} min", ns / H, ns % H / MIN),
        _ => format!("{} d {} h", ns / D, ns % D / H),
    }
}

/// A signed duration: a timer past due reads `-3 ms`.
pub fn signed_duration(ns: i64) -> String {
    if ns < 0 {
        format!("-{}", duration(ns.unsigned_abs()))
    } else {
        duration(ns.unsigned_abs())
    }
}

/// `name (Task-<id>)`, or `Task-<id>` for a task with its default name: as `dump_tasks` writes
/// it, so that the tool's output and the program's own read the same.
pub fn task_label(name: Option<&str>, id: u64) -> String {
    let default_name = format!("Task-{id}");
    match name {
        Some(name) if name != default_name && !name.is_empty() => {
            format!("{name} ({default_name})")
        }
        _ => default_name,
    }
}

/// `file:line:column`.
pub fn location(at: &Location) -> String {
    format!("{}:{}:{}", at.file, at.line, at.column)
}

/// `running` or `waiting`.
pub fn state(state: State) -> &'static str {
    match state {
        State::Running => "running",
        State::Waiting => "waiting",
    }
}

/// A primitive's kind as the runtime names it (`lock` reads `Lock`, `queue` reads `Queue`).
fn sync_kind(kind: &str) -> String {
    let mut chars = kind.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "a primitive".to_owned(),
    }
}

/// Looks tasks up by id in one snapshot, for labels: a task no longer live keeps its bare id.
#[derive(Debug)]
pub struct Names<'a> {
    /// Sorted by id.
    tasks: Vec<&'a Task>,
}

impl<'a> Names<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Names<'a> {
        let mut tasks: Vec<&Task> = snapshot.tasks.iter().collect();
        tasks.sort_by_key(|task| task.id);
        Names { tasks }
    }

    /// The live task `id`.
    pub fn get(&self, id: u64) -> Option<&'a Task> {
        let at = self.tasks.binary_search_by_key(&id, |task| task.id).ok()?;
        Some(self.tasks[at])
    }

    /// `name (Task-<id>)` of the task `id`.
    pub fn label(&self, id: u64) -> String {
        task_label(self.get(id).map(|task| task.name.as_str()), id)
    }
}

/// The object of a wait, without its holder: `Lock "db"`, `Lock at 0x7f..`, `task b (Task-3)`,
/// `group #2`: what a cycle's arrows pass through.
pub fn short_awaiting(what: &Awaiting, names: &Names<'_>) -> String {
    match what {
        Awaiting::Task { task } => format!("task {}", names.label(*task)),
        Awaiting::Group { group } => format!("group #{group}"),
        Awaiting::Sync {
            sync,
            name: Some(name),
            ..
        } => format!("{} \"{name}\"", sync_kind(sync)),
        Awaiting::Sync { sync, object, .. } => format!("{} at {object:#x}", sync_kind(sync)),
        Awaiting::Promise => "a Promise".to_owned(),
        Awaiting::Timer { .. } => "a timer".to_owned(),
        Awaiting::Io { resource, fd, .. } => format!("{resource} (fd {fd})"),
        Awaiting::Process { pid, .. } => format!("process {pid}"),
    }
}

/// What a task awaits, for a person, as `dump_tasks` writes it:
/// `Lock "db" held by holder (Task-3)`, `readable on TCP listener 127.0.0.1:8080 (fd 6)`.
pub fn awaiting(what: &Awaiting, names: &Names<'_>) -> String {
    match what {
        Awaiting::Group { group } => format!("the children of group #{group}"),
        Awaiting::Sync { held_by, .. } => {
            let mut text = short_awaiting(what, names);
            if let Some(holder) = held_by {
                text.push_str(&format!(" held by {}", names.label(*holder)));
            }
            text
        }
        Awaiting::Timer { due_in_ns } if *due_in_ns < 0 => {
            format!("a timer past due by {}", duration(due_in_ns.unsigned_abs()))
        }
        Awaiting::Timer { due_in_ns } => format!("a timer due in {}", signed_duration(*due_in_ns)),
        Awaiting::Io {
            direction,
            resource,
            local,
            peer,
            fd,
        } => {
            let direction = match direction.as_str() {
                "read" => "readable",
                "write" => "writable",
                other => other,
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
        Awaiting::Task { .. } | Awaiting::Promise => short_awaiting(what, names),
    }
}

/// What to say about a task's wait, if anything: what it awaits; `not recorded` for a waiting
/// task with no record while the target records (its wait may have begun before recording
/// did, or is on something tether cannot see); nothing for a running task, or when the target
/// records no waits at all (nothing would be true to say).
pub fn wait_of(task: &Task, snapshot: &Snapshot, names: &Names<'_>) -> Option<String> {
    if task.state != State::Waiting {
        return None;
    }
    match (&task.awaiting, snapshot.waits_recorded_since_ns) {
        (Some(what), _) => Some(awaiting(what, names)),
        (None, Some(_)) => Some("not recorded".to_owned()),
        (None, None) => None,
    }
}

/// Who owns a task, in a word or three: `handle`, `set`, `group #2 in main (Task-1)`.
pub fn owner(owner: &Owner, names: &Names<'_>) -> String {
    match owner {
        Owner::Handle => "handle".to_owned(),
        Owner::Set => "set".to_owned(),
        Owner::Group {
            group,
            runner: Some(runner),
        } => format!("group #{group} in {}", names.label(*runner)),
        Owner::Group {
            group,
            runner: None,
        } => format!("group #{group}"),
    }
}

/// One loop, and what runs on it: `loop 2 (worker 1) thread 4243 "tether-worker-1": running
/// worker (Task-7) for 12.3 s`, or `idle`.
pub fn loop_line(lp: &LoopInfo, names: &Names<'_>) -> String {
    let mut line = format!("loop {}", lp.id);
    if let Some(worker) = lp.worker {
        line.push_str(&format!(" (worker {worker})"));
    }
    line.push_str(&format!(
        " thread {} \"{}\": ",
        lp.thread_id, lp.thread_name
    ));
    match (lp.running, lp.running_for_ns) {
        (Some(task), Some(ns)) => {
            line.push_str(&format!(
                "running {} for {}",
                names.label(task),
                duration(ns)
            ));
        }
        (Some(task), None) => line.push_str(&format!("running {}", names.label(task))),
        (None, _) => line.push_str("idle"),
    }
    line
}

/// Lays out rows in columns: each column as wide as its widest cell (in characters), numbers
/// (`right[c]`) flush right, no trailing blanks.
pub fn columns(rows: &[Vec<String>], right: &[bool]) -> String {
    let count = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..count)
        .map(|c| {
            rows.iter()
                .filter_map(|row| row.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c] - cell.chars().count();
            if right.get(c).copied().unwrap_or(false) {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_two_units_at_most() {
        let cases = [
            (0, "0 ns"),
            (999, "999 ns"),
            (1_500, "1 µs"),
            (35_000_000, "35 ms"),
            (1_234_000_000, "1.2 s"),
            (59_999_000_000, "59.9 s"),
            (125_000_000_000, "2 min 5 s"),
            ((2 * 3600 + 3 * 60 + 7) * 1_000_000_000, "2 h 3 min"),
            (27 * 3600 * 1_000_000_000, "1 d 3 h"),
        ];
        for (ns, text) in cases {
            assert_eq!(duration(ns), text, "{ns} ns");
        }
        assert_eq!(signed_duration(-3_000_000), "-3 ms");
    }

    #[test]
    fn a_default_name_is_not_repeated() {
        assert_eq!(task_label(Some("Task-4"), 4), "Task-4");
        assert_eq!(task_label(Some("db"), 4), "db (Task-4)");
        assert_eq!(task_label(None, 9), "Task-9");
    }

    #[test]
    fn every_wait_reads_as_dump_tasks_writes_it() {
        let holder = crate::testing::task(3, "holder", Owner::Handle, 1);
        let snapshot = crate::testing::snapshot(0, vec![], vec![holder]);
        let names = Names::new(&snapshot);
        let lock = |name: Option<&str>, held_by| Awaiting::Sync {
            sync: "lock".to_owned(),
            name: name.map(str::to_owned),
            object: 0x1f00,
            held_by,
        };
        let cases = [
            (Awaiting::Task { task: 3 }, "task holder (Task-3)"),
            (Awaiting::Task { task: 9 }, "task Task-9"),
            (Awaiting::Group { group: 2 }, "the children of group #2"),
            (
                lock(Some("db"), Some(3)),
                "Lock \"db\" held by holder (Task-3)",
            ),
            (lock(None, None), "Lock at 0x1f00"),
            (Awaiting::Promise, "a Promise"),
            (
                Awaiting::Timer {
                    due_in_ns: 2_000_000,
                },
                "a timer due in 2 ms",
            ),
            (
                Awaiting::Timer { due_in_ns: -5_000 },
                "a timer past due by 5 µs",
            ),
            (
                Awaiting::Io {
                    direction: "read".to_owned(),
                    resource: "TCP listener".to_owned(),
                    local: Some("127.0.0.1:8080".to_owned()),
                    peer: None,
                    fd: 6,
                },
                "readable on TCP listener 127.0.0.1:8080 (fd 6)",
            ),
            (
                Awaiting::Process {
                    pid: 77,
                    command: "sleep 5".to_owned(),
                },
                "process 77 `sleep 5`",
            ),
        ];
        for (what, text) in cases {
            assert_eq!(awaiting(&what, &names), text);
        }
    }

    #[test]
    fn columns_align_text_left_and_numbers_right() {
        let rows = vec![
            vec!["ID".to_owned(), "NAME".to_owned(), "POLLS".to_owned()],
            vec!["10".to_owned(), "a".to_owned(), "7".to_owned()],
            vec!["2".to_owned(), "µs-long".to_owned(), "".to_owned()],
        ];
        assert_eq!(
            columns(&rows, &[true, false, true]),
            "ID  NAME     POLLS\n10  a            7\n 2  µs-long\n"
        );
    }
}
