//! Cancelling a task with a message: asyncio's `task.cancel(msg)` and `CancelledError(msg)`.
//!
//! The worker holds a resource with a destructor. Cancellation drops the worker's future at its
//! next await point, so the resource is released *before* `main` learns the task was cancelled.

use std::time::Duration;

use tether::TaskError;

struct Connection(&'static str);

impl Drop for Connection {
    fn drop(&mut self) {
        println!("closed connection to {}", self.0);
    }
}

async fn worker() {
    let _conn = Connection("db");
    loop {
        println!("working...");
        tether::sleep(Duration::from_millis(300)).await;
    }
}

#[tether::main]
async fn main() {
    let task = tether::create_task(worker());
    tether::sleep(Duration::from_millis(700)).await;
    task.cancel_with("deadline reached");
    match task.await {
        Err(TaskError::Cancelled { message }) => {
            println!("worker cancelled: {}", message.unwrap_or_default());
        }
        other => println!("unexpected: {other:?}"),
    }
}
