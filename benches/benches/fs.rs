//! Files: `tether::fs` next to `tokio::fs` and smol's `async-fs`, each on its own single-threaded
//! runtime (tether's loop, tokio's `current_thread`, `futures_lite::future::block_on` for smol),
//! in interleaved rounds: each round runs every workload on every runtime in turn (starting with
//! a different runtime each round), so that the machine's drift (page cache, writeback, other jobs) falls on all of them alike. The table
//! gives the median of the rounds and each peer's time over tether's (above 1.0: tether is
//! faster); a second table gives the fastest round of each, steadier on a shared machine.
//!
//! ```text
//! cargo bench -p tether-benches --bench fs                       # 7 rounds, 1 GiB written
//! cargo bench -p tether-benches --bench fs -- --rounds 3 --write-mib 256 --dir /var/tmp
//! cargo bench -p tether-benches --bench fs -- --only write     # workloads whose name has "write"
//! ```
//!
//! Other options: `--verbose` (every sample on stderr), `--peers tether,tokio` (only those
//! runtimes: for profiling; the table then has empty cells), `--tether-threads N` (tether's
//! blocking pool bound, `Builder::blocking_threads`).
//!
//! Workloads:
//! - `read 10k x 4 KiB, 1 at a time`: `fs::read` of 10,000 files of 4 KiB, one after another:
//!   one trip to the blocking pool each, back to back.
//! - `read 10k x 4 KiB, 64 at a time`: the same files, by 64 concurrent readers.
//! - `write 1 GiB in 64 KiB writes`: `File::create`, `write_all` of 64 KiB 16,384 times, then
//!   `flush` (tokio, async-fs) or `close` (tether), which waits until everything is written.
//!
//! The files live in a fresh directory under `--dir` (default: the system's temp dir, which
//! must be on a local disk), removed at the end; the big file is removed after each round.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::io::AsyncWriteExt as _;

const FILES: usize = 10_000;
const FILE_SIZE: usize = 4096;
const WRITE_CHUNK: usize = 64 * 1024;

struct Args {
    rounds: usize,
    write_mib: usize,
    dir: PathBuf,
    /// Workloads whose name contains one of these (all if empty).
    only: Vec<String>,
    /// tether's blocking pool bound (`Builder::blocking_threads`; default: its own default).
    tether_threads: Option<usize>,
    /// Runtimes whose name contains one of these (all if empty).
    peers: Vec<String>,
    /// Print every sample, not only the medians.
    verbose: bool,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            rounds: 7,
            write_mib: 1024,
            dir: std::env::temp_dir(),
            only: Vec::new(),
            tether_threads: None,
            peers: Vec::new(),
            verbose: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
            match arg.as_str() {
                "--rounds" => args.rounds = value().parse().expect("--rounds takes a number"),
                "--write-mib" => {
                    args.write_mib = value().parse().expect("--write-mib takes a number")
                }
                "--dir" => args.dir = PathBuf::from(value()),
                "--tether-threads" => {
                    args.tether_threads =
                        Some(value().parse().expect("--tether-threads takes a number"))
                }
                "--verbose" => args.verbose = true,
                "--peers" => args.peers = value().split(',').map(str::to_owned).collect(),
                "--only" => args.only = value().split(',').map(str::to_owned).collect(),
                // Added by `cargo bench`.
                "--bench" => {}
                other => panic!("unknown option {other}"),
            }
        }
        args
    }
}

/// The three runtimes, each made once and reused by every round.
struct Runtimes {
    tether: tether::Runtime,
    tokio: tokio::runtime::Runtime,
}

impl Runtimes {
    fn time<F: Future>(&self, peer: Peer, work: impl FnOnce() -> F) -> Duration {
        let start = Instant::now();
        match peer {
            Peer::Tether => {
                self.tether.run(work());
            }
            Peer::Tokio => {
                self.tokio.block_on(work());
            }
            Peer::AsyncFs => {
                futures_lite::future::block_on(work());
            }
        }
        start.elapsed()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Peer {
    Tether,
    Tokio,
    AsyncFs,
}

const PEERS: [Peer; 3] = [Peer::Tether, Peer::Tokio, Peer::AsyncFs];

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Tether => "tether::fs",
            Peer::Tokio => "tokio::fs",
            Peer::AsyncFs => "async-fs",
        }
    }
}

/// Reads every file in `paths`, `concurrency` readers at a time (reader `i` takes every
/// `concurrency`-th path from `i`); checks the total size.
async fn read_all(peer: Peer, paths: &[PathBuf], concurrency: usize) {
    let readers = (0..concurrency).map(|first| async move {
        let mut bytes = 0;
        for path in paths.iter().skip(first).step_by(concurrency) {
            bytes += match peer {
                Peer::Tether => tether::fs::read(path).await,
                Peer::Tokio => tokio::fs::read(path).await,
                Peer::AsyncFs => async_fs::read(path).await,
            }
            .expect("the file can be read")
            .len();
        }
        bytes
    });
    let bytes: usize = futures::future::join_all(readers).await.into_iter().sum();
    assert_eq!(bytes, paths.len() * FILE_SIZE);
}

/// Writes `total` bytes to a new file at `path` in `WRITE_CHUNK` writes, then waits until they
/// are all written.
async fn write_big(peer: Peer, path: &Path, total: usize) {
    let chunk = vec![0x5a_u8; WRITE_CHUNK];
    let writes = total / WRITE_CHUNK;
    match peer {
        Peer::Tether => {
            let mut file = tether::fs::File::create(path).await.unwrap();
            for _ in 0..writes {
                file.write_all(&chunk).await.unwrap();
            }
            file.close().await.unwrap();
        }
        Peer::Tokio => {
            use tokio::io::AsyncWriteExt;
            let mut file = tokio::fs::File::create(path).await.unwrap();
            for _ in 0..writes {
                file.write_all(&chunk).await.unwrap();
            }
            file.flush().await.unwrap();
        }
        Peer::AsyncFs => {
            let mut file = async_fs::File::create(path).await.unwrap();
            for _ in 0..writes {
                file.write_all(&chunk).await.unwrap();
            }
            file.flush().await.unwrap();
        }
    }
}

/// The fastest sample (steadier than the median when other jobs share the machine), or zero
/// for a runtime left out by `--peers`.
fn fastest(samples: &mut [Duration]) -> Duration {
    samples.iter().copied().min().unwrap_or_default()
}

/// The median, or zero for a runtime left out by `--peers`.
fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let args = Args::parse();
    let dir = args
        .dir
        .join(format!("tether-bench-fs-{}", std::process::id()));
    let small = dir.join("small");
    std::fs::create_dir_all(&small).unwrap();
    let paths: Vec<PathBuf> = (0..FILES).map(|i| small.join(format!("{i:05}"))).collect();
    let content = vec![7u8; FILE_SIZE];
    for path in &paths {
        std::fs::write(path, &content).unwrap();
    }
    let big = dir.join("big");
    let total = args.write_mib << 20;

    let runtimes = Runtimes {
        tether: match args.tether_threads {
            Some(threads) => tether::Runtime::builder().blocking_threads(threads),
            None => tether::Runtime::builder(),
        }
        .build(),
        tokio: tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
    };
    let workloads: [(String, usize); 3] = [
        (format!("read {FILES} x 4 KiB, 1 at a time"), 0),
        (format!("read {FILES} x 4 KiB, 64 at a time"), 1),
        (format!("write {} MiB in 64 KiB writes", args.write_mib), 2),
    ];
    let chosen = |name: &str| args.only.is_empty() || args.only.iter().any(|o| name.contains(o));
    let mut samples = vec![vec![Vec::new(); PEERS.len()]; workloads.len()];
    // One warm-up round (pools started, files in the page cache), then the measured ones.
    for round in 0..=args.rounds {
        for (w, (name, kind)) in workloads.iter().enumerate() {
            if !chosen(name) {
                continue;
            }
            // Each round starts with the next peer, so that none always follows the same one.
            for turn in 0..PEERS.len() {
                let p = (round + turn) % PEERS.len();
                let peer = PEERS[p];
                if !args.peers.is_empty() && !args.peers.iter().any(|n| peer.name().contains(n)) {
                    continue;
                }
                let elapsed = match kind {
                    0 => runtimes.time(peer, || read_all(peer, &paths, 1)),
                    1 => runtimes.time(peer, || read_all(peer, &paths, 64)),
                    _ => {
                        let elapsed = runtimes.time(peer, || write_big(peer, &big, total));
                        assert_eq!(std::fs::metadata(&big).unwrap().len(), total as u64);
                        std::fs::remove_file(&big).unwrap();
                        elapsed
                    }
                };
                if args.verbose {
                    eprintln!("round {round}: {name}: {}: {elapsed:?}", peer.name());
                }
                if round > 0 {
                    samples[w][p].push(elapsed);
                }
            }
        }
        eprintln!("round {round} of {} done", args.rounds);
    }
    std::fs::remove_dir_all(&dir).unwrap();

    for (stat, pick) in [
        ("median", median as fn(&mut [Duration]) -> Duration),
        ("fastest", fastest),
    ] {
        println!(
            "\n| workload ({} rounds, {stat}) | {} | {} | {} | tokio / tether | async-fs / tether |",
            args.rounds,
            PEERS[0].name(),
            PEERS[1].name(),
            PEERS[2].name()
        );
        println!("| --- | --- | --- | --- | --- | --- |");
        for (w, (name, _)) in workloads.iter().enumerate() {
            if !chosen(name) {
                continue;
            }
            let cells: Vec<Duration> = samples[w].iter_mut().map(|s| pick(s)).collect();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            println!(
                "| {name} | {:.1} ms | {:.1} ms | {:.1} ms | {:.2}x | {:.2}x |",
                ms(cells[0]),
                ms(cells[1]),
                ms(cells[2]),
                ms(cells[1]) / ms(cells[0]),
                ms(cells[2]) / ms(cells[0]),
            );
        }
    }
}
