//! A load client for echo servers: opens `--conns` connections to ADDR and sends `--msgs`
//! messages of `--size` bytes on each, one at a time (send, read the echo back, repeat), then
//! prints the messages per second over all connections.
//!
//! ```text
//! cargo run --release --example echo_load -- 127.0.0.1:PORT [--conns 50] [--msgs 2000] [--size 64] [--threads 1]
//! ```
//!
//! The connections are tether tasks in a task group, on `tether::net` sockets. With `--threads T`
//! the connections are split over T threads, each running its own tether loop. The run is
//! bounded: it sends exactly conns × msgs messages and gives up after 120 seconds.
//!
//! It measures any echo server that sends back what it gets: the `echo_server` example, or
//! `examples/python/echo_server.py` (asyncio), to compare the two on the same machine.

use std::net::SocketAddr;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use tether::net::TcpStream;

const USAGE: &str = "usage: echo_load ADDR [--conns N] [--msgs M] [--size BYTES] [--threads T]";

/// The most a run may take.
const LIMIT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy)]
struct Args {
    addr: SocketAddr,
    conns: usize,
    msgs: usize,
    size: usize,
    threads: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut addr = None;
    let (mut conns, mut msgs, mut size, mut threads) = (50, 2000, 64, 1);
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = |name: &str| -> Result<usize, String> {
            let text = words
                .next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?;
            match text.parse() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "{name}: `{text}` is not a positive number\n{USAGE}"
                )),
            }
        };
        match word.as_str() {
            "--conns" => conns = value("--conns")?,
            "--msgs" => msgs = value("--msgs")?,
            "--size" => size = value("--size")?,
            "--threads" => threads = value("--threads")?,
            other => {
                addr = Some(other.parse().map_err(|_| {
                    format!("`{other}` is not an address like 127.0.0.1:7000\n{USAGE}")
                })?)
            }
        }
    }
    let addr = addr.ok_or_else(|| USAGE.to_string())?;
    Ok(Args {
        addr,
        conns,
        msgs,
        size,
        threads: threads.min(conns),
    })
}

/// One connection's work: `msgs` round trips of `size` bytes.
async fn client(addr: SocketAddr, msgs: usize, size: usize) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let message = vec![b'x'; size];
    let mut echoed = vec![0; size];
    for _ in 0..msgs {
        stream.write_all(&message).await?;
        stream.read_exact(&mut echoed).await?;
    }
    Ok(())
}

/// Runs `conns` clients on this thread's own loop.
fn run_loop(args: Args, conns: usize) -> Result<(), String> {
    tether::run(async {
        let work = async {
            tether::task_group!(try |tg| {
                for _ in 0..conns {
                    tg.create_task(client(args.addr, args.msgs, args.size));
                }
            })
        };
        match tether::timeout(LIMIT, work).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failed)) => Err(format!("a connection failed: {failed}")),
            Err(_) => Err(format!("gave up after {LIMIT:?}")),
        }
    })
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let start = std::time::Instant::now();
    let threads: Vec<_> = (0..args.threads)
        .map(|t| {
            // Spread the connections as evenly as the division allows.
            let conns = args.conns / args.threads + usize::from(t < args.conns % args.threads);
            std::thread::spawn(move || run_loop(args, conns))
        })
        .collect();
    for thread in threads {
        if let Err(message) = thread.join().expect("a load thread panicked") {
            eprintln!("echo_load: {message}");
            std::process::exit(1);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = args.conns * args.msgs;
    println!(
        "{} connections x {} messages of {} bytes: {total} round trips in {elapsed:.2} s = {:.0} messages/s",
        args.conns,
        args.msgs,
        args.size,
        total as f64 / elapsed
    );
}
