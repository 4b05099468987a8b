//! The cross-thread wake path: wakers fired from other threads reach the loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use futures::channel::oneshot;

#[test]
fn a_waker_fired_from_a_second_thread_wakes_the_loop() {
    let real = std::time::Instant::now();
    let value = tether::run(async {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            tx.send(99).unwrap();
        });
        let task = tether::create_task(async move { rx.await.unwrap() });
        let value = task.await.unwrap();
        sender.join().unwrap();
        value
    });
    assert_eq!(value, 99);
    assert!(real.elapsed() < Duration::from_secs(5));
}

#[test]
fn many_threads_waking_many_tasks() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 250;
    let received = Arc::new(AtomicUsize::new(0));
    tether::run(async {
        let mut tasks = Vec::new();
        let mut senders = Vec::new();
        for _ in 0..THREADS {
            let mut txs = Vec::new();
            for _ in 0..PER_THREAD {
                let (tx, rx) = oneshot::channel::<usize>();
                txs.push(tx);
                let received = received.clone();
                tasks.push(tether::create_task(async move {
                    let n = rx.await.unwrap();
                    received.fetch_add(n, Ordering::Relaxed);
                }));
            }
            senders.push(thread::spawn(move || {
                for tx in txs {
                    tx.send(1).unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        for sender in senders {
            sender.join().unwrap();
        }
    });
    assert_eq!(received.load(Ordering::Relaxed), THREADS * PER_THREAD);
}

#[test]
// The task is handed out of `run` un-awaited on purpose: its waker outlives the loop.
#[allow(clippy::async_yields_async)]
fn a_waker_fired_after_the_loop_ended_is_harmless() {
    let (tx, rx) = oneshot::channel::<()>();
    let task = tether::run(async move {
        let task = tether::create_task(async move {
            let _ = rx.await;
        });
        tether::yield_now().await;
        task
    });
    // The task's future was dropped at shutdown; this send wakes nothing and must not crash.
    thread::spawn(move || {
        let _ = tx.send(());
    })
    .join()
    .unwrap();
    assert!(tether::run(task).unwrap_err().is_cancelled());
}
