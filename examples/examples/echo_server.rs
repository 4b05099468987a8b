//! A TCP echo server: one tether task per connection, owned by a `TaskSet` with a limit of
//! `--max-conns` connections served at once, on `tether::net` sockets, and a graceful shutdown.
//!
//! ```text
//! cargo run --release --example echo_server -- [PORT] [--max-conns N] [--idle-timeout SECS]
//!     [--workers N] [--timeout SECS] [--grace SECS]
//! ```
//!
//! The server is a child of a task group, started with `tg.start` (trio's `nursery.start`): it
//! binds 127.0.0.1 (port 0, the default, picks a free one) and reports the address it got with
//! `ready.started(addr)`, then serves. The group's body prints the address only then, so the
//! line means the socket is listening; a bind that fails ends the program with that error.
//!
//! On Ctrl-C (SIGINT) or SIGTERM, or after `--timeout` seconds, the body asks the server to
//! stop (`tg.request_cancellation()`): it closes its listener at once, every connection waiting
//! for its client's next message closes at once, one in the middle of an echo finishes it
//! first, and one still busy after `--grace` seconds (default 2) is cancelled. Then it prints
//! what it did.
//!
//! Hardened against slow and idle clients (see `echo.rs`): a connection that waits
//! `--idle-timeout` seconds (default 60) for its client's next message is closed, and when
//! `--max-conns` connections are open a new client takes the slot of the one idle longest;
//! only while every connection is busy echoing do further clients wait in the kernel's backlog.
//! A connection that panics ends alone. The server raises its soft limit on open files to the
//! hard limit at start, so that `--max-conns` in the thousands works.
//!
//! `--workers N` runs the connections on a runtime of `N` worker threads instead of one loop.
//!
//! Signals are futures on the loop (`tether::signal`): no thread waits for them.
//!
//! Try it with `nc 127.0.0.1 PORT`, or measure it with the `echo_load` example.

// `serve`, the short form without options, is the tests'.
#[allow(dead_code)]
#[path = "../echo.rs"]
mod echo;
#[path = "../fd_limit.rs"]
mod fd_limit;

use std::cell::Cell;
use std::io::{self, Write};
use std::time::Duration;

use futures::FutureExt;
use tether::net::TcpListener;
use tether::signal::unix::signal;
use tether::task::Builder;

/// The command line.
struct Args {
    port: u16,
    max_conns: usize,
    idle_timeout: Duration,
    workers: usize,
    timeout: Option<Duration>,
    grace: Duration,
}

const USAGE: &str = "usage: echo_server [PORT] [--max-conns N] [--idle-timeout SECS] \
                     [--workers N] [--timeout SECS] [--grace SECS]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        max_conns: 1024,
        idle_timeout: echo::IDLE_TIMEOUT,
        workers: 0,
        timeout: None,
        grace: Duration::from_secs(2),
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = |name: &str| {
            words
                .next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match word.as_str() {
            "--max-conns" => args.max_conns = number(&value("--max-conns")?)?,
            "--idle-timeout" => args.idle_timeout = seconds(&value("--idle-timeout")?)?,
            "--workers" => args.workers = number(&value("--workers")?)?,
            "--timeout" => args.timeout = Some(seconds(&value("--timeout")?)?),
            "--grace" => args.grace = seconds(&value("--grace")?)?,
            "-h" | "--help" => return Err(USAGE.to_string()),
            port => args.port = number(port)?,
        }
    }
    if args.max_conns == 0 {
        return Err(format!("--max-conns must be at least 1\n{USAGE}"));
    }
    Ok(args)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a valid number here\n{USAGE}"))
}

fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = number(text)?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is not a duration\n{USAGE}"))
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if let Err(err) = fd_limit::raise_fd_limit() {
        eprintln!("echo_server: could not raise the limit on open files: {err}");
    }
    let runtime = match args.workers {
        0 => tether::Runtime::builder().build(),
        workers => tether::Runtime::builder().workers(workers).build(),
    };
    if let Err(err) = runtime.run(run(&args)) {
        eprintln!("echo_server: {err}");
        std::process::exit(1);
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    // Registered before the server starts: a Ctrl-C or SIGTERM from then on shuts down.
    let mut interrupt = signal(libc::SIGINT)?;
    let mut terminate = signal(libc::SIGTERM)?;
    let signalled = async {
        tether::select! {
            _ = interrupt.recv().fuse() => {}
            _ = terminate.recv().fuse() => {}
        }
    };

    // Written by the server task when it is done: a scoped child may borrow it.
    let report = Cell::new(None);
    tether::task_group!(try |tg| {
        let serving = tg.start_with(Builder::new().name("echo server"), |ready| {
            let report = &report;
            async move {
                let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
                ready.started(listener.local_addr()?);
                // Stops when the body asks the group's children to.
                let stop = tether::cancellation_requested();
                let options = echo::Options {
                    limit: args.max_conns,
                    grace: args.grace,
                    idle_timeout: args.idle_timeout,
                    inspect: |_| {},
                };
                report.set(Some(echo::serve_with(listener, options, stop).await?));
                Ok::<(), io::Error>(())
            }
        });
        // A server that fails before it is ready fails the group, which cancels this body and
        // reports the server's error: `start` gives back an address or does not return.
        let Ok(addr) = serving.await else { return };
        println!(
            "echo server listening on {addr} (at most {} connections at once)",
            args.max_conns
        );
        let _ = io::stdout().flush();
        match args.timeout {
            Some(limit) => drop(tether::timeout(limit, signalled).await),
            None => signalled.await,
        }
        tg.request_cancellation();
    })?;
    let report = report.get().expect("the server reports when it ends");
    println!(
        "shut down: {} connections accepted, {} finished, {} shed, {} cancelled",
        report.accepted, report.finished, report.shed, report.cancelled
    );
    Ok(())
}
