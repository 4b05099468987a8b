//! Finding an order-dependent bug with seeded schedules, and replaying it.
//!
//! `tether_examples::booking` sells the last seat twice when a door customer is served between
//! an online sale's check and its act. FIFO order never does that; this program runs the sale
//! in FIFO order, then under seeds 1, 2, 3, ... (`Builder::shuffle`) until one oversells, and
//! replays that seed to show it fails the same way. In a test, `#[tether::test(explore = N)]`
//! does the search and prints the replay command.

use tether::Runtime;
use tether_examples::booking::sell_last_seat;

fn main() {
    let fifo = Runtime::builder().start_paused(true).build();
    println!("FIFO order: sold {} of 1 seat", fifo.run(sell_last_seat()));

    let failing = (1..=100u64).find(|&seed| {
        let shuffled = Runtime::builder().shuffle(seed).start_paused(true).build();
        shuffled.run(sell_last_seat()) > 1
    });
    let Some(seed) = failing else {
        println!("no seed among 1..=100 oversold");
        return;
    };
    println!("seed {seed}: sold 2 of 1 seat: oversold");
    let replay = Runtime::builder().shuffle(seed).start_paused(true).build();
    println!(
        "replayed seed {seed}: sold {} of 1 seat",
        replay.run(sell_last_seat())
    );
}
