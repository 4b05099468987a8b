//! Await cycles: deadlocks, named. A waiting task points at the tasks it waits on (the task it
//! awaits, the holder of the lock it wants, every live child of the group it awaits); every
//! elementary cycle of those arrows is a set of tasks none of which can go on.

use super::format::{Names, short_awaiting};
use crate::model::{Awaiting, Owner, Snapshot, State, Task};

/// At most this many cycles are listed, after at most this many steps of the search: a
/// pathological graph (many tasks awaiting groups of many children) cannot make the tool hang.
const MAX_CYCLES: usize = 100;
const MAX_STEPS: usize = 1_000_000;

/// Every elementary cycle once, each starting at its smallest task id, in order of their id
/// sequences; as task ids. The second value is true when the search stopped early, at
/// [`MAX_CYCLES`] cycles or [`MAX_STEPS`] steps: there may be more.
pub fn find(snapshot: &Snapshot) -> (Vec<Vec<u64>>, bool) {
    let mut tasks: Vec<&Task> = snapshot.tasks.iter().collect();
    tasks.sort_by_key(|task| task.id);
    let position = |id: u64| tasks.binary_search_by_key(&id, |task| task.id).ok();
    // Arrows between positions in `tasks`, each list sorted.
    let arrows: Vec<Vec<usize>> = tasks
        .iter()
        .map(|task| {
            let mut next: Vec<usize> = blockers(task, &tasks)
                .into_iter()
                .filter_map(position)
                .collect();
            next.sort_unstable();
            next.dedup();
            next
        })
        .collect();
    let mut found = Vec::new();
    let mut more = false;
    let mut steps = 0;
    // Each cycle is found from its smallest position only: the search from `start` never
    // enters a position below it.
    'search: for start in 0..tasks.len() {
        let mut path = vec![start];
        let mut on_path = vec![false; tasks.len()];
        on_path[start] = true;
        // One iterator position per path element: an explicit stack, no recursion depth limit.
        let mut next_arrow = vec![0usize];
        while let Some(&at) = path.last() {
            let depth = path.len() - 1;
            let Some(&to) = arrows[at].get(next_arrow[depth]) else {
                on_path[at] = false;
                path.pop();
                next_arrow.pop();
                continue;
            };
            next_arrow[depth] += 1;
            steps += 1;
            if steps > MAX_STEPS {
                more = true;
                break 'search;
            }
            if to == start {
                if found.len() == MAX_CYCLES {
                    more = true;
                    break 'search;
                }
                found.push(path.iter().map(|&p| tasks[p].id).collect());
            } else if to > start && !on_path[to] {
                on_path[to] = true;
                path.push(to);
                next_arrow.push(0);
            }
        }
    }
    found.sort();
    (found, more)
}

/// The ids of the tasks `task`'s wait depends on.
fn blockers(task: &Task, tasks: &[&Task]) -> Vec<u64> {
    if task.state != State::Waiting {
        return Vec::new();
    }
    match &task.awaiting {
        Some(Awaiting::Task { task }) => vec![*task],
        Some(Awaiting::Sync {
            held_by: Some(holder),
            ..
        }) => vec![*holder],
        Some(Awaiting::Group { group }) => tasks
            .iter()
            .filter(|child| matches!(child.owner, Owner::Group { group: g, .. } if g == *group))
            .map(|child| child.id)
            .collect(),
        _ => Vec::new(),
    }
}

/// `cycle: audit (Task-7) -> Lock "ledger" -> transfer (Task-6) -> Lock "accounts" -> audit
/// (Task-7)`, one line per cycle, then a line saying how many were left out, if any.
pub fn render(snapshot: &Snapshot, names: &Names<'_>) -> String {
    let (cycles, more) = find(snapshot);
    let mut out = String::new();
    for cycle in &cycles {
        out.push_str("cycle: ");
        for &id in cycle {
            out.push_str(&names.label(id));
            out.push_str(" -> ");
            match names.get(id).and_then(|task| task.awaiting.as_ref()) {
                // The next task is named right after: the arrow says how.
                Some(Awaiting::Task { .. }) => out.push_str("awaits -> "),
                Some(what) => {
                    out.push_str(&short_awaiting(what, names));
                    out.push_str(" -> ");
                }
                None => {}
            }
        }
        out.push_str(&names.label(cycle[0]));
        out.push('\n');
    }
    if more {
        out.push_str(&format!(
            "(the search for cycles stopped early: there may be more than the {} listed)\n",
            cycles.len()
        ));
    }
    out
}
