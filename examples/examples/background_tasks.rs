//! Twin of asyncio's `background_tasks` pattern: ten fire-and-forget tasks kept alive by a set,
//! each removed from it when done (asyncio does that with `add_done_callback(set.discard)`).

use std::time::Duration;

use tether::TaskSet;

/// Sleeps a little (the later it starts, the shorter), then reports.
async fn some_coro(param: u64) {
    let delay = Duration::from_millis((10 - param) * 10);
    tether::sleep(delay).await;
    println!("task {param} done after {} ms", delay.as_millis());
}

#[tether::main]
async fn main() {
    // The set is the strong reference. There is no `add_done_callback(discard)` to write: a
    // background set drops each task's handle itself as the task finishes, so finished tasks
    // do not pile up. (The set is also the only owner: dropping it would cancel every task
    // still running, so it must live as long as the work should.)
    let mut background_tasks = TaskSet::background();

    for i in 0..10 {
        background_tasks.create_task(some_coro(i));
    }
    println!("{} tasks running in the background", background_tasks.len());

    // On a background set, `join_next` keeps no outputs: it waits until the set is empty and
    // returns `None`. The ten sleeps overlap, so this takes about 100 ms, not 550 ms.
    while background_tasks.join_next().await.is_some() {}
    println!(
        "all background tasks finished; {} left",
        background_tasks.len()
    );
}
