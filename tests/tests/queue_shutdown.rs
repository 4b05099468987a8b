//! `Queue::shutdown` (Python 3.13): both modes, every waiter woken with `QueueShutDown`.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::poll;
use tether::queue::{LifoQueue, PriorityQueue, Queue, QueueShutDown, TryGetError, TryPutError};
use tether_tests::DropCounter;

#[tether::test]
async fn shutdown_wakes_every_waiting_getter() {
    for immediate in [false, true] {
        let queue = Queue::<u32>::unbounded();
        let outcomes = tether::task_group!(|tg| {
            let getters: Vec<_> = (0..3).map(|_| tg.create_task(queue.get())).collect();
            tether::yield_now().await;
            queue.shutdown(immediate);
            let mut outcomes = Vec::new();
            for getter in getters {
                outcomes.push(getter.await.unwrap());
            }
            outcomes
        })
        .unwrap();
        assert_eq!(
            outcomes,
            [Err(QueueShutDown(())); 3],
            "immediate={immediate}"
        );
    }
}

#[tether::test]
async fn shutdown_wakes_every_waiting_putter_and_gives_the_items_back() {
    for immediate in [false, true] {
        let queue = Queue::new(1);
        queue.put_nowait(0).unwrap();
        let outcomes = tether::task_group!(|tg| {
            let putters: Vec<_> = (1..=3).map(|i| tg.create_task(queue.put(i))).collect();
            tether::yield_now().await;
            queue.shutdown(immediate);
            let mut outcomes = Vec::new();
            for putter in putters {
                outcomes.push(putter.await.unwrap());
            }
            outcomes
        })
        .unwrap();
        assert_eq!(
            outcomes,
            [
                Err(QueueShutDown(1)),
                Err(QueueShutDown(2)),
                Err(QueueShutDown(3))
            ]
        );
        // Not immediate: the item already in stays gettable; immediate: it was dropped.
        let left = queue.get().await;
        assert_eq!(left.is_ok(), !immediate, "immediate={immediate}");
    }
}

#[tether::test]
async fn after_a_plain_shutdown_the_items_left_drain_then_get_fails() {
    let queue = Queue::unbounded();
    for i in 0..3 {
        queue.put_nowait(i).unwrap();
    }
    queue.shutdown(false);
    assert!(queue.is_shut_down());
    assert_eq!(queue.put(9).await, Err(QueueShutDown(9)));
    assert!(matches!(queue.put_nowait(9), Err(TryPutError::ShutDown(9))));
    assert_eq!(queue.get().await, Ok(0));
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(queue.get().await, Ok(2));
    assert_eq!(queue.get().await, Err(QueueShutDown(())));
    let err = queue.get_nowait().unwrap_err();
    assert_eq!(err, TryGetError::ShutDown);
    assert!(err.to_string().contains("shut down"), "{err}");
    // The three items were never marked done.
    let mut join = pin!(queue.join());
    assert!(poll!(join.as_mut()).is_pending());
    for _ in 0..3 {
        queue.task_done().unwrap();
    }
    join.await;
}

#[tether::test]
async fn an_immediate_shutdown_drops_the_items_and_counts_them_done() {
    let drops = DropCounter::new();
    let queue = Queue::unbounded();
    for _ in 0..3 {
        queue.put_nowait(drops.guard()).unwrap();
    }
    let taken = queue.get().await.unwrap();
    tether::task_group!(|tg| {
        let joiner = tg.create_task(queue.join());
        tether::yield_now().await;
        assert!(!joiner.is_finished(), "three items are unfinished");
        queue.shutdown(true);
        assert_eq!(drops.dropped(), 2, "the two left were dropped");
        assert!(queue.empty());
        assert!(queue.get().await.is_err());
        // The taken item is still unfinished: join waits for it.
        tether::yield_now().await;
        assert!(!joiner.is_finished());
        drop(taken);
        queue.task_done().unwrap();
        joiner.await.unwrap();
    })
    .unwrap();
}

#[tether::test]
async fn an_immediate_shutdown_takes_back_an_item_promised_to_a_getter() {
    let queue = Queue::unbounded();
    let mut get = pin!(queue.get());
    assert!(poll!(get.as_mut()).is_pending());
    queue.put_nowait(1).unwrap(); // promised to `get`, which has not run
    queue.shutdown(true);
    assert_eq!(get.await, Err(QueueShutDown(())));
    queue.join().await;
}

#[tether::test]
async fn a_plain_shutdown_keeps_an_item_promised_to_a_getter() {
    let queue = Queue::unbounded();
    let mut get = pin!(queue.get());
    assert!(poll!(get.as_mut()).is_pending());
    queue.put_nowait(1).unwrap();
    queue.shutdown(false);
    assert_eq!(get.await, Ok(1));
}

#[tether::test]
async fn a_putter_promised_room_before_the_shutdown_gets_its_item_back() {
    let queue = Queue::new(1);
    queue.put_nowait(0).unwrap();
    let mut put = pin!(queue.put(1));
    assert!(poll!(put.as_mut()).is_pending());
    assert_eq!(queue.get_nowait(), Ok(0)); // room promised to `put`
    queue.shutdown(false);
    assert_eq!(put.await, Err(QueueShutDown(1)));
    assert!(queue.empty());
}

#[tether::test]
async fn shutdown_works_the_same_on_every_kind_of_queue() {
    let priority = PriorityQueue::unbounded();
    let lifo = LifoQueue::unbounded();
    for i in [2, 1] {
        priority.put_nowait(i).unwrap();
        lifo.put_nowait(i).unwrap();
    }
    priority.shutdown(false);
    lifo.shutdown(true);
    assert_eq!(priority.get().await, Ok(1));
    assert_eq!(priority.get().await, Ok(2));
    assert!(priority.get().await.is_err());
    assert!(lifo.get().await.is_err());
    lifo.join().await;
}

/// An item whose destructor uses the queue it was in.
struct Reentrant {
    queue: Arc<Queue<Reentrant>>,
    drops: Arc<AtomicUsize>,
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        // Each of these takes the queue's lock: held during the drop, it would deadlock.
        assert!(self.queue.is_shut_down());
        assert_eq!(self.queue.qsize(), 0);
        assert!(self.queue.get_nowait().is_err());
    }
}

#[test]
fn dropped_items_may_use_the_queue_in_their_destructors() {
    let queue = Arc::new(Queue::unbounded());
    let drops = Arc::new(AtomicUsize::new(0));
    for _ in 0..2 {
        queue
            .put_nowait(Reentrant {
                queue: queue.clone(),
                drops: drops.clone(),
            })
            .unwrap_or_else(|_| panic!("open"));
    }
    queue.shutdown(true); // must not deadlock
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}
