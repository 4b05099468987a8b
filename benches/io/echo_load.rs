//! The echo load generator of `benches/io/run.sh`: `io_echo_load ADDR CONNS MSGS SIZE`.
//!
//! CONNS connections, each sending MSGS messages of SIZE bytes one at a time (send, read the
//! echo back, repeat), on one thread (tokio current_thread, the same client for every server).
//! Prints the messages per second over all connections. Bounded: exactly CONNS x MSGS round
//! trips, and a 120 s limit.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, conns, msgs, size] = &args[..] else {
        eprintln!("usage: io_echo_load ADDR CONNS MSGS SIZE");
        std::process::exit(2);
    };
    let addr: std::net::SocketAddr = addr.parse().expect("ADDR is ip:port");
    let (conns, msgs, size): (usize, usize, usize) = (
        conns.parse().unwrap(),
        msgs.parse().unwrap(),
        size.parse().unwrap(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let elapsed = runtime.block_on(async {
        let mut streams = Vec::new();
        for _ in 0..conns {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            streams.push(stream);
        }
        let started = Instant::now();
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                tokio::spawn(async move {
                    let message = vec![7u8; size];
                    let mut echoed = vec![0u8; size];
                    for _ in 0..msgs {
                        stream.write_all(&message).await.unwrap();
                        stream.read_exact(&mut echoed).await.unwrap();
                    }
                })
            })
            .collect();
        tokio::time::timeout(Duration::from_secs(120), async {
            for task in tasks {
                task.await.unwrap();
            }
        })
        .await
        .expect("the load finished within 120 s");
        started.elapsed()
    });
    let total = conns * msgs;
    println!(
        "{total} {:.6} {:.0}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
}
