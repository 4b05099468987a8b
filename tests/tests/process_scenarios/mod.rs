//! The scenarios of `process.rs`, shared with `process_sigchld.rs` (same behaviour, the other
//! way of noticing exits). Each is an `async fn` the including file runs on a runtime.

#![allow(dead_code, unused_imports)]

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use futures::io::{AsyncReadExt, AsyncWriteExt};
use tether::process::{Command, Stdio, run};

/// Generous: the machine may be loaded, and nothing here should take long.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// `true` while `pid` exists, running or as a zombie (not yet reaped).
pub fn is_running_or_zombie(pid: u32) -> bool {
    // SAFETY: signal 0 checks that the process exists and sends nothing.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

/// Waits (on the loop, polling every millisecond) until `pid` is gone and reaped.
pub async fn reaped(pid: u32) {
    let start = Instant::now();
    while is_running_or_zombie(pid) {
        assert!(start.elapsed() < DEADLINE, "process {pid} was not reaped");
        tether::sleep(Duration::from_millis(1)).await;
    }
}

/// A shell that says `ready` once its TERM trap is set, then waits; on TERM it stops its
/// `sleep`, says `got TERM` and exits 0.
pub fn term_trapping_shell() -> Command {
    let mut command = Command::new("sh");
    command
        .args([
            "-c",
            "sleep 10 >/dev/null 2>&1 & trap 'kill $!; echo got TERM; exit 0' TERM; echo ready; wait",
        ])
        .stdout(Stdio::piped());
    command
}

/// Reads the child's stdout until `ready\n`.
pub async fn until_ready(child: &mut tether::process::Child) {
    let stdout = child.stdout.as_mut().unwrap();
    let mut line = [0; 6];
    stdout.read_exact(&mut line).await.unwrap();
    assert_eq!(&line, b"ready\n");
}

pub async fn spawn_wait_and_exit_codes() {
    let mut ok = Command::new("true").spawn().unwrap();
    assert!(ok.wait().await.unwrap().success());
    // Waiting again gives the same status.
    assert!(ok.wait().await.unwrap().success());
    let mut three = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
    let status = three.wait().await.unwrap();
    assert_eq!((status.code(), status.signal()), (Some(3), None));
}

pub async fn a_cancelled_wait_leaves_the_child_running() {
    let mut child = Command::new("sleep").arg("10").spawn().unwrap();
    // asyncio's rule: a wait that is cancelled (here by a timeout) leaves the process alone.
    let waited = tether::timeout(Duration::from_millis(20), child.wait()).await;
    assert!(waited.is_err());
    assert!(child.try_wait().unwrap().is_none());
    child.kill().unwrap();
    assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL));
}

pub async fn try_wait_kill_terminate_and_send_signal() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    assert!(child.id() > 0);
    assert!(child.try_wait().unwrap().is_none());
    child.kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(
        (status.code(), status.signal()),
        (None, Some(libc::SIGKILL))
    );
    assert_eq!(child.try_wait().unwrap(), Some(status));
    // Once reaped, signals are not sent (the pid may be another process's now).
    child.kill().unwrap();
    child.terminate().unwrap();
    assert!(!is_running_or_zombie(child.id()));

    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    child.terminate().unwrap();
    assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGTERM));

    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    child.send_signal(libc::SIGUSR1).unwrap();
    assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGUSR1));
}

pub async fn output_writes_and_reads_more_than_a_pipe_holds() {
    // 1 MiB in; cat echoes it on stdout and, through tee, on stderr: both pipes fill while the
    // parent is still writing, which deadlocks a parent that writes first and reads after.
    let input: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let child = Command::new("sh")
        .args(["-c", "tee /dev/stderr"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = tether::timeout(DEADLINE, child.output(&input))
        .await
        .expect("no deadlock")
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout.len(), input.len());
    assert!(output.stdout == input);
    assert!(output.stderr == input);

    // Input for a child whose stdin is not piped is refused.
    let child = Command::new("true").spawn().unwrap();
    let error = child.output(b"x").await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("stdin is not piped"), "{error}");
}

pub async fn command_output_status_env_dir_and_group() {
    let output = Command::new("sh")
        .args(["-c", "echo $GREETING; pwd; echo err >&2; ps -o pgid= -p $$"])
        .env("GREETING", "hi")
        .current_dir("/")
        .process_group(0)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(&lines[..2], ["hi", "/"]);
    // Its own group: the group id is not ours.
    // SAFETY: getpgrp has no preconditions.
    let ours = unsafe { libc::getpgrp() };
    assert_ne!(lines[2].trim().parse::<i32>().unwrap(), ours);
    assert_eq!(output.stderr, b"err\n");

    let status = Command::new("sh")
        .args(["-c", "test -z \"$HOME\""])
        .env_clear()
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let status = Command::new("sh")
        .args(["-c", "test -z \"$GREETING\""])
        .env("GREETING", "x")
        .env_remove("GREETING")
        .stdout(Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

pub async fn a_missing_program_is_not_found_by_name() {
    let error = Command::new("tether-no-such-program").spawn().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    assert!(
        error.to_string().contains("`tether-no-such-program`"),
        "{error}"
    );
    let error = run(&mut Command::new("tether-no-such-program"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, tether::process::RunError::Io { source, .. }
        if source.kind() == std::io::ErrorKind::NotFound)
    );
    assert!(
        error.to_string().contains("tether-no-such-program"),
        "{error}"
    );
}

pub async fn a_child_that_closes_stdin_gives_broken_pipe() {
    let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    child.wait().await.unwrap();
    let error = stdin.write_all(&[0; 256 * 1024]).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);

    // `output` does not count it as an error (asyncio's `communicate` neither).
    let child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let output = child.output(&[0; 256 * 1024]).await.unwrap();
    assert!(output.status.success());
}

pub async fn dropping_a_child_kills_and_reaps_it() {
    let child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id();
    assert!(is_running_or_zombie(pid));
    drop(child);
    reaped(pid).await;

    // With its pipes open, too.
    let child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    drop(child);
    reaped(pid).await;
}

pub async fn a_child_dropped_in_another_task_is_reaped() {
    // On workers, a `Send` task may run (and drop the child) on another worker.
    let mut pids = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        pids.push(child.id());
        tasks.push(tether::spawn(async move {
            tether::yield_now().await;
            drop(child);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for pid in pids {
        reaped(pid).await;
    }
}

/// A `Send` task that starts [`term_trapping_shell`] and awaits its output, and the shell's pid
/// once its trap is set.
async fn awaiting_a_trapping_shell() -> (tether::Task<std::process::Output>, u32) {
    let (tx, rx) = futures::channel::oneshot::channel();
    let task = tether::spawn(async move {
        let mut child = term_trapping_shell().spawn().unwrap();
        until_ready(&mut child).await;
        tx.send(child.id()).unwrap();
        child.output(&[]).await.unwrap()
    });
    (task, rx.await.unwrap())
}

pub async fn a_graceful_cancel_is_passed_on_as_sigterm() {
    let (task, pid) = awaiting_a_trapping_shell().await;
    let output = task.cancel_gracefully(DEADLINE).await.unwrap();
    assert_eq!(output.stdout, b"got TERM\n");
    assert!(output.status.success());
    assert!(!is_running_or_zombie(pid));

    // `wait` passes it on too.
    let (tx, rx) = futures::channel::oneshot::channel();
    let task = tether::spawn(async move {
        let mut child = Command::new("sh")
            .args([
                "-c",
                "trap 'kill $!; exit 0' TERM; sleep 10 >/dev/null 2>&1 & wait",
            ])
            .spawn()
            .unwrap();
        // Without stdout, see that the trap is set by the shell's child (its `sleep`, started
        // after the trap).
        let pid = child.id();
        let start = Instant::now();
        while !has_children(pid) {
            assert!(start.elapsed() < DEADLINE);
            tether::sleep(Duration::from_millis(1)).await;
        }
        tx.send(()).unwrap();
        child.wait().await.unwrap()
    });
    rx.await.unwrap();
    let status = task.cancel_gracefully(DEADLINE).await.unwrap();
    assert_eq!(status.code(), Some(0));
}

/// Whether process `pid` has a child (read from `/proc`).
fn has_children(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .is_ok_and(|children| !children.trim().is_empty())
}

pub async fn a_group_shutdown_is_passed_on_as_sigterm() {
    let start = Instant::now();
    let said = tether::task_group!(|tg| {
        let (tx, rx) = futures::channel::oneshot::channel();
        let worker = tg.create_task(async move {
            let mut child = term_trapping_shell().spawn().unwrap();
            until_ready(&mut child).await;
            tx.send(()).unwrap();
            child.output(&[]).await.unwrap().stdout
        });
        rx.await.unwrap();
        tg.shutdown_gracefully(DEADLINE).await;
        worker.await.unwrap()
    });
    assert_eq!(said.unwrap(), b"got TERM\n");
    // The child ended on the request, long before the grace ran out.
    assert!(start.elapsed() < DEADLINE / 2);
}

pub async fn a_plain_cancel_kills_the_child() {
    let (task, pid) = awaiting_a_trapping_shell().await;
    task.cancel();
    assert!(task.await.unwrap_err().is_cancelled());
    reaped(pid).await;
}

pub async fn terminate_gracefully_escalates_to_sigkill() {
    let mut child = Command::new("sh")
        .args([
            "-c",
            "sleep 10 >/dev/null 2>&1 & trap '' TERM; echo ready; wait",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    until_ready(&mut child).await;
    let start = Instant::now();
    let status = child
        .terminate_gracefully(Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert!(start.elapsed() >= Duration::from_millis(100));

    let mut child = term_trapping_shell().spawn().unwrap();
    until_ready(&mut child).await;
    let status = child.terminate_gracefully(DEADLINE).await.unwrap();
    assert_eq!(status.code(), Some(0));
    // Already gone: the status again.
    assert_eq!(
        child.terminate_gracefully(DEADLINE).await.unwrap().code(),
        Some(0)
    );
}

pub async fn run_checks_and_captures() {
    let output = run(Command::new("echo").arg("hi")).await.unwrap();
    assert_eq!(output.stdout, b"hi\n");
    let output = run(Command::new("tr").args(["a-z", "A-Z"]))
        .input("loud")
        .await
        .unwrap();
    assert_eq!(output.stdout, b"LOUD");

    let long_stderr = "for i in $(seq 1 400); do echo line $i >&2; done; exit 7";
    let error = run(Command::new("sh").args(["-c", long_stderr]))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert_eq!(error.status().unwrap().code(), Some(7));
    assert!(
        message.starts_with("`sh` failed: exit status: 7"),
        "{message}"
    );
    // The tail of stderr, not all of it.
    assert!(
        message.contains("line 400") && !message.contains("line 1\n"),
        "{message}"
    );
    assert_eq!(
        error.output().unwrap().stderr.len(),
        output_len_of_lines(400)
    );

    let error = run(Command::new("sh").args(["-c", "kill -9 $$"]))
        .await
        .unwrap_err();
    assert_eq!(error.status().unwrap().signal(), Some(libc::SIGKILL));
    assert!(error.to_string().contains("signal: 9"), "{error}");

    let output = run(&mut Command::new("false")).check(false).await.unwrap();
    assert_eq!(output.status.code(), Some(1));
}

/// The length of `line 1\n` ... `line n\n`.
fn output_len_of_lines(n: usize) -> usize {
    (1..=n).map(|i| format!("line {i}\n").len()).sum()
}

pub async fn pipes_stream_through_futures_io() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    for round in 0..20u8 {
        let message = [round; 100];
        stdin.write_all(&message).await.unwrap();
        let mut back = [0; 100];
        stdout.read_exact(&mut back).await.unwrap();
        assert_eq!(back, message);
    }
    drop(stdin);
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    assert!(child.wait().await.unwrap().success());
}
