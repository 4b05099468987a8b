//! A process supervisor: N worker processes, each a child of a supervising task group; a
//! worker that fails is restarted, and Ctrl-C stops them all gracefully.
//!
//! ```text
//! cargo run --example supervisor -- [N]     # N workers, 3 by default; Ctrl-C to stop
//! ```
//!
//! Each worker is a shell script that does a job every 100 ms and, on SIGTERM, says how many
//! it did and exits 0. Worker 1 fails on its first start (exit status 1, with a message on its
//! stderr), to show a restart. Each is owned by one task of the group (`tether::process::Child`
//! owns its process as a `Task` owns its task: no worker can outlive the supervisor).
//!
//! On Ctrl-C (`tether::signal::ctrl_c`), the group is shut down gracefully
//! (`tg.shutdown_gracefully(grace)`): each task awaiting its worker passes the request on as
//! SIGTERM, the workers finish their current job and report, and any still running when the
//! grace is over would be killed. The workers run in their own process group, so a Ctrl-C at
//! the terminal reaches the supervisor alone, and the supervisor decides what they get.

use std::cell::Cell;
use std::io;
use std::time::Duration;

use futures::io::AsyncReadExt;
use tether::process::{ChildStdout, Command, Stdio};
use tether::sync::Event;

/// A worker: a job every 100 ms until SIGTERM, then a report on stdout. With `FAIL=1` it
/// fails at once instead, as a worker whose start-up check fails would.
const WORKER: &str = r#"
if [ "$FAIL" = 1 ]; then echo "cannot open its work queue" >&2; exit 1; fi
jobs=0
trap 'echo "stopped after $jobs jobs"; exit 0' TERM
echo ready
while :; do sleep 0.1 >/dev/null 2>&1 & wait $!; jobs=$((jobs + 1)); done
"#;

/// How long the workers get to stop after Ctrl-C before they are killed.
const GRACE: Duration = Duration::from_secs(5);

#[tether::main]
async fn main() -> io::Result<()> {
    let workers: usize = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .map_err(|_| io::Error::other("usage: supervisor [N]"))?,
        None => 3,
    };
    println!("supervisor: starting {workers} workers (Ctrl-C stops them)");
    // Its first poll installs the handler: from here on, a Ctrl-C is ours to handle.
    let mut ctrl_c = std::pin::pin!(tether::signal::ctrl_c());
    assert!(futures::poll!(ctrl_c.as_mut()).is_pending());
    let running = Cell::new(0);
    let all_running = Event::new();
    let reports = tether::task_group!(|tg| {
        let tasks: Vec<_> = (0..workers)
            .map(|id| tg.create_task(supervise(id, workers, &running, &all_running)))
            .collect();
        all_running.wait().await;
        println!("supervisor: all {workers} workers running");
        ctrl_c.as_mut().await?;
        println!("supervisor: Ctrl-C, stopping the workers (grace {GRACE:?})");
        tg.shutdown_gracefully(GRACE).await;
        let mut reports = Vec::new();
        for task in tasks {
            reports.push(
                task.await
                    .unwrap_or_else(|error| Err(io::Error::other(error))),
            );
        }
        Ok::<_, io::Error>(reports)
    })
    .map_err(io::Error::other)??;
    let stopped = reports.iter().filter(|report| report.is_ok()).count();
    println!("supervisor: {stopped} of {workers} workers stopped cleanly");
    Ok(())
}

/// Runs worker `id`, restarting it whenever it fails, until asked to stop; returns how it
/// ended.
async fn supervise(
    id: usize,
    workers: usize,
    running: &Cell<usize>,
    all_running: &Event,
) -> io::Result<String> {
    let mut starts = 0;
    loop {
        starts += 1;
        let mut child = Command::new("sh")
            .args(["-c", WORKER])
            .env("FAIL", if id == 1 && starts == 1 { "1" } else { "0" })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let pid = child.id();
        let started = first_line(child.stdout.as_mut().expect("piped")).await? == "ready";
        if started {
            println!("worker {id}: running as pid {pid}");
            running.set(running.get() + 1);
            if running.get() == workers {
                all_running.set();
            }
        }
        // Awaiting the child is what passes a graceful shutdown on to it as SIGTERM.
        let output = child.output(&[]).await?;
        let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if output.status.success() {
            println!("worker {id}: {said} ({})", output.status);
            return Ok(said);
        }
        let why = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        println!("worker {id}: failed: {why} ({}); restarting", output.status);
        if started {
            running.set(running.get() - 1);
        }
        if tether::is_cancellation_requested() {
            return Err(io::Error::other(format!(
                "worker {id} failed while stopping"
            )));
        }
    }
}

/// Reads one line, a byte at a time, so that nothing after it is taken from the pipe (the
/// rest is for `output`). Empty if the worker closed its stdout first.
async fn first_line(stdout: &mut ChildStdout) -> io::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0];
    while stdout.read(&mut byte).await? == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}
