use std::fmt;
use std::future::poll_fn;
use std::sync::Mutex;

use super::waiters::{Cancelled, WaitList, Wakers, lock, poll_waiter, wake_all};
use crate::task_core::awaiting::{Awaiting, SyncKind};

/// A meeting point for a fixed number of tasks: asyncio's `Barrier`.
///
/// Each of `parties` tasks calls [`wait`](Barrier::wait); the first `parties - 1` wait, and the
/// last one to arrive releases them all. The barrier is then ready for the next round.
///
/// [`abort`](Barrier::abort) breaks the barrier: every waiting task, and every later `wait`,
/// fails with [`BrokenBarrierError`] until [`reset`](Barrier::reset) (asyncio's
/// `BrokenBarrierError`).
///
/// # Cancellation
///
/// A task whose `wait` is dropped before the barrier filled leaves it: it no longer counts
/// toward `parties`, and the barrier is not broken (asyncio does the same). Dropped after the
/// barrier released it, it changes nothing: the round is over.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use tether::sync::Barrier;
///
/// let barrier = Barrier::new(3);
/// let log = RefCell::new(Vec::new());
/// tether::run(async {
///     tether::task_group!(|tg| {
///         for i in 0..3 {
///             let (barrier, log) = (&barrier, &log);
///             tg.create_task(async move {
///                 log.borrow_mut().push(format!("{i} arrives"));
///                 let result = barrier.wait().await.unwrap();
///                 if result.is_leader() {
///                     log.borrow_mut().push("all here".to_string());
///                 }
///             });
///         }
///     })
///     .unwrap();
/// });
/// assert_eq!(log.into_inner(), ["0 arrives", "1 arrives", "2 arrives", "all here"]);
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
    /// The name given at construction, for `dump_tasks` and deadlock reports.
    name: Option<&'static str>,
}

struct State {
    /// Each waiter is handed its arrival index, or the news that the barrier broke.
    waiters: WaitList<Result<usize, BrokenBarrierError>>,
    broken: bool,
}

/// What [`Barrier::wait`] returns to each task of a round.
///
/// # Examples
///
/// ```
/// tether::run(async {
///     let barrier = tether::sync::Barrier::new(1);
///     let result = barrier.wait().await.unwrap();
///     assert_eq!(result.index(), 0);
///     assert!(result.is_leader());
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    leader: bool,
}

impl BarrierWaitResult {
    /// The task's place in the round, `0` to `parties - 1`, in order of arrival: different
    /// for each task, as asyncio's return value is.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let barrier = tether::sync::Barrier::new(3);
    ///     let (a, b, c) = tether::gather!(barrier.wait(), barrier.wait(), barrier.wait());
    ///     let mut indices = [a.unwrap().index(), b.unwrap().index(), c.unwrap().index()];
    ///     indices.sort();
    ///     assert_eq!(indices, [0, 1, 2]);
    /// });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// `true` for exactly one task per round: the one that arrived last and released the
    /// others (its index is `parties - 1`). Handy to pick who does the round's bookkeeping.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let barrier = tether::sync::Barrier::new(2);
    ///     let (first, last) = tether::gather!(barrier.wait(), barrier.wait());
    ///     assert!(!first.unwrap().is_leader());
    ///     assert!(last.unwrap().is_leader());
    /// });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

/// The error of waiting on a broken [`Barrier`]: asyncio's `BrokenBarrierError`.
///
/// # Examples
///
/// ```
/// tether::run(async {
///     let barrier = tether::sync::Barrier::new(2);
///     barrier.abort();
///     let err = barrier.wait().await.unwrap_err();
///     println!("{err}");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the barrier is broken: it was aborted, or reset while this task waited; \
     call Barrier::reset() to use it again"
)]
pub struct BrokenBarrierError;

impl Barrier {
    /// A barrier for `parties` tasks. `const`, so a barrier can be a `static`.
    ///
    /// # Panics
    ///
    /// If `parties` is 0: a round needs at least one task.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = tether::sync::Barrier::new(4);
    /// assert_eq!(barrier.parties(), 4);
    /// ```
    pub const fn new(parties: usize) -> Barrier {
        assert!(
            parties > 0,
            "Barrier::new(0): a barrier needs at least one party"
        );
        Barrier {
            parties,
            state: Mutex::new(State {
                waiters: WaitList::new(),
                broken: false,
            }),
            name: None,
        }
    }

    /// A barrier for `parties` tasks with a name, which [`dump_tasks`](crate::dump_tasks),
    /// [`TaskInfo::awaiting`](crate::task::TaskInfo::awaiting) and deadlock reports show for the
    /// tasks waiting at it. `const`, so it can be a `static`.
    ///
    /// # Panics
    ///
    /// If `parties` is 0, as [`Barrier::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Barrier;
    ///
    /// static START: Barrier = Barrier::named(3, "start line");
    /// assert_eq!(START.name(), Some("start line"));
    /// assert_eq!(START.parties(), 3);
    /// ```
    pub const fn named(parties: usize, name: &'static str) -> Barrier {
        let mut barrier = Barrier::new(parties);
        barrier.name = Some(name);
        barrier
    }

    /// The name given to [`Barrier::named`], if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tether::sync::Barrier::new(2).name(), None);
    /// ```
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// Waits until `parties` tasks are waiting, then releases them all.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken when called, or is aborted or reset
    /// while this task waits.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a dropped `wait` leaves the barrier before it fills, without breaking it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Barrier;
    ///
    /// tether::run(async {
    ///     let barrier = Barrier::new(2);
    ///     let (a, b) = tether::gather!(barrier.wait(), barrier.wait());
    ///     assert_eq!(a.unwrap().index(), 0);
    ///     assert!(b.unwrap().is_leader());
    /// });
    /// ```
    pub async fn wait(&self) -> Result<BarrierWaitResult, BrokenBarrierError> {
        let mut wait = Wait {
            barrier: self,
            key: None,
        };
        let mut wakers = Wakers::new();
        let parked = poll_fn(|cx| {
            poll_waiter(
                &self.state,
                &mut wait.key,
                cx.waker(),
                |state| &mut state.waiters,
                |state| {
                    if state.broken {
                        return Some(Err(BrokenBarrierError));
                    }
                    if state.waiters.len() + 1 != self.parties {
                        return None;
                    }
                    // The last party: release everyone queued, in arrival order.
                    let mut next = 0;
                    state.waiters.grant_all(
                        || {
                            next += 1;
                            Ok(next - 1)
                        },
                        &mut wakers,
                    );
                    Some(Ok(self.parties - 1))
                },
            )
        });
        let index = crate::task_core::awaiting::tracked(parked, || {
            Awaiting::sync(SyncKind::Barrier, self.name, self)
        })
        .await;
        wake_all(wakers);
        let index = index?;
        Ok(BarrierWaitResult {
            index,
            leader: index == self.parties - 1,
        })
    }

    /// Breaks the barrier: every waiting task gets [`BrokenBarrierError`], and so does every
    /// `wait` until [`reset`](Barrier::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Barrier;
    ///
    /// tether::run(async {
    ///     let barrier = Barrier::new(3);
    ///     tether::task_group!(|tg| {
    ///         let waiter = tg.create_task(barrier.wait());
    ///         tether::yield_now().await;
    ///         barrier.abort();
    ///         assert!(waiter.await.unwrap().is_err());
    ///     })
    ///     .unwrap();
    ///     assert!(barrier.is_broken());
    /// });
    /// ```
    pub fn abort(&self) {
        self.break_waiters(true);
    }

    /// Empties the barrier and makes it usable again: tasks waiting now get
    /// [`BrokenBarrierError`], later ones start a fresh round (asyncio's `reset()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Barrier;
    ///
    /// tether::run(async {
    ///     let barrier = Barrier::new(1);
    ///     barrier.abort();
    ///     assert!(barrier.wait().await.is_err());
    ///     barrier.reset();
    ///     assert!(barrier.wait().await.is_ok());
    /// });
    /// ```
    pub fn reset(&self) {
        self.break_waiters(false);
    }

    fn break_waiters(&self, broken: bool) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            state.broken = broken;
            state
                .waiters
                .grant_all(|| Err(BrokenBarrierError), &mut wakers);
        }
        wake_all(wakers);
    }

    /// How many tasks a round takes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tether::sync::Barrier::new(2).parties(), 2);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting in the current round (asyncio's `n_waiting`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tether::sync::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        lock(&self.state).waiters.len()
    }

    /// `true` if the barrier was aborted and not reset since (asyncio's `broken`).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = tether::sync::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        lock(&self.state).broken
    }
}

/// A waiting [`Barrier::wait`]: leaves the round when dropped.
struct Wait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A released or broken waiter has nothing to pass on.
            let gone = lock(&self.barrier.state).waiters.cancel(key);
            if let Cancelled::Queued(waker) = gone {
                drop(waker);
            }
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Barrier")
            .field("name", &self.name)
            .field("parties", &self.parties)
            .field("waiting", &state.waiters.len())
            .field("broken", &state.broken)
            .finish()
    }
}
