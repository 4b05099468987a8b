//! A program with many live tasks for `benches/inspect.sh`: `--tasks N` idle tasks in a tree
//! of groups (100 shards of N/100 children each), and a heartbeat that sleeps 1 ms at a time
//! and keeps the worst lateness of its wake-ups: how long the loop was kept from running it.
//!
//! Prints `ready <pid>` once every task is live. Each line on stdin (`report`) is answered
//! with `late_max_us <µs> wakeups <n> late_over_1ms <n>`: the worst lateness since the
//! previous report, how many wake-ups there were, and how many came more than 1 ms late.

use std::cell::Cell;
use std::io::Write;
use std::time::{Duration, Instant};

use tether::sync::Event;
use tether::task::Builder;

static DONE: Event = Event::named("done");

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .expect("stdout is open");
}

#[tether::main]
async fn main() {
    let mut tasks = 100_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tasks" => tasks = args.next().and_then(|n| n.parse().ok()).expect("a count"),
            other => panic!("unknown argument {other}"),
        }
    }
    let worst = Cell::new(Duration::ZERO);
    let wakeups = Cell::new(0u64);
    let over_1ms = Cell::new(0u64);
    let heartbeat = async {
        while !DONE.is_set() {
            let start = Instant::now();
            tether::sleep(Duration::from_millis(1)).await;
            let late = start.elapsed().saturating_sub(Duration::from_millis(1));
            worst.set(worst.get().max(late));
            wakeups.set(wakeups.get() + 1);
            if late > Duration::from_millis(1) {
                over_1ms.set(over_1ms.get() + 1);
            }
        }
    };
    let shards = 100.min(tasks.max(1));
    tether::task_group!(|tg| {
        for shard in 0..shards {
            let children = tasks / shards - 1;
            tg.create_task_with(Builder::new().name(format!("shard-{shard}")), async move {
                tether::task_group!(|inner| {
                    for _ in 0..children {
                        inner.create_task(DONE.wait());
                    }
                })
                .expect("the shard's children end");
            });
        }
        tg.create_task_with(Builder::new().name("heartbeat"), heartbeat);
        tether::yield_now().await;
        tether::yield_now().await;
        say(&format!("ready {}", std::process::id()));
        loop {
            let line = tether::to_thread(|| {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map(|read| (read, line))
            })
            .await
            .expect("the pool runs it");
            match line {
                Ok((0, _)) | Err(_) => break,
                Ok(_) => {
                    say(&format!(
                        "late_max_us {} wakeups {} late_over_1ms {}",
                        worst.replace(Duration::ZERO).as_micros(),
                        wakeups.replace(0),
                        over_1ms.replace(0)
                    ));
                }
            }
        }
        DONE.set();
    })
    .expect("the shards end");
}
