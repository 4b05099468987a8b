//! Subprocesses: `tether::process` against `tokio::process`, each on a single-threaded
//! runtime, interleaved sample by sample in one run (the order alternates).
//!
//! ```text
//! cargo bench -p tether-benches --bench process                    # 7 samples of each
//! cargo bench -p tether-benches --bench process -- --samples 15
//! cargo bench -p tether-benches --bench process -- --only spawn    # rows whose key matches
//! ```
//!
//! - `spawn_wait`: spawn `/bin/true` and wait for it, 8 at a time, 400 per sample: processes
//!   per second, and the parent's CPU time (user + system, `getrusage(RUSAGE_SELF)`) per
//!   process. The children's own CPU (`RUSAGE_CHILDREN`, the `true`s themselves) is the same
//!   program for both and is printed apart.
//! - `cat_64mib`: 64 MiB written to `cat`'s stdin while its stdout is read, in 64 KiB
//!   writes: MiB per second, and the parent's CPU time per MiB.
//!
//! Each cell is the median of the samples. Nothing here is asserted.

use std::time::{Duration, Instant};

const SPAWNS: usize = 400;
const AT_ONCE: usize = 8;
const CAT_BYTES: usize = 64 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// CPU time (user + system) of this process, or of its waited-for children.
fn cpu(who: i32) -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage`; `who` is RUSAGE_SELF or RUSAGE_CHILDREN.
    let got = unsafe { libc::getrusage(who, &mut usage) };
    assert_eq!(got, 0);
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// One sample: wall time, the parent's CPU time, the children's CPU time.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    children: Duration,
}

fn measure(run: impl FnOnce()) -> Sample {
    let (cpu0, children0, start) = (
        cpu(libc::RUSAGE_SELF),
        cpu(libc::RUSAGE_CHILDREN),
        Instant::now(),
    );
    run();
    Sample {
        wall: start.elapsed(),
        cpu: cpu(libc::RUSAGE_SELF) - cpu0,
        children: cpu(libc::RUSAGE_CHILDREN) - children0,
    }
}

mod on_tether {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use tether::process::{Command, Stdio};

    pub fn spawn_wait() {
        tether::Runtime::builder().build().run(async {
            let mut set = tether::TaskSet::new().with_limit(super::AT_ONCE);
            for _ in 0..super::SPAWNS {
                set.create_task(async {
                    let status = Command::new("/bin/true").status().await.unwrap();
                    assert!(status.success());
                });
            }
            while let Some(done) = set.join_next().await {
                done.unwrap();
            }
        });
    }

    pub fn cat() -> usize {
        tether::Runtime::builder().build().run(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let write = async move {
                let chunk = vec![7u8; super::CHUNK];
                for _ in 0..super::CAT_BYTES / super::CHUNK {
                    stdin.write_all(&chunk).await.unwrap();
                }
            };
            let read = async move {
                let mut buf = vec![0; super::CHUNK];
                let mut total = 0;
                loop {
                    let n = stdout.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return total;
                    }
                    total += n;
                }
            };
            let ((), total) = tether::gather!(write, read);
            assert!(child.wait().await.unwrap().success());
            total
        })
    }
}

mod on_tokio {
    use std::process::Stdio;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::process::Command;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    pub fn spawn_wait() {
        runtime().block_on(async {
            let mut set = tokio::task::JoinSet::new();
            let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(super::AT_ONCE));
            for _ in 0..super::SPAWNS {
                let permit = limit.clone().acquire_owned().await.unwrap();
                set.spawn(async move {
                    let status = Command::new("/bin/true").status().await.unwrap();
                    assert!(status.success());
                    drop(permit);
                });
            }
            while let Some(done) = set.join_next().await {
                done.unwrap();
            }
        });
    }

    pub fn cat() -> usize {
        runtime().block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let write = async move {
                let chunk = vec![7u8; super::CHUNK];
                for _ in 0..super::CAT_BYTES / super::CHUNK {
                    stdin.write_all(&chunk).await.unwrap();
                }
            };
            let read = async move {
                let mut buf = vec![0; super::CHUNK];
                let mut total = 0;
                loop {
                    let n = stdout.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return total;
                    }
                    total += n;
                }
            };
            let ((), total) = tokio::join!(write, read);
            assert!(child.wait().await.unwrap().success());
            total
        })
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut samples = 7;
    let mut only: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--samples" => {
                samples = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--samples N")
            }
            "--only" => {
                only = args
                    .next()
                    .expect("--only k1,k2")
                    .split(',')
                    .map(str::to_owned)
                    .collect()
            }
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    let wanted = |key: &str| only.is_empty() || only.iter().any(|k| key.contains(k.as_str()));
    println!(
        "| workload | runtime | throughput | parent CPU | children CPU | vs tokio (throughput, CPU) |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    if wanted("spawn_wait") {
        // Warm-up: the first spawns page in the programs.
        on_tether::spawn_wait();
        on_tokio::spawn_wait();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for i in 0..samples {
            if i % 2 == 0 {
                ours.push(measure(on_tether::spawn_wait));
                theirs.push(measure(on_tokio::spawn_wait));
            } else {
                theirs.push(measure(on_tokio::spawn_wait));
                ours.push(measure(on_tether::spawn_wait));
            }
        }
        report(
            "spawn_wait (`/bin/true`, 8 at a time)",
            &ours,
            &theirs,
            SPAWNS as f64,
            "processes/s",
            "µs/process",
        );
    }
    if wanted("cat") {
        assert_eq!(on_tether::cat(), CAT_BYTES);
        assert_eq!(on_tokio::cat(), CAT_BYTES);
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for i in 0..samples {
            if i % 2 == 0 {
                ours.push(measure(|| assert_eq!(on_tether::cat(), CAT_BYTES)));
                theirs.push(measure(|| assert_eq!(on_tokio::cat(), CAT_BYTES)));
            } else {
                theirs.push(measure(|| assert_eq!(on_tokio::cat(), CAT_BYTES)));
                ours.push(measure(|| assert_eq!(on_tether::cat(), CAT_BYTES)));
            }
        }
        report(
            "cat_64mib (64 MiB through `cat`)",
            &ours,
            &theirs,
            64.0,
            "MiB/s",
            "µs/MiB",
        );
    }
}

/// Prints two rows: `units` of work per sample, as throughput and CPU per unit.
fn report(name: &str, ours: &[Sample], theirs: &[Sample], units: f64, rate: &str, per: &str) {
    let stats = |samples: &[Sample]| {
        let throughput = median(
            samples
                .iter()
                .map(|s| units / s.wall.as_secs_f64())
                .collect(),
        );
        let cpu = median(
            samples
                .iter()
                .map(|s| s.cpu.as_secs_f64() * 1e6 / units)
                .collect(),
        );
        let children = median(
            samples
                .iter()
                .map(|s| s.children.as_secs_f64() * 1e6 / units)
                .collect(),
        );
        (throughput, cpu, children)
    };
    let (t_rate, t_cpu, t_children) = stats(ours);
    let (k_rate, k_cpu, k_children) = stats(theirs);
    println!(
        "| {name} | tether | {t_rate:.0} {rate} | {t_cpu:.1} {per} | {t_children:.1} {per} | {:.2}x, {:.2}x |",
        t_rate / k_rate,
        t_cpu / k_cpu
    );
    println!(
        "| {name} | tokio | {k_rate:.0} {rate} | {k_cpu:.1} {per} | {k_children:.1} {per} | 1.00x, 1.00x |"
    );
}
