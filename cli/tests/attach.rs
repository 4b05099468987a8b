//! `tether ps`, `pstree` and `--json` run as separate processes against a running tether
//! program (the `inspect_demo` example, built by `cargo test` with this package), as a user
//! runs them: the target is started with nothing special.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// How long any one step may take before the test fails instead of hanging.
const STEP: Duration = Duration::from_secs(60);

fn tool() -> &'static str {
    env!("CARGO_BIN_EXE_tether")
}

/// An example of this package, which `cargo test` builds before running the tests.
fn example(name: &str) -> PathBuf {
    let mut path = PathBuf::from(tool());
    path.pop();
    path.push("examples");
    path.push(name);
    assert!(
        path.exists(),
        "{} is built by `cargo test -p tether-cli`",
        path.display()
    );
    path
}

/// A running target, killed when dropped.
struct Target {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    pid: u32,
}

impl Target {
    fn start(name: &str, args: &[&str]) -> Target {
        let mut child = Command::new(example(name))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let stdout = child.stdout.take().expect("piped");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut target = Target {
            pid: child.id(),
            child,
            stdin,
            lines,
        };
        let ready = target.line();
        assert_eq!(ready, format!("ready {}", target.pid));
        target
    }

    fn line(&mut self) -> String {
        self.lines
            .recv_timeout(STEP)
            .expect("the target prints its next line")
    }

    fn go(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(b"go\n").expect("the target reads stdin");
        stdin.flush().expect("flushed");
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> Output {
    let mut child = Command::new(tool())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    // Bounded: a tool that hangs fails the test.
    let deadline = std::time::Instant::now() + STEP;
    while child.try_wait().expect("waitable").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "tether {args:?} hangs"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

fn json(pid: u32) -> Value {
    let out = run(&["ps", &pid.to_string(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the tool prints JSON")
}

fn task<'a>(snapshot: &'a Value, name: &str) -> &'a Value {
    snapshot["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|task| task["name"] == name)
        .unwrap_or_else(|| panic!("no task {name} in {snapshot:#}"))
}

#[test]
fn a_stuck_loop_shows_its_tasks_owners_waits_and_the_task_blocking_it() {
    let mut target = Target::start("inspect_demo", &["--stuck-secs", "60"]);
    let pid = target.pid;

    // Before the first attach nothing records waits: the early writer, parked already, shows
    // none; the first attach switches recording on.
    let first = json(pid);
    assert_eq!(first["schema"], "tether.snapshot/1");
    assert_eq!(first["pid"], pid);
    assert!(first["waits_recorded_since_ns"].as_u64().is_some());
    let early = task(&first, "early-writer");
    assert_eq!(early["state"], "waiting");
    assert_eq!(early["awaiting"], Value::Null);
    assert!(
        early["created_at"]["file"]
            .as_str()
            .unwrap()
            .ends_with("inspect_demo.rs")
    );
    assert_eq!(task(&first, "metrics")["owner"]["kind"], "set");
    let main = task(&first, "Task-1")["id"].clone();
    for child in ["fetch a", "fetch b"] {
        let owner = &task(&first, child)["owner"];
        assert_eq!(owner["kind"], "group");
        assert_eq!(owner["runner"], main, "the group runs in main's task");
    }

    // Now the holder takes the lock, the writer parks on it, and the stuck task blocks the
    // loop's thread: the tool still reads everything.
    target.go();
    assert_eq!(target.line(), "stuck");
    let stuck = json(pid);
    let holder = task(&stuck, "holder")["id"].clone();
    let writer = task(&stuck, "writer");
    assert_eq!(writer["awaiting"]["kind"], "sync");
    assert_eq!(writer["awaiting"]["sync"], "lock");
    assert_eq!(writer["awaiting"]["name"], "db");
    assert_eq!(writer["awaiting"]["held_by"], holder);
    assert_eq!(task(&stuck, "holder")["awaiting"]["name"], "done");
    assert_eq!(task(&stuck, "Task-1")["awaiting"]["kind"], "task");
    let blocker = task(&stuck, "stuck");
    assert_eq!(blocker["state"], "running");
    let loops = stuck["loops"].as_array().expect("loops");
    assert_eq!(loops.len(), 1, "{loops:#?}");
    assert_eq!(loops[0]["running"], blocker["id"]);
    assert_eq!(
        loops[0]["thread_id"], pid,
        "the single loop runs on the main thread"
    );
    assert_eq!(loops[0]["runtime"], Value::Null);
    // It has been stuck since before the line was printed: a second later, for a second.
    std::thread::sleep(Duration::from_millis(1100));
    let later = json(pid);
    let running_for = later["loops"][0]["running_for_ns"]
        .as_u64()
        .expect("running for");
    assert!(running_for >= 1_000_000_000, "{running_for}");
    assert!(task(&later, "writer")["polls"].as_u64().unwrap() >= 1);

    // The text views say the same.
    let id = |name: &str| task(&later, name)["id"].as_u64().unwrap();
    let ps = run(&["ps", &pid.to_string()]);
    assert!(ps.status.success());
    let ps = String::from_utf8(ps.stdout).unwrap();
    let writer_line = ps
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some("writer"))
        .unwrap_or_else(|| panic!("{ps}"));
    assert!(
        writer_line.contains(&format!(
            "Lock \"db\" held by holder (Task-{})",
            id("holder")
        )),
        "{ps}"
    );
    assert!(
        writer_line.contains("cli/examples/inspect_demo.rs:"),
        "{ps}"
    );
    for name in ["holder", "stuck", "metrics", "fetch a", "early-writer"] {
        assert!(ps.contains(name), "{ps}");
    }
    let tree = run(&["pstree", &pid.to_string()]);
    assert!(tree.status.success());
    let tree = String::from_utf8(tree.stdout).unwrap();
    let first = tree.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "loop 1 thread {pid} \"inspect_demo\": running stuck (Task-{}) for ",
            id("stuck")
        )),
        "{tree}"
    );
    assert!(
        tree.contains(&format!(
            "writer (Task-{}) [waiting] created at cli/examples/inspect_demo.rs:",
            id("writer")
        )),
        "{tree}"
    );
    assert!(tree.contains("owned by a TaskSet"), "{tree}");
    assert!(tree.contains("└── group #"), "{tree}");
    assert!(
        tree.contains(&format!(
            "awaiting Lock \"db\" held by holder (Task-{})",
            id("holder")
        )),
        "{tree}"
    );
}

#[test]
fn a_program_that_records_waits_itself_shows_the_waits_from_before_the_attach() {
    let target = Target::start("inspect_demo", &["--track-waits", "--stuck-secs", "60"]);
    let snapshot = json(target.pid);
    let since = snapshot["waits_recorded_since_ns"].as_u64().unwrap();
    let early = task(&snapshot, "early-writer");
    // Since the loop started, which is before the early writer was created (both stamps come
    // from the coarse clock, and a creation stamp is kept in whole µs).
    let created = snapshot["taken_ns"].as_u64().unwrap() - early["age_ns"].as_u64().unwrap();
    assert!(since <= created + 1_000, "{since} {created}");
    assert_eq!(early["awaiting"]["name"], "early");
    assert_eq!(
        early["awaiting"]["held_by"],
        task(&snapshot, "Task-1")["id"]
    );
}

#[test]
fn every_worker_of_the_multi_threaded_flavour_is_listed() {
    let target = Target::start("inspect_demo", &["--workers", "2", "--stuck-secs", "60"]);
    let snapshot = json(target.pid);
    let loops = snapshot["loops"].as_array().expect("loops");
    assert_eq!(loops.len(), 2, "{loops:#?}");
    let mut workers: Vec<u64> = loops
        .iter()
        .map(|lp| lp["worker"].as_u64().unwrap())
        .collect();
    workers.sort_unstable();
    assert_eq!(workers, [0, 1]);
    assert_eq!(loops[0]["runtime"], loops[1]["runtime"]);
    assert!(loops[0]["runtime"].as_u64().is_some());
    // A `Send` task spawned on the workers, listed in their shared table.
    assert_eq!(task(&snapshot, "sender")["owner"]["kind"], "handle");
    assert!(task(&snapshot, "metrics").is_object());
}

#[test]
fn a_read_only_attach_leaves_recording_off() {
    let target = Target::start("inspect_demo", &["--stuck-secs", "60"]);
    let pid = target.pid.to_string();
    let out = run(&["ps", &pid, "--json", "--read-only"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snapshot: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snapshot["waits_recorded_since_ns"], Value::Null);
    assert_eq!(snapshot["polls_counted_since_ns"], Value::Null);
    assert_eq!(task(&snapshot, "metrics")["polls"], Value::Null);
    // Still off for the next read-only look; a plain attach turns it on.
    let again = run(&["ps", &pid, "--json", "--read-only"]);
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["waits_recorded_since_ns"], Value::Null);
    assert!(
        json(target.pid)["waits_recorded_since_ns"]
            .as_u64()
            .is_some()
    );
}

#[test]
fn every_loop_of_the_process_is_listed() {
    let target = Target::start("inspect_demo", &["--extra-loop", "--stuck-secs", "60"]);
    let snapshot = json(target.pid);
    let loops = snapshot["loops"].as_array().expect("loops");
    assert_eq!(loops.len(), 2, "{loops:#?}");
    let other = loops
        .iter()
        .find(|lp| lp["thread_name"] == "other-loop")
        .unwrap_or_else(|| panic!("{loops:#?}"));
    assert_eq!(other["runtime"], Value::Null);
    assert_ne!(other["thread_id"], target.pid);
    let elsewhere = task(&snapshot, "elsewhere");
    assert_eq!(elsewhere["loop"], other["id"]);
    assert_ne!(task(&snapshot, "early-writer")["loop"], other["id"]);
}

/// Runs the tool as `nobody`: refused before it reads anything. Needs root to switch users
/// (CI runs as root); as another user the kernel refuses the reads anyway, which the next
/// assertion shows too.
#[test]
fn another_users_attach_is_refused() {
    let target = Target::start("inspect_demo", &["--stuck-secs", "60"]);
    let pid = target.pid.to_string();
    // SAFETY: `geteuid` has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: cannot run the tool as another user; skipped");
        return;
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            tool(),
            "ps",
            &pid,
        ])
        .output()
        .expect("setpriv runs");
    assert_eq!(out.status.code(), Some(1));
    let error = String::from_utf8(out.stderr).unwrap();
    assert!(
        error.contains(&format!("process {pid} belongs to user 0")),
        "{error}"
    );
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(out.stdout.is_empty());
}

fn refused(args: &[&str], message: &str) {
    let out = run(args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let error = String::from_utf8(out.stderr).unwrap();
    assert!(error.contains(message), "{args:?}: {error}");
    assert_eq!(error.lines().count(), 1, "one line: {error}");
}

#[test]
fn bad_targets_get_a_one_line_error() {
    // Not a tether program.
    let mut sleeper = Command::new("sleep").arg("60").spawn().expect("sleep runs");
    let pid = sleeper.id().to_string();
    refused(&["ps", &pid], "is not a tether program");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    // Exited (and reaped): no such process.
    refused(&["pstree", &pid], "does not exist (or has exited)");
    // Built with another tether (layout): refused, and the target lives on.
    let mut other = Target::start("fake_version", &[]);
    refused(
        &["ps", &other.pid.to_string()],
        "was built with tether 9.9.9",
    );
    assert!(
        other.child.try_wait().unwrap().is_none(),
        "the target is untouched"
    );
}

#[test]
fn misuse_of_the_command_line_is_explained() {
    for (args, message) in [
        (&["ps"][..], "no PID given"),
        (&["ps", "12x"], "`12x` is not a valid PID"),
        (&["kill", "1"], "unknown command `kill`"),
        (
            &["top", "1", "--json"],
            "`--json` goes with `ps` and `pstree`",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let error = String::from_utf8(out.stderr).unwrap();
        assert!(error.starts_with(&format!("tether: {message}")), "{error}");
    }
}
