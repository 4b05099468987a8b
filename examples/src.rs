//! Runnable twins of the examples on asyncio's "Coroutines and Tasks" page, plus a larger
//! program (`crawler`). Run one with `cargo run --example hello`.
//!
//! This library holds what the examples share: [`clock`], the stand-in for Python's
//! `time.strftime('%X')`, and [`booking`], a seat-booking service with an order-dependent bug
//! (the `oversold` example and its tests find it with seeded schedules), and [`ledger`], a
//! lock-order deadlock (the `deadlock_report` example).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[path = "booking.rs"]
pub mod booking;
#[path = "ledger.rs"]
pub mod ledger;

/// The current wall-clock time as `HH:MM:SS`, like Python's `time.strftime('%X')`.
///
/// It prints **UTC**, not local time: the standard library has no time-zone database, and the
/// examples take no dependency beyond tether to find one.
pub fn clock() -> String {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    hh_mm_ss(since_epoch)
}

/// Formats the time of day of a moment given as time since the Unix epoch (UTC).
fn hh_mm_ss(since_epoch: Duration) -> String {
    let of_day = since_epoch.as_secs() % (24 * 60 * 60);
    let (hours, minutes, seconds) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    format!("{hours:02}:{minutes:02}:{seconds:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_time_of_day() {
        assert_eq!(hh_mm_ss(Duration::ZERO), "00:00:00");
        // 2024-01-02 13:04:05 UTC.
        assert_eq!(hh_mm_ss(Duration::from_secs(1_704_200_645)), "13:04:05");
        assert_eq!(hh_mm_ss(Duration::from_secs(86_399)), "23:59:59");
    }

    #[test]
    fn clock_has_the_right_shape() {
        let now = clock();
        assert_eq!(now.len(), 8, "{now}");
        assert_eq!(&now[2..3], ":");
        assert_eq!(&now[5..6], ":");
    }
}
