//! Bridges to threads: to_thread, call_soon_threadsafe, spawn_threadsafe.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tether::{BlockingError, Handle, LoopClosed};

#[tether::test]
async fn to_thread_runs_the_closure_on_another_thread() {
    let loop_thread = thread::current().id();
    let (value, ran_on) = tether::to_thread(|| (6 * 7, thread::current().id()))
        .await
        .unwrap();
    assert_eq!(value, 42);
    assert_ne!(ran_on, loop_thread);
}

#[tether::test]
async fn a_panic_in_the_closure_comes_back_as_an_error() {
    let error = tether::to_thread(|| -> u8 { panic!("disk on fire") })
        .await
        .unwrap_err();
    match error {
        BlockingError::Panicked(panic) => assert_eq!(panic.message(), "disk on fire"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        tether::to_thread(|| 1).await.unwrap(),
        1,
        "the pool goes on"
    );
}

#[test]
fn the_loop_keeps_running_while_a_closure_blocks() {
    let ticks = tether::run(async {
        let ticks = std::rc::Rc::new(std::cell::Cell::new(0));
        let ticker = {
            let ticks = ticks.clone();
            tether::create_task(async move {
                loop {
                    tether::sleep(Duration::from_millis(10)).await;
                    ticks.set(ticks.get() + 1);
                }
            })
        };
        tether::to_thread(|| thread::sleep(Duration::from_millis(200)))
            .await
            .unwrap();
        drop(ticker);
        ticks.get()
    });
    // About 20 ticks of 10 ms fit in 200 ms; a loop blocked by the closure would show none.
    assert!(
        ticks >= 5,
        "only {ticks} ticks while the closure blocked its thread"
    );
}

#[test]
fn the_pool_bound_comes_from_the_builder() {
    let runtime = tether::Runtime::builder().blocking_threads(2).build();
    let started = Instant::now();
    let peak = runtime.run(async {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..4)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                tether::create_task(tether::to_thread(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        peak.load(Ordering::SeqCst)
    });
    assert_eq!(peak, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "four 50ms jobs, two at a time"
    );
}

#[test]
fn cancelling_the_awaiter_lets_the_closure_finish_and_drops_its_result() {
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    tether::run(async move {
        let waiter = tether::create_task(tether::to_thread(move || {
            thread::sleep(Duration::from_millis(50));
            flag.store(true, Ordering::SeqCst);
        }));
        tether::sleep(Duration::from_millis(5)).await;
        waiter.cancel();
        assert!(waiter.await.unwrap_err().is_cancelled());
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while !finished.load(Ordering::SeqCst) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        finished.load(Ordering::SeqCst),
        "the closure ran to its end"
    );
}

#[tether::test]
async fn call_soon_threadsafe_runs_on_the_loop() {
    let handle = Handle::current();
    let loop_thread = thread::current().id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        handle
            .call_soon_threadsafe(move || tx.send(thread::current().id()).unwrap())
            .unwrap();
    })
    .join()
    .unwrap();
    tether::yield_now().await;
    assert_eq!(rx.recv().unwrap(), loop_thread);
}

#[test]
fn a_closed_loop_refuses_threadsafe_work() {
    let handle = tether::run(async { Handle::current() });
    assert_eq!(handle.call_soon_threadsafe(|| {}), Err(LoopClosed));
    assert!(matches!(handle.spawn_threadsafe(async {}), Err(LoopClosed)));
    assert!(LoopClosed.to_string().contains("shut down"));
}

#[tether::test]
async fn spawn_threadsafe_starts_a_task_owned_by_its_handle() {
    let handle = Handle::current();
    let (started, is_started) = futures::channel::oneshot::channel::<()>();
    let (release, released) = futures::channel::oneshot::channel::<()>();
    let worker = thread::spawn(move || {
        let task = handle.spawn_threadsafe(async move {
            started.send(()).unwrap();
            released.await.unwrap();
            tether::current_task().unwrap().owner
        });
        task.unwrap()
    });
    is_started.await.unwrap();
    // Adopted into the loop's table when it first ran there, and out of it once it ended.
    let listed = || tether::all_tasks().len();
    assert_eq!(listed(), 2, "the test's task and the submitted one");
    release.send(()).unwrap();
    let task = worker.join().unwrap();
    assert_eq!(task.await.unwrap(), tether::task::Owner::Handle);
    assert_eq!(listed(), 1, "the submitted task's slot is freed");
}

#[test]
fn a_threadsafe_task_racing_shutdown_ends_cancelled_or_done_never_lost() {
    for _ in 0..if cfg!(miri) { 2 } else { 50 } {
        let (tx, rx) = mpsc::channel::<Handle>();
        let submitter = thread::spawn(move || {
            let handle = rx.recv().unwrap();
            let task = handle.spawn_threadsafe(async { 5 });
            // Await it on a loop of this thread: it finishes either way.
            task.map(tether::run)
        });
        tether::run(async move {
            tx.send(Handle::current()).unwrap();
        });
        match submitter.join().unwrap() {
            Ok(Ok(5)) | Err(LoopClosed) => {}
            Ok(Err(error)) => assert!(error.is_cancelled(), "{error:?}"),
            Ok(Ok(other)) => panic!("{other}"),
        }
    }
}
