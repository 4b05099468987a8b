//! What reaches the operating system: sockets (`net`), signals (`signal`), and hyper's runtime
//! traits over tether's sockets (`hyper`), which wait in the loop's I/O driver; and files
//! (`fs`), which have no readiness to wait for and run on the blocking pool.

pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod net;
#[cfg(unix)]
pub mod signal;
