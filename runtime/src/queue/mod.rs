//! Queues between tasks: asyncio's `Queue`, `PriorityQueue` and `LifoQueue`.
//!
//! | asyncio | tether |
//! | --- | --- |
//! | `asyncio.Queue(maxsize=0)` | [`Queue::new(maxsize)`](Queue::new) (`0`: unbounded), [`Queue::unbounded`] |
//! | `asyncio.PriorityQueue`, `asyncio.LifoQueue` | [`PriorityQueue`] (smallest first), [`LifoQueue`] (newest first) |
//! | `await q.put(item)`, `await q.get()` | `q.put(item).await`, `q.get().await` |
//! | `q.put_nowait(item)`, `q.get_nowait()` | the same names, failing with [`TryPutError`] / [`TryGetError`] |
//! | `QueueFull`, `QueueEmpty` | [`TryPutError::Full`] (with the item back), [`TryGetError::Empty`] |
//! | `q.task_done()`, `await q.join()` | `q.task_done()` ([`TaskDoneError`] when called too often), `q.join().await` |
//! | `q.shutdown(immediate=False)`, `QueueShutDown` (3.13) | `q.shutdown(immediate)`, [`QueueShutDown`] |
//! | `qsize()`, `empty()`, `full()`, `maxsize` | the same names (`maxsize()` is a method) |
//!
//! # Semantics
//!
//! - **Bounded or not.** A queue made with a `maxsize` of 0 (or [`unbounded`](Queue::unbounded))
//!   never blocks a `put`. Otherwise `put` waits while `maxsize` items are in the queue, and
//!   `put_nowait` fails with [`TryPutError::Full`].
//! - **Fair.** Waiting getters get items in the order they started waiting; waiting putters get
//!   room in the order they started waiting, and nobody cuts in: while a putter waits, a
//!   `put_nowait` is refused as full, and while a getter waits, a `get_nowait` finds nothing.
//! - **Cancel-safe.** A `get` dropped after it was promised an item does not lose it: the item
//!   never left the queue, and the promise passes to the next waiting getter. A `put` dropped
//!   while waiting for room never inserts its item (as in asyncio), and room it was promised
//!   passes to the next waiting putter.
//! - **`task_done`/`join`.** Every successful put counts one unfinished item; `task_done` counts
//!   one finished; `join` waits until none is unfinished.
//! - **Shutdown** (Python 3.13). After [`shutdown(false)`](Queue::shutdown) every put fails with
//!   [`QueueShutDown`] (the item is given back), and gets go on taking the items left, then fail
//!   with `QueueShutDown`. [`shutdown(true)`](Queue::shutdown) also drops the items left and
//!   counts them as done, so `join` returns. Every task waiting in `get` or `put` at that moment
//!   is woken with the error.
//!
//! A queue is `Send + Sync` when its items are `Send`: share it with a borrowing group child, an
//! `Rc`/`Arc` in [`TaskSet`](crate::TaskSet) tasks, or a `static`. Its state sits behind a
//! `std::sync::Mutex`; wakers are woken, and items dropped by `shutdown(true)` are dropped, after
//! that mutex is released, so an item's destructor may use the queue. The one piece of user code
//! that runs under it is a [`PriorityQueue`]'s `Ord`: a comparison must not use the same queue.
//!
//! # Examples
//!
//! asyncio's worker pool: workers take items, the main task waits for all of them to be done.
//!
//! ```
//! use std::time::Duration;
//! use tether::queue::Queue;
//!
//! tether::run(async {
//!     let queue = Queue::unbounded();
//!     for ms in [30, 10, 20] {
//!         queue.put_nowait(Duration::from_millis(ms)).unwrap();
//!     }
//!     tether::task_group!(|tg| {
//!         for _ in 0..2 {
//!             tg.create_task(async {
//!                 while let Ok(delay) = queue.get().await {
//!                     tether::sleep(delay).await;
//!                     queue.task_done().unwrap();
//!                 }
//!             });
//!         }
//!         queue.join().await;
//!         queue.shutdown(false); // lets the workers' `get` fail, so they end
//!     })
//!     .unwrap();
//! });
//! ```

mod core;
mod error;
mod store;

use std::fmt;

use self::core::Core;
use store::{Fifo, Lifo, Priority};

pub use error::{QueueShutDown, TaskDoneError, TryGetError, TryPutError};

/// Defines a queue type over a store, with every method documented and tested once per type.
macro_rules! queue {
    (
        $(#[$attr:meta])*
        $name:ident<T $(: $bound:ident)?>, $store:ident, $example_item:literal
    ) => {
        $(#[$attr])*
        pub struct $name<T> {
            core: Core<T, $store<T>>,
        }

        impl<T $(: $bound)?> $name<T> {
            #[doc = concat!("A new `", stringify!($name), "` holding at most `maxsize` items; `0` means no limit (asyncio's `maxsize=0`).")]
            ///
            /// `const`, so a queue can be a `static`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::new(2);")]
            #[doc = concat!("queue.put_nowait(", $example_item, ").unwrap();")]
            #[doc = concat!("queue.put_nowait(", $example_item, ").unwrap();")]
            /// assert!(queue.full());
            #[doc = concat!("assert!(queue.put_nowait(", $example_item, ").is_err());")]
            /// ```
            pub const fn new(maxsize: usize) -> $name<T> {
                $name {
                    core: Core::new($store::new(), maxsize, None),
                }
            }

            #[doc = concat!("A new `", stringify!($name), "` holding at most `maxsize` items (`0`: no limit), with a name that [`dump_tasks`](crate::dump_tasks), [`TaskInfo::awaiting`](crate::task::TaskInfo::awaiting) and deadlock reports show for the tasks waiting to get or put. `const`, so it can be a `static`.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let jobs = tether::queue::", stringify!($name), "::<u32>::named(10, \"jobs\");")]
            /// assert_eq!(jobs.name(), Some("jobs"));
            /// ```
            pub const fn named(maxsize: usize, name: &'static str) -> $name<T> {
                $name {
                    core: Core::new($store::new(), maxsize, Some(name)),
                }
            }

            #[doc = concat!("The name given to [`", stringify!($name), "::named`], if any.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert_eq!(tether::queue::", stringify!($name), "::<u32>::new(1).name(), None);")]
            /// ```
            pub fn name(&self) -> Option<&'static str> {
                self.core.name()
            }

            #[doc = concat!("A new `", stringify!($name), "` without a size limit: `new(0)`.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::unbounded();")]
            /// for _ in 0..1000 {
            #[doc = concat!("    queue.put_nowait(", $example_item, ").unwrap();")]
            /// }
            /// assert!(!queue.full());
            /// ```
            pub const fn unbounded() -> $name<T> {
                $name::new(0)
            }

            /// Puts `item` in the queue, waiting for room if the queue is full.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] holding `item` if the queue is (or gets) shut down before
            /// the item went in.
            ///
            /// # Cancel safety
            ///
            /// If the future is dropped before it completes, the item was not put (it is
            /// dropped with the future), and room it had been promised goes to the next
            /// waiting putter.
            ///
            /// # Examples
            ///
            /// ```
            /// tether::run(async {
            #[doc = concat!("    let queue = tether::queue::", stringify!($name), "::new(1);")]
            #[doc = concat!("    queue.put(", $example_item, ").await.unwrap();")]
            ///     tether::task_group!(|tg| {
            #[doc = concat!("        let blocked = tg.create_task(queue.put(", $example_item, "));")]
            ///         tether::yield_now().await;
            ///         assert!(!blocked.is_finished(), "the queue is full");
            ///         queue.get().await.unwrap();
            ///         blocked.await.unwrap().unwrap();
            ///     })
            ///     .unwrap();
            /// });
            /// ```
            pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
                self.core.put(item).await
            }

            /// Puts `item` in the queue if there is room right now.
            ///
            /// # Errors
            ///
            /// [`TryPutError::Full`] if the queue is full (or its room is promised to a
            /// waiting putter), [`TryPutError::ShutDown`] if it was shut down. Both give the
            /// item back.
            ///
            /// # Examples
            ///
            /// ```
            /// use tether::queue::TryPutError;
            ///
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::new(1);")]
            #[doc = concat!("assert!(queue.put_nowait(", $example_item, ").is_ok());")]
            #[doc = concat!("assert!(matches!(queue.put_nowait(", $example_item, "), Err(TryPutError::Full(_))));")]
            /// ```
            pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
                self.core.put_nowait(item)
            }

            /// Takes the next item, waiting for one if the queue is empty.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] once the queue is shut down and has no items left (at once
            /// after `shutdown(true)`).
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe: an item is taken only when the future completes. If it is dropped
            /// after an item was promised to it, the item stays in the queue and the promise
            /// passes to the next waiting getter.
            ///
            /// # Examples
            ///
            /// ```
            /// tether::run(async {
            #[doc = concat!("    let queue = tether::queue::", stringify!($name), "::unbounded();")]
            ///     tether::task_group!(|tg| {
            ///         let consumer = tg.create_task(queue.get());
            #[doc = concat!("        queue.put(", $example_item, ").await.unwrap();")]
            #[doc = concat!("        assert_eq!(consumer.await.unwrap(), Ok(", $example_item, "));")]
            ///     })
            ///     .unwrap();
            /// });
            /// ```
            pub async fn get(&self) -> Result<T, QueueShutDown> {
                self.core.get().await
            }

            /// Takes the next item if one is there right now.
            ///
            /// # Errors
            ///
            /// [`TryGetError::Empty`] if no item is available (also when every item is
            /// promised to a waiting getter), [`TryGetError::ShutDown`] if the queue was shut
            /// down and is empty.
            ///
            /// # Examples
            ///
            /// ```
            /// use tether::queue::TryGetError;
            ///
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::unbounded();")]
            /// assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
            #[doc = concat!("queue.put_nowait(", $example_item, ").unwrap();")]
            #[doc = concat!("assert_eq!(queue.get_nowait(), Ok(", $example_item, "));")]
            /// ```
            pub fn get_nowait(&self) -> Result<T, TryGetError> {
                self.core.get_nowait()
            }

            /// Marks one item taken with `get` as processed, for [`join`](Self::join).
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] if called more times than items were put.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::unbounded();")]
            #[doc = concat!("queue.put_nowait(", $example_item, ").unwrap();")]
            /// let _item = queue.get_nowait().unwrap();
            /// assert!(queue.task_done().is_ok());
            /// assert!(queue.task_done().is_err(), "one call too many");
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Waits until every item put has been marked done with
            /// [`task_done`](Self::task_done); returns at once if none is pending.
            ///
            /// # Cancel safety
            ///
            /// Cancel-safe.
            ///
            /// # Examples
            ///
            /// ```
            /// tether::run(async {
            #[doc = concat!("    let queue = tether::queue::", stringify!($name), "::unbounded();")]
            #[doc = concat!("    queue.put_nowait(", $example_item, ").unwrap();")]
            ///     tether::task_group!(|tg| {
            ///         tg.create_task(async {
            ///             let _item = queue.get().await.unwrap();
            ///             queue.task_done().unwrap();
            ///         });
            ///         queue.join().await;
            ///     })
            ///     .unwrap();
            /// });
            /// ```
            pub async fn join(&self) {
                self.core.join().await
            }

            /// Shuts the queue down (Python 3.13's `shutdown`).
            ///
            /// From now on every `put` fails with [`QueueShutDown`], and `get` fails once
            /// the queue is empty. With `immediate`, the items left are dropped at once
            /// (counted as done for [`join`](Self::join)), so `get` fails at once too. Every
            /// task waiting in `get` or `put` is woken with the error.
            ///
            /// # Examples
            ///
            /// ```
            /// tether::run(async {
            #[doc = concat!("    let queue = tether::queue::", stringify!($name), "::unbounded();")]
            #[doc = concat!("    queue.put_nowait(", $example_item, ").unwrap();")]
            ///     queue.shutdown(false);
            ///     assert!(queue.get().await.is_ok(), "items left can still be taken");
            ///     assert!(queue.get().await.is_err());
            ///
            #[doc = concat!("    let queue = tether::queue::", stringify!($name), "::unbounded();")]
            #[doc = concat!("    queue.put_nowait(", $example_item, ").unwrap();")]
            ///     queue.shutdown(true);
            ///     assert!(queue.get().await.is_err(), "items left were dropped");
            ///     queue.join().await; // and counted as done
            /// });
            /// ```
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate)
            }
        }

        impl<T> $name<T> {
            /// How many items are in the queue.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::unbounded();")]
            #[doc = concat!("queue.put_nowait(", $example_item, ").unwrap();")]
            /// assert_eq!(queue.qsize(), 1);
            /// ```
            pub fn qsize(&self) -> usize {
                self.core.qsize()
            }

            /// `true` if the queue holds no item.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::<u8>::unbounded();")]
            /// assert!(queue.empty());
            /// ```
            pub fn empty(&self) -> bool {
                self.qsize() == 0
            }

            /// `true` if a `put` would have to wait: the queue holds `maxsize` items, room
            /// promised to waiting putters included. Always `false` when unbounded.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::new(1);")]
            /// assert!(!queue.full());
            #[doc = concat!("queue.put_nowait(", $example_item, ").unwrap();")]
            /// assert!(queue.full());
            /// ```
            pub fn full(&self) -> bool {
                self.core.is_full()
            }

            /// The size limit given at creation; `0` for unbounded.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::<u8>::new(8);")]
            /// assert_eq!(queue.maxsize(), 8);
            /// ```
            pub fn maxsize(&self) -> usize {
                self.core.maxsize()
            }

            /// `true` once [`shutdown`](Self::shutdown) was called.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let queue = tether::queue::", stringify!($name), "::<u8>::unbounded();")]
            /// queue.shutdown(false);
            /// assert!(queue.is_shut_down());
            /// ```
            pub fn is_shut_down(&self) -> bool {
                self.core.is_shut_down()
            }
        }

        impl<T $(: $bound)?> Default for $name<T> {
            fn default() -> Self {
                $name::unbounded()
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.core.fmt(stringify!($name), f)
            }
        }
    };
}

queue! {
    /// A first-in, first-out queue: asyncio's `Queue`.
    ///
    /// See the [module docs](self) for the semantics shared by all queues.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::queue::Queue;
    ///
    /// tether::run(async {
    ///     let queue = Queue::new(2);
    ///     tether::task_group!(|tg| {
    ///         tg.create_task(async {
    ///             for i in 0..5 {
    ///                 queue.put(i).await.unwrap(); // waits while 2 items are queued
    ///             }
    ///         });
    ///         let mut got = Vec::new();
    ///         for _ in 0..5 {
    ///             got.push(queue.get().await.unwrap());
    ///         }
    ///         assert_eq!(got, [0, 1, 2, 3, 4]);
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    Queue<T>, Fifo, "1"
}

queue! {
    /// A queue that hands out its smallest item first: asyncio's `PriorityQueue`.
    ///
    /// Items are ordered by [`Ord`]; use a tuple `(priority, data)` as asyncio users do, or
    /// [`std::cmp::Reverse`] for largest first. Items that compare equal come out in no
    /// particular order. See the [module docs](self) for the semantics shared by all queues.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::queue::PriorityQueue;
    ///
    /// let queue = PriorityQueue::unbounded();
    /// for job in [(3, "low"), (1, "urgent"), (2, "normal")] {
    ///     queue.put_nowait(job).unwrap();
    /// }
    /// assert_eq!(queue.get_nowait(), Ok((1, "urgent")));
    /// assert_eq!(queue.get_nowait(), Ok((2, "normal")));
    /// assert_eq!(queue.get_nowait(), Ok((3, "low")));
    /// ```
    PriorityQueue<T: Ord>, Priority, "1"
}

queue! {
    /// A last-in, first-out queue (a stack): asyncio's `LifoQueue`.
    ///
    /// See the [module docs](self) for the semantics shared by all queues.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::queue::LifoQueue;
    ///
    /// let stack = LifoQueue::unbounded();
    /// for page in ["home", "search", "result"] {
    ///     stack.put_nowait(page).unwrap();
    /// }
    /// assert_eq!(stack.get_nowait(), Ok("result"));
    /// assert_eq!(stack.get_nowait(), Ok("search"));
    /// ```
    LifoQueue<T>, Lifo, "1"
}

/// Queues of `Send` items are `Send + Sync`, and so are their futures: checked at compile time.
#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: T) {}
    send_sync::<Queue<String>>();
    send_sync::<PriorityQueue<String>>();
    send_sync::<LifoQueue<String>>();
    let queue = Queue::<String>::unbounded();
    send(queue.put(String::new()));
    send(queue.get());
    send(queue.join());
}
