//! CPU-bound work on the multi-threaded runtime, with file I/O through `tether::fs`.
//!
//! The workload: write a few "recordings" (a sampled signal: two tones and some noise) to files,
//! then, for each file, read it back and find its strongest frequency with a plain discrete
//! Fourier transform: a few million `sin`/`cos` per file, a good fraction of a second of CPU.
//!
//! It runs twice, the same code both times: on the single-threaded event loop, where the
//! analyses take turns on one core, then on a runtime with two workers, where they spread over
//! two cores. The results are the same; the time is not.
//!
//! Two tools, for two kinds of waiting:
//! - `tether::fs` for the file I/O. `std::fs` calls block the thread that makes them; on a
//!   worker they would stall every task of that worker meanwhile. `tether::fs` runs them on the
//!   runtime's pool of blocking threads (the one `tether::to_thread` uses) and lets the task
//!   await the result; its errors name the file.
//! - `tether::spawn` for the CPU work. A task that computes is not waiting on anything: there
//!   is nothing to hand to another thread, it needs a core. `spawn` makes a `Send` task that any
//!   worker may run (an idle one steals it), so two analyses run at once on two workers.
//!   `create_task` would keep each analysis on the worker that made it (here worker 0, which
//!   runs `main`), and nothing would run in parallel.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tether::Runtime;

/// Recordings per run.
const FILES: usize = 4;
/// Samples per recording (`f64`, little-endian: 128 KiB a file).
const SAMPLES: usize = 16_384;
/// Frequencies the analysis tries: 1 to this, in cycles per recording.
const FREQUENCIES: usize = 1_000;

fn main() {
    let single = Runtime::builder().build();
    let (single_results, single_time) = timed(|| single.run(workload("single")));
    print_results("single loop", &single_results);

    let workers = Runtime::builder().workers(2).build();
    let (worker_results, workers_time) = timed(|| workers.run(workload("workers")));
    print_results("2 workers", &worker_results);

    assert_eq!(
        single_results, worker_results,
        "the same work, the same results"
    );
    println!("single loop: {single_time:.2} s");
    println!("2 workers: {workers_time:.2} s");
    // Not checked by the tests: it depends on the machine (its cores, and what else runs).
    println!("speedup: {:.1}x", single_time / workers_time);
}

/// One run: writes the recordings, analyses each in its own task, and cleans up. Returns each
/// file's name and strongest frequency, in file order.
async fn workload(flavor: &str) -> Vec<(String, usize)> {
    let dir = std::env::temp_dir().join(format!(
        "tether-cpu-and-files-{}-{flavor}",
        std::process::id()
    ));
    tether::fs::create_dir_all(&dir)
        .await
        .expect("the scratch directory can be created");

    // Write every file at once: each write is a blocking call on a pool thread.
    let mut writes = Vec::new();
    for index in 0..FILES {
        let path = dir.join(format!("recording-{index}.f64"));
        writes.push(tether::spawn(async move {
            tether::fs::write(&path, recording(index))
                .await
                .expect("the recording can be written");
            path
        }));
    }
    let mut paths = Vec::new();
    for write in writes {
        paths.push(write.await.expect("the write finishes"));
    }

    // One analysis task per file, free to run on any worker.
    let analyses: Vec<_> = paths
        .into_iter()
        .map(|path| tether::spawn(analyse(path)))
        .collect();
    let mut results = Vec::new();
    for analysis in analyses {
        results.push(analysis.await.expect("the analysis finishes"));
    }

    tether::fs::remove_dir_all(&dir)
        .await
        .expect("the scratch directory can be removed");
    results
}

/// Reads one recording (on a blocking thread) and finds its strongest frequency (right here,
/// on whichever worker runs this task).
async fn analyse(path: PathBuf) -> (String, usize) {
    let bytes = tether::fs::read(&path)
        .await
        .expect("the recording can be read");
    let samples: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|chunk| f64::from_le_bytes(chunk.try_into().expect("8 bytes")))
        .collect();
    (file_name(&path), strongest_frequency(&samples))
}

/// The frequency (in cycles per recording) with the most power: a discrete Fourier transform
/// term by term, CPU-bound and deliberately naive. It never awaits, so it holds its worker
/// until it is done; that is fine on a multi-threaded runtime with one such task per core, and
/// why it must not run on a loop that has latency-sensitive work to do.
fn strongest_frequency(samples: &[f64]) -> usize {
    let n = samples.len() as f64;
    let mut best = (0, 0.0);
    for frequency in 1..=FREQUENCIES {
        let step = std::f64::consts::TAU * frequency as f64 / n;
        let (mut re, mut im) = (0.0, 0.0);
        for (t, sample) in samples.iter().enumerate() {
            let (sin, cos) = (step * t as f64).sin_cos();
            re += sample * cos;
            im -= sample * sin;
        }
        let power = re * re + im * im;
        if power > best.1 {
            best = (frequency, power);
        }
    }
    best.0
}

/// Recording `index`: a strong tone, a weaker one and noise, as little-endian `f64`s. The
/// strong tone's frequency is what the analysis should find.
fn recording(index: usize) -> Vec<u8> {
    let (strong, weak) = (17 + 31 * index, 5 + 13 * index);
    let mut noise = 0x9E37_79B9_7F4A_7C15_u64 ^ index as u64;
    let mut bytes = Vec::with_capacity(SAMPLES * 8);
    for t in 0..SAMPLES {
        // xorshift: deterministic noise in [-1, 1).
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        let jitter = (noise >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
        let phase = std::f64::consts::TAU * t as f64 / SAMPLES as f64;
        let sample = (strong as f64 * phase).sin() + 0.5 * (weak as f64 * phase).sin() + jitter;
        bytes.extend_from_slice(&sample.to_le_bytes());
    }
    bytes
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn print_results(flavor: &str, results: &[(String, usize)]) {
    for (name, frequency) in results {
        println!("[{flavor}] {name}: strongest frequency {frequency}");
    }
}

/// Runs `f` and measures it, in seconds.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let output = f();
    (output, start.elapsed().as_secs_f64())
}
