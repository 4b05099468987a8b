//! Runs one workload on one runtime, for profilers (callgrind, perf) and quick checks.
//!
//! ```text
//! cargo build --profile bench -p tether-benches --example workload
//! target/release/examples/workload <runtime> <workload> [reps]
//! target/release/examples/workload ops <workload>     # operations in one run (for per-op figures)
//! valgrind --tool=callgrind target/release/examples/workload tether spawn_many_1k 10
//! ```
//!
//! `<runtime>` is `tether`, `tether-mt`, `tokio-ct`, `tokio-mt` or `async-executor`; `<workload>` a key of
//! the comparison table (`spawn_many_1k`, `yield_many`, ...), run `reps` times (default 1) in
//! one runtime. Prints the time taken inside the runtime.

#[path = "../workloads/mod.rs"]
mod workloads;

use workloads::alloc::Counting;
use workloads::catalogue;

#[global_allocator]
static ALLOC: Counting = Counting;

const RUNTIMES: [&str; 5] = [
    "tether",
    "tether-mt",
    "tokio-ct",
    "tokio-mt",
    "async-executor",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workloads = catalogue::workloads();
    if args.len() < 2 {
        println!("usage: workload <runtime> <workload> [reps]");
        println!("runtimes: {}", RUNTIMES.join(", "));
        let keys: Vec<_> = workloads.iter().map(|w| w.key).collect();
        println!("workloads: {}", keys.join(", "));
        return;
    }
    if args[0] == "ops" {
        let workload = workloads
            .iter()
            .find(|w| w.key == args[1])
            .unwrap_or_else(|| panic!("unknown workload {:?}", args[1]));
        let ops = match workload.unit {
            catalogue::Unit::NsPer { ops, .. } => ops,
            catalogue::Unit::Ms => 1,
        };
        println!("{ops}");
        return;
    }
    let column = RUNTIMES
        .iter()
        .position(|r| *r == args[0])
        .unwrap_or_else(|| panic!("unknown runtime {:?}; one of {RUNTIMES:?}", args[0]));
    let workload = workloads
        .iter()
        .find(|w| w.key == args[1])
        .unwrap_or_else(|| panic!("unknown workload {:?}", args[1]));
    let reps: usize = args
        .get(2)
        .map_or(1, |r| r.parse().expect("reps: a number"));
    let runner = workload.runners[column]
        .unwrap_or_else(|| panic!("{} has no {} variant", args[0], workload.key));
    let time = runner(reps);
    println!(
        "{} on {}: {reps} run(s) in {time:?}, {:.1} {} per run",
        workload.key,
        args[0],
        workload.unit.value(time) / reps as f64,
        workload.unit.label()
    );
}
