//! Runs the `supervisor` example as a user would: waits until it says all its workers run
//! (one of them restarted after a failure), sends it SIGINT as a Ctrl-C would, and checks that
//! every worker was stopped gracefully (SIGTERM, its report) and the supervisor exited cleanly,
//! leaving no worker behind.

// Shared with `examples_behave`; this file uses only `binary`, `lines_of` and `matches`.
#[allow(dead_code)]
mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{binary, lines_of, matches};

const DEADLINE: Duration = Duration::from_secs(30);

#[test]
#[cfg_attr(miri, ignore = "runs a program")]
fn ctrl_c_stops_every_worker_gracefully() {
    let mut child = Command::new(binary("supervisor"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the supervisor example runs");
    let lines = lines_of(child.stdout.take().unwrap());
    let mut before = Vec::new();
    loop {
        let line = lines
            .recv_timeout(DEADLINE)
            .expect("the workers start in time");
        let done = line == "supervisor: all 3 workers running";
        before.push(line);
        if done {
            break;
        }
    }
    // SAFETY: sends SIGINT to our own child, not yet waited for.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let mut after = Vec::new();
    while let Ok(line) = lines.recv_timeout(DEADLINE) {
        after.push(line);
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(stderr, "");

    let pids: Vec<u32> = before
        .iter()
        .filter_map(|line| line.split("running as pid ").nth(1))
        .map(|pid| pid.parse().unwrap())
        .collect();
    assert_eq!(
        before[0],
        "supervisor: starting 3 workers (Ctrl-C stops them)"
    );
    let mut started = before[1..before.len() - 1].to_vec();
    started.sort();
    let expected = [
        "worker 0: running as pid #*",
        "worker 1: failed: cannot open its work queue (exit status: 1); restarting",
        "worker 1: running as pid #*",
        "worker 2: running as pid #*",
    ];
    assert_eq!(started.len(), expected.len(), "{before:#?}");
    for (line, pattern) in started.iter().zip(expected) {
        assert!(matches(pattern, line), "{line:?} is not {pattern:?}");
    }

    assert_eq!(
        after[0],
        "supervisor: Ctrl-C, stopping the workers (grace 5s)"
    );
    let mut stopped = after[1..after.len() - 1].to_vec();
    stopped.sort();
    assert_eq!(stopped.len(), 3, "{after:#?}");
    for (id, line) in stopped.iter().enumerate() {
        let pattern = format!("worker {id}: stopped after #* jobs (exit status: 0)");
        assert!(matches(&pattern, line), "{line:?} is not {pattern:?}");
    }
    assert_eq!(
        after.last().unwrap(),
        "supervisor: 3 of 3 workers stopped cleanly"
    );
    for pid in pids {
        // SAFETY: signal 0 sends nothing; it asks whether the process exists.
        let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
        assert!(!alive, "worker {pid} outlived the supervisor");
    }
}
