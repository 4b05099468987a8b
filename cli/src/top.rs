//! `tether top`: a live view of the busiest tasks, redrawn every interval.
//!
//! Busy time and polls are counted by the target since `polls_counted_since_ns`; what `top`
//! shows is the difference between two consecutive snapshots: the work of the last interval.
//! The frame itself is a plain function of two snapshots ([`frame`]); [`run`] adds the terminal
//! around it (the clock, raw keys, redrawing).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::model::{Snapshot, Task};
use crate::render::format::{Names, columns, duration, loop_line, state, wait_of};

/// The order of `top`'s lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Busy time in the last interval, most first.
    Busy,
    /// Age, oldest first.
    Age,
    /// Polls in the last interval, most first.
    Polls,
}

impl FromStr for Sort {
    type Err = String;

    fn from_str(text: &str) -> Result<Sort, String> {
        match text {
            "busy" => Ok(Sort::Busy),
            "age" => Ok(Sort::Age),
            "polls" => Ok(Sort::Polls),
            other => Err(format!(
                "`{other}` is not a sort order: use `busy`, `age` or `polls`"
            )),
        }
    }
}

impl Sort {
    fn name(self) -> &'static str {
        match self {
            Sort::Busy => "busy",
            Sort::Age => "age",
            Sort::Polls => "polls",
        }
    }
}

/// One task's work in the last interval.
struct Row<'a> {
    task: &'a Task,
    /// Busy time since the previous snapshot (all of it for a task first seen now).
    busy: Option<u64>,
    polls: Option<u64>,
}

/// One frame: a header (the process, its tasks and loops), then one line per task, sorted.
/// `previous` is the snapshot before `now`, if any: the differences are taken against it.
/// `rows` caps the number of task lines (the terminal's height).
pub fn frame(previous: Option<&Snapshot>, now: &Snapshot, sort: Sort, rows: usize) -> String {
    let before: HashMap<u64, &Task> = previous
        .map(|snapshot| snapshot.tasks.iter().map(|task| (task.id, task)).collect())
        .unwrap_or_default();
    // A task first seen now did all its counted work in the interval; the first frame has
    // nothing to subtract and shows the totals.
    let since = |current: Option<u64>, old: Option<Option<u64>>| match (current, old) {
        (Some(current), Some(Some(old))) => Some(current.saturating_sub(old)),
        (current, _) => current,
    };
    let mut lines: Vec<Row<'_>> = now
        .tasks
        .iter()
        .map(|task| {
            let old = before.get(&task.id);
            let old_busy = old.zip(previous).map(|(old, previous)| busy(previous, old));
            Row {
                task,
                busy: since(busy(now, task), old_busy),
                polls: since(task.polls, old.map(|old| old.polls)),
            }
        })
        .collect();
    match sort {
        Sort::Busy => lines.sort_by(|a, b| b.busy.cmp(&a.busy).then(a.task.id.cmp(&b.task.id))),
        Sort::Polls => lines.sort_by(|a, b| b.polls.cmp(&a.polls).then(a.task.id.cmp(&b.task.id))),
        Sort::Age => lines.sort_by(|a, b| {
            b.task
                .age_ns
                .cmp(&a.task.age_ns)
                .then(a.task.id.cmp(&b.task.id))
        }),
    }
    let interval = previous.map(|old| now.taken_ns.saturating_sub(old.taken_ns));
    let names = Names::new(now);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "tether top: pid {} ({}), {} task{}, {} loop{}, sorted by {} (b: busy, a: age, p: polls, q: quit)",
        now.pid,
        now.command,
        now.tasks.len(),
        if now.tasks.len() == 1 { "" } else { "s" },
        now.loops.len(),
        if now.loops.len() == 1 { "" } else { "s" },
        sort.name(),
    );
    match interval {
        Some(ns) => {
            let _ = writeln!(out, "interval {}", duration(ns));
        }
        None => out.push_str("first snapshot: totals since counting began\n"),
    }
    for lp in &now.loops {
        out.push_str(&loop_line(lp, &names));
        out.push('\n');
    }
    let mut table = vec![
        [
            "ID", "NAME", "STATE", "CPU", "BUSY", "POLLS", "AGE", "AWAITING",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let dash = || "-".to_owned();
    for row in lines.iter().take(rows) {
        let task = row.task;
        let cpu = match (row.busy, interval) {
            (Some(busy), Some(ns)) if ns > 0 => format!("{:.0}%", busy as f64 * 100.0 / ns as f64),
            _ => dash(),
        };
        table.push(vec![
            task.id.to_string(),
            task.name.clone(),
            state(task.state).to_owned(),
            cpu,
            row.busy.map_or_else(dash, duration),
            row.polls.map_or_else(dash, |polls| polls.to_string()),
            task.age_ns.map_or_else(dash, duration),
            wait_of(task, now, &names).unwrap_or_else(dash),
        ]);
    }
    out.push_str(&columns(
        &table,
        &[true, false, false, true, true, true, true, false],
    ));
    if lines.len() > rows {
        let _ = writeln!(out, "({} more)", lines.len() - rows);
    }
    out
}

/// The busy time of `task` in `snapshot`, with the poll it is inside now: a task stuck in one
/// long poll has counted nothing yet, and is the busiest of all. (The loop's `running_for_ns`
/// starts at its last look at the I/O driver, so it may include a few short polls of other
/// tasks just before: an overestimate of at most one batch.)
fn busy(snapshot: &Snapshot, task: &Task) -> Option<u64> {
    let in_poll = snapshot
        .loops
        .iter()
        .filter(|lp| lp.running == Some(task.id))
        .filter_map(|lp| lp.running_for_ns)
        .max()
        .unwrap_or(0);
    task.busy_ns.map(|busy| busy + in_poll)
}

/// Clears the screen and moves the cursor home.
const CLEAR: &str = "\x1b[H\x1b[2J";

/// Draws a frame every `--interval` ms until `q` (or `--count` frames).
pub fn run(
    args: &crate::Args,
    mut take: impl FnMut() -> Result<Snapshot, String>,
) -> Result<(), String> {
    let interval = Duration::from_millis(args.interval_ms.max(10));
    // Keys only from a terminal, and never when a test counts frames from a pipe.
    let keys = if terminal::is_tty(0) {
        Some(terminal::RawMode::enter()?)
    } else {
        None
    };
    let mut sort = args.sort;
    let mut previous: Option<Snapshot> = None;
    let mut drawn = 0u64;
    loop {
        let now = take()?;
        let rows =
            terminal::height().map_or(usize::MAX, |h| h.saturating_sub(now.loops.len() + 4).max(1));
        draw(&frame(previous.as_ref(), &now, sort, rows))?;
        drawn += 1;
        if args.count.is_some_and(|count| drawn >= count) {
            return Ok(());
        }
        let next = Instant::now() + interval;
        // Waits for the next frame; a key redraws at once with the same snapshots.
        loop {
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let Some(keys) = &keys else {
                std::thread::sleep(left);
                break;
            };
            match keys.key(left)? {
                Some(b'q') | Some(3) => return Ok(()), // 3: Ctrl-C, which raw mode delivers
                Some(key @ (b'b' | b'a' | b'p')) => {
                    sort = match key {
                        b'b' => Sort::Busy,
                        b'a' => Sort::Age,
                        _ => Sort::Polls,
                    };
                    draw(&frame(previous.as_ref(), &now, sort, rows))?;
                }
                _ => {}
            }
        }
        previous = Some(now);
    }
}

/// Writes a frame over the last one. (Raw mode keeps the terminal's output processing, so
/// `\n` still starts a new line at column 0.)
fn draw(frame: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(CLEAR.as_bytes())
        .and_then(|()| stdout.write_all(frame.as_bytes()))
        .and_then(|()| stdout.flush())
        .map_err(|error| format!("cannot write to the terminal: {error}"))
}

/// The terminal: raw keys through termios, its size through `TIOCGWINSZ`.
mod terminal {
    use std::io;
    use std::time::Duration;

    pub fn is_tty(fd: i32) -> bool {
        // SAFETY: `isatty` only inspects the descriptor number.
        unsafe { libc::isatty(fd) == 1 }
    }

    /// The terminal's height in rows, if stdout is one.
    pub fn height() -> Option<usize> {
        // SAFETY: a zeroed `winsize` is a valid value of the plain C struct.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ writes one `winsize` into the pointer, which is valid for it.
        let got = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut size) };
        (got == 0 && size.ws_row > 0).then_some(usize::from(size.ws_row))
    }

    /// Stdin without line editing or echo, and the cursor hidden, until dropped (on every
    /// exit: `q`, an error, a panic's unwinding).
    #[derive(Debug)]
    pub struct RawMode {
        saved: libc::termios,
    }

    impl RawMode {
        pub fn enter() -> Result<RawMode, String> {
            // SAFETY: a zeroed `termios` is a valid value; `tcgetattr` fills it.
            let mut saved: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: the pointer is valid for one `termios`.
            if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
                return Err(format!(
                    "cannot read the terminal's settings: {}",
                    io::Error::last_os_error()
                ));
            }
            let mut raw = saved;
            // Keys one at a time, not echoed; Ctrl-C arrives as a key, so that the terminal
            // is always restored on the way out.
            raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG);
            raw.c_cc[libc::VMIN] = 0;
            raw.c_cc[libc::VTIME] = 0;
            // SAFETY: the pointer is valid for one `termios`.
            if unsafe { libc::tcsetattr(0, libc::TCSANOW, &raw) } != 0 {
                return Err(format!(
                    "cannot put the terminal in raw mode: {}",
                    io::Error::last_os_error()
                ));
            }
            print!("\x1b[?25l");
            Ok(RawMode { saved })
        }

        /// The next key pressed within `wait`, if any.
        pub fn key(&self, wait: Duration) -> Result<Option<u8>, String> {
            let mut poll = libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX).max(1);
            // SAFETY: one valid `pollfd`, and its count.
            let ready = unsafe { libc::poll(&mut poll, 1, ms) };
            if ready < 0 {
                let error = io::Error::last_os_error();
                return match error.kind() {
                    io::ErrorKind::Interrupted => Ok(None),
                    _ => Err(format!("cannot read the keyboard: {error}")),
                };
            }
            if ready == 0 {
                return Ok(None);
            }
            let mut key = 0u8;
            // SAFETY: one byte into a valid one-byte buffer.
            let read = unsafe { libc::read(0, (&raw mut key).cast(), 1) };
            Ok((read == 1).then_some(key))
        }
    }

    impl Drop for RawMode {
        fn drop(&mut self) {
            println!("\x1b[?25h");
            // SAFETY: the pointer is valid for one `termios`, the one read at `enter`.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &self.saved) };
        }
    }
}

#[cfg(test)]
mod tests;
