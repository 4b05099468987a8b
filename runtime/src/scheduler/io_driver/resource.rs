//! What a registered source is, for the waits recorded on it (`crate::task_core::awaiting`): the
//! driver knows which socket a task waits on, so `dump_tasks` can say so.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;

/// A mio source that can say what it is.
pub(crate) trait Resource: mio::event::Source + AsRawFd {
    /// What kind of resource, as `dump_tasks` shows it (`"TCP stream"`).
    #[cfg_attr(
        not(feature = "net"),
        expect(dead_code, reason = "read by `PollEvented::new`, for sockets")
    )]
    const KIND: &'static str;

    /// This end's address and the other end's, where they are IP addresses. Asked only when
    /// a wait is recorded (a `getsockname`/`getpeername` each), never on the I/O path.
    fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (None, None)
    }
}

#[cfg(feature = "net")]
impl Resource for mio::net::TcpStream {
    const KIND: &'static str = "TCP stream";
    fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (self.local_addr().ok(), self.peer_addr().ok())
    }
}

#[cfg(feature = "net")]
impl Resource for mio::net::TcpListener {
    const KIND: &'static str = "TCP listener";
    fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (self.local_addr().ok(), None)
    }
}

#[cfg(feature = "net")]
impl Resource for mio::net::UdpSocket {
    const KIND: &'static str = "UDP socket";
    fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (self.local_addr().ok(), self.peer_addr().ok())
    }
}

#[cfg(any(feature = "net", feature = "signal"))]
impl Resource for mio::net::UnixStream {
    const KIND: &'static str = "Unix stream";
}

#[cfg(feature = "net")]
impl Resource for mio::net::UnixListener {
    const KIND: &'static str = "Unix listener";
}

#[cfg(feature = "net")]
impl Resource for mio::net::UnixDatagram {
    const KIND: &'static str = "Unix datagram socket";
}
