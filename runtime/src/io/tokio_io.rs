//! tokio's I/O traits on tether's streams (feature `tokio`): [`tokio::io::AsyncRead`] and
//! [`tokio::io::AsyncWrite`] for [`TcpStream`], [`UnixStream`] (and their `&` forms), the
//! owned halves of a `TcpStream`, and a child process's pipes ([`ChildStdin`],
//! [`ChildStdout`], [`ChildStderr`]), implemented natively on the loop's driver: no wrapper
//! type, no copy, no tokio runtime. So the crates written against tokio's traits rather than its
//! runtime take a tether stream as it is: tokio-postgres with `connect_raw`, tokio-tungstenite's
//! `client_async` and `accept_async`, tokio-util's codecs, tokio-rustls.
//!
//! A socket's read goes straight into the unfilled part of tokio's `ReadBuf`, uninitialised
//! memory included, with `recv(2)`; a pipe's (which `recv` does not apply to) zeroes that part
//! first, once: `ReadBuf` remembers what is initialised. A write is the stream's own;
//! `poll_flush` has nothing to do; and `poll_shutdown` is the `futures` `poll_close` (a
//! socket's write side shuts down; a pipe has no half-close, and closes when dropped).
//!
//! ```
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tether::net::{TcpListener, TcpStream};
//!
//! tether::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
//!     let (mut server, _) = listener.accept().await.unwrap();
//!     // tokio's extension traits, on tether's sockets:
//!     client.write_all(b"ping").await.unwrap();
//!     // The stream's own `shutdown(how)` comes first in method lookup: name tokio's.
//!     AsyncWriteExt::shutdown(&mut client).await.unwrap();
//!     let mut got = String::new();
//!     server.read_to_string(&mut got).await.unwrap();
//!     assert_eq!(got, "ping");
//! });
//! ```
//!
//! [`TcpStream`]: crate::net::TcpStream
//! [`UnixStream`]: crate::net::UnixStream
//! [`ChildStdin`]: crate::process::ChildStdin
//! [`ChildStdout`]: crate::process::ChildStdout
//! [`ChildStderr`]: crate::process::ChildStderr

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::ReadBuf;

/// `tokio::io::AsyncRead` for a type with a `poll_read_uninit(&self, cx, buf)`.
macro_rules! tokio_read {
    ($($ty:ty),*) => {$(
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                // SAFETY: `poll_read_uninit` only writes into the unfilled part it is given (it
                // hands the pointer to `recv`), and never de-initialises a byte.
                let n = ready!(self.poll_read_uninit(cx, unsafe { buf.unfilled_mut() }))?;
                // SAFETY: `recv` just wrote those `n` bytes, the first of the unfilled part.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
        }
    )*};
}

/// `tokio::io::AsyncRead` for a type with the `futures` `AsyncRead`, which reads into an
/// initialised buffer: the unfilled part is zeroed the first time only.
#[cfg(all(unix, feature = "process"))]
macro_rules! tokio_read_initialised {
    ($($ty:ty),*) => {$(
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let n = ready!(futures_io::AsyncRead::poll_read(
                    self,
                    cx,
                    buf.initialize_unfilled()
                ))?;
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
        }
    )*};
}

/// `tokio::io::AsyncWrite` for a type with the `futures` `AsyncWrite`: the same calls.
macro_rules! tokio_write {
    ($($ty:ty),*) => {$(
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }
        }
    )*};
}

use crate::io::net::{OwnedReadHalf, OwnedWriteHalf, TcpStream};

tokio_read!(TcpStream, &TcpStream, OwnedReadHalf);
tokio_write!(TcpStream, &TcpStream, OwnedWriteHalf);

#[cfg(unix)]
use crate::io::net::UnixStream;

#[cfg(unix)]
tokio_read!(UnixStream, &UnixStream);
#[cfg(unix)]
tokio_write!(UnixStream, &UnixStream);

#[cfg(all(unix, feature = "process"))]
use crate::io::process::{ChildStderr, ChildStdin, ChildStdout};

#[cfg(all(unix, feature = "process"))]
tokio_read_initialised!(ChildStdout, ChildStderr);
#[cfg(all(unix, feature = "process"))]
tokio_write!(ChildStdin);
