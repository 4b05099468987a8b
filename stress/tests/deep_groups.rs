//! Task groups nested 1,000 deep, through a recursive `async fn` (boxed, as recursion needs).
//!
//! Each level is a fallible group (`task_group!(try ...)`) whose body holds a guard and which has
//! two children: a sibling that waits, and the next level down. The bottom child returns, panics,
//! or waits forever. Then:
//!
//! - returns: every level returns, the count comes back up, every guard is dropped;
//! - panics: each level's group fails with the level below's `GroupError` as its child's error,
//!   so the top sees a chain of exactly 1,000 `GroupError`s ending in the bottom's panic; every
//!   sibling was cancelled and every guard dropped;
//! - waits: a timeout at the top drops the whole tree: every guard dropped, no timer left.
//!
//! A scoped child runs inside its group's poll, so the poll of the bottom task is nested 1,000
//! groups deep on the stack: the tests run on a thread with a stack big enough for that, and report
//! how deep it went.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tether::{GroupError, Runtime, TaskFailure};
use tether_stress::{Tally, count, quiet_panics};

const HOUR: Duration = Duration::from_secs(3600);
/// The stack of the thread the deep tests run on.
const STACK: usize = 256 << 20;

/// What the bottom of the tree does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bottom {
    Returns,
    Panics,
    Waits,
}

/// A level's child error: the group below it failed.
struct Below(Box<GroupError<Below>>);

impl fmt::Debug for Below {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not recursive: a 1,000-level chain would print 1,000 levels.
        f.write_str("Below(..)")
    }
}

impl fmt::Display for Below {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the group below failed")
    }
}

struct Tree<'a> {
    tally: &'a Tally,
    bottom: Bottom,
    /// The address of a local in the first poll of the top level and of the bottom child.
    top_of_stack: std::cell::Cell<usize>,
    bottom_of_stack: std::cell::Cell<usize>,
}

fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

type Level<'a> = Pin<Box<dyn Future<Output = Result<usize, GroupError<Below>>> + 'a>>;

/// One level: a group holding the level below. Returns how many levels returned.
fn level<'a>(depth: usize, tree: &'a Tree<'a>) -> Level<'a> {
    Box::pin(async move {
        let outcome = tether::task_group!(try |tg| {
            let _body = tree.tally.guard();
            let sibling = tree.tally.guard();
            tg.create_task(async move {
                let _guard = sibling;
                // Long enough that a failure below always has to cancel it.
                let wait = if tree.bottom == Bottom::Returns {
                    Duration::ZERO
                } else {
                    HOUR
                };
                tether::sleep(wait).await;
                Ok::<usize, Below>(0)
            });
            let below = if depth == 1 {
                let guard = tree.tally.guard();
                tg.create_task(async move {
                    let _guard = guard;
                    tree.bottom_of_stack.set(stack_address());
                    tether::yield_now().await;
                    match tree.bottom {
                        Bottom::Returns => Ok(0),
                        Bottom::Panics => panic!("stress: the bottom of the tree failed"),
                        Bottom::Waits => std::future::pending().await,
                    }
                })
            } else {
                tg.create_task(async move {
                    level(depth - 1, tree)
                        .await
                        .map_err(|error| Below(Box::new(error)))
                })
            };
            below.await.map(|levels| levels + 1)
        });
        outcome.map(|body| body.expect("a group without failures ran its body to the end"))
    })
}

/// Runs `f` on a thread with a stack of [`STACK`] bytes.
fn on_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, f)
            .expect("a thread with a big stack")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Builds a tree `depth` deep with `bottom`, runs it to the end, and checks every guard dropped.
fn grow(depth: usize, bottom: Bottom) -> Result<usize, GroupError<Below>> {
    quiet_panics();
    let tally = Tally::new();
    let tree = Tree {
        tally: &tally,
        bottom,
        top_of_stack: Default::default(),
        bottom_of_stack: Default::default(),
    };
    let outcome = Runtime::builder().start_paused(true).build().run(async {
        tree.top_of_stack.set(stack_address());
        let outcome = match bottom {
            Bottom::Waits => {
                let timed = tether::timeout(Duration::from_secs(1), level(depth, &tree)).await;
                assert!(
                    timed.is_err(),
                    "the bottom waits forever: the timeout elapses"
                );
                Ok(0)
            }
            _ => level(depth, &tree).await,
        };
        assert_eq!(tether::__private::live_tasks(), 1);
        assert_eq!(tether::__private::armed_timers(), 0);
        outcome
    });
    // Each level: the body's guard, the sibling's; and the bottom child's.
    assert_eq!(tally.created(), 2 * depth + 1, "every level started");
    tally.assert_all_dropped(&format!("{depth} nested groups, bottom {bottom:?}"));
    let used = tree.top_of_stack.get().abs_diff(tree.bottom_of_stack.get());
    eprintln!(
        "{depth} nested groups ({bottom:?}): the bottom child polled {} KiB below the top ({} bytes a level)",
        used >> 10,
        used / depth
    );
    outcome
}

fn depth() -> usize {
    count(1_000, 40).max(2)
}

#[test]
fn a_thousand_nested_groups_return_through_every_level() {
    let depth = depth();
    let levels = on_big_stack(|| grow(depth, Bottom::Returns)).unwrap();
    assert_eq!(levels, depth);
}

#[test]
fn a_failure_at_the_bottom_surfaces_at_the_top_through_every_level() {
    let depth = depth();
    let error = on_big_stack(|| grow(depth, Bottom::Panics)).unwrap_err();
    // Walk the chain down: one GroupError per level, each with exactly one failure (the sibling
    // was cancelled, which is not a failure), the last one the bottom's panic.
    let mut levels = 1;
    let mut group = &error;
    loop {
        assert_eq!(group.failures().len(), 1, "level {levels}: {group}");
        match &group.failures()[0] {
            TaskFailure::Failed {
                error: Below(below),
                ..
            } => {
                group = below;
                levels += 1;
            }
            TaskFailure::Panicked { panic, .. } => {
                assert_eq!(panic.message(), "stress: the bottom of the tree failed");
                break;
            }
        }
    }
    assert_eq!(levels, depth, "the failure crossed every level");
    assert!(
        error.to_string().contains("the group below failed"),
        "{error}"
    );
}

#[test]
fn a_timeout_at_the_top_drops_a_thousand_levels() {
    let depth = depth();
    on_big_stack(|| grow(depth, Bottom::Waits)).unwrap();
}
