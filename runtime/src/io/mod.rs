//! What reaches the operating system: sockets (`net`), signals (`signal`), child processes
//! (`process`), hyper's runtime traits over tether's sockets (`hyper`), tokio's I/O traits on
//! them (`tokio_io`), and the bridge to tokio's runtime (`compat`), which wait in the loop's I/O
//! driver; and files (`fs`), which have no readiness to wait for and run on the blocking pool.

#[cfg(feature = "tokio-bridge")]
pub mod compat;
#[cfg(feature = "fs")]
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "net")]
pub mod net;
#[cfg(all(unix, feature = "process"))]
pub mod process;
#[cfg(all(unix, feature = "signal"))]
pub mod signal;
#[cfg(feature = "tokio")]
mod tokio_io;
