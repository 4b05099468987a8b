//! The seeded order itself: which ready task runs next and in which order same-deadline
//! timers fire. The loop holds one `Order` per seeded run; it knows nothing of the loop.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::Instant;

use crate::util::rng::SplitMix64;

use crate::task_core::header::TaskId;
use crate::task_core::raw::Runnable;

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
