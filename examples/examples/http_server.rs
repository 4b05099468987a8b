//! An HTTP/1.1 server: hyper on tether's own loop (the `hyper` feature), every connection a
//! task owned by a `TaskSet` with a limit, started with `tg.start`, and a graceful shutdown on
//! Ctrl-C or SIGTERM.
//!
//! ```text
//! cargo run --release --example http_server -- [PORT] [--max-conns N] [--idle-timeout SECS]
//!     [--timeout SECS]
//! ```
//!
//! The server is a child of a task group, started with `tg.start` (trio's `nursery.start`): it
//! binds 127.0.0.1 (port 0, the default, picks a free one), reports the address with
//! `ready.started(addr)`, and serves; the body prints the address once the socket listens. At
//! most `--max-conns` connections (default 1024) are served at once: the accept loop waits for
//! a free slot (`create_task_when_free`) before it accepts the next client. Every request gets
//! "Hello, world!".
//!
//! Hardened against slow and idle clients, as a production server must be:
//! - a request's headers must arrive within 10 s of their first byte (hyper's
//!   `header_read_timeout`, on tether's timer);
//! - every connection is a member of a `tether::sync::IdleQueue`: idle unless its request
//!   handler runs. A connection idle for `--idle-timeout` seconds (default 60; between requests,
//!   or stuck in a request's headers) is closed, by one timer for all of them
//!   (`IdleQueue::sweep`);
//! - when `--max-conns` connections are open, a new client takes the slot of the connection idle
//!   longest (`IdleQueue::shed_oldest`): a crowd holding connections with unfinished headers
//!   (slowloris) or saying nothing cannot lock out a well-behaved client. Only when every
//!   connection is in the middle of a request does a new client wait for a slot.
//!
//! The server raises its soft limit on open files to the hard limit at start.
//!
//! On Ctrl-C (or after `--timeout` seconds) the body asks the server to stop
//! (`tg.request_cancellation()`): it stops accepting, and every connection, watching
//! `tether::cancellation_requested()`, calls hyper's `graceful_shutdown`: it finishes the
//! request in flight and closes. Connections still open after two seconds are cancelled
//! (`TaskSet::shutdown_gracefully`), and the server prints what it did. Try it with
//! `curl http://127.0.0.1:PORT/` or the `http_client` example.

use std::cell::Cell;
use std::convert::Infallible;
use std::io::{self, Write};
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tether::net::{TcpListener, TcpStream};
use tether::signal::unix::signal;
use tether::sync::{IdleMember, IdleQueue};
use tether::task::Builder;

#[path = "../fd_limit.rs"]
mod fd_limit;

const USAGE: &str =
    "usage: http_server [PORT] [--max-conns N] [--idle-timeout SECS] [--timeout SECS]";

/// How long open connections get to finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(2);

/// How long a request's headers may take to arrive, from their first byte.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!",
    ))))
}

/// Serves one connection until the client closes it, it is shed while idle (closed at once),
/// or the server is asked to stop (then it finishes the request in flight and closes).
async fn connection(stream: TcpStream, member: IdleMember) -> Result<(), hyper::Error> {
    stream.set_nodelay(true).ok();
    // Busy while the handler runs: a request being answered is never shed.
    let service = hyper::service::service_fn(|request| {
        let busy = member.busy();
        async move {
            let response = hello(request).await;
            drop(busy);
            response
        }
    });
    let mut conn = pin!(
        hyper::server::conn::http1::Builder::new()
            .timer(tether::hyper::Timer)
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(stream, service)
    );
    tether::select_biased! {
        () = member.shed().fuse() => return Ok(()), // dropping `conn` closes the socket
        served = conn.as_mut().fuse() => return served,
        () = tether::cancellation_requested().fuse() => {}
    }
    conn.as_mut().graceful_shutdown();
    conn.await
}

/// What the server did: connections accepted, closed on their own, cancelled at the deadline.
#[derive(Clone, Copy)]
struct Report {
    accepted: usize,
    closed: usize,
    cancelled: usize,
}

/// Accepts and serves connections, at most `max_conns` at once, until the task is asked to
/// stop; then shuts the connections down gracefully.
async fn serve(listener: TcpListener, max_conns: usize, idle_timeout: Duration) -> Report {
    let mut stop = pin!(tether::cancellation_requested().fuse());
    let closed = Rc::new(Cell::new(0usize));
    let mut connections = tether::TaskSet::background().with_limit(max_conns);
    let idle = IdleQueue::new();
    let (mut accepted, mut unserved) = (0, 0);
    let accepting = async {
        loop {
            let stream = tether::select_biased! {
                () = stop => break,
                next = listener.accept().fuse() => match next {
                    Ok((stream, _peer)) => stream,
                    // The client gave up before we took it: nothing to do.
                    Err(err) if is_per_connection(&err) => continue,
                    // Out of file descriptors (or another error of the listener, which would
                    // come back at once): retrying at once would spin and starve every
                    // connection. Free a descriptor by shedding the connection idle longest,
                    // and give connections a moment to close.
                    Err(_) => {
                        idle.shed_oldest();
                        tether::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            accepted += 1;
            // Every slot taken: the connection idle longest makes room for this client.
            if connections.len() >= max_conns {
                idle.shed_oldest();
            }
            let (closed, member) = (closed.clone(), idle.member());
            let served = async move {
                let _ = connection(stream, member).await;
                closed.set(closed.get() + 1);
            };
            // Back-pressure: the next client is accepted once this one has a slot.
            tether::select_biased! {
                () = stop => {
                    unserved += 1;
                    break;
                }
                _ = connections.create_task_when_free(served).fuse() => {}
            }
        }
    };
    // Every connection's idle timeout, on one timer, while the server accepts.
    tether::select! {
        () = accepting.fuse() => {}
        never = idle.sweep(idle_timeout).fuse() => match never {},
    }
    drop(listener);
    let cancelled = connections.shutdown_gracefully(GRACE).await + unserved;
    Report {
        accepted,
        closed: closed.get(),
        cancelled,
    }
}

/// The command line.
struct Args {
    port: u16,
    max_conns: usize,
    idle_timeout: Duration,
    timeout: Option<Duration>,
}

fn seconds(text: Option<String>, name: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .ok_or(USAGE)?
        .parse()
        .map_err(|_| format!("bad {name}\n{USAGE}"))?;
    Duration::try_from_secs_f64(secs).map_err(|e| format!("bad {name}: {e}\n{USAGE}"))
}

/// `accept` errors that concern one connection only: keep serving at once.
fn is_per_connection(err: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

fn parse_args() -> Result<Args, String> {
    let (mut port, mut max_conns, mut timeout) = (0, 1024, None);
    let mut idle_timeout = Duration::from_secs(60);
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--idle-timeout" => idle_timeout = seconds(words.next(), "--idle-timeout")?,
            "--timeout" => timeout = Some(seconds(words.next(), "--timeout")?),
            "--max-conns" => {
                let n = words.next().ok_or(USAGE)?;
                max_conns = match n.parse() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--max-conns needs a number of at least 1\n{USAGE}")),
                };
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => port = other.parse().map_err(|_| format!("bad port\n{USAGE}"))?,
        }
    }
    Ok(Args {
        port,
        max_conns,
        idle_timeout,
        timeout,
    })
}

#[tether::main]
async fn main() {
    let args = parse_args().unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2);
    });
    if let Err(err) = fd_limit::raise_fd_limit() {
        eprintln!("http_server: could not raise the limit on open files: {err}");
    }
    if let Err(err) = run(args).await {
        eprintln!("http_server: {err}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        port,
        max_conns,
        idle_timeout,
        timeout,
    } = args;
    let mut interrupt = signal(libc::SIGINT)?;
    let mut terminate = signal(libc::SIGTERM)?;
    let signalled = async {
        tether::select! {
            _ = interrupt.recv().fuse() => {}
            _ = terminate.recv().fuse() => {}
        }
    };

    let report = Cell::new(None);
    tether::task_group!(try |tg| {
        let serving = tg.start_with(Builder::new().name("http server"), |ready| {
            let report = &report;
            async move {
                let listener = TcpListener::bind(("127.0.0.1", port)).await?;
                ready.started(listener.local_addr()?);
                report.set(Some(serve(listener, max_conns, idle_timeout).await));
                Ok::<(), io::Error>(())
            }
        });
        // A bind that fails fails the group, which cancels this body and reports the error.
        let Ok(addr) = serving.await else { return };
        println!("http server listening on http://{addr}/");
        let _ = io::stdout().flush();
        match timeout {
            Some(limit) => drop(tether::timeout(limit, signalled).await),
            None => signalled.await,
        }
        tg.request_cancellation();
    })?;
    let report = report.get().expect("the server reports when it ends");
    println!(
        "shut down: {} connections accepted, {} closed gracefully, {} cancelled",
        report.accepted, report.closed, report.cancelled
    );
    Ok(())
}
