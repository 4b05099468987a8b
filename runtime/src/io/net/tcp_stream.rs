//! A TCP connection.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use super::addr::{ToSocketAddrs, each_addr, resolve};
use super::current_driver;
use super::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::scheduler::io_driver::{Interest, PollEvented};

/// A TCP connection: asyncio's `open_connection`, tokio's `TcpStream`.
///
/// Reads and writes go through the `futures` traits
/// [`AsyncRead`](futures_io::AsyncRead) and [`AsyncWrite`](futures_io::AsyncWrite) (use
/// `futures::io::{AsyncReadExt, AsyncWriteExt}`). They are implemented for `&TcpStream` too,
/// so one task may read while another writes through a shared reference; or split the stream
/// into owned halves with [`into_split`](TcpStream::into_split).
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use tether::net::{TcpListener, TcpStream};
///
/// tether::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.set_nodelay(true).unwrap();
///     client.write_all(b"ping").await.unwrap();
///     client.shutdown(std::net::Shutdown::Write).unwrap();
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await.unwrap(); // ends at the client's shutdown
///     assert_eq!(got, b"ping");
/// });
/// ```
#[derive(Debug)]
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    pub(crate) fn register(
        stream: mio::net::TcpStream,
        driver: Arc<crate::scheduler::io_driver::Handle>,
    ) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new(stream, driver)?,
        })
    }

    /// Connects to `addr` (each of its addresses in turn, until one accepts). A refused
    /// connection is an error of kind [`ConnectionRefused`](io::ErrorKind::ConnectionRefused)
    /// whose message names the address.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs = resolve(&addr).await?;
        let driver = current_driver("TcpStream::connect")?;
        each_addr(addrs, "could not connect to", |addr| {
            let driver = driver.clone();
            async move {
                let stream = TcpStream::register(mio::net::TcpStream::connect(addr)?, driver)?;
                // A non-blocking connect completes when the socket turns writable: then it
                // either has an error or a peer (mio's documented sequence).
                std::future::poll_fn(|cx| {
                    stream.io.poll_io(cx, Interest::Write, |socket| {
                        if let Some(error) = socket.take_error()? {
                            return Err(error);
                        }
                        match socket.peer_addr() {
                            Ok(_) => Ok(()),
                            Err(error) if error.kind() == io::ErrorKind::NotConnected => {
                                Err(io::ErrorKind::WouldBlock.into())
                            }
                            Err(error) => Err(error),
                        }
                    })
                })
                .await?;
                Ok(stream)
            }
        })
        .await
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY`: `true` sends small writes at once instead of coalescing them
    /// (Nagle's algorithm), which request-response protocols want.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Shuts down the read side, the write side or both. After `Shutdown::Write` the peer
    /// reads end of file once it has read what was sent (a half-close): the peer may go on
    /// writing, and this side reading.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Splits the stream into a read half and a write half that can move to different tasks.
    /// Dropping the write half shuts the write side down (the peer reads end of file).
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::split::split(self)
    }

    /// Takes a stream made with the standard library (made non-blocking here) onto the running
    /// loop.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::register(
            mio::net::TcpStream::from_std(stream),
            current_driver("TcpStream::from_std")?,
        )
    }

    /// Takes the stream off the loop, as a standard library stream (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        use std::os::fd::{FromRawFd, IntoRawFd};
        let fd = self.io.into_inner().into_raw_fd();
        // SAFETY: `fd` was just taken out of an owned mio stream, which gave up ownership.
        Ok(unsafe { std::net::TcpStream::from_raw_fd(fd) })
    }

    pub(crate) fn poll_read_ref(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read(cx, buf)
    }

    #[cfg(any(feature = "hyper", feature = "tokio"))]
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read_uninit(cx, buf)
    }

    pub(crate) fn poll_write_ref(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }
}

stream_traits!(TcpStream, &TcpStream);

fd_traits!(TcpStream);
