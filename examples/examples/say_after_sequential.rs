//! Twin of asyncio's `say_after` example, awaiting one coroutine after the other: "hello" after
//! 1 second, then "world" after 2 more, about 3 seconds in all, between a "started at" and a
//! "finished at" line.

use std::time::Duration;

// `clock()` stands in for `time.strftime('%X')`, but prints UTC rather than local time.
use tether_examples::clock;

async fn say_after(delay: Duration, what: &str) {
    tether::sleep(delay).await;
    println!("{what}");
}

#[tether::main]
async fn main() {
    println!("started at {}", clock());

    // Awaiting a coroutine runs it in place, inside this task: the second one does not start
    // until the first has finished.
    say_after(Duration::from_secs(1), "hello").await;
    say_after(Duration::from_secs(2), "world").await;

    println!("finished at {}", clock());
}
