//! Twin of asyncio's `say_after` example with `async with asyncio.TaskGroup() as tg`: the same two
//! concurrent tasks, owned by a group, about 2 seconds.

use std::time::Duration;

// `clock()` stands in for `time.strftime('%X')`, but prints UTC rather than local time.
use tether_examples::clock;

async fn say_after(delay: Duration, what: &str) {
    tether::sleep(delay).await;
    println!("{what}");
}

#[tether::main]
async fn main() -> Result<(), tether::GroupError> {
    // The group owns both children: `task_group!` does not finish until they are done, so the
    // await that asyncio makes implicit at the end of `async with` is the `task_group!` itself.
    // `tg.create_task` returns a non-owning `TaskHandle`, which may simply be dropped.
    tether::task_group!(|tg| {
        tg.create_task(say_after(Duration::from_secs(1), "hello"));
        tg.create_task(say_after(Duration::from_secs(2), "world"));

        println!("started at {}", clock());
    })?; // `Err(GroupError)` if a child panicked: asyncio's ExceptionGroup.

    println!("finished at {}", clock());
    Ok(())
}
