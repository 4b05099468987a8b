//! What reaches the operating system: sockets (`net`), signals (`signal`), and hyper's runtime
//! traits over tether's sockets (`hyper`). All of it waits in the loop's I/O driver.

#[cfg(feature = "hyper")]
pub mod hyper;
pub mod net;
#[cfg(unix)]
pub mod signal;
