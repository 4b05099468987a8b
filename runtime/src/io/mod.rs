//! What reaches the operating system: sockets (`net`), signals (`signal`), child processes
//! (`process`), and hyper's runtime traits over tether's sockets (`hyper`). All of it waits in
//! the loop's I/O driver.

#[cfg(feature = "hyper")]
pub mod hyper;
pub mod net;
#[cfg(unix)]
pub mod process;
#[cfg(unix)]
pub mod signal;
