//! Context variables: inheritance by copy, isolation between tasks, Context::run, tokens.

use tether::context::{Context, ContextVar, copy_context};
use tether::task::Builder;

static REQUEST: ContextVar<String> = ContextVar::new("request");
static DEPTH: ContextVar<u32> = ContextVar::with_default("depth", || 0);

#[tether::test]
async fn a_child_sees_its_parents_values_from_when_it_was_created() {
    REQUEST.set("req-1".into());
    let child = tether::create_task(async { REQUEST.get() });
    REQUEST.set("req-2".into());
    assert_eq!(
        child.await.unwrap().as_deref(),
        Some("req-1"),
        "copied at creation"
    );
    assert_eq!(REQUEST.get().as_deref(), Some("req-2"));
}

#[tether::test]
async fn a_childs_set_never_reaches_its_parent_or_siblings() {
    REQUEST.set("parent".into());
    let writer = tether::create_task(async {
        REQUEST.set("writer".into());
        tether::yield_now().await;
        REQUEST.get()
    });
    let reader = tether::create_task(async {
        tether::yield_now().await;
        tether::yield_now().await;
        REQUEST.get()
    });
    assert_eq!(writer.await.unwrap().as_deref(), Some("writer"));
    assert_eq!(reader.await.unwrap().as_deref(), Some("parent"));
    assert_eq!(REQUEST.get().as_deref(), Some("parent"));
}

#[tether::test]
async fn values_follow_nested_tasks_groups_and_sets() {
    DEPTH.set(1);
    let depths = tether::task_group!(|tg| {
        let child = tg.create_task(async {
            DEPTH.set(DEPTH.get().unwrap() + 1);
            let grandchild = tether::create_task(async { DEPTH.get() });
            grandchild.await.unwrap()
        });
        let sibling = tg.create_task(async { DEPTH.get() });
        (child.await.unwrap(), sibling.await.unwrap())
    })
    .unwrap();
    assert_eq!(depths, (Some(2), Some(1)));

    let mut set = tether::TaskSet::new();
    set.create_task(async { DEPTH.get() });
    assert_eq!(set.join_next().await.unwrap().unwrap(), Some(1));
}

#[tether::test]
async fn a_task_can_run_in_a_given_context() {
    let mut ctx = Context::new();
    ctx.run(|| REQUEST.set("from ctx".into()));
    REQUEST.set("current".into());
    let task = Builder::new()
        .context(ctx)
        .create_task(async { REQUEST.get() });
    assert_eq!(task.await.unwrap().as_deref(), Some("from ctx"));
}

#[test]
fn context_run_keeps_its_changes_inside_the_context() {
    let mut ctx = copy_context();
    ctx.run(|| {
        DEPTH.set(5);
        assert_eq!(DEPTH.get(), Some(5));
    });
    assert_eq!(DEPTH.get(), Some(0), "the default: the outside never saw 5");
    assert_eq!(ctx.run(|| DEPTH.get()), Some(5));
    assert!(!ctx.is_empty());
}

#[test]
fn reset_restores_the_previous_value() {
    let mut ctx = Context::new();
    ctx.run(|| {
        assert_eq!(REQUEST.get(), None);
        let first = REQUEST.set("a".into());
        let second = REQUEST.set("b".into());
        REQUEST.reset(second);
        assert_eq!(REQUEST.get().as_deref(), Some("a"));
        REQUEST.reset(first);
        assert_eq!(REQUEST.get(), None);
    });
}

#[test]
#[should_panic(expected = "another variable")]
fn reset_with_another_variables_token_panics() {
    static OTHER: ContextVar<String> = ContextVar::new("other");
    let mut ctx = Context::new();
    ctx.run(|| {
        let token = OTHER.set("x".into());
        REQUEST.reset(token);
    });
}

#[test]
fn copies_are_independent() {
    let mut a = Context::new();
    a.run(|| DEPTH.set(1));
    let mut b = a.clone();
    b.run(|| DEPTH.set(2));
    assert_eq!(a.run(|| DEPTH.get()), Some(1));
    assert_eq!(b.run(|| DEPTH.get()), Some(2));
    assert_eq!(REQUEST.name(), "request");
}
