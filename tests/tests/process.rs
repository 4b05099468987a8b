//! `tether::process`: spawning, waiting, pipes, signals, ownership (a dropped `Child` kills
//! and reaps its process), graceful cancellation passed on as `SIGTERM`, `run`, and what
//! `dump_tasks` shows, on both flavors. Exits reach the loop through pidfds here;
//! `process_sigchld.rs` runs the same scenarios on the `SIGCHLD` path, and
//! `process_zombies.rs` counts zombies and fds after thousands of children.

#![cfg(unix)]

#[path = "process_scenarios/mod.rs"]
mod scenarios;

use std::time::Duration;

use scenarios::*;
use tether::process::Command;

#[cfg(not(miri))]
tether_tests::on_both_flavors!(
    spawn_wait_and_exit_codes,
    a_cancelled_wait_leaves_the_child_running,
    try_wait_kill_terminate_and_send_signal,
    output_writes_and_reads_more_than_a_pipe_holds,
    command_output_status_env_dir_and_group,
    a_missing_program_is_not_found_by_name,
    a_child_that_closes_stdin_gives_broken_pipe,
    dropping_a_child_kills_and_reaps_it,
    a_child_dropped_in_another_task_is_reaped,
    a_graceful_cancel_is_passed_on_as_sigterm,
    a_group_shutdown_is_passed_on_as_sigterm,
    a_plain_cancel_kills_the_child,
    terminate_gracefully_escalates_to_sigkill,
    run_checks_and_captures,
    pipes_stream_through_futures_io,
);

#[test]
#[cfg_attr(miri, ignore = "spawns processes")]
fn a_child_that_outlives_its_loop_is_killed_and_reaped_when_dropped() {
    let child = tether::run(async { Command::new("sleep").arg("10").spawn().unwrap() });
    let pid = child.id();
    assert!(is_running_or_zombie(pid));
    drop(child);
    // Outside a loop the drop reaps at once (after SIGKILL): the pid is gone already.
    assert!(!is_running_or_zombie(pid));
}

#[test]
#[cfg_attr(miri, ignore = "spawns processes")]
fn awaiting_a_child_after_its_loop_is_an_error() {
    let mut child = tether::run(async { Command::new("sleep").arg("10").spawn().unwrap() });
    let error = tether::run(async { child.wait().await.unwrap_err() });
    assert!(error.to_string().contains("has finished"), "{error}");
}

#[test]
#[cfg_attr(miri, ignore = "spawns processes")]
fn children_dropped_as_the_loop_ends_are_reaped() {
    let pids = tether::run(async {
        let mut pids = Vec::new();
        let mut holders = Vec::new();
        for _ in 0..8 {
            let child = Command::new("sleep").arg("10").spawn().unwrap();
            pids.push(child.id());
            // Tasks still holding their children when the loop ends: shutdown drops them.
            holders.push(tether::create_task(async move {
                let mut child = child;
                child.wait().await
            }));
        }
        tether::yield_now().await;
        std::mem::forget(holders);
        pids
    });
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/cmdline"));
        assert!(
            !is_running_or_zombie(pid),
            "{pid} left behind: {stat:?}, {} orphans",
            tether::__private::process_orphans()
        );
    }
}

#[test]
#[cfg_attr(miri, ignore = "spawns processes")]
fn spawning_outside_a_loop_is_an_error() {
    let error = Command::new("true").spawn().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("needs a running tether event loop"),
        "{error}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "spawns processes")]
fn dump_tasks_shows_the_awaited_process() {
    let runtime = tether::Runtime::builder().track_waits(true).build();
    runtime.run(async {
        let mut child = Command::new("sleep").arg("10").spawn().unwrap();
        let pid = child.id();
        let waiter = tether::task::Builder::new()
            .name("waiter")
            .create_task(async move { child.wait().await });
        tether::sleep(Duration::from_millis(20)).await;
        let info = tether::all_tasks()
            .into_iter()
            .find(|task| task.name == "waiter")
            .unwrap();
        let Some(tether::task::Awaiting::Process { pid: seen, command }) = info.awaiting else {
            panic!("{:?}", info.awaiting);
        };
        assert_eq!((seen, command.as_str()), (pid, "sleep 10"));
        let tree = tether::dump_tasks();
        assert!(
            tree.contains(&format!("awaiting process {pid} `sleep 10`")),
            "{tree}"
        );
        drop(waiter);
    });
}
