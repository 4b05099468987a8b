// The forms that keep a task owned, or drop it on purpose, compile inside checked code; and
// `let _ =` on anything that owns no task still does.

use std::time::Duration;

#[tether::owned]
async fn allowed() -> u32 {
    // A named binding lives to the end of its scope, the task with it.
    let _task = tether::create_task(async {});
    // Awaited: the caller owns it until it finishes.
    let one = tether::spawn(async { 1 }).await.unwrap();
    // Held by a set.
    let mut set = tether::TaskSet::new();
    set.create_task(async { 2 });
    let two = set.join_next().await.unwrap().unwrap();
    // Cancelled on purpose.
    let task = tether::create_task(tether::sleep(Duration::from_secs(3600)));
    drop(task);
    // `let _ = place;` moves nothing: the task stays owned by `kept`.
    let kept = tether::create_task(async { 3 });
    let _ = kept;
    let three = kept.await.unwrap();
    // Values that own no task.
    let _ = std::thread::spawn(|| {}).join();
    let _ = "4".parse::<u32>();
    let _ = (|| 5)();
    let _: Result<u32, _> = "6".parse();
    one + two + three
}

#[tether::owned]
impl Counter {
    fn bump(&mut self) -> u32 {
        let _ = std::mem::replace(&mut self.0, 1);
        self.0
    }
}

struct Counter(u32);

#[tether::main]
async fn main() {
    let _in_main = tether::create_task(async {});
    assert_eq!(allowed().await, 6);
    assert_eq!(Counter(0).bump(), 1);
}
