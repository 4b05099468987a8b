//! asyncio's queue example ("Queues", the worker pool): 20 random sleeps in a queue, three
//! workers taking them, `queue.join()` to wait until every one is done, then the workers are
//! cancelled.
//!
//! ```python
//! async def worker(name, queue):
//!     while True:
//!         sleep_for = await queue.get()
//!         await asyncio.sleep(sleep_for)
//!         queue.task_done()
//!         print(f'{name} has slept for {sleep_for:.2f} seconds')
//!
//! async def main():
//!     queue = asyncio.Queue()
//!     ...                      # put 20 random delays with put_nowait
//!     tasks = [asyncio.create_task(worker(f'worker-{i}', queue)) for i in range(3)]
//!     await queue.join()
//!     for task in tasks:
//!         task.cancel()
//!     await asyncio.gather(*tasks, return_exceptions=True)
//! ```
//!
//! In tether the workers belong to a `TaskSet`, and `shutdown().await` is asyncio's
//! "cancel each task, then gather them": when it returns, every worker's future is gone.
//!
//! Run it with `cargo run --example producer_consumer` (about 3.5 seconds).

use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tether::TaskSet;
use tether::queue::Queue;
use tether::time::Instant;

async fn worker(name: String, queue: Rc<Queue<Duration>>) {
    loop {
        let Ok(sleep_for) = queue.get().await else {
            return; // shut down: nothing more will come
        };
        tether::sleep(sleep_for).await;
        queue.task_done().expect("one task_done per item taken");
        println!(
            "{name} has slept for {:.2} seconds",
            sleep_for.as_secs_f64()
        );
    }
}

#[tether::main]
async fn main() {
    // Create a queue that we will use to store our "workload".
    let queue = Rc::new(Queue::unbounded());

    // Generate random timings and put them into the queue.
    let mut random = Random::seeded();
    let mut total_sleep_time = Duration::ZERO;
    for _ in 0..20 {
        let sleep_for = Duration::from_secs_f64(random.uniform(0.05, 1.0));
        total_sleep_time += sleep_for;
        queue
            .put_nowait(sleep_for)
            .expect("an unbounded queue is never full");
    }

    // Create three worker tasks to process the queue concurrently.
    let mut workers = TaskSet::new();
    for i in 0..3 {
        workers.create_task(worker(format!("worker-{i}"), queue.clone()));
    }

    // Wait until the queue is fully processed.
    let started_at = Instant::now();
    queue.join().await;
    let total_slept_for = started_at.elapsed();

    // Cancel our worker tasks, and wait until they are cancelled.
    workers.shutdown().await;

    println!("====");
    println!(
        "3 workers slept in parallel for {:.2} seconds",
        total_slept_for.as_secs_f64()
    );
    println!(
        "total expected sleep time: {:.2} seconds",
        total_sleep_time.as_secs_f64()
    );
}

/// Python's `random.uniform`, from a small xorshift generator seeded by the clock (the examples
/// take no dependency for randomness).
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Random(nanos | 1)
    }

    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let unit = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        low + (high - low) * unit
    }
}
