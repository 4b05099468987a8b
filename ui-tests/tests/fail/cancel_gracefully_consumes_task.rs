// Two-phase cancellation takes the task: its outcome comes back from `cancel_gracefully`, so
// the handle cannot be awaited (or asked again) afterwards.
use std::time::Duration;

fn main() {
    tether::run(async {
        let task = tether::create_task(async { 1 });
        let outcome = task.cancel_gracefully(Duration::from_secs(1)).await;
        let again = task.await;
        let _ = (outcome, again);
    });
}
