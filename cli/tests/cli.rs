//! The `tether` binary, run as a user runs it, on saved snapshots (`--load`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn fixture(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", name]
        .iter()
        .collect();
    path.to_str().expect("a UTF-8 path").to_owned()
}

fn tether(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the tether binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "tether failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// A failure: non-zero exit, nothing on stdout, and an error starting `tether: ` whose first
/// line says `wanted`.
fn refused(args: &[&str], wanted: &str) -> String {
    let output = tether(args);
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(output.stdout.is_empty(), "{args:?} printed on stdout");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("tether: "), "{args:?}: {stderr}");
    assert!(
        first.contains(wanted),
        "{args:?}: {first:?} lacks {wanted:?}"
    );
    stderr
}

#[cfg_attr(miri, ignore = "runs the tether binary")]
#[test]
fn pstree_shows_the_tree_the_loops_and_the_cycle() {
    let out = stdout(&tether(&["pstree", "--load", &fixture("demo.json")]));
    let expected = "\
loop 1 thread 31337 \"inspect_demo\": idle
loop 2 (worker 0) thread 31340 \"tether-worker-0\": running spinner (Task-8) for 12.3 s
Task-1 [waiting] created at examples/examples/inspect_demo.rs:40:5, owned by its Task handle, awaiting the children of group #1
└── group #1 (3 tasks)
    ├── holder (Task-3) [waiting] created at examples/examples/inspect_demo.rs:44:5, awaiting a timer due in 1 h 0 min
    ├── waiter (Task-4) [waiting] created at examples/examples/inspect_demo.rs:45:5, awaiting Lock \"db\" held by holder (Task-3)
    └── crawler (Task-5) [waiting] created at examples/examples/inspect_demo.rs:46:5, awaiting the children of group #2
        └── group #2 (2 tasks)
            ├── fetch a (Task-6) [waiting] created at examples/examples/inspect_demo.rs:60:5, awaiting readable on TCP stream 127.0.0.1:41522 (peer 127.0.0.1:8080, fd 9)
            └── fetch b (Task-7) [waiting] created at examples/examples/inspect_demo.rs:60:5, awaiting not recorded
metrics (Task-2) [waiting] created at examples/examples/inspect_demo.rs:52:5, owned by a TaskSet, awaiting a timer due in 400 ms
spinner (Task-8) [running] created at examples/examples/inspect_demo.rs:70:5, owned by its Task handle
transfer (Task-9) [waiting] created at examples/examples/inspect_demo.rs:80:5, owned by a TaskSet, awaiting Lock \"accounts\" held by audit (Task-10)
audit (Task-10) [waiting] created at examples/examples/inspect_demo.rs:81:5, owned by a TaskSet, awaiting Lock \"ledger\" held by transfer (Task-9)
cycle: transfer (Task-9) -> Lock \"accounts\" -> audit (Task-10) -> Lock \"ledger\" -> transfer (Task-9)
";
    assert_eq!(out, expected);
}

#[cfg_attr(miri, ignore = "runs the tether binary")]
#[test]
fn ps_prints_a_header_and_a_line_per_task() {
    let out = stdout(&tether(&["ps", "--load", &fixture("demo.json")]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 11, "{out}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "ID", "NAME", "STATE", "OWNER", "AWAITING", "CREATED", "AT", "AGE", "POLLS", "BUSY"
        ]
    );
    assert_eq!(
        lines[4],
        " 4  waiter    waiting  group #1 in Task-1            Lock \"db\" held by holder (Task-3)                                   examples/examples/inspect_demo.rs:45:5  30.1 s      4    2 ms"
    );
    assert!(
        lines[8].starts_with(" 8  spinner   running  handle "),
        "{}",
        lines[8]
    );
    assert!(lines[8].ends_with("  17.2 s"), "{}", lines[8]);
}

#[cfg_attr(miri, ignore = "runs the tether binary")]
#[test]
fn json_reads_back_as_the_same_snapshot() {
    let fixture = fixture("demo.json");
    for command in ["ps", "pstree"] {
        let out = stdout(&tether(&[command, "--load", &fixture, "--json"]));
        let printed: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
        assert_eq!(printed, saved, "{command} --json");
        // And what it printed loads again.
        let again =
            std::env::temp_dir().join(format!("tether-cli-{}-{command}.json", std::process::id()));
        std::fs::write(&again, &out).unwrap();
        let reloaded = stdout(&tether(&[
            command,
            "--load",
            again.to_str().unwrap(),
            "--json",
        ]));
        std::fs::remove_file(&again).unwrap();
        assert_eq!(reloaded, out);
    }
}

#[cfg_attr(miri, ignore = "runs the tether binary")]
#[test]
fn bad_input_is_one_line_and_a_failure() {
    let missing = refused(
        &["ps", "--load", "/nonexistent/snapshot.json"],
        "cannot read /nonexistent/snapshot.json",
    );
    assert_eq!(missing.lines().count(), 1, "{missing}");
    let future = fixture("future-schema.json");
    let schema = refused(
        &["pstree", "--load", &future],
        "has schema `tether.snapshot/999`; this tool reads `tether.snapshot/1`",
    );
    assert_eq!(schema.lines().count(), 1, "{schema}");
    let cargo_toml = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let not_json = refused(&["ps", "--load", cargo_toml], "is not a tether snapshot");
    assert_eq!(not_json.lines().count(), 1, "{not_json}");
    // Usage errors: one line too, and the exit status of a usage error.
    let pid = refused(&["ps", "12ab"], "`12ab` is not a valid PID");
    assert_eq!(
        pid,
        "tether: `12ab` is not a valid PID (`tether --help` shows the usage)\n"
    );
    assert_eq!(tether(&["ps", "12ab"]).status.code(), Some(2));
    refused(&["frobnicate", "1"], "unknown command `frobnicate`");
    refused(
        &["top", "1", "--sort", "cpu"],
        "`cpu` is not a sort order: use `busy`, `age` or `polls`",
    );
    refused(&["ps"], "no PID given");
    refused(&["ps", "1", "--interval"], "`--interval` needs a value");
    refused(
        &["web", "--load", &fixture("demo.json"), "--json"],
        "`--json` goes with `ps` and `pstree`",
    );
}

#[cfg_attr(miri, ignore = "runs the tether binary")]
#[test]
fn help_prints_the_usage() {
    let out = stdout(&tether(&["--help"]));
    assert!(
        out.starts_with("usage: tether ps PID|--load FILE [--json] [--read-only]\n"),
        "{out}"
    );
    let bare = tether(&[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bare.stderr).starts_with("usage: "));
}

#[cfg_attr(miri, ignore = "runs the tether binary")]
#[test]
fn top_draws_count_frames_without_a_terminal() {
    let out = stdout(&tether(&[
        "top",
        "--load",
        &fixture("demo.json"),
        "--count",
        "2",
        "--interval",
        "50",
        "--sort",
        "busy",
    ]));
    let frames: Vec<&str> = out
        .split("\x1b[H\x1b[2J")
        .filter(|f| !f.is_empty())
        .collect();
    assert_eq!(frames.len(), 2, "{out:?}");
    assert!(frames[0].starts_with("tether top: pid 31337 (target/debug/examples/inspect_demo), 10 tasks, 2 loops, sorted by busy"), "{}", frames[0]);
    // The first frame has totals: the spinner's 17.2 s of polling comes first.
    let first_task = frames[0].lines().nth(5).unwrap();
    assert!(first_task.contains("spinner"), "{}", frames[0]);
    // The same file again: nothing was busy in the interval.
    assert!(frames[1].contains("interval 0 ns"), "{}", frames[1]);
}

/// A `tether web` server, stopped when dropped.
struct Web(Child);

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("a response");
    let (head, body) = response.split_once("\r\n\r\n").expect("headers and a body");
    (head.to_owned(), body.to_owned())
}

#[cfg_attr(miri, ignore = "runs a process and uses sockets")]
#[test]
fn web_serves_the_page_the_snapshot_and_the_history() {
    let fixture = fixture("demo.json");
    let (_web, port) = web(&fixture);

    let (head, page) = get(port, "/");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_lowercase().contains("content-type: text/html"),
        "{head}"
    );
    for id in ["id=\"tree\"", "id=\"timeline\"", "id=\"filter\""] {
        assert!(page.contains(id), "the page lacks {id}");
    }
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "the page loads nothing from elsewhere"
    );

    let (_, snapshot) = get(port, "/snapshot.json");
    let served: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    assert_eq!(served, saved);

    let (_, history) = get(port, "/history.json");
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    let lives = history["tasks"].as_array().unwrap();
    assert_eq!(lives.len(), 10);
    let waiter = lives.iter().find(|life| life["name"] == "waiter").unwrap();
    // Started 30.1 s before the snapshot was taken, still alive, in group #1 run by Task-1.
    assert_eq!(waiter["start_ns"], 5_000_000_000_000u64 - 30_100_000_000);
    assert_eq!(waiter["end_ns"], serde_json::Value::Null);
    assert_eq!(waiter["runner"], 1);

    // The lock cycle between transfer (Task-9) and audit (Task-10), as pstree finds it.
    let (_, cycles) = get(port, "/cycles.json");
    let cycles: serde_json::Value = serde_json::from_str(&cycles).unwrap();
    assert_eq!(
        cycles,
        serde_json::json!({"taken_ns": 5_000_000_000_000u64, "cycles": [[9, 10]], "more": false})
    );

    let (head, _) = get(port, "/nothing-here");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
}

#[cfg_attr(miri, ignore = "runs the tether binary")]
#[test]
fn web_refuses_a_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    refused(
        &["web", "--load", &fixture("demo.json"), "--port", &port],
        &format!("cannot listen on 127.0.0.1:{port}"),
    );
}

/// The example in SCHEMA.md loads, and `pstree` prints what the page says it prints.
#[cfg_attr(miri, ignore = "runs the tether binary")]
#[test]
fn the_schema_page_example_is_true() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/SCHEMA.md")).unwrap();
    let block = |fence: &str| {
        let start = page
            .find(fence)
            .unwrap_or_else(|| panic!("no {fence} block"))
            + fence.len();
        let end = start + page[start..].find("```").unwrap();
        page[start..end].to_owned()
    };
    let example =
        std::env::temp_dir().join(format!("tether-cli-schema-{}.json", std::process::id()));
    std::fs::write(&example, block("```json\n")).unwrap();
    let out = stdout(&tether(&["pstree", "--load", example.to_str().unwrap()]));
    std::fs::remove_file(&example).unwrap();
    assert_eq!(out, block("```text\n"));
}

/// Starts `tether web --load path`, returns the server and its port.
fn web(path: &str) -> (Web, u16) {
    let child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["web", "--load", path, "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tether web starts");
    let mut web = Web(child);
    let mut first = String::new();
    BufReader::new(web.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port = first
        .strip_prefix("serving http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/\n"))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    (web, port)
}

/// The sampler re-reads the target every second: a task that vanishes gets its end, and a
/// target that cannot be read any more is reported beside the last snapshot.
#[cfg_attr(miri, ignore = "runs a process and uses sockets")]
#[test]
fn web_samples_every_second_and_keeps_what_ended() {
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("demo.json")).unwrap()).unwrap();
    let path = std::env::temp_dir().join(format!("tether-cli-live-{}.json", std::process::id()));
    std::fs::write(&path, saved.to_string()).unwrap();
    let (_web, port) = web(path.to_str().unwrap());

    // One second later, "fetch b" (Task-7) is gone.
    let mut next = saved.clone();
    next["taken_ns"] = (5_001_000_000_000u64).into();
    next["tasks"]
        .as_array_mut()
        .unwrap()
        .retain(|task| task["id"] != 7);
    std::fs::write(&path, next.to_string()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let ended = loop {
        let (_, history) = get(port, "/history.json");
        let history: serde_json::Value = serde_json::from_str(&history).unwrap();
        let fetch_b = history["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|life| life["id"] == 7)
            .cloned()
            .expect("an ended task is kept");
        if !fetch_b["end_ns"].is_null() {
            break fetch_b;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sample within 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(ended["end_ns"], 5_001_000_000_000u64);
    let (_, snapshot) = get(port, "/snapshot.json");
    let served: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
    assert_eq!(served, next);

    // The target goes away: the last snapshot stays, with the error in a header.
    std::fs::remove_file(&path).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (head, body) = get(port, "/snapshot.json");
        if let Some(error) = head
            .lines()
            .find(|line| line.to_lowercase().starts_with("x-tether-error:"))
        {
            assert!(error.contains("cannot read"), "{error}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&body).unwrap(),
                next
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failed sample within 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
