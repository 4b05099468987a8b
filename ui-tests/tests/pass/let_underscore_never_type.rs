// Serve until the deadline, then go on: a common server pattern. The async block never
// returns, so its output type is the never type's fallback, which owns no task.

use std::time::Duration;

#[tether::main(start_paused)]
async fn main() {
    let start = tether::time::Instant::now();
    let _ = tether::timeout(Duration::from_secs(10), async {
        loop {
            tether::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}
