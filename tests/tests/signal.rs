//! Ctrl-C and Unix signals, delivered by `kill` to this test's own process.
//!
//! Every test installs its signal's handler (by making a listener) before anything sends the
//! signal, so no signal reaches its default action; the handlers then stay for the process.

#![cfg(unix)]

use std::time::Duration;

use tether::signal::unix::signal;

const DEADLINE: Duration = Duration::from_secs(10);

fn kill_self(signum: i32) {
    // SAFETY: sends a signal to this process; the caller installed its handler.
    let sent = unsafe { libc::kill(libc::getpid(), signum) };
    assert_eq!(sent, 0);
}

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot install signal handlers")]
async fn ctrl_c_is_delivered_by_kill() {
    let mut ctrl_c = std::pin::pin!(tether::signal::ctrl_c());
    // The first poll installs the handler; nothing has come yet.
    assert!(futures::poll!(ctrl_c.as_mut()).is_pending());
    kill_self(libc::SIGINT);
    tether::timeout(DEADLINE, ctrl_c)
        .await
        .expect("Ctrl-C arrived in time")
        .unwrap();
}

async fn a_signal_from_another_thread_wakes_the_loop_in_its_poller() {
    let mut usr1 = signal(libc::SIGUSR1).unwrap();
    // The loop has nothing else to do: it blocks in its poller until the signal's byte.
    let thread = std::thread::spawn(|| kill_self(libc::SIGUSR1));
    let got = tether::timeout(DEADLINE, usr1.recv()).await;
    assert_eq!(got, Ok(Some(())));
    thread.join().unwrap();
}

async fn each_delivery_is_reported_after_the_last_recv() {
    let mut usr2 = signal(libc::SIGUSR2).unwrap();
    for _ in 0..3 {
        kill_self(libc::SIGUSR2);
        let got = tether::timeout(DEADLINE, usr2.recv()).await;
        assert_eq!(got, Ok(Some(())));
    }
    // Nothing more was sent (by this test; a parallel one may send its own).
}

#[cfg(not(miri))]
tether_tests::on_both_flavors!(
    a_signal_from_another_thread_wakes_the_loop_in_its_poller,
    each_delivery_is_reported_after_the_last_recv,
);

#[tether::test]
#[cfg_attr(miri, ignore = "Miri cannot install signal handlers")]
async fn signals_that_cannot_be_caught_are_refused() {
    for signum in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, 1000] {
        let error = signal(signum).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{signum}");
        assert!(
            error.to_string().contains("cannot be listened for"),
            "{error}"
        );
    }
}
