//! Time: [`sleep`], [`sleep_until`], the loop's clock ([`Instant`]), and limits that nest:
//! [`timeout`], [`move_on_after`], [`timeout_scope`], read back by [`current_deadline`].
//!
//! Every loop has one timer structure. A loop started paused (`#[tether::test(start_paused)]`,
//! [`Builder::start_paused`](crate::Builder::start_paused)) runs on a virtual clock that jumps to
//! the next deadline whenever no task is ready, so tests of long sleeps finish at once and see
//! exact times.

mod deadline;
mod instant;
mod move_on;
mod sleep;
mod timeout;

pub use deadline::current_deadline;
pub use instant::Instant;
pub use move_on::{MoveOn, move_on_after, move_on_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, TimeoutScope, timeout, timeout_at, timeout_scope};

/// The current time on the running loop's clock; see [`Instant::now`].
pub fn now() -> Instant {
    Instant::now()
}
