//! `#[tether::test(explore = N)]` finds the booking example's order-dependent bug, prints a
//! seed and a replay command, and that command fails the same way.
//!
//! The exploring test is `#[ignore]`d (it fails, as it should); the checks below run it as a
//! child process of this test binary, read what it printed, and run the replay.

use std::process::{Command, Output};

use tether_examples::booking::sell_last_seat;

/// The bug under seeded schedules: fails (oversells) under some seeds.
#[tether::test(explore = 200, start_paused)]
#[ignore = "fails on purpose: run by `explore_reports_a_seed_that_replays`"]
async fn oversell_explored() {
    let sold = sell_last_seat().await;
    assert!(sold <= 1, "oversold: {sold} tickets for 1 seat");
}

/// The same bug under PCT's priorities.
#[tether::test(explore = 200, shuffle = "pct", start_paused)]
#[ignore = "fails on purpose: run by `pct_finds_it_too`"]
async fn oversell_explored_pct() {
    let sold = sell_last_seat().await;
    assert!(sold <= 1, "oversold: {sold} tickets for 1 seat");
}

/// FIFO order never shows the bug.
#[tether::test(start_paused)]
async fn fifo_order_never_oversells() {
    for _ in 0..20 {
        assert_eq!(sell_last_seat().await, 1);
    }
}

/// Runs the ignored test `name` of this binary, with `TETHER_SEED` set to `seed` (or unset).
fn run_ignored(name: &str, seed: Option<&str>) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("own path"));
    command.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    match seed {
        Some(seed) => command.env("TETHER_SEED", seed),
        None => command.env_remove("TETHER_SEED"),
    };
    command.output().expect("the test binary runs")
}

/// The seed in `tether: replay it with: TETHER_SEED=<seed> cargo test <name> -- --exact`.
fn replay_seed(stderr: &str, name: &str) -> String {
    let line = stderr
        .lines()
        .find(|line| line.starts_with("tether: replay it with: TETHER_SEED="))
        .unwrap_or_else(|| panic!("no replay line in:\n{stderr}"));
    let command = line.trim_start_matches("tether: replay it with: ");
    let (assignment, rest) = command
        .split_once(' ')
        .expect("TETHER_SEED=<seed> cargo ...");
    assert_eq!(rest, format!("cargo test {name} -- --exact"), "{line}");
    assignment
        .trim_start_matches("TETHER_SEED=")
        .parse::<u64>()
        .unwrap_or_else(|_| panic!("not a seed: {line}"))
        .to_string()
}

fn explore_then_replay(name: &str) {
    let explored = run_ignored(name, None);
    let stderr = String::from_utf8_lossy(&explored.stderr);
    assert!(
        !explored.status.success(),
        "exploring found nothing:\n{stderr}"
    );
    assert!(
        stderr.contains("oversold: 2 tickets for 1 seat"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("tether: `{name}` failed under schedule seed ")),
        "{stderr}"
    );
    let seed = replay_seed(&stderr, name);

    // The replay runs that one seed, and fails the same way, every time.
    for _ in 0..3 {
        let replayed = run_ignored(name, Some(&seed));
        let replay_err = String::from_utf8_lossy(&replayed.stderr);
        assert!(
            !replayed.status.success(),
            "the replay passed:\n{replay_err}"
        );
        assert!(
            replay_err.contains("oversold: 2 tickets for 1 seat"),
            "{replay_err}"
        );
        assert!(
            replay_err.contains(&format!("failed under schedule seed {seed} (")),
            "{replay_err}"
        );
        assert!(replay_err.contains("run 1 of 1)"), "{replay_err}");
    }
}

#[test]
fn explore_reports_a_seed_that_replays() {
    explore_then_replay("oversell_explored");
}

#[test]
fn pct_finds_it_too() {
    explore_then_replay("oversell_explored_pct");
}
