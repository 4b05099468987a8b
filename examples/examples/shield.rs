//! `asyncio.wait_for(asyncio.shield(task), timeout)`: stop waiting, not working.
//!
//! The shield borrows the task, so the timeout cancels only the wait. The task goes on, still
//! owned by `main`, and is awaited again later.

use std::time::Duration;

async fn save_report() -> &'static str {
    tether::sleep(Duration::from_millis(500)).await;
    "report saved"
}

#[tether::main]
async fn main() {
    let mut task = tether::create_task(save_report());
    match tether::timeout(Duration::from_millis(100), tether::shield(&mut task)).await {
        Ok(result) => println!("{}", result.unwrap()),
        Err(_) => println!("still saving after 100ms; doing other work meanwhile"),
    }
    println!("{}", task.await.unwrap());
}
