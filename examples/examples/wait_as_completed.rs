//! `asyncio.wait(..., return_when=FIRST_COMPLETED)` and `asyncio.as_completed`.

use std::time::Duration;

use tether::ReturnWhen;

async fn download(name: &'static str, millis: u64) -> String {
    tether::sleep(Duration::from_millis(millis)).await;
    format!("{name} ({millis}ms)")
}

#[tether::main]
async fn main() {
    // The fastest mirror wins; the others keep running, still owned, until we drop them.
    let mirrors = [("eu", 300), ("us", 100), ("asia", 200)]
        .map(|(name, ms)| tether::create_task(download(name, ms)));
    let waited = tether::wait(mirrors, ReturnWhen::FirstCompleted).await;
    for task in waited.done {
        println!("first mirror: {}", task.await.unwrap());
    }
    println!(
        "{} mirrors still running: cancelling them by dropping their tasks",
        waited.pending.len()
    );
    drop(waited.pending);

    // Handle results as they arrive, in completion order.
    let parts = [("part-3", 300), ("part-1", 100), ("part-2", 200)]
        .map(|(name, ms)| tether::create_task(download(name, ms)));
    let mut finished = tether::as_completed(parts);
    while let Some(task) = finished.next().await {
        println!("got {}", task.await.unwrap());
    }
}
