//! What each task waits for, and what a deadlock looks like.
//!
//! Two tasks take two named locks in opposite orders. With `track_waits`, `dump_tasks` shows
//! what each one awaits and who holds each lock; with `detect_deadlocks` (which every
//! `#[tether::test]` turns on), the run fails with the wait-for report and its cycle instead of
//! hanging forever.

use tether::Runtime;
use tether_examples::ledger::transfer_and_audit;

fn main() {
    // A look at the stuck tasks from inside (the watchdog gives up after a while).
    let runtime = Runtime::builder()
        .track_waits(true)
        .start_paused(true)
        .build();
    runtime.run(async {
        let stuck = tether::create_task(transfer_and_audit());
        tether::sleep(std::time::Duration::from_secs(1)).await;
        print!("{}", tether::dump_tasks());
        drop(stuck);
    });

    // The same deadlock, reported instead of hanging.
    let runtime = Runtime::builder().detect_deadlocks(true).build();
    std::panic::set_hook(Box::new(|_| {})); // the report is printed below, once
    let report = std::panic::catch_unwind(|| runtime.run(transfer_and_audit())).unwrap_err();
    print!("{}", report.downcast_ref::<String>().expect("a report"));
}
