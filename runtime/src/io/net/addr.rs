//! Addresses: what `bind`, `connect` and `send_to` accept, and name resolution.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// An address, a list of them, or a name to resolve: what the sockets' `bind`, `connect` and
/// `send_to` accept (the same types as `std::net::ToSocketAddrs`). A literal address is used
/// as is; a name (`"localhost:8080"`, `("example.com", 443)`) is resolved on the blocking pool
/// by [`lookup_host`], so the loop never blocks on DNS.
///
/// Sealed: implemented for the types listed here only.
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    use super::Addrs;

    pub trait Sealed {
        /// The addresses, or the name to resolve.
        fn to_addrs(&self) -> Addrs;
    }
}

/// What an address argument turns into.
#[doc(hidden)]
#[derive(Debug)]
pub enum Addrs {
    Resolved(Vec<SocketAddr>),
    Lookup(String),
}

macro_rules! literal {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn to_addrs(&self) -> Addrs {
                Addrs::Resolved(vec![SocketAddr::from(*self)])
            }
        }
    )*};
}

literal!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn to_addrs(&self) -> Addrs {
        Addrs::Resolved(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_addrs(&self) -> Addrs {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Addrs::Resolved(vec![addr]),
            Err(_) => Addrs::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_addrs(&self) -> Addrs {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_addrs(&self) -> Addrs {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Addrs::Resolved(vec![SocketAddr::new(ip, port)]),
            Err(_) => Addrs::Lookup(format!("{host}:{port}")),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn to_addrs(&self) -> Addrs {
        (**self).to_addrs()
    }
}

/// The addresses `addr` stands for, resolving a name on the blocking pool.
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    match addr.to_addrs() {
        Addrs::Resolved(addrs) => Ok(addrs),
        Addrs::Lookup(name) => {
            let lookup = {
                let name = name.clone();
                move || std::net::ToSocketAddrs::to_socket_addrs(&name).map(Iterator::collect)
            };
            match crate::runtime::to_thread::to_thread(lookup).await {
                Ok(result) => result.map_err(|error| {
                    super::context(error, format_args!("could not resolve {name:?}"))
                }),
                Err(error) => Err(io::Error::other(format!(
                    "could not resolve {name:?}: {error}"
                ))),
            }
        }
    }
}

/// Resolves a host name and port to socket addresses, on the blocking pool (the system
/// resolver blocks): asyncio's `loop.getaddrinfo`, tokio's `lookup_host`.
///
/// ```
/// tether::run(async {
///     let addrs: Vec<_> = tether::net::lookup_host("localhost:8080").await.unwrap().collect();
///     assert!(addrs.iter().all(|addr| addr.ip().is_loopback() && addr.port() == 8080));
/// });
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(&host).await?.into_iter())
}

/// Tries `op` on each of `addrs` in turn; the error of the last one if none works.
pub(crate) async fn each_addr<T, F>(
    addrs: Vec<SocketAddr>,
    what: &str,
    mut op: impl FnMut(SocketAddr) -> F,
) -> io::Result<T>
where
    F: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addrs {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(error) => last = Some(super::context(error, format_args!("{what} {addr}"))),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what}: the address resolved to no address"),
        )
    }))
}
