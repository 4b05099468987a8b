//! Twin of asyncio's `say_after` example with `asyncio.create_task`: the two coroutines run
//! concurrently as tasks, so the whole takes about 2 seconds, not 3.

use std::time::Duration;

// `clock()` stands in for `time.strftime('%X')`, but prints UTC rather than local time.
use tether_examples::clock;

async fn say_after(delay: Duration, what: &str) {
    tether::sleep(delay).await;
    println!("{what}");
}

#[tether::main]
async fn main() {
    // Each `Task` owns its task: asyncio's advice to "save a reference to the result" is the
    // only way to write it here, since dropping a `Task` cancels the task. Both tasks start
    // the next time `main` waits, in the order they were created.
    let task1 = tether::create_task(say_after(Duration::from_secs(1), "hello"));
    let task2 = tether::create_task(say_after(Duration::from_secs(2), "world"));

    println!("started at {}", clock());

    // Wait until both tasks are completed (should take around 2 seconds). Awaiting a task
    // gives `Err(TaskError)` if it was cancelled or panicked.
    task1.await.expect("the hello task does not fail");
    task2.await.expect("the world task does not fail");

    println!("finished at {}", clock());
}
