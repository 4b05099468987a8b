//! The scenarios of `process.rs` with exits noticed through `SIGCHLD`, the path taken where
//! `pidfd_open` is missing (kernels before 5.3): every test of this binary switches it on
//! before it spawns anything.

#![cfg(unix)]

#[path = "process_scenarios/mod.rs"]
mod scenarios;

use scenarios::*;

// The `SIGCHLD` path is switched on before each runtime starts.
tether_tests::on_both_flavors!(
    #[cfg_attr(miri, ignore = "spawns processes")]
    with |builder| {
        tether::__private::process_force_sigchld(true);
        builder
    };
    spawn_wait_and_exit_codes,
    a_cancelled_wait_leaves_the_child_running,
    try_wait_kill_terminate_and_send_signal,
    output_writes_and_reads_more_than_a_pipe_holds,
    dropping_a_child_kills_and_reaps_it,
    a_child_dropped_in_another_task_is_reaped,
    a_graceful_cancel_is_passed_on_as_sigterm,
    a_plain_cancel_kills_the_child,
    terminate_gracefully_escalates_to_sigkill,
    run_checks_and_captures,
    many_children_at_once_are_each_noticed,
);

/// One `SIGCHLD` may stand for several exits (the kernel coalesces them): every waiter looks
/// at its own child each time.
async fn many_children_at_once_are_each_noticed() {
    let mut tasks = Vec::new();
    for i in 0..32 {
        tasks.push(tether::spawn(async move {
            let mut child = tether::process::Command::new("sh")
                .args(["-c", &format!("exit {}", i % 4)])
                .spawn()
                .unwrap();
            child.wait().await.unwrap().code()
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap(), Some(i as i32 % 4));
    }
}
