//! One table for everything: each workload on tether, tokio (current_thread and multi_thread
//! with 2 workers) and async-executor, timed here (warm-up, then the median of interleaved
//! samples), plus heap bytes per task and the gather!/join_all comparison.
//!
//! ```text
//! cargo bench -p tether-benches --bench compare                          # everything
//! cargo bench -p tether-benches --bench compare -- --only spawn,yield    # rows whose key matches
//! cargo bench -p tether-benches --bench compare -- --samples 31 --asyncio target/asyncio.tsv
//! benches/run.sh                                                         # + the asyncio column
//! ```
//!
//! Options: `--samples N` (default 21), `--min-sample-ms M` (each sample repeats a workload
//! inside one runtime until it takes about M ms; default 5), `--only k1,k2` (substrings of
//! row keys; `memory` and `combinators` select those tables), `--asyncio FILE` (the TSV the
//! Python twins print), `--stat min` (report the fastest sample instead of the median: steadier
//! when other jobs share the machine), `--quick` (3 samples, 1 ms: a smoke test).

#[path = "../workloads/mod.rs"]
mod workloads;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use workloads::alloc::Counting;
use workloads::catalogue::{
    self, COLUMNS, FLOOR, PEERS, Runner, TETHER_MT, TOKIO_CT, TOKIO_MT, Unit,
};
use workloads::rt::{AsyncExecutor, RawAsyncTask, Rt, Tether, TokioCt};
use workloads::work::{self, TaskMemory};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Pending tasks spawned for the bytes-per-task figure.
const MEMORY_TASKS: usize = 10_000;
/// The bytes-per-task target (heap per empty live task).
const MEMORY_TARGET: f64 = 96.0;

#[derive(Debug)]
struct Args {
    samples: usize,
    min_sample: Duration,
    only: Vec<String>,
    asyncio: Option<String>,
    /// Report the fastest sample instead of the median.
    min: bool,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            samples: 21,
            min_sample: Duration::from_millis(5),
            only: Vec::new(),
            asyncio: None,
            min: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--samples" => args.samples = number(it.next(), "--samples"),
                "--min-sample-ms" => {
                    args.min_sample = Duration::from_millis(number(it.next(), "--min-sample-ms"))
                }
                "--only" => {
                    let list = it.next().expect("--only needs a list");
                    args.only = list.split(',').map(str::to_owned).collect();
                }
                "--asyncio" => args.asyncio = Some(it.next().expect("--asyncio needs a path")),
                "--stat" => match it.next().as_deref() {
                    Some("min") => args.min = true,
                    Some("median") => args.min = false,
                    _ => panic!("--stat takes min or median"),
                },
                "--quick" => {
                    args.samples = 3;
                    args.min_sample = Duration::from_millis(1);
                }
                // Added by `cargo bench`.
                "--bench" => {}
                other => panic!("unknown argument {other:?}; see the docs of benches/compare.rs"),
            }
        }
        args.samples = args.samples.max(1);
        args
    }

    fn wants(&self, key: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|k| key.contains(k.as_str()))
    }
}

fn number<T: std::str::FromStr>(arg: Option<String>, name: &str) -> T {
    arg.and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{name} needs a number"))
}

fn main() {
    let args = Args::parse();
    let asyncio = read_asyncio(args.asyncio.as_deref());
    print_machine(&args);

    let rows: Vec<_> = catalogue::workloads()
        .into_iter()
        .filter(|w| args.wants(w.key))
        .collect();
    if !rows.is_empty() {
        main_table(&args, &rows, &asyncio);
    }
    if args.wants("memory") {
        memory_table(&asyncio);
    }
    if args.wants("context") {
        context_table(&args);
    }
    if args.wants("combinators") {
        combinator_table(&args);
    }
}

fn print_machine(args: &Args) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    // Other jobs on a shared machine move every figure: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned());
    println!(
        "machine: {cpus} CPUs, {cpu}, load average {load} at start; {} samples per cell ({}), \
         each >= {} ms; runtimes interleaved sample by sample",
        args.samples,
        if args.min { "fastest" } else { "median" },
        args.min_sample.as_millis()
    );
    println!();
}

/// `key -> (value, unit)` from the Python twins' TSV output.
fn read_asyncio(path: Option<&str>) -> HashMap<String, (f64, String)> {
    let Some(path) = path else {
        return HashMap::new();
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("no asyncio column: cannot read {path}: {error}");
            return HashMap::new();
        }
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut fields = l.split('\t');
            let key = fields.next()?.to_owned();
            let value = fields.next()?.parse().ok()?;
            let unit = fields.next().unwrap_or("").to_owned();
            Some((key, (value, unit)))
        })
        .collect()
}

/// How many repetitions make one sample of `runner` last about `min_sample`, after warming up.
fn calibrate(runner: Runner, min_sample: Duration) -> usize {
    runner(1);
    let once = runner(1).max(Duration::from_micros(1));
    let reps = (min_sample.as_secs_f64() / once.as_secs_f64()).ceil();
    let reps = (reps as usize).clamp(1, 100_000);
    runner(reps);
    reps
}

/// The median figure of each runner, samples interleaved across runners so that a burst of
/// noise on this shared machine hits every column alike.
fn measure(runners: &[Option<Runner>], unit: Unit, args: &Args) -> Vec<Option<f64>> {
    let reps: Vec<_> = runners
        .iter()
        .map(|r| r.map(|r| calibrate(r, args.min_sample)))
        .collect();
    let mut values: Vec<Vec<f64>> = vec![Vec::with_capacity(args.samples); runners.len()];
    for sample in 0..args.samples {
        for i in 0..runners.len() {
            // Rotate the order so that no runtime always runs right after the same other one.
            let i = (i + sample) % runners.len();
            if let (Some(runner), Some(reps)) = (runners[i], reps[i]) {
                let time = runner(reps);
                values[i].push(unit.value(time) / reps as f64);
            }
        }
    }
    if args.min {
        values
            .into_iter()
            .map(|v| v.into_iter().min_by(f64::total_cmp))
            .collect()
    } else {
        values.into_iter().map(median).collect()
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

fn fmt_value(value: Option<f64>) -> String {
    match value {
        None => "n/a".to_owned(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?)
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}x"))
}

fn verdict(ratio: Option<f64>, max: f64) -> &'static str {
    match ratio {
        Some(r) if r <= max => "met",
        Some(_) => "MISSED",
        None => "n/a",
    }
}

fn main_table(args: &Args, rows: &[catalogue::Workload], asyncio: &HashMap<String, (f64, String)>) {
    println!(
        "| workload | unit | {} | asyncio | best peer | tether/best peer | tether/tokio (ct) | tether/floor | tether (mt)/tokio (mt) | target |",
        COLUMNS.join(" | ")
    );
    println!(
        "|---|---|{}---|---:|---:|---:|---:|---|",
        "---:|".repeat(COLUMNS.len() + 1)
    );
    for w in rows {
        let started = Instant::now();
        let values = measure(&w.runners, w.unit, args);
        let asyncio_value = asyncio.get(w.key).map(|(v, _)| *v);
        // The best peer: the fastest of tokio (both flavours), async-executor and asyncio.
        let best = PEERS
            .iter()
            .map(|&i| (COLUMNS[i], values[i]))
            .chain([("asyncio", asyncio_value)])
            .filter_map(|(name, v)| Some((name, v?)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let vs_best = ratio(values[0], best.map(|(_, v)| v));
        let vs_tokio = ratio(values[0], values[TOKIO_CT]);
        let vs_floor = ratio(values[0], values[FLOOR]);
        let mt_vs_mt = ratio(values[TETHER_MT], values[TOKIO_MT]);
        let mut verdicts = vec![format!(
            "tokio (ct) <= {}x: {}",
            w.target.tokio,
            verdict(vs_tokio, w.target.tokio)
        )];
        if let Some(max) = w.target.best {
            verdicts.push(format!("best <= {max}x: {}", verdict(vs_best, max)));
        }
        if mt_vs_mt.is_some() {
            verdicts.push(format!(
                "mt <= {}x: {}",
                w.target.mt,
                verdict(mt_vs_mt, w.target.mt)
            ));
        }
        let cells: Vec<_> = values.iter().map(|v| fmt_value(*v)).collect();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            w.key,
            w.unit.label(),
            cells.join(" | "),
            fmt_value(asyncio_value),
            best.map_or("n/a", |(name, _)| name),
            fmt_ratio(vs_best),
            fmt_ratio(vs_tokio),
            fmt_ratio(vs_floor),
            fmt_ratio(mt_vs_mt),
            verdicts.join("; "),
        );
        eprintln!("  ({} measured in {:.1?})", w.key, started.elapsed());
    }
    println!();
    println!("Workloads:");
    for w in rows {
        println!("- {}: {}", w.key, w.what);
    }
    println!();
}

fn memory_of<R: Rt>() -> TaskMemory {
    let mut runs: Vec<_> = (0..3)
        .map(|_| R::run(work::bytes_per_task::<R>(MEMORY_TASKS)))
        .collect();
    runs.sort_by(|a, b| a.bytes.total_cmp(&b.bytes));
    runs[1]
}

fn memory_table(asyncio: &HashMap<String, (f64, String)>) {
    println!(
        "Heap per pending task ({MEMORY_TASKS} tasks spawned and polled once; counting allocator; \
         median of 3):"
    );
    println!();
    println!(
        "| runtime | bytes/live task | allocs/task | first round, growth included | bytes/finished task (output not yet taken) | target |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    let rows = [
        (Tether::NAME, memory_of::<Tether>()),
        (TokioCt::NAME, memory_of::<TokioCt>()),
        (AsyncExecutor::NAME, memory_of::<AsyncExecutor>()),
        (RawAsyncTask::NAME, memory_of::<RawAsyncTask>()),
    ];
    for (i, (name, memory)) in rows.iter().enumerate() {
        let target = if i == 0 {
            format!(
                "<= {MEMORY_TARGET}: {}",
                verdict(Some(memory.bytes), MEMORY_TARGET)
            )
        } else {
            "-".to_owned()
        };
        println!(
            "| {name} | {:.0} | {:.2} | {:.0} | {:.0} | {target} |",
            memory.bytes, memory.allocs, memory.cold_bytes, memory.finished_bytes
        );
    }
    if let Some((bytes, _)) = asyncio.get("bytes_per_task") {
        println!("| asyncio (tracemalloc) | {bytes:.0} | - | - | - | - |");
    }
    println!();
}

fn context_table(args: &Args) {
    println!("Spawn cost with and without a context (tether, 1,000 empty tasks in flight):");
    println!();
    println!("| spawn_many_1k | unit | time | vs no context |");
    println!("|---|---|---:|---:|");
    let unit = Unit::NsPer {
        ops: 1_000,
        op: "task",
    };
    let runners: [Option<Runner>; 2] = [
        Some(|reps| work::timed_tether(reps, || work::spawn_many::<Tether>(1_000))),
        Some(|reps| work::timed_tether(reps, || work::spawn_many_with_context(1_000))),
    ];
    let times = measure(&runners, unit, args);
    for (i, name) in ["empty context", "one ContextVar set"].iter().enumerate() {
        println!(
            "| {name} | {} | {} | {} |",
            unit.label(),
            fmt_value(times[i]),
            fmt_ratio(ratio(times[i], times[0]))
        );
    }
    println!();
}

fn combinator_table(args: &Args) {
    println!("Combinators on one runtime (tether), same futures (each yields once):");
    println!();
    println!("| combinator | unit | time | vs join_all | heap allocations per call |");
    println!("|---|---|---:|---:|---:|");
    let combinators = catalogue::combinators();
    let runners: Vec<_> = combinators.iter().map(|(_, _, r)| Some(*r)).collect();
    let unit = combinators[0].1;
    // Same unit within each pair: measure the 8-future trio and the 1,000-future pair apart.
    let small = measure(&runners[..3], unit, args);
    let large = measure(&runners[3..], combinators[3].1, args);
    let allocations = [
        work::allocations_in_tether(work::gather8).allocs,
        work::allocations_in_tether(work::join_all8_once).allocs,
        work::allocations_in_tether(work::join_macro8_once).allocs,
        work::allocations_in_tether(|| work::tether_gather(catalogue::GROUP)).allocs,
        work::allocations_in_tether(|| work::join_all(catalogue::GROUP)).allocs,
    ];
    let times: Vec<_> = small.iter().chain(&large).copied().collect();
    let baseline = [times[1], times[1], times[1], times[4], times[4]];
    for (i, (name, unit, _)) in combinators.iter().enumerate() {
        println!(
            "| {name} | {} | {} | {} | {} |",
            unit.label(),
            fmt_value(times[i]),
            fmt_ratio(ratio(times[i], baseline[i])),
            allocations[i]
        );
    }
    println!();
    let gather_free = allocations[0] == 0;
    println!(
        "gather!(8) vs join_all(8): {} ({}); gather! allocation-free: {}",
        fmt_ratio(ratio(times[0], times[1])),
        verdict(ratio(times[0], times[1]), 1.0),
        if gather_free { "yes" } else { "NO" },
    );
}
