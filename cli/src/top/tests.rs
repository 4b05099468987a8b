use super::*;
use crate::model::Owner;
use crate::testing;

const MS: u64 = 1_000_000;

fn task(id: u64, name: &str, age_ms: u64, polls: u64, busy_ms: u64) -> Task {
    Task {
        age_ns: Some(age_ms * MS),
        polls: Some(polls),
        busy_ns: Some(busy_ms * MS),
        ..testing::task(id, name, Owner::Handle, 3)
    }
}

fn snapshot(taken_ms: u64, tasks: Vec<Task>) -> Snapshot {
    let mut snapshot = testing::snapshot(taken_ms * MS, vec![testing::one_loop()], tasks);
    snapshot.pid = 77;
    snapshot.command = "server".to_owned();
    snapshot.loops[0].thread_id = 77;
    snapshot.loops[0].thread_name = "server".to_owned();
    snapshot.waits_recorded_since_ns = None;
    snapshot
}

/// `old` did most work overall, `new` most in the last second, `young` appeared in it.
fn two_snapshots() -> (Snapshot, Snapshot) {
    let before = snapshot(
        10_000,
        vec![
            task(1, "old", 9_000, 500, 4_000),
            task(2, "new", 5_000, 10, 10),
        ],
    );
    let after = snapshot(
        11_000,
        vec![
            task(1, "old", 10_000, 510, 4_010),
            task(2, "new", 6_000, 30, 600),
            task(3, "young", 200, 40, 50),
        ],
    );
    (before, after)
}

#[test]
fn busy_sorts_by_the_last_interval() {
    let (before, after) = two_snapshots();
    let expected = "\
tether top: pid 77 (server), 3 tasks, 1 loop, sorted by busy (b: busy, a: age, p: polls, q: quit)
interval 1.0 s
loop 1 thread 77 \"server\": idle
ID  NAME   STATE    CPU    BUSY  POLLS     AGE  AWAITING
 2  new    waiting  59%  590 ms     20   6.0 s  -
 3  young  waiting   5%   50 ms     40  200 ms  -
 1  old    waiting   1%   10 ms     10  10.0 s  -
";
    let out = frame(Some(&before), &after, Sort::Busy, usize::MAX);
    assert_eq!(out, expected);
}

#[test]
fn polls_and_age_sort_too() {
    let (before, after) = two_snapshots();
    let order = |sort| {
        frame(Some(&before), &after, sort, usize::MAX)
            .lines()
            .skip(4)
            .map(|line| line.split_whitespace().nth(1).unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(order(Sort::Polls), ["young", "new", "old"]);
    assert_eq!(order(Sort::Age), ["old", "new", "young"]);
}

#[test]
fn the_first_frame_shows_totals_and_rows_are_capped() {
    let (before, _) = two_snapshots();
    let out = frame(None, &before, Sort::Busy, 1);
    assert!(out.contains("first snapshot"), "{out}");
    let old = out.lines().find(|line| line.contains("old")).unwrap();
    assert!(old.contains("4.0 s"), "{old}");
    assert!(!out.contains("new"), "{out}");
    assert!(out.ends_with("(1 more)\n"), "{out}");
}

#[test]
fn a_task_stuck_in_one_poll_is_the_busiest() {
    // "stuck" has counted no busy time yet: its one poll has not ended. Its loop says how long
    // it has been in it.
    let (mut before, mut after) = two_snapshots();
    let stuck = Task {
        state: crate::model::State::Running,
        ..task(4, "stuck", 3_000, 1, 0)
    };
    before.tasks.push(stuck.clone());
    after.tasks.push(stuck);
    before.loops[0].running = Some(4);
    before.loops[0].running_for_ns = Some(2_500 * MS);
    after.loops[0].running = Some(4);
    after.loops[0].running_for_ns = Some(3_500 * MS);
    let out = frame(Some(&before), &after, Sort::Busy, 1);
    let top = out.lines().nth(4).unwrap();
    assert!(
        top.contains("  stuck  running  100%  1.0 s      0"),
        "{out}"
    );
}

#[test]
fn a_bad_sort_names_the_choices() {
    assert_eq!("polls".parse::<Sort>(), Ok(Sort::Polls));
    let error = "cpu".parse::<Sort>().unwrap_err();
    assert!(error.contains("`busy`, `age` or `polls`"), "{error}");
}
