use std::time::Duration;

async fn total(values: &[u32], delay_ms: u64) -> u32 {
    tether::sleep(Duration::from_millis(delay_ms)).await;
    values.iter().sum()
}

async fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    tether::yield_now().await;
    text.parse()
}

#[tether::main(start_paused)]
async fn main() {
    let values = vec![1, 2, 3];
    let mut log = String::new();

    // Borrowed futures, mutable borrows of distinct locals, a 1-tuple and IntoFuture (a Task).
    let (a, b, ()) = tether::gather!(total(&values, 20), total(&values[1..], 10), async {
        log.push_str("done");
    });
    assert_eq!((a, b), (6, 5));
    assert_eq!(log, "done");

    let (only,) = tether::gather!(total(&values, 1),);
    assert_eq!(only, 6);

    let task = tether::create_task(async { 7 });
    let (from_task, plain) = tether::gather!(task, async { 8 });
    assert_eq!((from_task.unwrap(), plain), (7, 8));

    // Fail fast.
    assert_eq!(tether::gather!(try parse("1"), parse("2")), Ok((1, 2)));
    assert!(tether::gather!(try parse("1"), parse("x")).is_err());
}
