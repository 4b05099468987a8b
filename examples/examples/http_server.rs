//! An HTTP/1.1 server: hyper on tether's own loop (the `hyper` feature), every connection a
//! task owned by a `TaskSet`, and a graceful shutdown on Ctrl-C or SIGTERM.
//!
//! ```text
//! cargo run --release --example http_server -- [PORT] [--timeout SECS]
//! ```
//!
//! It listens on 127.0.0.1 (port 0, the default, picks a free one), prints the address, and
//! answers every request with "Hello, world!". On Ctrl-C (or after `--timeout` seconds) it
//! stops accepting, asks every open connection to finish its request in flight and close
//! (hyper's `graceful_shutdown`), waits up to two seconds for them, cancels the rest, and
//! prints what it did. Try it with `curl http://127.0.0.1:PORT/` or the `http_client` example.

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
use tether::sync::Event;

const USAGE: &str = "usage: http_server [PORT] [--timeout SECS]";

/// How long open connections get to finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(2);

async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!",
    ))))
}

/// Serves one connection until the client closes it or `stop` is set; then finishes the
/// request in flight and closes.
async fn connection(stream: TcpStream, stop: Rc<Event>) -> Result<(), hyper::Error> {
    stream.set_nodelay(true).ok();
    let mut conn = pin!(
        hyper::server::conn::http1::Builder::new()
            .timer(tether::hyper::Timer)
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(stream, hyper::service::service_fn(hello))
    );
    tether::select! {
        served = conn.as_mut().fuse() => return served,
        () = stop.wait().fuse() => {}
    }
    conn.as_mut().graceful_shutdown();
    conn.await
}

fn parse_args() -> Result<(u16, Option<Duration>), String> {
    let (mut port, mut timeout) = (0, None);
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
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => port = other.parse().map_err(|_| format!("bad port\n{USAGE}"))?,
        }
    }
    Ok((port, timeout))
}

#[tether::main]
async fn main() -> io::Result<()> {
    let (port, timeout) = parse_args().unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2);
    });
    let mut interrupt = signal(libc::SIGINT)?;
    let mut terminate = signal(libc::SIGTERM)?;
    let mut shutdown = pin!(
        async {
            let signals = async {
                tether::select! {
                    _ = interrupt.recv().fuse() => {}
                    _ = terminate.recv().fuse() => {}
                }
            };
            match timeout {
                Some(limit) => drop(tether::timeout(limit, signals).await),
                None => signals.await,
            }
        }
        .fuse()
    );

    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "http server listening on http://{}/",
        listener.local_addr()?
    );
    io::stdout().flush()?;

    let stop = Rc::new(Event::new());
    let finished = Rc::new(Cell::new(0usize));
    let mut connections = tether::TaskSet::background();
    let mut accepted = 0usize;
    loop {
        tether::select_biased! {
            () = shutdown => break,
            next = listener.accept().fuse() => {
                let Ok((stream, _peer)) = next else { continue };
                accepted += 1;
                let (stop, finished) = (stop.clone(), finished.clone());
                connections.create_task(async move {
                    let _ = connection(stream, stop).await;
                    finished.set(finished.get() + 1);
                });
            }
        }
    }
    drop(listener);
    stop.set();
    if tether::timeout(GRACE, connections.join_next())
        .await
        .is_err()
    {
        connections.shutdown().await;
    }
    println!(
        "shut down: {accepted} connections accepted, {} closed gracefully, {} cancelled",
        finished.get(),
        accepted - finished.get()
    );
    Ok(())
}
