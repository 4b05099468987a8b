//! Twin of the `asyncio.gather` call in the "Futures" section: several awaitables awaited
//! together, their results returned together.
//!
//! The two coroutines sleep 200 ms and 100 ms; gathered, they take about 200 ms.

use std::time::Duration;

async fn answer() -> u32 {
    tether::sleep(Duration::from_millis(200)).await;
    println!("answer is ready");
    42
}

async fn greeting() -> &'static str {
    tether::sleep(Duration::from_millis(100)).await;
    println!("greeting is ready");
    "hello"
}

#[tether::main]
async fn main() {
    // `gather!` polls both futures inside this task (nothing is spawned) and evaluates to the
    // tuple of their outputs, in argument order whatever order they finished in.
    let (number, word) = tether::gather!(answer(), greeting());
    println!("gathered two coroutines: {number} and {word:?}");

    // A `Task` is awaitable too, so it can be gathered with a plain coroutine.
    let task = tether::create_task(answer());
    let (from_task, from_coroutine) = tether::gather!(task, greeting());
    let from_task = from_task.expect("answer() does not fail");
    println!("gathered a task and a coroutine: {from_task} and {from_coroutine:?}");
}
