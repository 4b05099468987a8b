//! An HTTP/1.1 server: hyper on tether's own loop (the `hyper` feature), every connection a
//! task owned by a `TaskSet` with a limit, started with `tg.start`, and a graceful shutdown on
//! Ctrl-C or SIGTERM.
//!
//! ```text
//! cargo run --release --example http_server -- [PORT] [--max-conns N] [--timeout SECS]
//! ```
//!
//! The server is a child of a task group, started with `tg.start` (trio's `nursery.start`): it
//! binds 127.0.0.1 (port 0, the default, picks a free one), reports the address with
//! `ready.started(addr)`, and serves; the body prints the address once the socket listens. At
//! most `--max-conns` connections (default 1024) are served at once: the accept loop waits for
//! a free slot (`create_task_when_free`) before it accepts the next client. Every request gets
//! "Hello, world!".
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
use tether::task::Builder;

const USAGE: &str = "usage: http_server [PORT] [--max-conns N] [--timeout SECS]";

/// How long open connections get to finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(2);

async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!",
    ))))
}

/// Serves one connection until the client closes it or the server is asked to stop; then
/// finishes the request in flight and closes.
async fn connection(stream: TcpStream) -> Result<(), hyper::Error> {
    stream.set_nodelay(true).ok();
    let mut conn = pin!(
        hyper::server::conn::http1::Builder::new()
            .timer(tether::hyper::Timer)
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(stream, hyper::service::service_fn(hello))
    );
    tether::select! {
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
async fn serve(listener: TcpListener, max_conns: usize) -> Report {
    let mut stop = pin!(tether::cancellation_requested().fuse());
    let closed = Rc::new(Cell::new(0usize));
    let mut connections = tether::TaskSet::background().with_limit(max_conns);
    let (mut accepted, mut unserved) = (0, 0);
    loop {
        let stream = tether::select_biased! {
            () = stop => break,
            next = listener.accept().fuse() => match next {
                Ok((stream, _peer)) => stream,
                Err(_) => continue,
            },
        };
        accepted += 1;
        let closed = closed.clone();
        let served = async move {
            let _ = connection(stream).await;
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
    drop(listener);
    let cancelled = connections.shutdown_gracefully(GRACE).await + unserved;
    Report {
        accepted,
        closed: closed.get(),
        cancelled,
    }
}

fn parse_args() -> Result<(u16, usize, Option<Duration>), String> {
    let (mut port, mut max_conns, mut timeout) = (0, 1024, None);
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--timeout" => {
                let secs = words.next().ok_or(USAGE)?;
                let secs: f64 = secs
                    .parse()
                    .map_err(|_| format!("bad --timeout\n{USAGE}"))?;
                timeout = Some(Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())?);
            }
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
    Ok((port, max_conns, timeout))
}

#[tether::main]
async fn main() {
    let (port, max_conns, timeout) = parse_args().unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2);
    });
    if let Err(err) = run(port, max_conns, timeout).await {
        eprintln!("http_server: {err}");
        std::process::exit(1);
    }
}

async fn run(
    port: u16,
    max_conns: usize,
    timeout: Option<Duration>,
) -> Result<(), Box<dyn std::error::Error>> {
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
                report.set(Some(serve(listener, max_conns).await));
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
