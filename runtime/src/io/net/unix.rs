//! Unix domain sockets: streams, listeners, datagrams.

use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::{context, current_driver};
use crate::scheduler::io_driver::{Interest, PollEvented};

/// A Unix domain socket listening for connections.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use tether::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("tether-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sock");
/// tether::run(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let mut client = UnixStream::connect(&path).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     client.write_all(b"hi").await.unwrap();
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens. The path must not exist yet.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let listener = mio::net::UnixListener::bind(path).map_err(|error| {
            context(
                error,
                format_args!("could not bind a Unix listener on {path:?}"),
            )
        })?;
        Ok(UnixListener {
            io: PollEvented::new(listener, current_driver("UnixListener::bind")?)?,
        })
    }

    /// Waits for a connection. Cancel-safe.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = poll_fn(|cx| {
            self.io
                .poll_io(cx, Interest::Read, mio::net::UnixListener::accept)
        })
        .await?;
        let driver = current_driver("UnixListener::accept")?;
        Ok((UnixStream::register(stream, driver)?, addr))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

/// A Unix domain stream socket; see [`UnixListener`] for an example.
#[derive(Debug)]
pub struct UnixStream {
    io: PollEvented<mio::net::UnixStream>,
}

impl UnixStream {
    fn register(
        stream: mio::net::UnixStream,
        driver: std::sync::Arc<crate::scheduler::io_driver::Handle>,
    ) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream, driver)?,
        })
    }

    /// Connects to the socket at `path`.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let connect = async {
            let stream = UnixStream::register(
                mio::net::UnixStream::connect(path)?,
                current_driver("UnixStream::connect")?,
            )?;
            poll_fn(|cx| {
                stream
                    .io
                    .poll_io(cx, Interest::Write, |socket| match socket.take_error()? {
                        Some(error) => Err(error),
                        None => Ok(()),
                    })
            })
            .await?;
            Ok(stream)
        };
        connect
            .await
            .map_err(|error| context(error, format_args!("could not connect to {path:?}")))
    }

    /// A connected pair of streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let driver = current_driver("UnixStream::pair")?;
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((
            UnixStream::register(a, driver.clone())?,
            UnixStream::register(b, driver)?,
        ))
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read side, the write side or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    #[cfg(any(feature = "hyper", feature = "tokio"))]
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> std::task::Poll<io::Result<usize>> {
        self.io.poll_read_uninit(cx, buf)
    }
}

stream_traits!(UnixStream, &UnixStream);

/// A Unix domain datagram socket.
///
/// ```
/// use tether::net::UnixDatagram;
///
/// tether::run(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"ping").await.unwrap();
///     let mut buf = [0; 8];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
#[derive(Debug)]
pub struct UnixDatagram {
    io: PollEvented<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    fn register(socket: mio::net::UnixDatagram, what: &str) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: PollEvented::new(socket, current_driver(what)?)?,
        })
    }

    /// Binds to `path`.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = mio::net::UnixDatagram::bind(path).map_err(|error| {
            context(
                error,
                format_args!("could not bind a Unix datagram socket on {path:?}"),
            )
        })?;
        UnixDatagram::register(socket, "UnixDatagram::bind")
    }

    /// A socket bound to no address (it can send, and receive replies if connected).
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::register(mio::net::UnixDatagram::unbound()?, "UnixDatagram::unbound")
    }

    /// A connected pair of sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((
            UnixDatagram::register(a, "UnixDatagram::pair")?,
            UnixDatagram::register(b, "UnixDatagram::pair")?,
        ))
    }

    /// Sets the default peer.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.io
            .get_ref()
            .connect(path)
            .map_err(|error| context(error, format_args!("could not connect to {path:?}")))
    }

    /// Sends `buf` to the socket at `path`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .io(Interest::Write, |socket| socket.send_to(buf, path))
            .await
    }

    /// Receives one datagram and its sender. Cancel-safe.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Interest::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// Sends `buf` to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Interest::Write, |socket| socket.send(buf)).await
    }

    /// Receives one datagram from the connected peer. Cancel-safe.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Interest::Read, |socket| socket.recv(buf)).await
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

fd_traits!(UnixStream, UnixListener, UnixDatagram);
