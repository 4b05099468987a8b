//! `async with asyncio.timeout(d) as cm: ... cm.reschedule(...)`: a deadline the timed code
//! moves itself once it knows how much work is left.

use std::time::Duration;

use tether::time::{Instant, timeout_scope};

#[tether::main]
async fn main() {
    let result = timeout_scope(Some(Duration::from_millis(200)), async |cm| {
        println!("fetching the work list (deadline in 200ms)");
        tether::sleep(Duration::from_millis(100)).await;
        let items = 3;
        // More work than the first deadline allows: give each item 150ms from now.
        let extended = Instant::now() + Duration::from_millis(150 * items);
        cm.reschedule(Some(extended));
        println!("{items} items to process; deadline moved to 450ms from now");
        for item in 1..=items {
            tether::sleep(Duration::from_millis(100)).await;
            println!("processed item {item}");
        }
        items
    })
    .await;
    match result {
        Ok(n) => println!("done: {n} items within the rescheduled deadline"),
        Err(elapsed) => println!("gave up: {elapsed}"),
    }

    let slow = tether::timeout(
        Duration::from_millis(100),
        tether::sleep(Duration::from_secs(10)),
    );
    let verdict = if slow.await.is_err() {
        "timed out"
    } else {
        "finished"
    };
    println!("a 10s sleep under a 100ms timeout: {verdict}");
}
