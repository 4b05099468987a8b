//! Seeded schedules: run the single loop's tasks in another order than first-in, first-out, to
//! find bugs that depend on the order, and replay the order that found one.
//!
//! asyncio (and tether, by default) runs ready tasks in the order they became ready. Code that
//! checks something, awaits, and then acts on what it checked is correct in that one order and
//! wrong in others; FIFO never shows it. With a [`Strategy`] other than [`Strategy::Fifo`], the
//! loop chooses, by a generator seeded with a number you can print and give back:
//!
//! - which of the tasks ready at the start of a batch runs next (every task ready when a batch
//!   starts still runs in that batch, and a task woken during it waits for the next one, as
//!   in FIFO order: no task starves, only the order within a batch changes);
//! - the order in which timers with the same deadline fire;
//! - which ready child of a task group its group runs next (same batch rule);
//! - (hook) the order of I/O readiness events, once the loop has an I/O driver: the driver
//!   passes each batch of events through `Order::permute` before waking their tasks.
//!
//! The same seed with the same program gives the same order, step for step. Exact replays need
//! the same inputs: on a real clock, which timers are due at a given step depends on how long
//! the steps took, so run order-sensitive tests on the virtual clock (`start_paused`).
//!
//! Only the single-threaded loop can be steered: several workers run tasks in parallel, and
//! their order is the operating system's. `#[tether::test(shuffle, workers = 2)]` does not
//! compile and [`Builder::schedule`](crate::Builder::schedule) with several workers panics.
//!
//! # In tests
//!
//! - `#[tether::test(shuffle)]` runs the test once under a random seed ([`Strategy::Random`]),
//!   or under `TETHER_SEED` if that environment variable is set.
//! - `#[tether::test(shuffle = "pct")]` uses [`Strategy::Pct`] instead.
//! - `#[tether::test(explore = N)]` runs the test under `N` seeds (random ones, from a random
//!   or `TETHER_SEED` start) and stops at the first that fails; with `TETHER_SEED` set it
//!   runs that one seed only, so the replay command is the same for both forms.
//!
//! When a run fails, the test prints the seed and the command that replays it, e.g.
//!
//! ```text
//! tether: `bank::transfer` failed under schedule seed 1234567 (random order, run 3 of 100)
//! tether: replay it with: TETHER_SEED=1234567 cargo test bank::transfer -- --exact
//! ```
//!
//! # Examples
//!
//! ```
//! use std::cell::RefCell;
//! use tether::schedule::Strategy;
//!
//! fn order(strategy: Strategy) -> Vec<u32> {
//!     let runtime = tether::Runtime::builder().schedule(strategy).build();
//!     runtime.run(async {
//!         let log = RefCell::new(Vec::new());
//!         tether::task_group!(|tg| {
//!             for i in 0..8 {
//!                 let log = &log;
//!                 tg.create_task(async move { log.borrow_mut().push(i) });
//!             }
//!         })
//!         .unwrap();
//!         log.into_inner()
//!     })
//! }
//!
//! assert_eq!(order(Strategy::Fifo), (0..8).collect::<Vec<_>>());
//! // A seed gives one order, every time.
//! assert_eq!(order(Strategy::Random { seed: 42 }), order(Strategy::Random { seed: 42 }));
//! ```

mod explore;

pub use crate::scheduler::order::Strategy;
pub use explore::current_seed;
#[doc(hidden)]
pub use explore::{TestOutcome, TestPlan, run_test};
