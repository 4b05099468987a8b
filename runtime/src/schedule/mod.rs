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
mod rng;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::Instant;

pub use explore::current_seed;
#[doc(hidden)]
pub use explore::{TestOutcome, TestPlan, run_test};
pub(crate) use rng::SplitMix64;

use crate::task::TaskId;
use crate::task::raw::Runnable;

/// How the single loop orders ready tasks and same-deadline timers.
///
/// # Examples
///
/// ```
/// use tether::schedule::Strategy;
///
/// let runtime = tether::Runtime::builder()
///     .schedule(Strategy::Pct { seed: 7, depth: 3, steps: 100 })
///     .start_paused(true)
///     .build();
/// assert_eq!(runtime.run(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// First in, first out: asyncio's order, and the default.
    #[default]
    Fifo,
    /// Each step runs a task chosen uniformly among those still to run in the batch.
    Random {
        /// The generator's seed.
        seed: u64,
    },
    /// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010, as shuttle offers):
    /// each task gets a random priority when first seen, the highest-priority task of the batch
    /// runs, and at `depth - 1` random steps among the first `steps` the task running then drops
    /// below every other. A bug that needs `d` specific orderings to show is found with
    /// probability at least `1 / (n * steps^(d-1))` per run (`n` tasks), far better than uniform
    /// choice for bugs that need a task to be starved for a while.
    Pct {
        /// The generator's seed.
        seed: u64,
        /// How many orderings a bug may need (`d`); 1 is random priorities, no change points.
        depth: usize,
        /// How many steps a run is expected to take: change points are drawn among these.
        steps: u64,
    },
}

impl Strategy {
    /// [`Strategy::Pct`] with depth 3 over the first 100 steps: `shuffle = "pct"`'s setting.
    pub fn pct(seed: u64) -> Strategy {
        Strategy::Pct {
            seed,
            depth: 3,
            steps: 100,
        }
    }

    /// The seed, unless the order is FIFO.
    pub fn seed(&self) -> Option<u64> {
        match *self {
            Strategy::Fifo => None,
            Strategy::Random { seed } | Strategy::Pct { seed, .. } => Some(seed),
        }
    }

    /// The same strategy with another seed (FIFO stays FIFO).
    pub fn with_seed(self, seed: u64) -> Strategy {
        match self {
            Strategy::Fifo => Strategy::Fifo,
            Strategy::Random { .. } => Strategy::Random { seed },
            Strategy::Pct { depth, steps, .. } => Strategy::Pct { seed, depth, steps },
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Fifo => f.write_str("FIFO order"),
            Strategy::Random { .. } => f.write_str("random order"),
            Strategy::Pct { depth, steps, .. } => {
                write!(f, "PCT order, depth {depth} over {steps} steps")
            }
        }
    }
}

/// The loop's scheduling state when its strategy is not FIFO.
pub(crate) struct Order {
    strategy: Strategy,
    rng: SplitMix64,
    /// Picks made so far.
    step: u64,
    pct: Option<Pct>,
}

struct Pct {
    priorities: HashMap<TaskId, u64>,
    /// The steps at which the running task is demoted, latest first (popped as they pass).
    change_points: Vec<u64>,
    /// The priority the next demoted task gets: below every initial one, and below the
    /// tasks demoted before it.
    next_low: u64,
}

impl Order {
    /// The state for `strategy`; `None` for FIFO, which the loop runs without any of this.
    pub(crate) fn new(strategy: Strategy) -> Option<Order> {
        let seed = strategy.seed()?;
        let mut rng = SplitMix64::new(seed);
        let pct = match strategy {
            Strategy::Pct { depth, steps, .. } => {
                let mut change_points: Vec<u64> = (1..depth.max(1))
                    .map(|_| rng.below(steps.max(1) as usize) as u64)
                    .collect();
                change_points.sort_unstable_by(|a, b| b.cmp(a));
                Some(Pct {
                    priorities: HashMap::new(),
                    change_points,
                    next_low: depth.max(1) as u64,
                })
            }
            _ => None,
        };
        Some(Order {
            strategy,
            rng,
            step: 0,
            pct,
        })
    }

    pub(crate) fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Which of the first `n` runnables of `queue` runs next (`0 < n <= queue.len()`).
    pub(crate) fn pick(&mut self, queue: &VecDeque<Runnable>, n: usize) -> usize {
        let step = self.step;
        self.step += 1;
        let Some(pct) = &mut self.pct else {
            return self.rng.below(n);
        };
        let depth_floor = pct.next_low;
        let rng = &mut self.rng;
        let mut best = 0;
        let mut best_priority = 0;
        for (i, runnable) in queue.iter().take(n).enumerate() {
            let id = runnable.metadata().id;
            // First sight: a random priority above every demoted one. Tasks are first seen in
            // an order the seed fixes, so the map's contents do too.
            let priority = *pct
                .priorities
                .entry(id)
                .or_insert_with(|| depth_floor + 1 + (rng.next_u64() >> 2));
            if i == 0 || priority > best_priority {
                best = i;
                best_priority = priority;
            }
        }
        while pct.change_points.last().is_some_and(|&at| at <= step) {
            pct.change_points.pop();
            let id = queue[best].metadata().id;
            pct.next_low = pct.next_low.saturating_sub(1);
            pct.priorities.insert(id, pct.next_low);
        }
        best
    }

    /// Shuffles `items` in place: for events that arrive together (I/O readiness).
    pub(crate) fn permute<T>(&mut self, items: &mut [T]) {
        self.rng.shuffle(items);
    }

    /// Shuffles each run of equal deadlines in `due` (sorted by deadline), keeping earlier
    /// deadlines first.
    pub(crate) fn permute_timers<T>(&mut self, due: &mut [(Instant, T)]) {
        let mut start = 0;
        while start < due.len() {
            let deadline = due[start].0;
            let end = start + due[start..].iter().take_while(|d| d.0 == deadline).count();
            self.permute(&mut due[start..end]);
            start = end;
        }
    }
}

/// Runs up to `max` runnables of `ready`, each chosen by `order` among those that were queued
/// when this call started (a task woken meanwhile waits for the next batch, as in FIFO order).
pub(crate) fn run_batch(
    order: &std::cell::RefCell<Order>,
    ready: &std::cell::RefCell<VecDeque<Runnable>>,
    max: usize,
) {
    let mut left = max.min(ready.borrow().len());
    while left > 0 {
        let next = {
            let mut queue = ready.borrow_mut();
            let n = left.min(queue.len());
            if n == 0 {
                break;
            }
            let at = order.borrow_mut().pick(&queue, n);
            queue.remove(at)
        };
        left -= 1;
        let Some(runnable) = next else { break };
        runnable.run();
    }
}

/// A batch of a group's children under a seeded schedule: see [`group_batch`].
pub(crate) struct GroupBatch {
    left: usize,
}

/// `Some` if the loop running here has a seeded schedule: then the group's next `limit`
/// children are picked by it, among the `queued()` ones queued now.
pub(crate) fn group_batch(limit: usize, queued: impl FnOnce() -> usize) -> Option<GroupBatch> {
    crate::event_loop::EventLoop::with_current(|lp| lp.order().is_some())
        .unwrap_or(false)
        .then(|| GroupBatch {
            left: limit.min(queued()),
        })
}

impl GroupBatch {
    /// Whether the batch has children left to pick.
    pub(crate) fn is_done(&self) -> bool {
        self.left == 0
    }

    /// Which child of `queue` (a group's ready queue, not empty) runs next.
    pub(crate) fn choose(&mut self, queue: &VecDeque<Runnable>) -> usize {
        let n = self.left.min(queue.len()).max(1);
        self.left = self.left.saturating_sub(1);
        crate::event_loop::EventLoop::with_current(|lp| {
            lp.order().map(|order| order.borrow_mut().pick(queue, n))
        })
        .flatten()
        .unwrap_or(0)
    }
}
