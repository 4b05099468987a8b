//! Deadlock reports (the lock-order case is in `examples/tests/deadlocked_test.rs`): a
//! deadlock fails the run with the wait-for report instead of hanging; a loop that waits on something another thread may end is never called deadlocked.

use std::panic::catch_unwind;
use std::time::Duration;

use tether::Runtime;
use tether::sync::{Event, Lock};

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn an_event_nobody_sets_is_a_deadlock_without_a_cycle() {
    let runtime = Runtime::builder().detect_deadlocks(true).build();
    let report = panic_text(
        catch_unwind(|| {
            runtime.run(async {
                let never = Event::named("never set");
                never.wait().await;
            })
        })
        .unwrap_err(),
    );
    assert!(report.contains("awaits Event \"never set\""), "{report}");
    assert!(!report.contains("cycle"), "{report}");
}

#[test]
fn a_deadlock_in_a_group_names_the_children() {
    let runtime = Runtime::builder().detect_deadlocks(true).build();
    let report = panic_text(
        catch_unwind(|| {
            runtime.run(async {
                let gate = Event::new();
                tether::task_group!(|tg| {
                    let gate = &gate;
                    tg.create_task(async move { gate.wait().await });
                })
                .unwrap();
            })
        })
        .unwrap_err(),
    );
    assert!(
        report.contains("awaits the children of group #"),
        "{report}"
    );
    assert!(report.contains("awaits Event at 0x"), "{report}");
}

#[test]
fn a_promise_settled_by_another_thread_is_not_a_deadlock() {
    let runtime = Runtime::builder().detect_deadlocks(true).build();
    let value = runtime.run(async {
        let promise = tether::Promise::<u32>::new();
        let resolver = promise.resolver();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            resolver.set_result(7)
        });
        let value = promise.await.unwrap();
        thread.join().unwrap().unwrap();
        value
    });
    assert_eq!(value, 7);
}

#[test]
fn a_handle_on_another_thread_is_not_a_deadlock() {
    let runtime = Runtime::builder().detect_deadlocks(true).build();
    runtime.run(async {
        let event = std::sync::Arc::new(Event::new());
        let handle = tether::Handle::current();
        let remote = event.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            handle.call_soon_threadsafe(move || remote.set()).unwrap();
        });
        event.wait().await;
        thread.join().unwrap();
    });
}

#[tether::test(start_paused)]
async fn sleeping_tasks_are_not_deadlocked() {
    let lock = Lock::new();
    let guard = lock.lock().await;
    let waiter = async {
        drop(lock.lock().await);
    };
    let release = async move {
        tether::sleep(Duration::from_secs(5)).await;
        drop(guard);
    };
    tether::gather!(waiter, release);
}

/// A task parked on a socket is waiting for the other end, which may be another thread or
/// process: never a deadlock, even with every other task waiting on it.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot open sockets")]
fn a_task_waiting_on_a_socket_is_not_a_deadlock() {
    use futures::io::AsyncReadExt;
    use std::io::Write;

    let runtime = Runtime::builder().detect_deadlocks(true).build();
    let got = runtime.run(async {
        let listener = tether::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            // Long enough for the loop to sit idle with its tasks parked.
            std::thread::sleep(Duration::from_millis(100));
            stream.write_all(b"late").unwrap();
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        // This task awaits the reader, which awaits the socket: nothing else can run.
        let reader = tether::create_task(async move {
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.unwrap();
            got
        });
        let got = reader.await.unwrap();
        peer.join().unwrap();
        got
    });
    assert_eq!(got, b"late");
}
