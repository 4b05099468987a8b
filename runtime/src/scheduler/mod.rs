//! What runs the tasks: the event loop, the workers of the multi-threaded flavor, the I/O
//! driver both wait in, and the seeded run order.
//!
//! One direction inside: the workers build on the loop (`event_loop::Worker` is what the loop
//! asks of them, `workers::Slot` implements it); the loop never names the workers.

pub(crate) mod event_loop;
pub(crate) mod io_driver;
pub(crate) mod order;
#[cfg(feature = "workers")]
pub(crate) mod workers;
