//! Snapshots of live tasks and the task tree they make: what `all_tasks`, `dump_tasks` and
//! debug mode's shutdown report show. Over any set of headers: the caller says which.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::current;
use super::header::{Header, TaskId};
use super::info::{GroupId, Owner, TaskInfo, TaskState};
use crate::time::Instant;

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
    let mut infos = Vec::new();
    each_task(&mut |header| infos.push(snapshot(header)));
    infos.sort_by_key(|info| info.id);
    // A task is running if it is being polled, or runs the group of a child being polled.
    let by_id: HashMap<TaskId, usize> = infos.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let mut next = infos.iter().position(|t| t.state == TaskState::Running);
    while let Some(i) = next {
        infos[i].state = TaskState::Running;
        next = match infos[i].owner {
            Owner::Group {
                runner: Some(runner),
                ..
            } => by_id.get(&runner).copied(),
            _ => None,
        };
    }
    infos
}

/// The task tree of `infos` as text; `now` is the loop's clock, for timers' deadlines.
pub(crate) fn render(infos: &[TaskInfo], now: Instant) -> String {
    let live: HashMap<TaskId, &TaskInfo> = infos.iter().map(|t| (t.id, t)).collect();
    // runner -> group -> children
    let mut groups: HashMap<TaskId, BTreeMap<GroupId, Vec<&TaskInfo>>> = HashMap::new();
    let mut roots = Vec::new();
    for task in infos {
        match task.owner {
            Owner::Group {
                group,
                runner: Some(runner),
            } if live.contains_key(&runner) => {
                groups
                    .entry(runner)
                    .or_default()
                    .entry(group)
                    .or_default()
                    .push(task);
            }
            _ => roots.push(task),
        }
    }
    let names = |id: TaskId| task_label(live.get(&id).map(|t| t.name.as_str()), id);
    let view = View {
        groups: &groups,
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
    /// runner -> group -> children
    groups: &'a HashMap<TaskId, BTreeMap<GroupId, Vec<&'a TaskInfo>>>,
    names: &'a dyn Fn(TaskId) -> String,
    now: Instant,
}

fn render_groups(out: &mut String, prefix: &str, runner: TaskId, view: &View<'_>) {
    let Some(owned) = view.groups.get(&runner) else {
        return;
    };
    let count = owned.len();
    for (g, (group, children)) in owned.iter().enumerate() {
        let last_group = g + 1 == count;
        let _ = writeln!(
            out,
            "{prefix}{}group #{} ({} task{})",
            if last_group {
                "└── "
            } else {
                "├── "
            },
            group.as_u64(),
            children.len(),
            if children.len() == 1 { "" } else { "s" }
        );
        let inner = format!("{prefix}{}", if last_group { "    " } else { "│   " });
        for (c, child) in children.iter().enumerate() {
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
                crate::task::awaiting::describe(what, view.names, view.now)
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
    let mut waits = crate::task::awaiting::snapshot(&ids);
    for info in infos {
        info.awaiting = waits.remove(&info.id);
    }
}
