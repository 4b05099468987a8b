//! A UDP socket.

use std::io;
use std::net::SocketAddr;

use super::addr::{ToSocketAddrs, each_addr, resolve};
use super::current_driver;
use crate::scheduler::io_driver::{Interest, PollEvented};

/// A UDP socket: asyncio's `create_datagram_endpoint`, tokio's `UdpSocket`. Every method takes
/// `&self`, so several tasks may share one socket (each datagram goes to one of them).
///
/// ```
/// use tether::net::UdpSocket;
///
/// tether::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (the first of its addresses that works).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addrs = resolve(&addr).await?;
        let driver = current_driver("UdpSocket::bind")?;
        each_addr(addrs, "could not bind a UDP socket on", |addr| {
            let driver = driver.clone();
            async move {
                Ok(UdpSocket {
                    io: PollEvented::new(mio::net::UdpSocket::bind(addr)?, driver)?,
                })
            }
        })
        .await
    }

    /// Sets the default peer of [`send`](UdpSocket::send) and the only one
    /// [`recv`](UdpSocket::recv) accepts datagrams from.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let addrs = resolve(&addr).await?;
        each_addr(
            addrs,
            "could not connect a UDP socket to",
            |addr| async move { self.io.get_ref().connect(addr) },
        )
        .await
    }

    /// Sends `buf` to `target`; returns how many bytes were sent.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let addrs = resolve(&target).await?;
        each_addr(addrs, "could not send a datagram to", |addr| {
            self.io
                .io(Interest::Write, move |socket| socket.send_to(buf, addr))
        })
        .await
    }

    /// Receives one datagram into `buf` (the rest of a longer one is dropped); returns its
    /// length and sender. Cancel-safe: a dropped `recv_from` has taken no datagram.
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

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }
}

fd_traits!(UdpSocket);
