//! The views on hand-built snapshots, output compared whole.

use super::*;
use crate::model::{Awaiting, LoopInfo, Owner, Snapshot, State, Task};
use crate::testing::{self, S, task};

fn snapshot(loops: Vec<LoopInfo>, tasks: Vec<Task>) -> Snapshot {
    testing::snapshot(1000 * S, loops, tasks)
}

fn group(group: u64, runner: u64) -> Owner {
    Owner::Group {
        group,
        runner: Some(runner),
    }
}

fn lock(name: &str, object: u64, held_by: u64) -> Option<Awaiting> {
    Some(Awaiting::Sync {
        sync: "lock".to_owned(),
        name: Some(name.to_owned()),
        object,
        held_by: Some(held_by),
    })
}

fn one_loop(running: Option<(u64, u64)>) -> LoopInfo {
    LoopInfo {
        running: running.map(|(task, _)| task),
        running_for_ns: running.map(|(_, ns)| ns),
        ..testing::one_loop()
    }
}

/// A main task running a group of two (one of which runs a group of its own), a set's task,
/// and a group whose runner is gone.
fn groups_and_a_set() -> Snapshot {
    let mut main = task(1, "Task-1", Owner::Handle, 10);
    main.awaiting = Some(Awaiting::Group { group: 1 });
    let mut mirror = task(3, "mirror", group(1, 1), 20);
    mirror.awaiting = Some(Awaiting::Group { group: 2 });
    let mut a = task(4, "a.tar", group(2, 3), 31);
    a.awaiting = Some(Awaiting::Io {
        direction: "read".to_owned(),
        resource: "TCP stream".to_owned(),
        local: Some("127.0.0.1:5000".to_owned()),
        peer: Some("127.0.0.1:80".to_owned()),
        fd: 7,
    });
    let mut b = task(5, "b.tar", group(2, 3), 31);
    b.awaiting = Some(Awaiting::Timer {
        due_in_ns: 1_500_000_000,
    });
    let mut metrics = task(2, "metrics", Owner::Set, 23);
    metrics.cancel_requested = true;
    let orphan = task(
        6,
        "orphan",
        Owner::Group {
            group: 9,
            runner: None,
        },
        40,
    );
    snapshot(
        vec![one_loop(None)],
        vec![main, metrics, mirror, a, b, orphan],
    )
}

#[test]
fn pstree_nests_groups_under_their_runner() {
    let expected = "\
loop 1 thread 4242 \"bank\": idle
Task-1 [waiting] created at src/main.rs:10:5, owned by its Task handle, awaiting the children of group #1
└── group #1 (1 task)
    └── mirror (Task-3) [waiting] created at src/main.rs:20:5, awaiting the children of group #2
        └── group #2 (2 tasks)
            ├── a.tar (Task-4) [waiting] created at src/main.rs:31:5, awaiting readable on TCP stream 127.0.0.1:5000 (peer 127.0.0.1:80, fd 7)
            └── b.tar (Task-5) [waiting] created at src/main.rs:31:5, awaiting a timer due in 1.5 s
metrics (Task-2) [waiting, cancel requested] created at src/main.rs:23:5, owned by a TaskSet, awaiting not recorded
orphan (Task-6) [waiting] created at src/main.rs:40:5, owned by a group, awaiting not recorded
";
    assert_eq!(pstree(&groups_and_a_set()), expected);
}

#[test]
fn ps_aligns_one_line_per_task() {
    let mut snapshot = groups_and_a_set();
    snapshot.tasks[1].age_ns = Some((2 * 3600 + 3 * 60) * S);
    snapshot.tasks[1].polls = None;
    snapshot.tasks[1].busy_ns = None;
    let expected = "\
ID  NAME     STATE                       OWNER                        AWAITING                                                         CREATED AT              AGE  POLLS   BUSY
 1  Task-1   waiting                     handle                       the children of group #1                                         src/main.rs:10:5     12.0 s      3  35 ms
 2  metrics  waiting (cancel requested)  set                          not recorded                                                     src/main.rs:23:5  2 h 3 min      -      -
 3  mirror   waiting                     group #1 in Task-1           the children of group #2                                         src/main.rs:20:5     12.0 s      3  35 ms
 4  a.tar    waiting                     group #2 in mirror (Task-3)  readable on TCP stream 127.0.0.1:5000 (peer 127.0.0.1:80, fd 7)  src/main.rs:31:5     12.0 s      3  35 ms
 5  b.tar    waiting                     group #2 in mirror (Task-3)  a timer due in 1.5 s                                             src/main.rs:31:5     12.0 s      3  35 ms
 6  orphan   waiting                     group #9                     not recorded                                                     src/main.rs:40:5     12.0 s      3  35 ms
";
    assert_eq!(ps(&snapshot), expected);
}

/// Two tasks each waiting for the lock the other holds (the `deadlock_report` example), and a
/// group whose child awaits its runner: two cycles. The worker loop is stuck in a long poll.
fn two_deadlocks_and_a_stuck_loop() -> Snapshot {
    let mut transfer = task(6, "transfer", Owner::Handle, 14);
    transfer.awaiting = lock("accounts", 0x10, 7);
    let mut audit = task(7, "audit", Owner::Handle, 21);
    audit.awaiting = lock("ledger", 0x20, 6);
    let mut runner = task(8, "runner", Owner::Handle, 30);
    runner.awaiting = Some(Awaiting::Group { group: 3 });
    let mut child = task(9, "child", group(3, 8), 31);
    child.awaiting = Some(Awaiting::Task { task: 8 });
    // A waiter on the ledger too, outside any cycle.
    let mut clerk = task(10, "clerk", Owner::Set, 40);
    clerk.awaiting = lock("ledger", 0x20, 6);
    let mut busy = task(11, "worker", Owner::Handle, 50);
    busy.state = State::Running;
    busy.loop_id = 2;
    let worker = LoopInfo {
        id: 2,
        runtime: Some(1),
        worker: Some(0),
        thread_id: 4243,
        thread_name: "tether-worker-0".to_owned(),
        running: Some(11),
        running_for_ns: Some(12_300_000_000),
    };
    snapshot(
        vec![one_loop(None), worker],
        vec![transfer, audit, runner, child, clerk, busy],
    )
}

#[test]
fn pstree_names_every_cycle_and_the_stuck_loop() {
    let expected = "\
loop 1 thread 4242 \"bank\": idle
loop 2 (worker 0) thread 4243 \"tether-worker-0\": running worker (Task-11) for 12.3 s
transfer (Task-6) [waiting] created at src/main.rs:14:5, owned by its Task handle, awaiting Lock \"accounts\" held by audit (Task-7)
audit (Task-7) [waiting] created at src/main.rs:21:5, owned by its Task handle, awaiting Lock \"ledger\" held by transfer (Task-6)
runner (Task-8) [waiting] created at src/main.rs:30:5, owned by its Task handle, awaiting the children of group #3
└── group #3 (1 task)
    └── child (Task-9) [waiting] created at src/main.rs:31:5, awaiting task runner (Task-8)
clerk (Task-10) [waiting] created at src/main.rs:40:5, owned by a TaskSet, awaiting Lock \"ledger\" held by transfer (Task-6)
worker (Task-11) [running] created at src/main.rs:50:5, owned by its Task handle
cycle: transfer (Task-6) -> Lock \"accounts\" -> audit (Task-7) -> Lock \"ledger\" -> transfer (Task-6)
cycle: runner (Task-8) -> group #3 -> child (Task-9) -> awaits -> runner (Task-8)
";
    assert_eq!(pstree(&two_deadlocks_and_a_stuck_loop()), expected);
}

#[test]
fn ps_shows_a_lock_with_its_holder() {
    let out = ps(&two_deadlocks_and_a_stuck_loop());
    let clerk = out.lines().find(|line| line.contains("clerk")).unwrap();
    assert!(
        clerk.contains("  Lock \"ledger\" held by transfer (Task-6)  "),
        "{clerk}"
    );
    let worker = out.lines().find(|line| line.contains("worker")).unwrap();
    assert!(worker.contains("  running  "), "{worker}");
}

#[test]
fn a_task_in_several_cycles_is_in_each_once() {
    // 1 waits for a group with children 2 and 3, each waiting for 1: two cycles through 1;
    // 4 waits for 2, which is in a cycle but not in one with 4.
    let mut one = task(1, "one", Owner::Handle, 1);
    one.awaiting = Some(Awaiting::Group { group: 5 });
    let mut two = task(2, "two", group(5, 1), 2);
    two.awaiting = Some(Awaiting::Task { task: 1 });
    let mut three = task(3, "three", group(5, 1), 3);
    three.awaiting = Some(Awaiting::Task { task: 1 });
    let mut four = task(4, "four", Owner::Handle, 4);
    four.awaiting = Some(Awaiting::Task { task: 2 });
    let snapshot = snapshot(vec![], vec![four, three, two, one]);
    assert_eq!(
        super::cycles::find(&snapshot),
        (vec![vec![1, 2], vec![1, 3]], false)
    );
}

#[test]
fn a_running_task_waits_for_nothing() {
    // A stale record on a task being polled draws no arrow: it is not blocked.
    let mut a = task(1, "a", Owner::Handle, 1);
    a.awaiting = Some(Awaiting::Task { task: 2 });
    a.state = State::Running;
    let mut b = task(2, "b", Owner::Handle, 2);
    b.awaiting = Some(Awaiting::Task { task: 1 });
    let snapshot = snapshot(vec![], vec![a, b]);
    assert_eq!(super::cycles::find(&snapshot), (vec![], false));
}

#[test]
fn without_recording_nothing_is_said_of_waits() {
    let mut snapshot = groups_and_a_set();
    snapshot.waits_recorded_since_ns = None;
    for task in &mut snapshot.tasks {
        task.awaiting = None;
    }
    let tree = pstree(&snapshot);
    assert!(!tree.contains("awaiting"), "{tree}");
    let table = ps(&snapshot);
    let metrics = table.lines().find(|line| line.contains("metrics")).unwrap();
    assert!(!metrics.contains("not recorded"), "{metrics}");
}

#[test]
fn an_empty_program_says_so() {
    let snapshot = snapshot(vec![], vec![]);
    assert_eq!(pstree(&snapshot), "(no live tasks)\n");
    assert_eq!(ps(&snapshot).lines().count(), 1);
}

#[test]
fn the_search_for_cycles_stops_at_a_hundred() {
    // Task 1 awaits a group of 150 children, each awaiting task 1: 150 cycles.
    let mut tasks = vec![task(1, "runner", Owner::Handle, 1)];
    tasks[0].awaiting = Some(Awaiting::Group { group: 1 });
    for id in 2..152 {
        let mut child = task(id, "child", group(1, 1), 2);
        child.awaiting = Some(Awaiting::Task { task: 1 });
        tasks.push(child);
    }
    let snapshot = snapshot(vec![], tasks);
    let (cycles, more) = super::cycles::find(&snapshot);
    assert_eq!(cycles.len(), 100);
    assert!(more);
    assert_eq!(cycles[0], [1, 2]);
    let tree = pstree(&snapshot);
    assert!(
        tree.ends_with(
            "(the search for cycles stopped early: there may be more than the 100 listed)\n"
        ),
        "{tree}"
    );
}
