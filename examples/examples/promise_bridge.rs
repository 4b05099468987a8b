//! A callback-based API bridged into async code with a `Promise`: asyncio's
//! `loop.create_future()` plus `call_soon_threadsafe(fut.set_result, value)`.
//!
//! `Timer` stands for any library that reports completion through a callback on its own
//! thread. Its callback resolves a promise; async code awaits the promise.

use std::thread;
use std::time::Duration;

use tether::{Promise, PromiseError};

/// A simulated callback API: runs `callback` on a timer thread after `delay`.
struct Timer;

impl Timer {
    fn start(delay: Duration, callback: impl FnOnce(Duration) + Send + 'static) {
        thread::spawn(move || {
            thread::sleep(delay);
            callback(delay);
        });
    }
}

/// The async face of the callback API.
async fn wait_for_timer(delay: Duration) -> Result<Duration, PromiseError<String>> {
    let promise = Promise::new();
    let resolver = promise.resolver();
    Timer::start(delay, move |fired_after| {
        resolver.set_result(fired_after).ok();
    });
    promise.await
}

#[tether::main]
async fn main() {
    let (a, b) = tether::gather!(
        wait_for_timer(Duration::from_millis(200)),
        wait_for_timer(Duration::from_millis(100)),
    );
    println!("timers fired after {:?} and {:?}", a.unwrap(), b.unwrap());

    // A resolver dropped without a result: Rust can tell the awaiting side.
    let promise: Promise<u32, String> = Promise::new();
    drop(promise.resolver());
    match promise.await {
        Err(PromiseError::Abandoned) => println!("the callback never came: promise abandoned"),
        other => println!("unexpected: {other:?}"),
    }
}
