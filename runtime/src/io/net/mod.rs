//! TCP, UDP and Unix sockets on tether's own event loop.
//!
//! Every socket registers with the I/O driver of the loop it is created on: when that loop has
//! nothing to run, it blocks in the poller (epoll, through mio) until a socket is ready, a timer
//! is due, or another thread wakes it. Streams implement the `futures` crate's
//! [`AsyncRead`](futures_io::AsyncRead) and [`AsyncWrite`](futures_io::AsyncWrite), so the
//! [`futures::io`](https://docs.rs/futures/0.3/futures/io/) helpers (`read_exact`, `write_all`, `copy`, `BufReader`, ...) work on them.
//!
//! ```
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//! use tether::net::{TcpListener, TcpStream};
//!
//! tether::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = tether::create_task(async move {
//!         let (mut stream, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 5];
//!         stream.read_exact(&mut buf).await.unwrap();
//!         stream.write_all(&buf).await.unwrap();
//!     });
//!     let mut client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     let mut echoed = [0; 5];
//!     client.read_exact(&mut echoed).await.unwrap();
//!     assert_eq!(&echoed, b"hello");
//!     server.await.unwrap();
//! });
//! ```
//!
//! - **Where a socket lives.** A socket is driven by the poller of the loop it was created on;
//!   the workers of a multi-threaded runtime share one, so a socket moved to a `Send` task gets
//!   its readiness on whichever worker is idle, and wakes the task wherever it runs. A socket
//!   used after its loop (or runtime) has finished returns an error.
//! - **Cancellation loses nothing.** A read or accept takes data from the kernel only in the
//!   poll that returns it, so dropping the future (a timeout, a `select!`, a cancelled task)
//!   loses no byte and no connection. Dropping a socket deregisters it, then closes it.
//! - **Errors** are `std::io::Error`s whose message names the address (`could not connect to
//!   127.0.0.1:8080: Connection refused (os error 111)`); their kind is the OS error's.
//! - **Names** (`"localhost:80"`) are resolved on the blocking pool (see [`lookup_host`]);
//!   literal addresses never leave the loop's thread.

/// The `futures` `AsyncRead`/`AsyncWrite` of a stream type whose `io` field is a
/// `PollEvented`: a flush has nothing to do (writes go straight to the socket), and a close
/// shuts the write side down.
macro_rules! stream_traits {
    ($($ty:ty),*) => {$(
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown(std::net::Shutdown::Write))
            }
        }
    )*};
}

/// `AsRawFd` and `AsFd` of socket types whose `io` field is a `PollEvented`: the descriptor
/// [`dump_tasks`](crate::dump_tasks) shows for a task waiting on the socket, and the way to
/// socket options tether does not wrap.
macro_rules! fd_traits {
    ($($ty:ty),*) => {$(
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }
    )*};
}

mod addr;
mod split;
mod tcp_listener;
mod tcp_stream;
mod udp;
#[cfg(unix)]
mod unix;

pub use addr::{ToSocketAddrs, lookup_host};
pub use split::{OwnedReadHalf, OwnedWriteHalf};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixStream};

use std::fmt::Display;
use std::io;
use std::sync::Arc;

use crate::scheduler::event_loop::EventLoop;

/// The I/O driver of the loop running on this thread: where a new socket registers.
fn current_driver(what: &str) -> io::Result<Arc<crate::scheduler::io_driver::Handle>> {
    EventLoop::with_current(|lp| lp.shared().io().clone()).ok_or_else(|| {
        io::Error::other(format!(
            "{what} needs a running tether event loop: call it inside tether::run, \
             #[tether::main] or a task"
        ))
    })
}

/// `error`, with what was being done in front of its message; the kind is kept.
fn context(error: io::Error, what: impl Display) -> io::Error {
    io::Error::new(error.kind(), format!("{what}: {error}"))
}
