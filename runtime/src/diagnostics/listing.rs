//! Snapshots of live tasks and the task tree they make: what `all_tasks`, `dump_tasks` and
//! debug mode's shutdown report show. Over any set of headers: the caller says which.

use std::fmt::Write;

use crate::task_core::current;
use crate::task_core::header::{Header, TaskId};
use crate::task_core::info::{GroupId, Owner, TaskInfo, TaskState};
use crate::util::instant::Instant;

/// A snapshot of one task.
pub(crate) fn snapshot(header: &Header) -> TaskInfo {
    let running = current::running().is_some_and(|running| std::ptr::eq(running.as_ptr(), header));
    TaskInfo {
        id: header.id,
        name: header.name(),
        state: if running {
            TaskState::Running
        } else {
            TaskState::Waiting
        },
        owner: header.owner(),
        parent: header.parent,
        location: header.location,
        awaiting: None,
    }
}

/// Snapshots of every live task of `lp`, oldest first, with the running ones marked.
pub(crate) fn infos(each_task: impl FnOnce(&mut dyn FnMut(&Header))) -> Vec<TaskInfo> {
    let mut found = Vec::new();
    each_task(&mut |header| found.push(snapshot(header)));
    // Oldest first, through the sorted index every listing shares (no sort of its own).
    let order: Vec<usize> = ById::new(&found).positions().collect();
    let mut found: Vec<Option<TaskInfo>> = found.into_iter().map(Some).collect();
    let mut infos: Vec<TaskInfo> = order
        .into_iter()
        .map(|at| found[at].take().expect("each position comes once"))
        .collect();
    // A task is running if it is being polled, or runs the group of a child being polled.
    let mut next = infos.iter().position(|t| t.state == TaskState::Running);
    while let Some(i) = next {
        infos[i].state = TaskState::Running;
        next = match infos[i].owner {
            Owner::Group {
                runner: Some(runner),
                ..
            } => infos.binary_search_by_key(&runner, |t| t.id).ok(),
            _ => None,
        };
    }
    infos
}

/// Tasks of a slice found by id: their positions sorted by id (a listing's slice is sorted
/// already, which the sort sees in one pass). A sorted index, not a map: every listing and
/// report shares this one small piece of code.
pub(crate) struct ById<'a> {
    tasks: &'a [TaskInfo],
    order: Vec<(TaskId, usize)>,
}

impl<'a> ById<'a> {
    pub(crate) fn new(tasks: &'a [TaskInfo]) -> ById<'a> {
        let mut order: Vec<(TaskId, usize)> = tasks
            .iter()
            .enumerate()
            .map(|(at, task)| (task.id, at))
            .collect();
        order.sort_unstable();
        ById { tasks, order }
    }

    /// Where the task `id` is in the slice.
    pub(crate) fn position(&self, id: TaskId) -> Option<usize> {
        let found = self.order.binary_search_by(|&(key, _)| key.cmp(&id)).ok()?;
        Some(self.order[found].1)
    }

    /// The task `id`.
    pub(crate) fn get(&self, id: TaskId) -> Option<&'a TaskInfo> {
        self.position(id).map(|at| &self.tasks[at])
    }

    /// The slice's positions, in id order.
    pub(crate) fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().map(|&(_, at)| at)
    }
}

/// The task tree of `infos` as text; `now` is the loop's clock, for timers' deadlines.
pub(crate) fn render(infos: &[TaskInfo], now: Instant) -> String {
    let live = ById::new(infos);
    // (runner, group, child's position), sorted: each runner's groups in id order, each
    // group's children in the order of `infos`.
    let mut owned: Vec<(TaskId, GroupId, usize)> = Vec::new();
    let mut roots = Vec::new();
    for (at, task) in infos.iter().enumerate() {
        match task.owner {
            Owner::Group {
                group,
                runner: Some(runner),
            } if live.position(runner).is_some() => owned.push((runner, group, at)),
            _ => roots.push(task),
        }
    }
    owned.sort_unstable();
    let names = |id: TaskId| task_label(live.get(id).map(|t| t.name.as_str()), id);
    let view = View {
        infos,
        owned: &owned,
        names: &names,
        now,
    };
    let mut out = String::new();
    for root in roots {
        line(&mut out, "", root, true, &view);
        render_groups(&mut out, "", root.id, &view);
    }
    if out.is_empty() {
        out.push_str("(no live tasks)\n");
    }
    out
}

/// What every line of a rendered tree looks at.
struct View<'a> {
    infos: &'a [TaskInfo],
    /// (runner, group, child's position in `infos`), sorted.
    owned: &'a [(TaskId, GroupId, usize)],
    names: &'a dyn Fn(TaskId) -> String,
    now: Instant,
}

fn render_groups(out: &mut String, prefix: &str, runner: TaskId, view: &View<'_>) {
    let start = view.owned.partition_point(|&(r, _, _)| r < runner);
    let end = view.owned.partition_point(|&(r, _, _)| r <= runner);
    let groups: Vec<&[(TaskId, GroupId, usize)]> =
        view.owned[start..end].chunk_by(|a, b| a.1 == b.1).collect();
    let count = groups.len();
    for (g, children) in groups.into_iter().enumerate() {
        let last_group = g + 1 == count;
        let _ = writeln!(
            out,
            "{prefix}{}group #{} ({} task{})",
            if last_group {
                "└── "
            } else {
                "├── "
            },
            children[0].1.as_u64(),
            children.len(),
            if children.len() == 1 { "" } else { "s" }
        );
        let inner = format!("{prefix}{}", if last_group { "    " } else { "│   " });
        for (c, &(_, _, at)) in children.iter().enumerate() {
            let child = &view.infos[at];
            let last = c + 1 == children.len();
            let branch = format!("{inner}{}", if last { "└── " } else { "├── " });
            line(out, &branch, child, false, view);
            let below = format!("{inner}{}", if last { "    " } else { "│   " });
            render_groups(out, &below, child.id, view);
        }
    }
}

fn line(out: &mut String, prefix: &str, task: &TaskInfo, root: bool, view: &View<'_>) {
    let name = task_label(Some(&task.name), task.id);
    let state = match task.state {
        TaskState::Running => "running",
        _ => "waiting",
    };
    let owner = match (root, task.owner) {
        (false, _) => "",
        (true, Owner::Set) => ", owned by a TaskSet",
        (true, Owner::Group { .. }) => ", owned by a group",
        (true, _) => ", owned by its Task handle",
    };
    let awaiting = match &task.awaiting {
        Some(what) if task.state == TaskState::Waiting => {
            format!(
                ", awaiting {}",
                crate::task_core::awaiting::describe(what, view.names, view.now)
            )
        }
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{prefix}{name} [{state}] created at {}{owner}{awaiting}",
        task.location
    );
}

/// `name (Task-<id>)`, or `Task-<id>` for a task with its default name (or none known).
pub(crate) fn task_label(name: Option<&str>, id: TaskId) -> String {
    let default_name = format!("Task-{id}");
    match name {
        Some(name) if name != default_name => format!("{name} ({default_name})"),
        _ => default_name,
    }
}

/// Fills in what each of `infos` (sorted by id) awaits, from the waits recorded.
pub(crate) fn fill_awaiting(infos: &mut [TaskInfo]) {
    let ids: Vec<TaskId> = infos.iter().map(|t| t.id).collect();
    let waits = crate::task_core::awaiting::snapshot(&ids);
    for (info, what) in infos.iter_mut().zip(waits) {
        info.awaiting = what;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str, owner: Owner) -> TaskInfo {
        TaskInfo {
            id: TaskId::next(),
            name: name.to_owned(),
            state: TaskState::Waiting,
            owner,
            parent: None,
            location: std::panic::Location::caller(),
            awaiting: None,
        }
    }

    fn in_group(name: &str, group: u64, runner: &TaskInfo) -> TaskInfo {
        let group = GroupId(group);
        let runner = Some(runner.id);
        task(name, Owner::Group { group, runner })
    }

    #[test]
    fn a_tree_lists_groups_by_id_and_children_in_task_order() {
        let root = task("root", Owner::Handle);
        let a = in_group("a", 7, &root);
        let b = in_group("b", 3, &root);
        let c = in_group("c", 7, &root);
        let d = in_group("d", 9, &b);
        let at = root.location;
        let label = |t: &TaskInfo| format!("{} (Task-{})", t.name, t.id);
        let expected = [
            format!(
                "{} [waiting] created at {at}, owned by its Task handle",
                label(&root)
            ),
            "├── group #3 (1 task)".to_owned(),
            format!("│   └── {} [waiting] created at {at}", label(&b)),
            "│       └── group #9 (1 task)".to_owned(),
            format!("│           └── {} [waiting] created at {at}", label(&d)),
            "└── group #7 (2 tasks)".to_owned(),
            format!("    ├── {} [waiting] created at {at}", label(&a)),
            format!("    └── {} [waiting] created at {at}", label(&c)),
        ];
        let tree = render(&[root, a, b, c, d], Instant::now());
        assert_eq!(tree.lines().collect::<Vec<_>>(), expected, "{tree}");
    }

    #[test]
    fn by_id_finds_tasks_in_any_order() {
        let first = task("first", Owner::Handle);
        let second = task("second", Owner::Set);
        let tasks = [second.clone(), first.clone()];
        let by_id = ById::new(&tasks);
        assert_eq!(by_id.position(first.id), Some(1));
        assert_eq!(
            by_id.get(second.id).map(|t| t.name.as_str()),
            Some("second")
        );
        assert_eq!(by_id.positions().collect::<Vec<_>>(), [1, 0]);
        assert!(by_id.get(TaskId::next()).is_none());
    }
}
