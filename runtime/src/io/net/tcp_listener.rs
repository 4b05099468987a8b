//! A TCP socket listening for connections.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll, ready};

use super::addr::{ToSocketAddrs, each_addr, resolve};
use super::{TcpStream, current_driver};
use crate::scheduler::io_driver::{Interest, PollEvented};

/// A TCP socket listening for connections: asyncio's `start_server`, tokio's `TcpListener`.
///
/// ```
/// use tether::net::{TcpListener, TcpStream};
///
/// tether::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = tether::create_task(async move { TcpStream::connect(addr).await });
///     let (stream, peer) = listener.accept().await.unwrap();
///     let client = client.await.unwrap().unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     assert_eq!(stream.peer_addr().unwrap(), peer);
/// });
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (the first of its addresses that works) and listens. Port 0 picks a free
    /// port: see [`local_addr`](TcpListener::local_addr). The error of a port in use says so,
    /// with the address, and has the kind [`AddrInUse`](io::ErrorKind::AddrInUse).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let addrs = resolve(&addr).await?;
        let driver = current_driver("TcpListener::bind")?;
        each_addr(addrs, "could not bind a TCP listener on", |addr| {
            let driver = driver.clone();
            async move {
                let listener = mio::net::TcpListener::bind(addr)?;
                Ok(TcpListener {
                    io: PollEvented::new(listener, driver)?,
                })
            }
        })
        .await
    }

    /// Waits for a connection and returns it with its peer's address. The new stream is driven
    /// by the loop that accepts it. Cancel-safe: a dropped `accept` has taken no connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll behind [`accept`](TcpListener::accept), for hand-written futures.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, peer) = ready!(self.io.poll_io(
            cx,
            Interest::Read,
            mio::net::TcpListener::accept
        ))?;
        let driver =
            current_driver("TcpListener::accept").unwrap_or_else(|_| self.io.handle().clone());
        Poll::Ready(TcpStream::register(stream, driver).map(|stream| (stream, peer)))
    }

    /// The address the listener is bound to (with the port picked for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes a listener made with the standard library (made non-blocking here) onto the
    /// running loop.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(
                mio::net::TcpListener::from_std(listener),
                current_driver("TcpListener::from_std")?,
            )?,
        })
    }

    /// Takes the listener off the loop, as a standard library listener (still non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        use std::os::fd::{FromRawFd, IntoRawFd};
        let fd = self.io.into_inner().into_raw_fd();
        // SAFETY: `fd` was just taken out of an owned mio listener, which gave up ownership.
        Ok(unsafe { std::net::TcpListener::from_raw_fd(fd) })
    }
}

fd_traits!(TcpListener);
