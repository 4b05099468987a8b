//! Twin of asyncio's "Tasks" awaitable example: `nested()` wrapped in a task with
//! `create_task`, which schedules it to run concurrently, then awaited (and its 42 printed).

async fn nested() -> i32 {
    42
}

#[tether::main]
async fn main() {
    // The task is scheduled at once and runs as soon as `main` waits. `task` owns it: had it
    // been dropped before the await, the task would have been cancelled.
    let task = tether::create_task(nested());

    // Awaiting a task gives `Result<i32, TaskError>`: the error says it was cancelled or
    // panicked, where asyncio would raise at the `await`.
    let answer = task.await.expect("nested() does not fail");
    println!("{answer}");
}
