//! loom models of the work-stealing path: a worker's lock-free queue under concurrent thieves,
//! its LIFO slot (taken by its worker or by a thief), the shared injection queue, and the
//! park/notify protocol of [`sleepers`](super::sleepers) (no wake-up lost).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p tether --lib --release loom_models`. loom
//! explores every interleaving of the modelled threads (bounded by `LOOM_MAX_PREEMPTIONS`, 3
//! by default) with the very `LocalQueue`, `Injector` and `Sleepers` the runtime uses, and
//! checks every access to a queue slot for data races.

use loom::sync::Arc;
use loom::thread;

use std::ptr::NonNull;

use loom::sync::atomic::{AtomicUsize, Ordering};

use super::injector::Injector;
use super::lifo_slot::{LifoSlot, Pointer};
use super::local_queue::LocalQueue;
use super::sleepers::{AfterSearch, Sleepers};

/// An idle worker looking for work the way `Slot::run_batch` and `EventLoop::park` do: `look`
/// (steal, take from the injection queue...), end its search if it was woken to search, else
/// announce sleep, look once more (`waiting`: is there anything to take), park. The modelled
/// runtime's other worker never sleeps, so a search passed on finds no sleeper to wake.
fn idle_worker<T>(
    look: impl Fn(&mut Vec<T>),
    waiting: impl Fn() -> bool,
    sleepers: &Sleepers,
    index: usize,
) -> Vec<T> {
    let mut batch = Vec::new();
    loop {
        look(&mut batch);
        match sleepers.end_search(index, !batch.is_empty()) {
            AfterSearch::Nothing => {}
            AfterSearch::Notify => assert_eq!(sleepers.notify_one(), None),
            AfterSearch::CheckAll => {
                if waiting() {
                    assert_eq!(sleepers.notify_one(), None);
                }
            }
        }
        if !batch.is_empty() {
            return batch;
        }
        sleepers.announce(index);
        if waiting() {
            sleepers.retract(index);
            continue;
        }
        thread::park();
        sleepers.retract(index);
    }
}

/// [`idle_worker`] over a busy worker's queue and the injection queue.
fn idle_thief(victim: &LocalQueue<u32>, injector: &Injector<u32>, sleepers: &Sleepers) -> Vec<u32> {
    idle_worker(
        |batch| {
            victim.steal_half(batch, 32);
            injector.pop_batch(batch, 32);
        },
        || !victim.is_empty() || !injector.is_empty(),
        sleepers,
        1,
    )
}

#[test]
fn work_from_outside_wakes_a_worker_that_is_going_to_sleep() {
    loom::model(|| {
        let local = Arc::new(LocalQueue::new());
        let injector = Arc::new(Injector::new());
        let sleepers = Arc::new(Sleepers::new(2));
        let worker = {
            let (local, injector, sleepers) = (local.clone(), injector.clone(), sleepers.clone());
            thread::spawn(move || idle_thief(&local, &injector, &sleepers))
        };
        // A thread outside the runtime schedules a task the way
        // `Workers::schedule_from_outside` does:
        // push onto the injection queue, then wake one sleeper.
        injector.push(7);
        if let Some(index) = sleepers.notify_one() {
            assert_eq!(index, 1);
            worker.thread().unpark();
        }
        // Were the wake-up lost in some interleaving, loom would report the worker parked
        // forever (a deadlock).
        assert_eq!(worker.join().unwrap(), [7]);
    });
}

/// Worker 0 queues two tasks on its own queue and stays busy (it takes nothing meanwhile);
/// worker 1 is idle, and `searching` if an earlier task woke it and it has not looked yet. The
/// second task is one more than worker 0 runs next, so it wakes a sleeper
/// (`Workers::schedule_on_worker`), unless worker 1 searches (then worker 1 must find it).
/// Either way worker 1 must end up with a task, or loom reports it parked forever.
fn two_tasks_behind_a_busy_worker(searching: bool) {
    loom::model(move || {
        let local = Arc::new(LocalQueue::new());
        let injector = Arc::new(Injector::new());
        let sleepers = Arc::new(Sleepers::new(2));
        if searching {
            sleepers.announce(1);
            assert_eq!(sleepers.notify_one(), Some(1));
        }
        let thief = {
            let (local, injector, sleepers) = (local.clone(), injector.clone(), sleepers.clone());
            thread::spawn(move || idle_thief(&local, &injector, &sleepers))
        };
        // SAFETY: this thread is the queue's only producer.
        assert!(unsafe { local.push(1) }.is_ok());
        // SAFETY: as above. (The length it returns may already count a steal.)
        let waiting = unsafe { local.push(2) }.unwrap();
        if waiting >= 2 {
            if let Some(index) = sleepers.notify_one() {
                thief.thread().unpark();
                assert_eq!(index, 1);
            }
        }
        let stolen = thief.join().unwrap();
        assert!(!stolen.is_empty());
        let mine: Vec<u32> = std::iter::from_fn(|| local.pop()).collect();
        let mut all = [mine, stolen].concat();
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
    });
}

#[test]
fn a_second_queued_task_wakes_a_thief_that_is_going_to_sleep() {
    two_tasks_behind_a_busy_worker(false);
}

#[test]
fn the_owner_and_a_thief_take_every_task_exactly_once_in_order() {
    loom::model(|| {
        let queue = Arc::new(LocalQueue::new());
        for n in 1..=3 {
            // SAFETY: this thread is the queue's only producer.
            assert!(unsafe { queue.push(n) }.is_ok());
        }
        let thief = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut stolen = Vec::new();
                queue.steal_half(&mut stolen, 32);
                stolen
            })
        };
        let mut mine = Vec::new();
        mine.extend(queue.pop());
        // SAFETY: as above.
        assert!(unsafe { queue.push(4) }.is_ok());
        mine.extend(std::iter::from_fn(|| queue.pop()));
        let stolen = thief.join().unwrap();
        assert!(
            stolen.windows(2).all(|pair| pair[0] < pair[1]),
            "{stolen:?}"
        );
        assert!(mine.windows(2).all(|pair| pair[0] < pair[1]), "{mine:?}");
        let mut all = [mine, stolen].concat();
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3, 4]);
        assert!(queue.is_empty());
    });
}

#[test]
fn two_thieves_and_a_producer_reusing_slots_lose_and_repeat_nothing() {
    // Three threads: a preemption bound of 2 keeps the search to seconds.
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(2);
    model.check(|| {
        let queue = Arc::new(LocalQueue::new());
        // SAFETY: this thread is the queue's only producer.
        assert!(unsafe { queue.push(1) }.is_ok());
        // SAFETY: as above.
        assert!(unsafe { queue.push(2) }.is_ok());
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || queue.pop().into_iter().collect::<Vec<_>>())
            })
            .collect();
        // SAFETY: as above.
        assert!(unsafe { queue.push(3) }.is_ok());
        let mut all: Vec<u32> = std::iter::from_fn(|| queue.pop()).collect();
        for thief in thieves {
            all.extend(thief.join().unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, [1, 2, 3]);
    });
}

#[test]
fn only_one_of_two_pushers_claims_a_sleeper() {
    loom::model(|| {
        let sleepers = Arc::new(Sleepers::new(1));
        sleepers.announce(0);
        let other = {
            let sleepers = sleepers.clone();
            thread::spawn(move || sleepers.notify_one())
        };
        let mine = sleepers.notify_one();
        let theirs = other.join().unwrap();
        assert_eq!(
            [mine, theirs].iter().flatten().count(),
            1,
            "{mine:?} {theirs:?}"
        );
    });
}

#[test]
fn a_task_queued_while_a_woken_worker_searches_is_found_by_it() {
    two_tasks_behind_a_busy_worker(true);
}

#[test]
fn a_searcher_that_found_work_hands_the_search_on() {
    loom::model(|| {
        let sleepers = Arc::new(Sleepers::new(3));
        sleepers.announce(1);
        sleepers.announce(2);
        assert_eq!(sleepers.notify_one(), Some(1));
        // Worker 1 finds work while another thread pushes and asks for a worker: between
        // them, worker 2 is claimed exactly once (by the pusher, or by worker 1 passing the
        // search on), never twice and never not at all.
        let pusher = {
            let sleepers = sleepers.clone();
            thread::spawn(move || sleepers.notify_one())
        };
        let passed_on = match sleepers.end_search(1, true) {
            AfterSearch::Notify => sleepers.notify_one(),
            after => panic!("the only searcher found work: {after:?}"),
        };
        let pushed = pusher.join().unwrap();
        let claimed: Vec<usize> = [passed_on, pushed].into_iter().flatten().collect();
        assert_eq!(claimed, [2], "{passed_on:?} {pushed:?}");
    });
}

/// A task of the slot models: a number, and a count of drops, so that a model sees a task
/// neither lost nor dropped twice.
struct Task {
    n: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Task {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

impl Pointer for Box<Task> {
    fn into_ptr(self) -> NonNull<()> {
        NonNull::from(Box::leak(self)).cast()
    }

    unsafe fn from_ptr(ptr: NonNull<()>) -> Self {
        // SAFETY: the caller's promise: `ptr` came from `into_ptr`, a leaked box.
        unsafe { Box::from_raw(ptr.cast::<Task>().as_ptr()) }
    }
}

fn task(n: u32, drops: &Arc<AtomicUsize>) -> Box<Task> {
    Box::new(Task {
        n,
        drops: drops.clone(),
    })
}

fn numbers(tasks: &[Box<Task>]) -> Vec<u32> {
    let mut all: Vec<u32> = tasks.iter().map(|task| task.n).collect();
    all.sort_unstable();
    all
}

/// A worker's slot holds task 1; an idle worker takes from it twice, as a last resort
/// (`Slot::steal`), while its worker schedules task 2 (task 1, if still there, comes back to go
/// to the queue: `Workers::schedule_on_worker`) and then, if `owner_takes`, runs the slot's task
/// (`Slot::run_turns`); else the slot is dropped with what it holds (the runtime's close).
/// Every task ends up with exactly one party and is dropped exactly once.
fn owner_and_thief_on_a_slot(owner_takes: bool) {
    loom::model(move || {
        let drops = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(LifoSlot::new());
        assert!(slot.replace(task(1, &drops)).is_none());
        let thief = {
            let slot = slot.clone();
            thread::spawn(move || {
                let mut stolen: Vec<Box<Task>> = slot.take().into_iter().collect();
                stolen.extend(slot.take());
                stolen
            })
        };
        let mut mine: Vec<Box<Task>> = slot.replace(task(2, &drops)).into_iter().collect();
        if owner_takes {
            mine.extend(slot.take());
        }
        let stolen = thief.join().unwrap();
        let all: Vec<Box<Task>> = mine.into_iter().chain(stolen).collect();
        if owner_takes {
            assert_eq!(numbers(&all), [1, 2]);
        } else {
            // Task 2 may still be in the slot.
            assert!(numbers(&all).starts_with(&[1]), "{:?}", numbers(&all));
        }
        drop(all);
        drop(slot);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn the_owner_and_a_thief_take_each_slot_task_exactly_once() {
    owner_and_thief_on_a_slot(true);
}

#[test]
fn a_task_left_in_the_slot_is_dropped_with_it_once() {
    owner_and_thief_on_a_slot(false);
}

#[test]
fn a_task_pushed_out_of_the_slot_wakes_a_thief_that_is_going_to_sleep() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let queue = Arc::new(LocalQueue::new());
        let slot = Arc::new(LifoSlot::new());
        let sleepers = Arc::new(Sleepers::new(2));
        let thief = {
            let (queue, slot, sleepers) = (queue.clone(), slot.clone(), sleepers.clone());
            thread::spawn(move || {
                // As `Slot::steal` and `Slot::has_work` look: half of the busy worker's
                // queue, else the task in its slot.
                idle_worker(
                    |batch| {
                        queue.steal_half(batch, 32);
                        if batch.is_empty() {
                            batch.extend(slot.take());
                        }
                    },
                    || !queue.is_empty() || !slot.is_empty(),
                    &sleepers,
                    1,
                )
            })
        };
        // The busy worker schedules two tasks as `Workers::schedule_on_worker` does: the first
        // into the empty slot (one task waiting: nobody is woken, its worker runs it next), the
        // second into the slot too, the first (unless the thief took it meanwhile) to the
        // queue: two waiting, a sleeper is woken.
        assert!(slot.replace(task(1, &drops)).is_none());
        let waiting = match slot.replace(task(2, &drops)) {
            // SAFETY: this thread is the queue's only producer.
            Some(displaced) => unsafe { queue.push(displaced) }.ok().unwrap() + 1,
            None => queue.len() + 1,
        };
        if waiting >= 2 {
            if let Some(index) = sleepers.notify_one() {
                thief.thread().unpark();
                assert_eq!(index, 1);
            }
        }
        let stolen = thief.join().unwrap();
        assert!(!stolen.is_empty());
        let mut all: Vec<Box<Task>> = std::iter::from_fn(|| queue.pop()).collect();
        all.extend(slot.take());
        all.extend(stolen);
        assert_eq!(numbers(&all), [1, 2]);
    });
}
