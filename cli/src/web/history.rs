//! The lifetimes of every task seen since the tool started: what the page's timeline draws.
//!
//! A task starts `age_ns` before the snapshot that first saw it (or at that snapshot, when the
//! target does not know its age) and ends at the first snapshot it is missing from.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Owner, Snapshot};

/// Ended tasks are forgotten this long after they ended: the timeline shows the last minutes.
const KEEP_NS: u64 = 10 * 60 * 1_000_000_000;

/// At most this many lifetimes are kept (the ended ones go first, oldest first), so that a
/// program starting thousands of short tasks a second cannot grow the tool without bound.
const MAX_LIVES: usize = 20_000;

/// One task's life.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Life {
    pub id: u64,
    pub name: String,
    pub owner: Owner,
    /// The task that created it.
    pub parent: Option<u64>,
    /// The task running the group that owns it, if a group does.
    pub runner: Option<u64>,
    /// `CLOCK_MONOTONIC` ns, as the snapshots' times.
    pub start_ns: u64,
    /// When it vanished, or `None` while it lives.
    pub end_ns: Option<u64>,
}

/// Every task seen, by id.
#[derive(Debug, Default)]
pub struct History {
    lives: BTreeMap<u64, Life>,
    /// The first snapshot's time.
    since_ns: Option<u64>,
    /// The latest snapshot's time.
    now_ns: u64,
}

/// The JSON of `/history.json`.
#[derive(Debug, Serialize)]
struct HistoryJson<'a> {
    since_ns: Option<u64>,
    now_ns: u64,
    tasks: Vec<&'a Life>,
}

impl History {
    /// Takes in the next snapshot.
    pub fn record(&mut self, snapshot: &Snapshot) {
        let now = snapshot.taken_ns;
        self.since_ns.get_or_insert(now);
        self.now_ns = now;
        let mut live = Vec::with_capacity(snapshot.tasks.len());
        for task in &snapshot.tasks {
            live.push(task.id);
            let runner = match task.owner {
                Owner::Group { runner, .. } => runner,
                _ => None,
            };
            let life = self.lives.entry(task.id).or_insert_with(|| Life {
                id: task.id,
                name: task.name.clone(),
                owner: task.owner,
                parent: task.parent,
                runner,
                start_ns: task.age_ns.map_or(now, |age| now.saturating_sub(age)),
                end_ns: None,
            });
            // A task may be renamed while it runs; the latest name is the one to show.
            life.name.clone_from(&task.name);
            life.end_ns = None;
        }
        live.sort_unstable();
        for life in self.lives.values_mut() {
            if life.end_ns.is_none() && live.binary_search(&life.id).is_err() {
                life.end_ns = Some(now);
            }
        }
        self.lives
            .retain(|_, life| life.end_ns.is_none_or(|end| end + KEEP_NS >= now));
        if self.lives.len() > MAX_LIVES {
            let mut ended: Vec<(u64, u64)> = self
                .lives
                .values()
                .filter_map(|life| Some((life.end_ns?, life.id)))
                .collect();
            ended.sort_unstable();
            for (_, id) in ended.into_iter().take(self.lives.len() - MAX_LIVES) {
                self.lives.remove(&id);
            }
        }
    }

    /// `{"since_ns": .., "now_ns": .., "tasks": [Life, ...]}`, tasks in id order.
    pub fn to_json(&self) -> String {
        let json = HistoryJson {
            since_ns: self.since_ns,
            now_ns: self.now_ns,
            tasks: self.lives.values().collect(),
        };
        serde_json::to_string(&json).expect("a history is plain data")
    }

    #[cfg(test)]
    pub fn lives(&self) -> impl Iterator<Item = &Life> {
        self.lives.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Task;
    use crate::testing::{self, S};

    fn task(id: u64, age_s: u64, owner: Owner) -> Task {
        Task {
            age_ns: Some(age_s * S),
            parent: Some(1),
            ..testing::task(id, &format!("t{id}"), owner, 1)
        }
    }

    fn at(taken_s: u64, tasks: Vec<Task>) -> Snapshot {
        testing::snapshot(taken_s * S, vec![], tasks)
    }

    #[test]
    fn a_task_lives_from_its_creation_to_the_snapshot_that_misses_it() {
        let child = Owner::Group {
            group: 2,
            runner: Some(1),
        };
        let mut history = History::default();
        history.record(&at(
            100,
            vec![task(1, 30, Owner::Handle), task(2, 5, child)],
        ));
        history.record(&at(101, vec![task(1, 31, Owner::Handle)]));
        let lives: Vec<(u64, u64, Option<u64>, Option<u64>)> = history
            .lives()
            .map(|life| (life.id, life.start_ns, life.end_ns, life.runner))
            .collect();
        assert_eq!(
            lives,
            [(1, 70 * S, None, None), (2, 95 * S, Some(101 * S), Some(1))]
        );
        let json: serde_json::Value = serde_json::from_str(&history.to_json()).unwrap();
        assert_eq!(json["since_ns"], 100 * S);
        assert_eq!(json["now_ns"], 101 * S);
        assert_eq!(json["tasks"][1]["end_ns"], 101 * S);
        assert_eq!(json["tasks"][0]["end_ns"], serde_json::Value::Null);
        assert_eq!(json["tasks"][1]["owner"]["kind"], "group");
    }

    #[test]
    fn ended_tasks_are_forgotten_after_ten_minutes() {
        let mut history = History::default();
        history.record(&at(
            100,
            vec![task(1, 0, Owner::Set), task(2, 0, Owner::Set)],
        ));
        history.record(&at(101, vec![task(1, 1, Owner::Set)]));
        history.record(&at(101 + 600, vec![task(1, 601, Owner::Set)]));
        assert_eq!(history.lives().count(), 2);
        history.record(&at(102 + 600, vec![task(1, 602, Owner::Set)]));
        assert_eq!(history.lives().map(|l| l.id).collect::<Vec<_>>(), [1]);
    }
}
