//! `run` returning while tasks are pending in every state, owned every way: every future is
//! dropped, exactly once, on the loop's thread, before `run` returns.
//!
//! States: ready (created last, never polled), sleeping, yielding (always ready), waiting on
//! another task, waiting on a promise, a group's children and body, members of both kinds of
//! `TaskSet`, under a timeout, cancelled but not yet run again, handle dropped but not yet run
//! again, and finished with an output nobody took. Owners: a handle handed out of `run`, a local
//! of the main future (dropped as it returns), and another pending task (dropped when the shutdown
//! cancels it). Each run takes one task per state and owner at random; many runs, many seeds.

use std::time::Duration;

use tether::{Promise, Resolver, Runtime, Task, TaskError, TaskSet};
use tether_stress::{Guard, Seed, Tally, XorShift, count};

const HOUR: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ready,
    Sleeping,
    Yielding,
    AwaitingTask,
    AwaitingPromise,
    InGroup,
    InKeepSet,
    InBackgroundSet,
    UnderTimeout,
    CancelRequested,
    HandleDropped,
    Finished,
}

const STATES: [State; 12] = [
    State::Ready,
    State::Sleeping,
    State::Yielding,
    State::AwaitingTask,
    State::AwaitingPromise,
    State::InGroup,
    State::InKeepSet,
    State::InBackgroundSet,
    State::UnderTimeout,
    State::CancelRequested,
    State::HandleDropped,
    State::Finished,
];

#[derive(Debug, Clone, Copy)]
enum Owner {
    /// The handle is handed out of `run`.
    Returned,
    /// A local of the main future, dropped as it returns.
    MainLocal,
    /// A pending task holds it, and is itself dropped by the shutdown.
    PendingTask,
}

/// What each task returns: an output guard, so outputs nobody took are counted too.
type Output = Option<Guard>;

/// What leaves `run`: handles, sets and resolvers that outlive the loop.
#[derive(Default)]
struct Escaped {
    tasks: Vec<Task<Output>>,
    sets: Vec<TaskSet<Output>>,
    resolvers: Vec<Resolver<()>>,
}

struct Run<'a> {
    futures: &'a Tally,
    outputs: &'a Tally,
    rng: XorShift,
    escaped: Escaped,
    local: Vec<Task<Output>>,
    adopted: Vec<Task<Output>>,
    local_sets: Vec<TaskSet<Output>>,
    /// Set aside until the last moment: cancelled, dropped, or created then.
    cancel_last: Vec<Task<Output>>,
    drop_last: Vec<Task<Output>>,
    create_last: usize,
}

impl Run<'_> {
    fn owner(&mut self) -> Owner {
        match self.rng.below(3) {
            0 => Owner::Returned,
            1 => Owner::MainLocal,
            _ => Owner::PendingTask,
        }
    }

    fn keep(&mut self, task: Task<Output>) {
        match self.owner() {
            Owner::Returned => self.escaped.tasks.push(task),
            Owner::MainLocal => self.local.push(task),
            Owner::PendingTask => self.adopted.push(task),
        }
    }

    fn keep_set(&mut self, set: TaskSet<Output>) {
        match self.owner() {
            Owner::Returned => self.escaped.sets.push(set),
            _ => self.local_sets.push(set),
        }
    }

    /// A pending task holding `guard`, waiting on `wait`.
    fn waiting(&self, wait: impl Future<Output = ()> + 'static) -> Task<Output> {
        let guard = self.futures.guard();
        tether::create_task(async move {
            let _guard = guard;
            wait.await;
            unreachable!("the shutdown drops this task first");
        })
    }

    fn start(&mut self, state: State) {
        match state {
            State::Ready => self.create_last += 1,
            State::Sleeping => {
                let task = self.waiting(tether::sleep(HOUR));
                self.keep(task);
            }
            State::Yielding => {
                let task = self.waiting(async {
                    loop {
                        tether::yield_now().await;
                    }
                });
                self.keep(task);
            }
            State::AwaitingTask => {
                let inner = self.waiting(std::future::pending());
                let task = self.waiting(async move {
                    let _ = inner.await;
                });
                self.keep(task);
            }
            State::AwaitingPromise => {
                let promise = Promise::<()>::new();
                self.escaped.resolvers.push(promise.resolver());
                let task = self.waiting(async move {
                    let _ = promise.await;
                });
                self.keep(task);
            }
            State::InGroup => {
                let (body, first, second) = (
                    self.futures.guard(),
                    self.futures.guard(),
                    self.futures.guard(),
                );
                let task = self.waiting(async move {
                    let _ = tether::task_group!(|tg| {
                        let _body = body;
                        tg.create_task(async move {
                            let _guard = first;
                            tether::sleep(HOUR).await;
                        });
                        tg.create_task(async move {
                            let _guard = second;
                            std::future::pending::<()>().await;
                        });
                        std::future::pending::<()>().await;
                    });
                });
                self.keep(task);
            }
            State::InKeepSet | State::InBackgroundSet => {
                let mut set = if state == State::InKeepSet {
                    TaskSet::new()
                } else {
                    TaskSet::background()
                };
                for _ in 0..2 {
                    let guard = self.futures.guard();
                    set.create_task(async move {
                        let _guard = guard;
                        tether::sleep(HOUR).await;
                        None
                    });
                }
                self.keep_set(set);
            }
            State::UnderTimeout => {
                let task = self.waiting(async {
                    let _ = tether::timeout(HOUR, std::future::pending::<()>()).await;
                });
                self.keep(task);
            }
            State::CancelRequested => {
                let task = self.waiting(std::future::pending());
                self.cancel_last.push(task);
            }
            State::HandleDropped => {
                let task = self.waiting(std::future::pending());
                self.drop_last.push(task);
            }
            State::Finished => {
                let output = self.outputs.guard();
                let task = tether::create_task(async move { Some(output) });
                self.keep(task);
            }
        }
    }

    /// The last moment of main: cancel, drop, create; hand the adopted handles to a pending task.
    fn finish(mut self) -> Escaped {
        for task in self.cancel_last.drain(..) {
            assert!(task.cancel());
            self.escaped.tasks.push(task);
        }
        self.drop_last.clear();
        for _ in 0..self.create_last {
            let guard = self.futures.guard();
            let task = tether::create_task(async move {
                let _guard = guard;
                unreachable!("created as main returned: never polled");
            });
            self.escaped.tasks.push(task);
        }
        let adopted = std::mem::take(&mut self.adopted);
        let guardian = self.waiting(async move {
            let _adopted = adopted;
            std::future::pending::<()>().await;
        });
        self.escaped.tasks.push(guardian);
        self.escaped
    }
}

#[test]
fn run_returning_with_tasks_in_every_state_drops_every_future() {
    let seed = Seed::new("shutdown in every state", 0x5407_0001);
    let mut rng = seed.rng();
    let runs = count(1_000, 6);
    let per_state = count(8, 1);
    let futures = Tally::new();
    let outputs = Tally::new();
    let mut tasks = 0;
    for round in 0..runs {
        let paused = rng.chance(500);
        let yields = rng.below(3);
        let mut run = Run {
            futures: &futures,
            outputs: &outputs,
            rng: rng.fork(),
            escaped: Escaped::default(),
            local: Vec::new(),
            adopted: Vec::new(),
            local_sets: Vec::new(),
            cancel_last: Vec::new(),
            drop_last: Vec::new(),
            create_last: 0,
        };
        let mut escaped = Runtime::builder()
            .start_paused(paused)
            .build()
            .run(async move {
                for _ in 0..per_state {
                    for state in STATES {
                        run.start(state);
                    }
                }
                // Let the tasks reach their states (a finished one finishes).
                tether::yield_now().await;
                for _ in 0..yields {
                    tether::yield_now().await;
                }
                let live = tether::__private::live_tasks();
                let escaped = run.finish();
                assert!(
                    tether::__private::live_tasks() > live,
                    "the last tasks exist"
                );
                escaped
            });
        assert_eq!(
            futures.alive(),
            0,
            "run {round}: futures alive after run returned"
        );
        assert_eq!(futures.dropped_elsewhere(), 0);
        for task in &mut escaped.tasks {
            // Cancelled by the shutdown, or finished with its output; a task that ran when it
            // should not have would have hit an `unreachable!` and show a panic here.
            let id = task.id();
            match task.try_result() {
                Some(Ok(output)) => assert!(output.is_some(), "run {round}: task {id}"),
                Some(Err(TaskError::Cancelled { .. })) => {}
                other => panic!("run {round}: task {id} ended with {other:?}"),
            }
        }
        tasks += escaped.tasks.len();
        // Outputs nobody took live in their handles; they go with them, here.
        drop(escaped);
        assert_eq!(outputs.alive(), 0, "run {round}: outputs left behind");
    }
    futures.assert_all_dropped("every state at shutdown");
    outputs.assert_all_dropped("outputs at shutdown");
    eprintln!(
        "{runs} runs; {} futures dropped by shutdowns; {tasks} handles escaped",
        futures.created()
    );
}

#[test]
fn a_handle_out_of_run_reports_how_its_task_ended() {
    tether_stress::quiet_panics();
    let outputs = Tally::new();
    let escaped = tether::run(async {
        let finished = {
            let guard = outputs.guard();
            tether::create_task(async move { Some(guard) })
        };
        let pending = tether::create_task(async {
            tether::sleep(HOUR).await;
            None::<Guard>
        });
        let failed = tether::create_task(async {
            tether::yield_now().await;
            panic!("stress: failed before the end");
        });
        // Until the failing task has failed (a timed wait could end first on a slow machine).
        while !failed.is_finished() {
            tether::yield_now().await;
        }
        (finished, pending, failed)
    });
    let (mut finished, pending, failed) = escaped;
    assert!(finished.try_result().unwrap().as_ref().unwrap().is_some());
    assert!(pending.is_cancelled());
    // A handle can still be awaited on a later loop, or polled with no loop at all.
    assert!(tether::run(pending).unwrap_err().is_cancelled());
    let mut failed = std::pin::pin!(failed);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match failed.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(outcome) => assert!(outcome.unwrap_err().is_panic()),
        std::task::Poll::Pending => panic!("a task of a closed loop is finished"),
    }
    assert_eq!(outputs.alive(), 1, "the output waits in its handle");
    drop(finished);
    outputs.assert_all_dropped("an output handed out of run");
}
