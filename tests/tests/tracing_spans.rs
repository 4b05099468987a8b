//! The `tracing` feature: a span per task, entered around each poll, nested as the tasks are,
//! and events for cancellation and panics. A small subscriber records what it is told.
//!
//! Run with `cargo test -p tether-tests --features tracing --test tracing_spans` (.ci/run does).

#![cfg(feature = "tracing")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Default)]
struct Log {
    /// (span id, parent span id, fields as `name=value`).
    spans: Vec<(u64, Option<u64>, String)>,
    /// (current span id, message and fields).
    events: Vec<(Option<u64>, String)>,
    /// Spans entered, in order.
    entered: Vec<u64>,
}

#[derive(Clone, Default)]
struct Recorder {
    log: Arc<Mutex<Log>>,
    next: Arc<AtomicU64>,
}

thread_local! {
    static STACK: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = Fields(String::new());
        span.record(&mut fields);
        let parent = span
            .parent()
            .map(Id::into_u64)
            .or_else(|| STACK.with(|s| s.borrow().last().copied()));
        self.log.lock().unwrap().spans.push((id, parent, fields.0));
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let current = STACK.with(|s| s.borrow().last().copied());
        self.log.lock().unwrap().events.push((current, fields.0));
    }
    fn enter(&self, span: &Id) {
        STACK.with(|s| s.borrow_mut().push(span.into_u64()));
        self.log.lock().unwrap().entered.push(span.into_u64());
    }
    fn exit(&self, _: &Id) {
        STACK.with(|s| s.borrow_mut().pop());
    }
}

fn span_of(log: &Log, name: &str) -> (u64, Option<u64>, String) {
    log.spans
        .iter()
        .find(|(_, _, fields)| fields.contains(&format!("task.name={name} ")))
        .unwrap_or_else(|| panic!("no span for {name}: {:?}", log.spans))
        .clone()
}

#[test]
fn every_task_has_a_span_nested_under_its_creator() {
    let recorder = Recorder::default();
    let log = recorder.log.clone();
    tracing::subscriber::with_default(recorder, || {
        tether::run(async {
            let parent = tether::task::Builder::new()
                .name("parent")
                .create_task(async {
                    let child = tether::task::Builder::new()
                        .name("child")
                        .create_task(async { tether::yield_now().await });
                    child.await.unwrap();
                });
            parent.await.unwrap();
        });
    });
    let log = log.lock().unwrap();
    let (parent_id, _, parent_fields) = span_of(&log, "parent");
    let (child_id, child_parent, child_fields) = span_of(&log, "child");
    assert_eq!(child_parent, Some(parent_id), "{:?}", log.spans);
    assert!(
        parent_fields.contains("task.owner=\"handle\""),
        "{parent_fields}"
    );
    assert!(
        parent_fields.contains("task.location=tests/tests/tracing_spans.rs:"),
        "{parent_fields}"
    );
    let parent_task = parent_fields
        .split("task.id=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap()
        .to_owned();
    assert!(
        child_fields.contains(&format!("task.parent={parent_task} ")),
        "{child_fields}"
    );
    // The child yields once: its span is entered for each of its two polls.
    assert_eq!(log.entered.iter().filter(|&&id| id == child_id).count(), 2);
}

#[test]
fn cancel_and_panic_are_events_in_the_task_span() {
    let recorder = Recorder::default();
    let log = recorder.log.clone();
    tracing::subscriber::with_default(recorder, || {
        tether::run(async {
            let doomed = tether::task::Builder::new()
                .name("doomed")
                .create_task(std::future::pending::<()>());
            tether::yield_now().await;
            doomed.cancel();
            assert!(doomed.await.is_err());
            let broken = tether::task::Builder::new()
                .name("broken")
                .create_task(async { panic!("boom") });
            assert!(broken.await.is_err());
        });
    });
    let log = log.lock().unwrap();
    let (doomed, _, _) = span_of(&log, "doomed");
    let (broken, _, _) = span_of(&log, "broken");
    assert!(
        log.events
            .iter()
            .any(|(span, text)| *span == Some(doomed) && text.contains("cancelled")),
        "{:?}",
        log.events
    );
    assert!(
        log.events.iter().any(|(span, text)| *span == Some(broken)
            && text.contains("panicked")
            && text.contains("boom")),
        "{:?}",
        log.events
    );
}
