//! A program to look at from outside with `tether ps PID`, `tether pstree PID` and
//! `tether web PID`: a named lock held by one task and awaited by two others, a task group, a
//! task set, a lock taken before anyone looked, and finally a task that blocks its loop in a
//! long synchronous call.
//!
//! ```text
//! cargo run -p tether-cli --example inspect_demo [-- --workers 2] [--stuck-secs 30] [--track-waits] [--extra-loop]
//! ```
//!
//! It prints `ready <pid>`, then waits for a line on stdin (the first `tether ps` switches the
//! recording of waits on: a task that parks after it shows what it awaits). Then it starts the
//! second writer and the stuck task, prints `stuck`, blocks for `--stuck-secs`, and ends.

use std::io::Write;
use std::time::Duration;

use tether::sync::{Event, Lock};
use tether::task::Builder;

static DB: Lock = Lock::named("db");
static DONE: Event = Event::named("done");

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .expect("stdout is open");
}

async fn demo(stuck_for: Duration, workers: usize) {
    // Parks before anyone attached: shown without what it awaits, unless the program records
    // waits itself.
    static EARLY: Lock = Lock::named("early");
    let early_guard = EARLY.lock().await;
    let early = Builder::new()
        .name("early-writer")
        .create_task(async { drop(EARLY.lock().await) });
    tether::yield_now().await;
    let mut background = tether::TaskSet::new();
    background.create_task_with(Builder::new().name("metrics"), DONE.wait());
    let sender = (workers > 1).then(|| Builder::new().name("sender").spawn(DONE.wait()));
    tether::task_group!(|tg| {
        tg.create_task_with(Builder::new().name("fetch a"), DONE.wait());
        tg.create_task_with(Builder::new().name("fetch b"), async {
            tether::move_on_after(Duration::from_secs(3600), DONE.wait()).await;
        });
        // Every task so far has run and parked.
        tether::yield_now().await;
        say(&format!("ready {}", std::process::id()));
        let line = tether::to_thread(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await;
        drop(line);
        let holder = Builder::new().name("holder").create_task(async {
            let _db = DB.lock().await;
            DONE.wait().await;
        });
        tether::yield_now().await;
        let writer = Builder::new()
            .name("writer")
            .create_task(async { drop(DB.lock().await) });
        for _ in 0..3 {
            tether::yield_now().await;
        }
        let stuck = Builder::new().name("stuck").create_task(async move {
            say("stuck");
            // A long synchronous call on the loop's thread: nothing else runs on this loop
            // until it returns, which is what a tool must still be able to see.
            std::thread::sleep(stuck_for);
        });
        stuck.await.expect("the stuck task ends");
        DONE.set();
        drop(early_guard);
        writer.await.expect("the writer gets the lock");
        holder.await.expect("the holder ends");
    })
    .expect("the group's children end");
    early.await.expect("the early writer gets the lock");
    if let Some(sender) = sender {
        sender.await.expect("the sender ends");
    }
    background.shutdown().await;
    say("done");
}

fn main() {
    let mut workers = 1;
    let mut stuck_secs = 30;
    let mut track_waits = false;
    let mut extra_loop = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || -> u64 {
            let text = args.next().expect("a value after the flag");
            text.parse().expect("a number")
        };
        match arg.as_str() {
            "--workers" => workers = value() as usize,
            "--stuck-secs" => stuck_secs = value(),
            "--track-waits" => track_waits = true,
            "--extra-loop" => extra_loop = true,
            other => panic!("unknown argument {other}"),
        }
    }
    let stuck_for = Duration::from_secs(stuck_secs);
    // A second event loop on a thread of its own, as a program with several `run`s has.
    let other = extra_loop.then(|| {
        let (started, ready) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("other-loop".into())
            .spawn(move || {
                tether::run(async move {
                    let task = Builder::new().name("elsewhere").create_task(DONE.wait());
                    tether::yield_now().await;
                    started.send(()).expect("main waits for it");
                    task.await.expect("it ends when the demo does");
                });
            })
            .expect("a thread starts");
        ready.recv().expect("the other loop starts");
        thread
    });
    let mut builder = tether::Runtime::builder().track_waits(track_waits);
    if workers > 1 {
        builder = builder.workers(workers);
    }
    builder.build().run(demo(stuck_for, workers));
    if let Some(other) = other {
        other.join().expect("the other loop ends");
    }
}
