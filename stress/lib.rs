//! Shared helpers for tether's stress tests (under `tests/`).
//!
//! - [`XorShift`]: a small seeded PRNG, so that a failing run can be replayed from its seed.
//! - [`Seed`]: picks the seed (`TETHER_STRESS_SEED`) and prints it if the test fails.
//! - [`count`]: scales a test's counts by `TETHER_STRESS_SCALE` (for valgrind) and shrinks them
//!   under Miri.
//! - [`Tally`]: counts guards created and dropped, so a test can prove every destructor ran
//!   exactly once, and on which thread.
//! - [`quiet_panics`]: silences the panics a test raises on purpose (their message starts with
//!   [`INTENDED`]), so a million of them do not flood the output; every other panic still prints.
//! - [`isolated`]: runs a scenario in a child process, for faults that may abort the process
//!   (async-task aborts when some destructors or wakers panic) or whose stderr is the evidence.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::thread::{self, ThreadId};

/// The prefix of every panic message a stress test raises on purpose.
pub const INTENDED: &str = "stress: ";

/// xorshift64* (Vigna): tiny, fast and good enough to pick actions; never cryptographic.
#[derive(Debug, Clone)]
pub struct XorShift {
    state: u64,
}

impl XorShift {
    /// A generator seeded with `seed` (0 is replaced: xorshift must not start at zero).
    pub fn new(seed: u64) -> XorShift {
        XorShift {
            state: if seed == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                seed
            },
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no value to return");
        // The high bits are the best ones of xorshift*; the bias of a plain modulo is negligible
        // for the small ranges used here.
        (self.next_u64() >> 11) % n
    }

    /// `true` with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// A generator for a sub-task, derived from this one.
    pub fn fork(&mut self) -> XorShift {
        XorShift::new(self.next_u64())
    }
}

/// The seed of one test run. Printed (with the variable that replays it) if the test panics.
///
/// `TETHER_STRESS_SEED` chooses it: a number (decimal or `0x` hex), or `random` for a seed taken
/// from the clock. Without it, each test uses its own fixed default, so CI runs are repeatable.
#[derive(Debug)]
pub struct Seed {
    value: u64,
    test: &'static str,
}

impl Seed {
    /// The seed for `test`, with `default` when `TETHER_STRESS_SEED` is not set.
    pub fn new(test: &'static str, default: u64) -> Seed {
        let value = match std::env::var("TETHER_STRESS_SEED") {
            Ok(text) if text == "random" => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(default, |d| d.as_nanos() as u64),
            Ok(text) => parse_seed(&text)
                .unwrap_or_else(|| panic!("TETHER_STRESS_SEED={text:?} is not a number")),
            Err(_) => default,
        };
        Seed { value, test }
    }

    /// The seed.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// A generator seeded with it.
    pub fn rng(&self) -> XorShift {
        XorShift::new(self.value)
    }
}

impl Drop for Seed {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "{} failed with seed {:#x}; replay it with TETHER_STRESS_SEED={:#x}",
                self.test, self.value, self.value
            );
        }
    }
}

fn parse_seed(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// The multiplier `TETHER_STRESS_SCALE` sets for every count (default 1; `0.01` for valgrind).
pub fn scale() -> f64 {
    match std::env::var("TETHER_STRESS_SCALE") {
        Ok(text) => text
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or_else(|| panic!("TETHER_STRESS_SCALE={text:?} is not a positive number")),
        Err(_) => 1.0,
    }
}

/// `full` scaled by [`scale`] (at least 1), or `miri` under Miri, where every step is slow.
pub fn count(full: usize, miri: usize) -> usize {
    if cfg!(miri) {
        miri
    } else {
        ((full as f64 * scale()).round() as usize).max(1)
    }
}

/// Counts guards created and dropped.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    inner: Arc<TallyInner>,
}

#[derive(Debug, Default)]
struct TallyInner {
    created: AtomicUsize,
    dropped: AtomicUsize,
    /// Guards dropped on another thread than the one that made them.
    foreign: AtomicUsize,
}

/// What a live guard's canary holds; a dropped one holds [`DEAD`]. A second drop of the same
/// memory (a double free in the runtime) trips the assertion in `Drop` rather than counting twice.
const LIVE: u64 = 0x1177_E5A1_1A7E_0001;
const DEAD: u64 = 0xDEAD_DEAD_DEAD_DEAD;

impl Tally {
    /// A new tally at zero.
    pub fn new() -> Tally {
        Tally::default()
    }

    /// A value whose creation and drop are counted.
    pub fn guard(&self) -> Guard {
        self.inner.created.fetch_add(1, Ordering::Relaxed);
        Guard {
            canary: LIVE,
            home: thread::current().id(),
            tally: self.inner.clone(),
        }
    }

    /// Guards created so far.
    pub fn created(&self) -> usize {
        self.inner.created.load(Ordering::Acquire)
    }

    /// Guards dropped so far.
    pub fn dropped(&self) -> usize {
        self.inner.dropped.load(Ordering::Acquire)
    }

    /// Guards created and not dropped yet.
    pub fn alive(&self) -> usize {
        self.created() - self.dropped()
    }

    /// Guards dropped on another thread than the one that made them.
    pub fn dropped_elsewhere(&self) -> usize {
        self.inner.foreign.load(Ordering::Acquire)
    }

    /// Panics unless every guard made so far has been dropped, on the thread that made it.
    #[track_caller]
    pub fn assert_all_dropped(&self, what: &str) {
        let (created, dropped) = (self.created(), self.dropped());
        assert_eq!(
            created, dropped,
            "{what}: {created} guards created, {dropped} dropped"
        );
        assert_eq!(
            self.dropped_elsewhere(),
            0,
            "{what}: guards dropped on a thread other than the loop's"
        );
    }
}

/// Counts one creation (when made) and one drop on its [`Tally`].
#[derive(Debug)]
pub struct Guard {
    canary: u64,
    home: ThreadId,
    tally: Arc<TallyInner>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        assert_eq!(
            self.canary, LIVE,
            "a guard was dropped twice, or its memory was overwritten"
        );
        self.canary = DEAD;
        if thread::current().id() != self.home {
            self.tally.foreign.fetch_add(1, Ordering::Relaxed);
        }
        self.tally.dropped.fetch_add(1, Ordering::Release);
    }
}

/// Panics with `message` when dropped: a destructor that fails.
#[derive(Debug)]
pub struct PanicOnDrop(pub &'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

/// Installs (once per process) a panic hook that stays silent for panics whose message starts
/// with [`INTENDED`] and reports every other panic as the default hook does.
pub fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let intended = info
                .payload_as_str()
                .is_some_and(|message| message.starts_with(INTENDED));
            if !intended {
                default(info);
            }
        }));
    });
}

/// The environment variable that tells a child process which scenario to run.
const CHILD: &str = "TETHER_STRESS_CHILD";

/// What a scenario run by [`isolated`] did.
#[derive(Debug)]
pub struct Isolated {
    /// How the child process ended (`success()` is false after an abort or a panic).
    pub status: std::process::ExitStatus,
    /// Everything the child wrote to stderr: tether's reports of caught panics land here.
    pub stderr: String,
}

impl Isolated {
    /// A one-line description of how the child ended, for assertion messages.
    pub fn describe(&self) -> String {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(signal) = self.status.signal() {
                return format!("killed by signal {signal} (6 is SIGABRT: the process aborted)");
            }
        }
        format!("{}", self.status)
    }
}

/// Runs `scenario` in a child process: the test binary itself, re-run with `--exact test`.
///
/// `test` must be the name of the `#[test]` function calling this. In the child, `scenario` runs
/// and `None` is returned (the test then simply returns); in the parent, the child's exit status
/// and stderr come back. Under Miri, which cannot spawn processes, `scenario` runs in-process and
/// `None` is returned.
pub fn isolated(test: &str, scenario: impl FnOnce()) -> Option<Isolated> {
    if cfg!(miri) || std::env::var(CHILD).is_ok_and(|child| child == test) {
        scenario();
        return None;
    }
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    let output = std::process::Command::new(exe)
        .args([
            test,
            "--exact",
            "--nocapture",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env(CHILD, test)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the test binary can be re-run as a child process");
    Some(Isolated {
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift_is_deterministic_and_spreads() {
        let (mut a, mut b) = (XorShift::new(7), XorShift::new(7));
        let draws: Vec<u64> = (0..1000).map(|_| a.below(10)).collect();
        assert!(
            draws
                .iter()
                .zip((0..1000).map(|_| b.below(10)))
                .all(|(x, y)| *x == y)
        );
        for digit in 0..10 {
            let hits = draws.iter().filter(|d| **d == digit).count();
            assert!(
                (50..150).contains(&hits),
                "{digit} drawn {hits} times in 1000"
            );
        }
    }

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Some(42));
        assert_eq!(parse_seed("0x2a"), Some(42));
        assert_eq!(parse_seed("x"), None);
    }

    #[test]
    fn a_tally_counts_guards() {
        let tally = Tally::new();
        let guards: Vec<Guard> = (0..3).map(|_| tally.guard()).collect();
        assert_eq!((tally.created(), tally.alive()), (3, 3));
        drop(guards);
        tally.assert_all_dropped("three guards");
    }
}
