//! An HTTP/1.1 client: hyper on tether's own loop (the `hyper` feature). Sends `--requests`
//! GET requests to URL-less ADDR over one kept-alive connection and prints the first body and
//! the rate.
//!
//! ```text
//! cargo run --release --example http_client -- 127.0.0.1:PORT [--requests N] [--path /]
//! ```
//!
//! Run it against the `http_server` example.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use tether::net::TcpStream;

const USAGE: &str = "usage: http_client ADDR [--requests N] [--path PATH]";

#[tether::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut words = std::env::args().skip(1);
    let (mut addr, mut requests, mut path) = (None, 1usize, String::from("/"));
    while let Some(word) = words.next() {
        match word.as_str() {
            "--requests" => requests = words.next().ok_or(USAGE)?.parse()?,
            "--path" => path = words.next().ok_or(USAGE)?,
            _ => addr = Some(word),
        }
    }
    let addr = addr.ok_or(USAGE)?;

    let stream = tether::timeout(Duration::from_secs(10), TcpStream::connect(addr.as_str()))
        .await
        .map_err(|_| format!("could not connect to {addr} within 10 s"))??;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await?;
    // The connection is driven by a task this function owns: it ends when `sender` is dropped.
    let connection = tether::create_task(connection);

    let started = Instant::now();
    for i in 0..requests {
        let request = Request::get(path.as_str())
            .header("host", addr.as_str())
            .body(Empty::<Bytes>::new())?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if i == 0 {
            println!("{status} {}", String::from_utf8_lossy(&body));
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{requests} requests in {:.3} s = {:.0} requests/s",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    drop(sender);
    connection.await??;
    Ok(())
}
