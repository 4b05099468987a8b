//! The I/O driver: a leaf below the event loop. Each loop parks in a [`Poller`] (its own, or
//! on a worker, the one its runtime's workers share); resources
//! (`crate::net`, `crate::signal`, `crate::process`) register with a loop's driver through its [`Handle`] and keep
//! their readiness in a [`PollEvented`].
//!
//! Why mio: its `Poll::poll` is one `epoll_wait` per turn, and its `Waker` one `eventfd` write.
//! The `polling` crate (async-io's poller) costs four syscalls per wait with a timeout on Linux
//! (`timerfd_settime`, `epoll_ctl` on the timer fd, `epoll_wait`, `epoll_ctl` to re-arm its
//! notifier), and a loop waits with a timeout whenever a timer is armed. mio is tokio's poller,
//! small and well kept.
//!
//! Readiness is edge-triggered and kept per resource ([`scheduled_io`]): a socket that stays
//! ready costs no re-arm syscall, and a read that would block clears only the readiness it saw
//! (a tick tells a newer event apart), then waits for the next edge.
//!
//! The moving parts, each in its own file:
//! - [`park`]: the loop's parked/notified state, so that a wake from another thread costs an
//!   `eventfd` write (or a thread unpark) only while the loop really is parked;
//! - [`scheduled_io`]: one resource's readiness word and the wakers waiting on it;
//! - [`driver`]: the poller, the turn that dispatches events, and the handle resources use;
//! - [`poll_evented`]: a registered mio source with the read and write loops built on the above;
//! - [`resource`]: what a source is (kind, addresses, fd), for the waits recorded on it.

// Registration (`PollEvented`, `Resource`, `Handle::register`) is compiled only with a feature
// that has resources to register: `net`, `signal` or `process`. Without them, the driver is
// what the loop parks in, and its waker, alone.

pub(crate) mod driver;
pub(crate) mod park;
#[cfg(any(feature = "net", feature = "signal", feature = "process"))]
pub(crate) mod poll_evented;
#[cfg(any(feature = "net", feature = "signal", feature = "process"))]
pub(crate) mod resource;
pub(crate) mod scheduled_io;

pub(crate) use driver::{Handle, Poller};
pub(crate) use park::Parker;
#[cfg(any(feature = "net", feature = "signal", feature = "process"))]
pub(crate) use poll_evented::PollEvented;
#[cfg(any(feature = "net", feature = "signal", feature = "process"))]
pub(crate) use scheduled_io::Interest;
