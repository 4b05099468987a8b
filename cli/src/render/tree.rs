//! `pstree`: the loops and what runs on them, the ownership tree as `tether::dump_tasks()`
//! prints it, then every await cycle.

use super::cycles;
use super::format::{Names, location, loop_line, state, task_label, wait_of};
use crate::model::{Owner, Snapshot, Task};

/// The whole `pstree` view.
pub fn pstree(snapshot: &Snapshot) -> String {
    let names = Names::new(snapshot);
    let mut out = String::new();
    for lp in &snapshot.loops {
        out.push_str(&loop_line(lp, &names));
        out.push('\n');
    }
    out.push_str(&tree(snapshot, &names));
    out.push_str(&cycles::render(snapshot, &names));
    out
}

/// The ownership tree. Roots are the tasks owned by a handle or a set, or by a group whose
/// runner is not live; a group's children nest under their runner as `group #N (k tasks)`,
/// groups in id order, children in id order.
pub fn tree(snapshot: &Snapshot, names: &Names<'_>) -> String {
    let mut tasks: Vec<&Task> = snapshot.tasks.iter().collect();
    tasks.sort_by_key(|task| task.id);
    // (runner, group, child), sorted.
    let mut owned: Vec<(u64, u64, &Task)> = Vec::new();
    let mut roots = Vec::new();
    for &task in &tasks {
        match task.owner {
            Owner::Group {
                group,
                runner: Some(runner),
            } if names.get(runner).is_some() && runner != task.id => {
                owned.push((runner, group, task));
            }
            _ => roots.push(task),
        }
    }
    owned.sort_by_key(|&(runner, group, task)| (runner, group, task.id));
    let view = View {
        snapshot,
        names,
        owned: &owned,
    };
    let mut out = String::new();
    for root in roots {
        view.line(&mut out, "", root, true);
        view.groups(&mut out, "", root.id);
    }
    if out.is_empty() {
        out.push_str("(no live tasks)\n");
    }
    out
}

/// What every line of the tree looks at.
struct View<'a> {
    snapshot: &'a Snapshot,
    names: &'a Names<'a>,
    /// (runner, group, child), sorted.
    owned: &'a [(u64, u64, &'a Task)],
}

impl View<'_> {
    /// The groups `runner` runs, and their children, below its line.
    fn groups(&self, out: &mut String, prefix: &str, runner: u64) {
        let start = self.owned.partition_point(|&(r, _, _)| r < runner);
        let end = self.owned.partition_point(|&(r, _, _)| r <= runner);
        let groups: Vec<&[(u64, u64, &Task)]> =
            self.owned[start..end].chunk_by(|a, b| a.1 == b.1).collect();
        for (g, children) in groups.iter().enumerate() {
            let last_group = g + 1 == groups.len();
            out.push_str(&format!(
                "{prefix}{}group #{} ({} task{})\n",
                branch(last_group),
                children[0].1,
                children.len(),
                if children.len() == 1 { "" } else { "s" }
            ));
            let inner = format!("{prefix}{}", indent(last_group));
            for (c, &(_, _, child)) in children.iter().enumerate() {
                let last = c + 1 == children.len();
                self.line(out, &format!("{inner}{}", branch(last)), child, false);
                self.groups(out, &format!("{inner}{}", indent(last)), child.id);
            }
        }
    }

    /// `name (Task-id) [state] created at file:line:col, owned by ..., awaiting ...`.
    fn line(&self, out: &mut String, prefix: &str, task: &Task, root: bool) {
        let name = task_label(Some(&task.name), task.id);
        let cancel = if task.cancel_requested {
            ", cancel requested"
        } else {
            ""
        };
        let owner = match (root, task.owner) {
            (false, _) => "",
            (true, Owner::Set) => ", owned by a TaskSet",
            (true, Owner::Group { .. }) => ", owned by a group",
            (true, Owner::Handle) => ", owned by its Task handle",
        };
        let awaiting = wait_of(task, self.snapshot, self.names)
            .map(|what| format!(", awaiting {what}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{prefix}{name} [{}{cancel}] created at {}{owner}{awaiting}\n",
            state(task.state),
            location(&task.created_at),
        ));
    }
}

fn branch(last: bool) -> &'static str {
    if last { "└── " } else { "├── " }
}

fn indent(last: bool) -> &'static str {
    if last { "    " } else { "│   " }
}
