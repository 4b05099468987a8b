//! One I/O server for `benches/io/run.sh`: `io_server <runtime> <echo|http>`.
//!
//! Runtimes: `tether` (one loop), `tether-mt` (2 workers), `tokio-ct` (current_thread),
//! `tokio-mt` (multi_thread, 2 workers), `smol` (async-executor's `LocalExecutor` driven by
//! `async_io::block_on`, sockets from async-net; echo only). Each listens on 127.0.0.1 with a
//! free port, prints the address, and serves until killed. The servers are written the same
//! way: one task per connection; echo reads up to 4 KiB and writes it back; HTTP is hyper 1.x
//! http1 answering "Hello, world!".

use std::convert::Infallible;
use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, world!",
    ))))
}

fn announce(addr: std::net::SocketAddr) {
    println!("{addr}");
    std::io::stdout().flush().unwrap();
}

mod on_tether {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use tether::net::{TcpListener, TcpStream};

    async fn echo(mut stream: TcpStream) {
        let mut buf = [0; 4096];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    pub async fn serve(workload: String, multi: bool) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        super::announce(listener.local_addr().unwrap());
        let mut connections = tether::TaskSet::background();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            // Send tasks on workers, so that both serve; one task per connection either way.
            match (workload.as_str(), multi) {
                ("echo", false) => drop(connections.create_task(echo(stream))),
                ("echo", true) => drop(connections.spawn(echo(stream))),
                (_, false) => drop(connections.create_task(http(stream))),
                (_, true) => drop(connections.spawn(http(stream))),
            }
        }
    }

    async fn http(stream: TcpStream) {
        // No timer, as on tokio: the same hyper work on every runtime.
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(stream, hyper::service::service_fn(super::hello))
            .await;
    }
}

mod on_tokio {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn echo(mut stream: TcpStream) {
        let mut buf = [0; 4096];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    pub async fn serve(workload: String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        super::announce(listener.local_addr().unwrap());
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            if workload == "echo" {
                tokio::spawn(echo(stream));
            } else {
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            super::TokioIo(stream),
                            hyper::service::service_fn(super::hello),
                        )
                        .await;
                });
            }
        }
    }
}

/// hyper's `rt` traits for a tokio stream (what hyper-util's `TokioIo` does).
struct TokioIo(tokio::net::TcpStream);

impl hyper::rt::Read for TokioIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        // SAFETY: tokio's `ReadBuf::uninit` only writes into the slice and reports how much it
        // filled, which is what `advance` marks.
        let n = unsafe {
            let mut tbuf = tokio::io::ReadBuf::uninit(buf.as_mut());
            match tokio::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, &mut tbuf) {
                Poll::Ready(Ok(())) => tbuf.filled().len(),
                other => return other,
            }
        };
        // SAFETY: `n` bytes were filled above.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for TokioIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.0), cx)
    }
}

mod on_smol {
    use async_net::{TcpListener, TcpStream};
    use futures::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo(mut stream: TcpStream) {
        let mut buf = [0; 4096];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    pub fn serve() {
        let executor = async_executor::LocalExecutor::new();
        async_io::block_on(executor.run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            super::announce(listener.local_addr().unwrap());
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                executor.spawn(echo(stream)).detach();
            }
        }));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (runtime, workload) = match (args.next(), args.next()) {
        (Some(runtime), Some(workload)) => (runtime, workload),
        _ => {
            eprintln!("usage: io_server <tether|tether-mt|tokio-ct|tokio-mt|smol> <echo|http>");
            std::process::exit(2);
        }
    };
    match runtime.as_str() {
        "tether" => tether::run(on_tether::serve(workload, false)),
        "tether-mt" => tether::Runtime::builder()
            .workers(2)
            .build()
            .run(on_tether::serve(workload, true)),
        "tokio-ct" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(on_tokio::serve(workload)),
        "tokio-mt" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(on_tokio::serve(workload)),
        "smol" if workload == "echo" => on_smol::serve(),
        other => {
            eprintln!("unknown runtime/workload: {other} {workload}");
            std::process::exit(2);
        }
    }
}
