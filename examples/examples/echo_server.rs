//! A TCP echo server: one tether task per connection, owned by a `TaskSet`, at most
//! `--max-conns` served at once (a `tether::sync::Semaphore`), on `tether::net` sockets.
//!
//! ```text
//! cargo run --release --example echo_server -- [PORT] [--max-conns N] [--timeout SECS] [--grace SECS]
//! ```
//!
//! It listens on 127.0.0.1 (port 0, the default, picks a free one) and prints the address.
//! It shuts down gracefully on Ctrl-C (SIGINT) or SIGTERM, or after `--timeout` seconds: it
//! stops accepting, lets open connections finish for `--grace` seconds (default 2), cancels
//! the rest, and prints what it did.
//!
//! Signals are futures on the loop (`tether::signal`): no thread waits for them.
//!
//! Try it with `nc 127.0.0.1 PORT`, or measure it with the `echo_load` example.

#[path = "../echo.rs"]
mod echo;

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tether::net::TcpListener;
use tether::signal::unix::signal;
use tether::sync::Semaphore;

/// The command line.
struct Args {
    port: u16,
    max_conns: usize,
    timeout: Option<Duration>,
    grace: Duration,
}

const USAGE: &str = "usage: echo_server [PORT] [--max-conns N] [--timeout SECS] [--grace SECS]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        max_conns: 1024,
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

#[tether::main]
async fn main() -> io::Result<()> {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };

    // Listening from now on: a Ctrl-C or SIGTERM from here shuts down gracefully.
    let mut interrupt = signal(libc::SIGINT)?;
    let mut terminate = signal(libc::SIGTERM)?;
    let stop = async {
        tether::select! {
            _ = interrupt.recv().fuse() => {}
            _ = terminate.recv().fuse() => {}
        }
    };

    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!(
        "echo server listening on {} (at most {} connections at once)",
        listener.local_addr()?,
        args.max_conns
    );
    io::stdout().flush()?;

    let shutdown = async {
        match args.timeout {
            Some(limit) => {
                let _ = tether::timeout(limit, stop).await;
            }
            None => stop.await,
        }
    };
    let limit = Arc::new(Semaphore::new(args.max_conns));
    let report = echo::serve(listener, limit, args.grace, shutdown).await?;
    println!(
        "shut down: {} connections accepted, {} finished, {} cancelled after the grace period",
        report.accepted, report.finished, report.cancelled
    );
    Ok(())
}
