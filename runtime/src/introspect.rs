//! Seeing what runs: [`current_task`], [`all_tasks`] and [`dump_tasks`].

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::event_loop::EventLoop;
use crate::task::header::Header;
use crate::task::{GroupId, Owner, TaskId, TaskInfo, TaskState, current};

/// A snapshot of one task.
pub(crate) fn info(header: &Header) -> TaskInfo {
    let running = current::running().is_some_and(|running| std::ptr::eq(running.as_ptr(), header));
    TaskInfo {
        id: header.id,
        name: header.name(),
        state: if running {
            TaskState::Running
        } else {
            TaskState::Waiting
        },
        owner: header.owner,
        parent: header.parent,
        location: header.location,
        awaiting: None,
    }
}

/// The task being polled on this thread: asyncio's `asyncio.current_task()`.
///
/// `None` outside any task (for instance in a plain destructor run by no task).
///
/// # Examples
///
/// ```
/// use tether::task::Builder;
///
/// tether::run(async {
///     let task = Builder::new().name("worker").create_task(async {
///         tether::current_task().unwrap().name
///     });
///     assert_eq!(task.await.unwrap(), "worker");
/// });
/// ```
pub fn current_task() -> Option<TaskInfo> {
    // SAFETY: `running` is only set while that task is being polled, and its header outlives
    // the poll.
    current::running().map(|header| info(unsafe { header.as_ref() }))
}

/// Every live task of the loop running on this thread, oldest first: asyncio's
/// `asyncio.all_tasks()`. Group children included. Empty outside a loop.
///
/// On a worker of a multi-threaded runtime ([`Builder::workers`](crate::Builder::workers)):
/// this worker's own tasks (made with `create_task`, and their groups' children), and every
/// `Send` task of the runtime (made with [`spawn`](crate::spawn), and the children of send
/// groups), wherever it runs. Another worker's own tasks are that worker's to list.
///
/// # Examples
///
/// ```
/// tether::run(async {
///     let _worker = tether::create_task(std::future::pending::<()>());
///     let names: Vec<String> = tether::all_tasks().into_iter().map(|t| t.name).collect();
///     assert_eq!(names.len(), 2, "the main task and the worker: {names:?}");
/// });
/// ```
pub fn all_tasks() -> Vec<TaskInfo> {
    EventLoop::with_current(infos).unwrap_or_default()
}

/// The live task tree of the loop running on this thread, as text: asyncio's
/// `python -m asyncio pstree`. On a worker, the same tasks as [`all_tasks`].
///
/// Top-level tasks are roots (with their owner: a `Task` handle or a `TaskSet`); under a task,
/// each group it runs, and under each group its children, recursively. Every line gives the
/// task's name, id, state and where it was created. From another thread, use
/// [`Handle::dump_tasks`](crate::Handle::dump_tasks).
///
/// # Examples
///
/// ```
/// tether::run(async {
///     tether::task_group!(|tg| {
///         let stuck = tg.create_task(std::future::pending::<()>());
///         stuck.set_name("stuck");
///         tether::yield_now().await;
///         let tree = tether::dump_tasks();
///         assert!(tree.contains("group #"), "{tree}");
///         assert!(tree.contains("stuck (Task-"), "{tree}");
///         stuck.cancel();
///     })
///     .unwrap();
/// });
/// ```
pub fn dump_tasks() -> String {
    EventLoop::with_current(render)
        .unwrap_or_else(|| "no tether event loop is running on this thread\n".to_owned())
}

/// Snapshots of every live task of `lp`, oldest first, with the running ones marked.
pub(crate) fn infos(lp: &EventLoop) -> Vec<TaskInfo> {
    let mut infos = Vec::new();
    lp.for_each_task(|header| infos.push(info(header)));
    infos.sort_by_key(|info| info.id);
    if lp.tracks_waits() {
        let ids: Vec<TaskId> = infos.iter().map(|t| t.id).collect();
        let mut waits = crate::awaiting::snapshot(&ids);
        for info in &mut infos {
            info.awaiting = waits.remove(&info.id);
        }
    }
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

/// The task tree of `lp` as text.
pub(crate) fn render(lp: &EventLoop) -> String {
    let infos = infos(lp);
    let live: HashMap<TaskId, &TaskInfo> = infos.iter().map(|t| (t.id, t)).collect();
    // runner -> group -> children
    let mut groups: HashMap<TaskId, BTreeMap<GroupId, Vec<&TaskInfo>>> = HashMap::new();
    let mut roots = Vec::new();
    for task in &infos {
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
    let mut out = String::new();
    for root in roots {
        line(&mut out, "", root, true, &names);
        render_groups(&mut out, "", root.id, &groups, &names);
    }
    if out.is_empty() {
        out.push_str("(no live tasks)\n");
    }
    out
}

fn render_groups(
    out: &mut String,
    prefix: &str,
    runner: TaskId,
    groups: &HashMap<TaskId, BTreeMap<GroupId, Vec<&TaskInfo>>>,
    names: &dyn Fn(TaskId) -> String,
) {
    let Some(owned) = groups.get(&runner) else {
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
            line(out, &branch, child, false, names);
            let below = format!("{inner}{}", if last { "    " } else { "│   " });
            render_groups(out, &below, child.id, groups, names);
        }
    }
}

fn line(
    out: &mut String,
    prefix: &str,
    task: &TaskInfo,
    root: bool,
    names: &dyn Fn(TaskId) -> String,
) {
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
            format!(", awaiting {}", crate::awaiting::describe(what, names))
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
