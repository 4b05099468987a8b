//! A box office with a bug that only some task orders show: the online sale checks that a seat
//! is free, awaits the payment provider, and only then takes the seat (check-then-act across an
//! await). A customer at the door who arrives while the payment is in flight buys the same
//! seat.
//!
//! In FIFO order the bug never shows: the online sale's payment and the door customer's arrival
//! come due at the same instant, and the payment, armed first, always completes first. Any
//! order that runs the door customer first sells the last seat twice; a seeded schedule
//! (`tether::schedule`) finds that order, and its seed replays it.

use std::cell::Cell;
use std::time::Duration;

/// How long the payment provider takes, and when the door customer walks in.
pub const PAYMENT: Duration = Duration::from_millis(30);

/// The seats of one show.
#[derive(Debug)]
pub struct Venue {
    capacity: u32,
    free: Cell<u32>,
    sold: Cell<u32>,
}

impl Venue {
    /// A show with `capacity` free seats.
    pub fn new(capacity: u32) -> Venue {
        Venue {
            capacity,
            free: Cell::new(capacity),
            sold: Cell::new(0),
        }
    }

    /// Tickets sold so far (more than the capacity once the bug has struck).
    pub fn sold(&self) -> u32 {
        self.sold.get()
    }

    /// The number of seats.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    fn take_seat(&self) {
        self.free.set(self.free.get().saturating_sub(1));
        self.sold.set(self.sold.get() + 1);
    }

    /// The buggy online sale: check, await the payment, act on the stale check.
    pub async fn book_online(&self) -> bool {
        if self.free.get() == 0 {
            return false;
        }
        tether::sleep(PAYMENT).await; // the payment provider
        self.take_seat(); // the seat may be gone by now
        true
    }

    /// A sale at the door: the customer arrives after `PAYMENT`, then checks and takes the seat
    /// with no await in between (correct on its own).
    pub async fn book_at_door(&self) -> bool {
        tether::sleep(PAYMENT).await; // walking in
        if self.free.get() == 0 {
            return false;
        }
        self.take_seat();
        true
    }
}

/// Sells the last seat of a one-seat show to an online buyer and a door customer at once;
/// returns how many tickets were sold (1 is right, 2 is the bug).
pub async fn sell_last_seat() -> u32 {
    let venue = Venue::new(1);
    tether::task_group!(|tg| {
        tg.create_task(venue.book_online());
        tg.create_task(venue.book_at_door());
    })
    .expect("neither sale panics");
    venue.sold()
}
