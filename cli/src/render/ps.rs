//! `ps`: one line per task, in columns.

use super::format::{Names, columns, duration, location, owner, state, wait_of};
use crate::model::{Snapshot, Task};

/// The header, then one line per task in id order.
pub fn ps(snapshot: &Snapshot) -> String {
    let names = Names::new(snapshot);
    let mut tasks: Vec<&Task> = snapshot.tasks.iter().collect();
    tasks.sort_by_key(|task| task.id);
    let header = [
        "ID",
        "NAME",
        "STATE",
        "OWNER",
        "AWAITING",
        "CREATED AT",
        "AGE",
        "POLLS",
        "BUSY",
    ];
    let mut rows = vec![header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    for task in tasks {
        let mut state = state(task.state).to_owned();
        if task.cancel_requested {
            state.push_str(" (cancel requested)");
        }
        rows.push(vec![
            task.id.to_string(),
            task.name.clone(),
            state,
            owner(&task.owner, &names),
            or_dash(wait_of(task, snapshot, &names)),
            location(&task.created_at),
            or_dash(task.age_ns.map(duration)),
            or_dash(task.polls.map(|polls| polls.to_string())),
            or_dash(task.busy_ns.map(duration)),
        ]);
    }
    columns(
        &rows,
        &[true, false, false, false, false, false, true, true, true],
    )
}
