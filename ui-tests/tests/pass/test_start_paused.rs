// trybuild builds pass cases as binaries, where `#[test]` functions are compiled out: this case
// checks that the options parse. `tests/entry.rs` runs such tests for real.

#[tether::test(start_paused)]
async fn an_hour_in_no_time() {
    use std::time::Duration;
    use tether::time::Instant;

    let start = Instant::now();
    tether::sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
}

#[tether::test(start_paused, crate = "::tether")]
async fn returns_result() -> Result<(), String> {
    tether::sleep(std::time::Duration::from_secs(1)).await;
    Ok(())
}

fn main() {}
