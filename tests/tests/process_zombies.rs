//! No zombie, no leaked fd: 10,000 short-lived children, and 1,000 more killed, dropped or
//! cancelled while they run, half on one loop and half on two workers; then the children of
//! this process in state Z are counted (zero) and so are the fds in /proc/self/fd (unchanged).
//! Alone in its binary, so that no other test's fds or children are counted.
//!
//! `cargo test -p tether-tests --test process_zombies -- --nocapture` prints the
//! figures quoted in RELIABILITY.md.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use tether::TaskSet;
use tether::process::Command;

/// How many children each half starts at once.
const AT_ONCE: usize = 32;

/// The children of this process that are zombies (exited, not reaped).
fn zombies() -> Vec<u32> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so read after the
        // last `)`.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let mut fields = after.split(' ');
        let state = fields.next().unwrap();
        let ppid: u32 = fields.next().unwrap().parse().unwrap();
        if ppid == me && state == "Z" {
            found.push(pid);
        }
    }
    found
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// `short` children that run to their end, and `interrupted` that are killed, dropped or
/// cancelled mid-run, at most `AT_ONCE` at a time.
async fn churn(short: usize, interrupted: usize) {
    let mut set = TaskSet::new().with_limit(AT_ONCE);
    for _ in 0..short {
        set.spawn(async {
            let status = Command::new("true").status().await.unwrap();
            assert!(status.success());
        });
    }
    for i in 0..interrupted {
        set.spawn(async move {
            let mut child = Command::new("sleep").arg("10").spawn().unwrap();
            match i % 3 {
                0 => {
                    child.kill().unwrap();
                    child.wait().await.unwrap();
                }
                1 => drop(child),
                _ => {
                    let waiter = tether::spawn(async move { child.wait().await });
                    tether::yield_now().await;
                    drop(waiter);
                }
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

#[test]
#[cfg_attr(miri, ignore = "spawns processes")]
fn ten_thousand_children_leave_no_zombie_and_no_fd() {
    let fds_before = open_fds();
    let start = Instant::now();
    tether::Runtime::builder().build().run(churn(5_000, 500));
    let one_loop = start.elapsed();
    tether::Runtime::builder()
        .workers(2)
        .build()
        .run(churn(5_000, 500));
    let elapsed = start.elapsed();
    let zombies = zombies();
    let fds_after = open_fds();
    println!(
        "11,000 children (10,000 short, 1,000 interrupted) in {elapsed:.2?} ({one_loop:.2?} on \
         one loop): {} zombies, {fds_before} fds before, {fds_after} after, {} orphans left",
        zombies.len(),
        tether::__private::process_orphans()
    );
    assert_eq!(zombies, Vec::<u32>::new());
    let listing: Vec<_> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .map(|fd| std::fs::read_link(fd.path()))
        .collect();
    assert_eq!(fds_after, fds_before, "open now: {listing:?}");
    assert_eq!(tether::__private::process_orphans(), 0);
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
}
