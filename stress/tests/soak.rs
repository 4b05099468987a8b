//! Soak: a million tasks, in waves, each given a random plan: return, panic, be cancelled before
//! or after it starts, have its handle dropped before or after it starts, run under a timeout that
//! elapses or not, await or drop a child task, run a task group that fails or not.
//!
//! Every future carries a guard from a [`Tally`]. After each wave: every outcome is the one its
//! plan calls for, every guard made so far has been dropped exactly once (a second drop trips the
//! guard's canary), and the loop holds nothing: `live_tasks() == 1` (the main task) and
//! `armed_timers() == 0`.
//!
//! The plans come from a seeded xorshift, and the main soak runs on the paused (virtual) clock,
//! where the schedule is a function of the seed alone: a failure prints its seed, and
//! `TETHER_STRESS_SEED=<seed>` replays it exactly. `TETHER_STRESS_SEED=random` explores.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use tether::{Runtime, Task, TaskError};
use tether_stress::{Seed, Tally, XorShift, count, quiet_panics};

const HOUR: Duration = Duration::from_secs(3600);
/// How many times the owner acts on a wave (cancels, drops) before awaiting what is left.
const ROUNDS: u64 = 4;
const CANCEL_MESSAGE: &str = "soak cancel";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Takes `steps` steps (yields and short sleeps), then returns its number.
    Return { steps: u64 },
    /// Panics at step `at`.
    Panic { at: u64 },
    /// Cancelled, with a message, before it ever runs: its body must never start.
    CancelUnstarted,
    /// Waits forever; the owner cancels it, with a message, at `round`.
    CancelLater { round: u64 },
    /// Dropped before it ever runs.
    DropUnstarted,
    /// Waits forever; the owner drops its handle at `round`.
    DropLater { round: u64 },
    /// Its work runs under `timeout(limit)` and takes twice the limit (`elapses`) or half of it.
    Timeout { elapses: bool, limit: u64 },
    /// Creates a child task, then awaits it or drops it.
    Child { awaits: bool },
    /// Runs a task group of two children, one of which panics if `fails`.
    Group { fails: bool },
}

impl Plan {
    fn pick(rng: &mut XorShift) -> Plan {
        match rng.below(100) {
            0..30 => Plan::Return {
                steps: rng.below(4),
            },
            30..40 => Plan::Panic { at: rng.below(3) },
            40..45 => Plan::CancelUnstarted,
            45..55 => Plan::CancelLater {
                round: rng.below(ROUNDS),
            },
            55..60 => Plan::DropUnstarted,
            60..70 => Plan::DropLater {
                round: rng.below(ROUNDS),
            },
            70..80 => Plan::Timeout {
                elapses: rng.chance(500),
                limit: 1 + rng.below(4),
            },
            80..90 => Plan::Child {
                awaits: rng.chance(500),
            },
            _ => Plan::Group {
                fails: rng.chance(300),
            },
        }
    }
}

/// What every task shares with the soak.
#[derive(Clone)]
struct Shared {
    tally: Tally,
    /// Bodies of tasks that were cancelled or dropped before they started, found running.
    started_unstarted: Rc<Cell<usize>>,
}

/// One step of a task's work: a yield, or a sleep of 0 to 2 ms.
async fn step(rng: &mut XorShift) {
    match rng.below(3) {
        0 => tether::yield_now().await,
        n => tether::sleep(ms(n - 1)).await,
    }
}

/// The task's body, per its plan. Returns what `expect` checks.
async fn body(id: u64, plan: Plan, mut rng: XorShift, shared: Shared) -> u64 {
    match plan {
        Plan::Return { steps } => {
            for _ in 0..steps {
                step(&mut rng).await;
            }
            id
        }
        Plan::Panic { at } => {
            for _ in 0..at {
                step(&mut rng).await;
            }
            panic!("stress: planned panic of task {id}");
        }
        Plan::CancelUnstarted | Plan::DropUnstarted => {
            shared
                .started_unstarted
                .set(shared.started_unstarted.get() + 1);
            id
        }
        Plan::CancelLater { .. } | Plan::DropLater { .. } => {
            step(&mut rng).await;
            tether::sleep(HOUR).await;
            unreachable!("the owner cancels or drops this task first");
        }
        Plan::Timeout { elapses, limit } => {
            let work = if elapses { 2 * limit } else { limit / 2 };
            let guard = shared.tally.guard();
            let outcome = tether::timeout(ms(limit), async move {
                let _guard = guard;
                tether::sleep(ms(work)).await;
                id
            })
            .await;
            outcome.unwrap_or(u64::MAX)
        }
        Plan::Child { awaits } => {
            let guard = shared.tally.guard();
            let child = tether::create_task(async move {
                let _guard = guard;
                step(&mut rng).await;
                id + 1
            });
            if awaits {
                child.await.expect("the child returns") - 1
            } else {
                drop(child);
                step(&mut XorShift::new(id)).await;
                id
            }
        }
        Plan::Group { fails } => {
            let (first, second) = (shared.tally.guard(), shared.tally.guard());
            let result = tether::task_group!(|tg| {
                tg.create_task(async move {
                    let _guard = first;
                    tether::sleep(ms(1)).await;
                });
                tg.create_task(async move {
                    let _guard = second;
                    tether::yield_now().await;
                    if fails {
                        panic!("stress: group child of task {id} failed");
                    }
                });
            });
            match result {
                Ok(()) => id,
                Err(error) => {
                    assert_eq!(error.failures().len(), 1, "{error}");
                    u64::MAX
                }
            }
        }
    }
}

/// Checks a task's outcome against its plan. On the real clock (`exact_time` false) a timeout
/// whose work was due after its deadline may still win: if the loop wakes late, both are due at
/// once, and `timeout` documents that the output then wins.
fn expect(id: u64, plan: Plan, outcome: Result<u64, TaskError>, exact_time: bool) {
    let ok = match (&plan, &outcome) {
        (Plan::Return { .. } | Plan::Child { .. }, Ok(value)) => *value == id,
        (Plan::Panic { .. }, Err(TaskError::Panicked(panic))) => {
            panic.message() == format!("stress: planned panic of task {id}")
        }
        (
            Plan::CancelUnstarted | Plan::CancelLater { .. },
            Err(TaskError::Cancelled { message }),
        ) => message.as_deref() == Some(CANCEL_MESSAGE),
        (Plan::Timeout { elapses, .. }, Ok(value)) => {
            // On the real clock a loaded machine can wake the loop after both the work's and
            // the timeout's deadlines (1 to 4 ms apart): then either may win.
            *value == if *elapses { u64::MAX } else { id }
                || (!exact_time && (*value == id || *value == u64::MAX))
        }
        (Plan::Group { fails }, Ok(value)) => *value == if *fails { u64::MAX } else { id },
        _ => false,
    };
    assert!(ok, "task {id} planned {plan:?} ended with {outcome:?}");
}

struct Slot {
    id: u64,
    plan: Plan,
    task: Option<Task<u64>>,
}

struct Totals {
    tasks: u64,
    waves: u64,
    guards: usize,
}

/// Runs `total` top-level tasks in waves of `wave` (± half) and checks each wave.
async fn soak(seed: &Seed, total: u64, wave: u64, exact_time: bool) -> Totals {
    let mut rng = seed.rng();
    let shared = Shared {
        tally: Tally::new(),
        started_unstarted: Rc::new(Cell::new(0)),
    };
    let mut next_id = 0;
    let mut waves = 0;
    while next_id < total {
        let size = (wave / 2 + rng.below(wave + 1)).min(total - next_id);
        let mut slots = Vec::with_capacity(size as usize);
        for _ in 0..size {
            let id = next_id;
            next_id += 1;
            let plan = Plan::pick(&mut rng);
            let guard = shared.tally.guard();
            let (task_rng, task_shared) = (rng.fork(), shared.clone());
            let task = tether::create_task(async move {
                let _guard = guard;
                body(id, plan, task_rng, task_shared).await
            });
            let task = match plan {
                Plan::CancelUnstarted => {
                    assert!(task.cancel_with(CANCEL_MESSAGE));
                    Some(task)
                }
                Plan::DropUnstarted => None,
                _ => Some(task),
            };
            slots.push(Slot { id, plan, task });
        }
        for round in 0..ROUNDS {
            for slot in &mut slots {
                match slot.plan {
                    Plan::CancelLater { round: r } if r == round => {
                        let task = slot.task.as_ref().expect("cancelled once");
                        assert!(task.cancel_with(CANCEL_MESSAGE), "task {}", slot.id);
                    }
                    Plan::DropLater { round: r } if r == round => slot.task = None,
                    _ => {}
                }
            }
            tether::sleep(ms(1)).await;
        }
        for slot in slots {
            if let Some(task) = slot.task {
                expect(slot.id, slot.plan, task.await, exact_time);
            }
        }
        // Handles dropped last round: their futures go the next time the loop runs them.
        for _ in 0..3 {
            tether::yield_now().await;
        }
        waves += 1;
        assert_eq!(
            shared.tally.alive(),
            0,
            "wave {waves}: futures or values not dropped"
        );
        assert_eq!(
            tether::__private::live_tasks(),
            1,
            "wave {waves}: tasks left"
        );
        assert_eq!(
            tether::__private::armed_timers(),
            0,
            "wave {waves}: timers left"
        );
    }
    assert_eq!(
        shared.started_unstarted.get(),
        0,
        "a task cancelled or dropped before it started ran its body"
    );
    shared.tally.assert_all_dropped("the soak");
    Totals {
        tasks: next_id,
        waves,
        guards: shared.tally.created(),
    }
}

#[test]
fn a_million_tasks_with_random_fates_leave_nothing_behind() {
    quiet_panics();
    let seed = Seed::new("soak", 0x50A4_0001);
    let total = count(1_000_000, 300) as u64;
    let wave = count(1_000, 30) as u64;
    let start = std::time::Instant::now();
    let totals = Runtime::builder()
        .start_paused(true)
        .build()
        .run(soak(&seed, total, wave, true));
    assert_eq!(totals.tasks, total);
    eprintln!(
        "soak: {} top-level tasks in {} waves, {} guards, seed {:#x}, {:.1?}",
        totals.tasks,
        totals.waves,
        totals.guards,
        seed.value(),
        start.elapsed()
    );
}

#[test]
fn the_soak_on_the_real_clock() {
    // The same plans with real timers: the loop parks, wakes on time, and fires due timers in
    // batches. Timing varies run to run, so this one is a smoke test rather than a replay.
    quiet_panics();
    let seed = Seed::new("soak on the real clock", 0x50A4_0002);
    let total = count(40_000, 60) as u64;
    let wave = count(1_000, 30) as u64;
    let totals = tether::run(soak(&seed, total, wave, false));
    assert_eq!(totals.tasks, total);
}
