//! Task names, current_task, all_tasks, dump_tasks, Builder and eager start.

use std::time::Duration;

use tether::task::{Builder, Owner, TaskState};
use tether::{DumpError, Handle};
use tether_tests::Log;

#[test]
fn current_task_is_none_outside_a_loop() {
    assert!(tether::current_task().is_none());
    assert!(tether::all_tasks().is_empty());
    assert!(tether::dump_tasks().contains("no tether event loop"));
}

#[tether::test]
async fn current_task_names_the_running_task() {
    let main = tether::current_task().expect("main runs as a task");
    assert_eq!(main.state, TaskState::Running);
    let task = Builder::new()
        .name("worker")
        .create_task(async { tether::current_task().unwrap() });
    let id = task.id();
    let info = task.await.unwrap();
    assert_eq!(info.id, id);
    assert_eq!(info.name, "worker");
    assert_eq!(info.parent, Some(main.id));
    assert_eq!(info.owner, Owner::Handle);
    assert_eq!(info.location.file(), file!());
}

#[tether::test]
async fn all_tasks_lists_group_children_with_their_owner_and_parent() {
    let main = tether::current_task().unwrap();
    tether::task_group!(|tg| {
        let a = tg.create_task_with(Builder::new().name("a"), std::future::pending::<()>());
        let b = tg.create_task_with(Builder::new().name("b"), std::future::pending::<()>());
        tether::yield_now().await;
        let all = tether::all_tasks();
        let children: Vec<_> = all
            .iter()
            .filter(|t| t.name == "a" || t.name == "b")
            .collect();
        assert_eq!(children.len(), 2, "{all:?}");
        for child in &children {
            assert_eq!(
                child.owner,
                Owner::Group {
                    group: tg.id(),
                    runner: Some(main.id)
                }
            );
            assert_eq!(child.parent, Some(main.id));
            assert_eq!(child.state, TaskState::Waiting);
        }
        let me = all.iter().find(|t| t.id == main.id).unwrap();
        assert_eq!(me.state, TaskState::Running);
        a.cancel();
        b.cancel();
    })
    .unwrap();
    assert_eq!(tether::all_tasks().len(), 1, "only main is left");
}

#[tether::test]
async fn dump_tasks_shows_the_tree_with_names_states_and_locations() {
    let mut set = tether::TaskSet::new();
    set.create_task_with(Builder::new().name("indexer"), std::future::pending::<()>());
    tether::task_group!(|tg| {
        tg.create_task_with(Builder::new().name("fetch"), async {
            tether::task_group!(|inner| {
                let parse = inner
                    .create_task_with(Builder::new().name("parse"), std::future::pending::<()>());
                tether::yield_now().await;
                let tree = tether::dump_tasks();
                println!("{tree}");
                let line_of = |needle: &str| {
                    tree.lines()
                        .find(|line| line.contains(needle))
                        .unwrap_or_else(|| panic!("no {needle} in:\n{tree}"))
                        .to_owned()
                };
                assert!(line_of("indexer").contains("owned by a TaskSet"));
                assert!(line_of("fetch (Task-").contains("[running]"), "{tree}");
                assert!(line_of("parse (Task-").contains("[waiting]"), "{tree}");
                assert!(line_of("parse (Task-").contains(file!()), "{tree}");
                assert!(
                    tree.lines().next().unwrap().contains("[running]"),
                    "main first: {tree}"
                );
                assert_eq!(tree.matches("group #").count(), 2, "{tree}");
                let indent = |needle: &str| line_of(needle).find(needle).unwrap();
                assert!(indent("parse") > indent("fetch"), "nested deeper:\n{tree}");
                parse.cancel();
            })
            .unwrap();
        });
    })
    .unwrap();
    set.shutdown().await;
}

#[test]
fn a_handle_dumps_the_tree_from_another_thread() {
    tether::run(async {
        let handle = Handle::current();
        let _worker = Builder::new()
            .name("worker")
            .create_task(std::future::pending::<()>());
        let watchdog = std::thread::spawn(move || handle.dump_tasks(Duration::from_secs(10)));
        while !watchdog.is_finished() {
            tether::sleep(Duration::from_millis(1)).await;
        }
        let tree = watchdog.join().unwrap().unwrap();
        assert!(tree.contains("worker"), "{tree}");
    });
}

#[test]
fn a_blocked_loop_is_reported_busy_and_a_closed_one_closed() {
    let handle = tether::run(async {
        let handle = Handle::current();
        let watcher = {
            let handle = handle.clone();
            std::thread::spawn(move || handle.dump_tasks(Duration::from_millis(20)))
        };
        // Block the loop (on purpose) until the watcher has given up.
        while !watcher.is_finished() {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(watcher.join().unwrap(), Err(DumpError::Busy));
        handle
    });
    assert_eq!(
        handle.dump_tasks(Duration::from_millis(20)),
        Err(DumpError::Closed)
    );
}

#[tether::test]
async fn an_eager_task_runs_its_first_poll_inside_create_task() {
    let log = Log::new();
    let task = Builder::new().eager(true).create_task({
        let log = log.clone();
        async move {
            log.push("first poll");
            tether::yield_now().await;
            log.push("second poll");
        }
    });
    log.push("create_task returned");
    task.await.unwrap();
    assert_eq!(
        log.events(),
        ["first poll", "create_task returned", "second poll"]
    );
}

#[tether::test]
async fn an_eager_task_that_finishes_at_once_is_done_before_create_task_returns() {
    let task = Builder::new().eager(true).create_task(async { 7 });
    assert!(task.is_finished());
    assert_eq!(task.await.unwrap(), 7);

    let mut set = tether::TaskSet::background();
    set.create_task_with(Builder::new().eager(true), async {});
    assert!(set.is_empty(), "finished before it was even stored");

    tether::task_group!(|tg| {
        let child = tg.create_task_with(Builder::new().eager(true), async { 8 });
        assert!(child.is_finished());
    })
    .unwrap();
}

#[tether::test]
async fn task_info_reflects_renames() {
    let task = tether::create_task(std::future::pending::<()>());
    task.set_name("renamed");
    let info = task.info();
    assert_eq!(info.name, "renamed");
    assert_eq!(info.location.line(), line!() - 4);
    task.cancel();
    assert!(task.await.is_err());
}
