//! Running a test under seeded schedules: what `#[tether::test(shuffle)]` and
//! `#[tether::test(explore = N)]` expand to, and the seed and replay command a failure prints.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use super::Strategy;
use crate::runtime::Builder;
use crate::scheduler::event_loop::EventLoop;
use crate::util::rng::{SplitMix64, random_seed};

/// The environment variable that fixes the seed of shuffled tests (and replays a failure).
pub(crate) const SEED_VAR: &str = "TETHER_SEED";

/// The seed of the running loop's schedule, if it is not FIFO: for a test that wants to log it.
///
/// # Examples
///
/// ```
/// use tether::schedule::current_seed;
///
/// let runtime = tether::Runtime::builder().shuffle(99).build();
/// assert_eq!(runtime.run(async { current_seed() }), Some(99));
/// assert_eq!(tether::run(async { current_seed() }), None);
/// ```
pub fn current_seed() -> Option<u64> {
    EventLoop::with_current(|lp| lp.schedule_strategy().seed()).flatten()
}

/// What the test attribute asked for. Not public API: built by `#[tether::test]`'s expansion.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct TestPlan {
    /// `"random"` or `"pct"`.
    pub strategy: &'static str,
    /// How many seeds to try (1 for `shuffle` alone).
    pub runs: usize,
    /// `module_path!()::fn_name` of the test.
    pub path: &'static str,
}

/// How a test's return value says it failed. Not public API.
#[doc(hidden)]
pub trait TestOutcome {
    /// What went wrong, if the test failed without panicking.
    fn failure(&self) -> Option<String>;
}

impl TestOutcome for () {
    fn failure(&self) -> Option<String> {
        None
    }
}

impl<T, E: std::fmt::Debug> TestOutcome for Result<T, E> {
    fn failure(&self) -> Option<String> {
        self.as_ref().err().map(|error| format!("{error:?}"))
    }
}

/// Runs a test body under the seeds `plan` asks for; on the first failure prints the seed and
/// the replay command, then fails the same way the body did. Not public API.
#[doc(hidden)]
#[track_caller]
pub fn run_test<T, F>(builder: Builder, plan: TestPlan, body: impl Fn() -> F) -> T
where
    T: TestOutcome,
    F: Future<Output = T>,
{
    let strategy = match plan.strategy {
        "pct" => Strategy::pct(0),
        _ => Strategy::Random { seed: 0 },
    };
    let (first, runs) = match seed_from_env() {
        Some(seed) => (seed, 1),
        None => (random_seed(), plan.runs.max(1)),
    };
    let mut seeds = SplitMix64::new(first);
    let mut output = None;
    for run in 0..runs {
        let seed = if run == 0 { first } else { seeds.next_u64() };
        let strategy = strategy.with_seed(seed);
        let runtime = builder.clone().schedule(strategy).build();
        let result = catch_unwind(AssertUnwindSafe(|| runtime.run(body())));
        let failure = match &result {
            Ok(value) => value.failure(),
            Err(_) => Some(String::new()),
        };
        if failure.is_some() {
            report_failure(plan, strategy, seed, run, runs);
        }
        match result {
            Err(panic) => resume_unwind(panic),
            Ok(value) if failure.is_some() => return value,
            Ok(value) => output = Some(value),
        }
    }
    output.expect("at least one run")
}

fn report_failure(plan: TestPlan, strategy: Strategy, seed: u64, run: usize, runs: usize) {
    // libtest names a test by its path without the crate's name.
    let name = plan
        .path
        .split_once("::")
        .map_or(plan.path, |(_, rest)| rest);
    eprintln!(
        "tether: `{name}` failed under schedule seed {seed} ({strategy}, run {} of {runs})\n\
         tether: replay it with: {SEED_VAR}={seed} cargo test {name} -- --exact",
        run + 1
    );
}

/// `TETHER_SEED`, if set.
///
/// # Panics
///
/// If it is set but not a number: a typo there must not silently run other seeds.
fn seed_from_env() -> Option<u64> {
    let value = std::env::var(SEED_VAR).ok()?;
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    Some(value.parse().unwrap_or_else(|_| {
        panic!(
            "{SEED_VAR}={value:?} is not a seed: give the unsigned integer a failed test printed"
        )
    }))
}
