//! `tether::queue`: FIFO/priority/LIFO order, bounded blocking both ways, task_done/join,
//! fairness, cancellation, threads.

use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures::poll;
use tether::TaskSet;
use tether::queue::{LifoQueue, PriorityQueue, Queue, QueueShutDown, TryGetError, TryPutError};
use tether::time::Instant;
use tether_tests::Log;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tether::test(start_paused)]
async fn producers_and_consumers() {
    let queue = Queue::new(4);
    let consumed = Cell::new(0);
    tether::task_group!(|tg| {
        let mut producers = Vec::new();
        for p in 0..3 {
            let queue = &queue;
            producers.push(tg.create_task(async move {
                for i in 0..20 {
                    queue.put((p, i)).await.unwrap();
                    if i % 5 == 0 {
                        tether::sleep(ms(1)).await;
                    }
                }
            }));
        }
        for _ in 0..2 {
            let (queue, consumed) = (&queue, &consumed);
            tg.create_task(async move {
                let mut last = [None; 3];
                while let Ok((p, i)) = queue.get().await {
                    // Each producer's items come out in the order it put them.
                    assert!(last[p].is_none_or(|prev| prev < i));
                    last[p] = Some(i);
                    assert!(queue.qsize() <= 4);
                    consumed.set(consumed.get() + 1);
                    queue.task_done().unwrap();
                }
            });
        }
        for producer in producers {
            producer.await.unwrap();
        }
        // Everything is put: once it is all processed, the consumers can stop.
        queue.join().await;
        queue.shutdown(false);
    })
    .unwrap();
    assert_eq!(consumed.get(), 60);
}

#[tether::test(start_paused)]
async fn a_full_queue_blocks_put_until_a_get() {
    let queue = Queue::new(1);
    queue.put("a").await.unwrap();
    assert!(queue.full());
    let start = Instant::now();
    tether::task_group!(|tg| {
        let put = tg.create_task(async {
            queue.put("b").await.unwrap();
            start.elapsed()
        });
        tether::sleep(ms(50)).await;
        assert_eq!(queue.qsize(), 1);
        assert_eq!(queue.get().await, Ok("a"));
        assert_eq!(put.await.unwrap(), ms(50));
        assert_eq!(queue.get_nowait(), Ok("b"));
    })
    .unwrap();
}

#[tether::test(start_paused)]
async fn an_empty_queue_blocks_get_until_a_put() {
    let queue = Queue::unbounded();
    let start = Instant::now();
    tether::task_group!(|tg| {
        let get = tg.create_task(async { (queue.get().await.unwrap(), start.elapsed()) });
        tether::sleep(ms(20)).await;
        queue.put_nowait(7).unwrap();
        assert_eq!(get.await.unwrap(), (7, ms(20)));
    })
    .unwrap();
}

#[tether::test]
async fn nowait_errors_say_what_happened() {
    let queue = Queue::new(1);
    let empty = queue.get_nowait().unwrap_err();
    assert_eq!(empty, TryGetError::Empty);
    assert!(empty.to_string().contains("get().await"), "{empty}");
    queue.put_nowait(String::from("x")).unwrap();
    let full = queue.put_nowait(String::from("y")).unwrap_err();
    assert!(full.to_string().contains("put().await"), "{full}");
    assert_eq!(format!("{full:?}"), "Full(..)");
    assert_eq!(full.into_inner(), "y");
    assert_eq!(queue.maxsize(), 1);
    assert!(!queue.empty());
}

#[tether::test(start_paused)]
async fn join_waits_for_every_task_done() {
    let queue = Queue::unbounded();
    for i in 1..=3 {
        queue.put_nowait(i).unwrap();
    }
    let start = Instant::now();
    tether::task_group!(|tg| {
        tg.create_task(async {
            while let Ok(i) = queue.get_nowait() {
                tether::sleep(ms(10 * i)).await;
                queue.task_done().unwrap();
            }
        });
        queue.join().await;
        assert_eq!(start.elapsed(), ms(60));
    })
    .unwrap();
    queue.join().await; // nothing pending: at once
    let err = queue.task_done().unwrap_err();
    assert!(err.to_string().contains("more times than items"), "{err}");
}

#[tether::test]
async fn priority_queue_gives_the_smallest_first() {
    let queue = PriorityQueue::new(0);
    for item in [5, 1, 4, 2, 3] {
        queue.put(item).await.unwrap();
    }
    let mut out = Vec::new();
    while let Ok(item) = queue.get_nowait() {
        out.push(item);
    }
    assert_eq!(out, [1, 2, 3, 4, 5]);
}

#[tether::test]
async fn a_waiting_getter_of_a_priority_queue_takes_the_smallest_at_its_turn() {
    let queue = PriorityQueue::unbounded();
    let mut get = pin!(queue.get());
    assert!(poll!(get.as_mut()).is_pending());
    queue.put_nowait((5, "late")).unwrap(); // the getter is promised an item ...
    queue.put_nowait((1, "urgent")).unwrap(); // ... and takes the smallest when it runs
    assert_eq!(get.await, Ok((1, "urgent")));
    assert_eq!(queue.get_nowait(), Ok((5, "late")));
}

#[tether::test]
async fn lifo_queue_gives_the_newest_first() {
    let queue = LifoQueue::new(3);
    for item in ["a", "b", "c"] {
        queue.put(item).await.unwrap();
    }
    assert!(queue.full());
    assert_eq!(queue.get().await, Ok("c"));
    queue.put_nowait("d").unwrap();
    let rest: Vec<_> = std::iter::from_fn(|| queue.get_nowait().ok()).collect();
    assert_eq!(rest, ["d", "b", "a"]);
}

#[tether::test]
async fn getters_are_served_in_arrival_order() {
    let queue = Queue::unbounded();
    let log = Log::new();
    tether::task_group!(|tg| {
        for name in ["a", "b", "c"] {
            let (queue, log) = (&queue, log.clone());
            tg.create_task(async move {
                let item = queue.get().await.unwrap();
                log.push(format!("{name}{item}"));
            });
        }
        tether::yield_now().await;
        for i in 1..=3 {
            queue.put_nowait(i).unwrap();
        }
    })
    .unwrap();
    assert_eq!(log.events(), ["a1", "b2", "c3"]);
}

#[tether::test]
async fn putters_are_served_in_arrival_order_and_nobody_cuts_in() {
    let queue = Queue::new(1);
    queue.put_nowait(0).unwrap();
    tether::task_group!(|tg| {
        for i in 1..=3 {
            let queue = &queue;
            tg.create_task(async move { queue.put(i).await.unwrap() });
        }
        tether::yield_now().await;
        assert_eq!(queue.get_nowait(), Ok(0));
        // Room was promised to the first waiting putter: put_nowait may not take it.
        assert!(matches!(queue.put_nowait(99), Err(TryPutError::Full(99))));
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(queue.get().await.unwrap());
        }
        assert_eq!(got, [1, 2, 3]);
    })
    .unwrap();
}

#[tether::test]
async fn a_getter_promised_an_item_then_dropped_loses_nothing() {
    let queue = Queue::unbounded();
    let mut a = Box::pin(queue.get());
    let mut b = pin!(queue.get());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    queue.put_nowait("item").unwrap(); // promised to a
    assert_eq!(
        queue.get_nowait(),
        Err(TryGetError::Empty),
        "a's, not up for grabs"
    );
    drop(a); // a never ran: the promise goes to b
    assert_eq!(b.await, Ok("item"));
    assert!(queue.empty());
}

#[tether::test]
async fn a_dropped_getter_with_nobody_behind_leaves_the_item_in_the_queue() {
    let queue = Queue::unbounded();
    let mut a = Box::pin(queue.get());
    assert!(poll!(a.as_mut()).is_pending());
    queue.put_nowait(1).unwrap();
    drop(a);
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.get_nowait(), Ok(1));
}

#[tether::test]
async fn a_cancelled_consumer_task_woken_with_an_item_loses_nothing() {
    let queue = Rc::new(Queue::unbounded());
    let log = Log::new();
    let spawn = |name: &'static str| {
        let (queue, log) = (queue.clone(), log.clone());
        tether::create_task(async move {
            let item = queue.get().await.unwrap();
            log.push(format!("{name} got {item}"));
        })
    };
    let (a, b) = (spawn("a"), spawn("b"));
    tether::yield_now().await;
    queue.put_nowait(1).unwrap();
    a.cancel();
    assert!(a.await.unwrap_err().is_cancelled());
    b.await.unwrap();
    assert_eq!(log.events(), ["b got 1"]);
}

#[tether::test]
async fn a_dropped_waiting_put_never_inserts_its_item() {
    let queue = Queue::new(1);
    queue.put_nowait("first").unwrap();
    let mut put = Box::pin(queue.put("dropped"));
    assert!(poll!(put.as_mut()).is_pending());
    drop(put);
    assert_eq!(queue.get_nowait(), Ok("first"));
    assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
}

#[tether::test]
async fn a_putter_promised_room_then_dropped_passes_the_room_on() {
    let queue = Queue::new(1);
    queue.put_nowait(0).unwrap();
    let mut a = Box::pin(queue.put(1));
    let mut b = pin!(queue.put(2));
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    assert_eq!(queue.get_nowait(), Ok(0)); // room promised to a
    assert!(queue.full(), "the promised room counts");
    drop(a); // never ran: its item was never inserted, the room goes to b
    b.await.unwrap();
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.get_nowait(), Ok(2));
    assert!(queue.empty());
}

#[tether::test(start_paused)]
async fn task_set_workers_share_a_queue() {
    let queue = Rc::new(Queue::new(2));
    let mut workers = TaskSet::new();
    for _ in 0..3 {
        let queue = queue.clone();
        workers.create_task(async move {
            let mut sum = 0;
            while let Ok(n) = queue.get().await {
                tether::sleep(ms(n)).await;
                sum += n;
                queue.task_done().unwrap();
            }
            sum
        });
    }
    for n in 1..=10 {
        queue.put(n).await.unwrap();
    }
    queue.join().await;
    queue.shutdown(false);
    let total: u64 = workers
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    assert_eq!(total, 55);
}

#[test]
fn a_producer_on_another_thread_feeds_the_loop() {
    const ITEMS: usize = 1000;
    let queue = Arc::new(Queue::new(16));
    let producer = {
        let queue = queue.clone();
        std::thread::spawn(move || {
            // Its own loop: `put` waits for room the consumer thread makes.
            tether::run(async {
                for i in 0..ITEMS {
                    queue.put(i).await.unwrap();
                }
                queue.shutdown(false);
            })
        })
    };
    let got = tether::run(async {
        let mut got = Vec::new();
        while let Ok(i) = queue.get().await {
            got.push(i);
        }
        got
    });
    producer.join().unwrap();
    assert_eq!(got, (0..ITEMS).collect::<Vec<_>>());
    assert!(matches!(queue.put_nowait(0), Err(TryPutError::ShutDown(0))));
    assert!(matches!(tether::run(queue.put(1)), Err(QueueShutDown(1))));
}

#[test]
fn debug_shows_the_state() {
    let queue = Queue::new(2);
    queue.put_nowait(1).unwrap();
    assert_eq!(
        format!("{queue:?}"),
        "Queue { maxsize: 2, qsize: 1, unfinished: 1, getters: 0, putters: 0, shut_down: false, .. }"
    );
}
