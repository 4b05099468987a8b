//! The runtimes under test, behind one small trait so that every workload is written once.
//!
//! Each `run` starts a fresh runtime (a new tether loop, a new tokio runtime, a new
//! `LocalExecutor`) and drops it before returning; workloads time themselves inside it, so
//! runtime start-up and teardown are never in a figure. `spawn` is each runtime's own spawn
//! (`tether::create_task`, `tether::spawn` on tether's workers, `tokio::spawn`,
//! `LocalExecutor::spawn`), and awaiting the returned
//! handle awaits the native handle and unwraps its `Result`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

/// A runtime under test.
pub trait Rt: 'static {
    /// The column name.
    const NAME: &'static str;
    /// The native join handle, wrapped so that awaiting it yields the task's output.
    type Handle<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;

    /// Spawns a task on the running runtime.
    fn spawn<F>(future: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Cancels a task (tether and async-executor cancel on drop; tokio needs `abort`).
    fn cancel<T: Send + 'static>(handle: Self::Handle<T>);

    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// How the runtime's users write asyncio's `await asyncio.sleep(0)`: tether's
    /// `sleep(Duration::ZERO)`; `yield_now` elsewhere.
    fn sleep_zero() -> impl Future<Output = ()> + Send {
        Self::yield_now()
    }

    /// Runs `future` to completion on a fresh runtime on this thread.
    fn run<F>(future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
}

/// A runtime with timers.
pub trait TimerRt: Rt {
    /// The runtime's own sleep.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;

    /// `future`, exempt from the runtime's cooperative budget if it has one (tokio's would
    /// otherwise turn most polls of a tight arm-and-drop loop into no-ops that arm nothing).
    fn unconstrained<F: Future + Send>(future: F) -> impl Future<Output = F::Output> + Send {
        future
    }
}

// ---------------------------------------------------------------------------------------------
// tether

/// tether's single-threaded event loop.
#[derive(Debug)]
pub enum Tether {}

/// A runtime's native join handle (`tether::Task`, `tokio::task::JoinHandle`) whose `Result`
/// is unwrapped: awaiting it gives the task's output.
#[derive(Debug)]
pub struct Unwrapped<H>(H);

impl<H, T, E> Future for Unwrapped<H>
where
    H: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|out| out.expect("the task failed"))
    }
}

/// The handle of a tether task, as the workloads await it.
pub type TetherHandle<T> = Unwrapped<tether::Task<T>>;

macro_rules! tether_rt {
    ($ty:ty, $name:expr, $spawn:path, |$future:ident| $run:expr) => {
        impl Rt for $ty {
            const NAME: &'static str = $name;
            type Handle<T: Send + 'static> = TetherHandle<T>;

            #[inline]
            fn spawn<F>(future: F) -> TetherHandle<F::Output>
            where
                F: Future + Send + 'static,
                F::Output: Send + 'static,
            {
                Unwrapped($spawn(future))
            }

            fn cancel<T: Send + 'static>(handle: TetherHandle<T>) {
                drop(handle);
            }

            fn yield_now() -> impl Future<Output = ()> + Send {
                tether::yield_now()
            }

            fn sleep_zero() -> impl Future<Output = ()> + Send {
                tether::sleep(Duration::ZERO)
            }

            fn run<F>($future: F) -> F::Output
            where
                F: Future + Send + 'static,
                F::Output: Send + 'static,
            {
                $run
            }
        }

        impl TimerRt for $ty {
            fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
                tether::sleep(duration)
            }
        }
    };
}

tether_rt!(Tether, "tether", tether::create_task, |future| tether::run(
    future
));

/// tether's multi-threaded runtime with 2 workers. Like tokio's below, the workload runs as a
/// spawned (`Send`, stealable) task, and its tasks are `tether::spawn`ed.
///
/// With `TETHER_BENCH_LIFO_SLOT=0` in the environment its workers run without their LIFO slot
/// (`Builder::lifo_slot(false)`), to measure what the slot does.
#[derive(Debug)]
pub enum TetherMt {}

tether_rt!(TetherMt, "tether (mt, 2)", tether::spawn, |future| {
    tether::Runtime::builder()
        .workers(2)
        .lifo_slot(std::env::var_os("TETHER_BENCH_LIFO_SLOT").is_none_or(|value| value != "0"))
        .build()
        .run(async { tether::spawn(future).await.expect("main task") })
});

// ---------------------------------------------------------------------------------------------
// tokio

/// tokio's current-thread runtime (with the time driver).
#[derive(Debug)]
pub enum TokioCt {}

/// tokio's multi-thread runtime with 2 workers; the workload itself runs in a spawned task on a
/// worker (not in `block_on` on the calling thread), as tokio's own benchmarks do.
#[derive(Debug)]
pub enum TokioMt {}

/// The handle of a tokio task, as the workloads await it.
pub type TokioHandle<T> = Unwrapped<tokio::task::JoinHandle<T>>;

macro_rules! tokio_rt {
    ($ty:ty, $name:expr, |$future:ident| $run:expr) => {
        impl Rt for $ty {
            const NAME: &'static str = $name;
            type Handle<T: Send + 'static> = TokioHandle<T>;

            #[inline]
            fn spawn<F>(future: F) -> TokioHandle<F::Output>
            where
                F: Future + Send + 'static,
                F::Output: Send + 'static,
            {
                Unwrapped(tokio::spawn(future))
            }

            fn cancel<T: Send + 'static>(handle: TokioHandle<T>) {
                handle.0.abort();
            }

            fn yield_now() -> impl Future<Output = ()> + Send {
                tokio::task::yield_now()
            }

            fn run<F>($future: F) -> F::Output
            where
                F: Future + Send + 'static,
                F::Output: Send + 'static,
            {
                $run
            }
        }

        impl TimerRt for $ty {
            fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
                tokio::time::sleep(duration)
            }

            fn unconstrained<F: Future + Send>(
                future: F,
            ) -> impl Future<Output = F::Output> + Send {
                tokio::task::unconstrained(future)
            }
        }
    };
}

tokio_rt!(TokioCt, "tokio (ct)", |future| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio current_thread runtime");
    rt.block_on(future)
});

tokio_rt!(TokioMt, "tokio (mt, 2)", |future| {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("tokio multi_thread runtime");
    rt.block_on(rt.spawn(future)).expect("main task")
});

// ---------------------------------------------------------------------------------------------
// async-executor

/// async-executor's `LocalExecutor`, driven by `futures_lite::future::block_on(ex.run(..))`.
///
/// Workloads reach the executor through a thread-local, as `tether::create_task` and
/// `tokio::spawn` reach theirs.
#[derive(Debug)]
pub enum AsyncExecutor {}

thread_local! {
    static EXECUTOR: RefCell<Option<Rc<async_executor::LocalExecutor<'static>>>> =
        const { RefCell::new(None) };
}

impl Rt for AsyncExecutor {
    const NAME: &'static str = "async-executor";
    type Handle<T: Send + 'static> = async_executor::Task<T>;

    #[inline]
    fn spawn<F>(future: F) -> async_executor::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        EXECUTOR.with(|ex| {
            ex.borrow()
                .as_ref()
                .expect("spawn outside AsyncExecutor::run")
                .spawn(future)
        })
    }

    fn cancel<T: Send + 'static>(handle: async_executor::Task<T>) {
        drop(handle);
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn run<F>(future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let ex = Rc::new(async_executor::LocalExecutor::new());
        EXECUTOR.with(|slot| *slot.borrow_mut() = Some(ex.clone()));
        let output = futures_lite::future::block_on(ex.run(future));
        EXECUTOR.with(|slot| slot.borrow_mut().take());
        drop(ex);
        output
    }
}

// ---------------------------------------------------------------------------------------------
// the raw async-task floor

/// The simplest loop that can run async-task tasks: a thread-local FIFO of `Runnable`s, a
/// schedule function that pushes onto it, and `run` popping until the main task is done. No
/// timers, no owners, no names, no cancellation on shutdown: what a spawn, a wake and a poll
/// cost with nothing but async-task underneath. tether is built on async-task, so this column is
/// the floor its task core adds to; it is not a runtime anyone would ship.
#[derive(Debug)]
pub enum RawAsyncTask {}

thread_local! {
    static RAW_QUEUE: RefCell<std::collections::VecDeque<async_task::Runnable>> =
        const { RefCell::new(std::collections::VecDeque::new()) };
}

/// The floor's schedule function. Single-threaded by construction: it queues onto the calling
/// thread's queue, and every workload here wakes tasks only from the loop's own thread.
fn raw_schedule(runnable: async_task::Runnable) {
    RAW_QUEUE.with(|queue| queue.borrow_mut().push_back(runnable));
}

impl Rt for RawAsyncTask {
    const NAME: &'static str = "async-task (floor)";
    type Handle<T: Send + 'static> = async_task::Task<T>;

    #[inline]
    fn spawn<F>(future: F) -> async_task::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, task) = async_task::spawn(future, raw_schedule);
        runnable.schedule();
        task
    }

    fn cancel<T: Send + 'static>(handle: async_task::Task<T>) {
        drop(handle);
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn run<F>(future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let mut main = Self::spawn(future);
        loop {
            let next = RAW_QUEUE.with(|queue| queue.borrow_mut().pop_front());
            match next {
                Some(runnable) => {
                    runnable.run();
                }
                None => break,
            }
            if main.is_finished() {
                break;
            }
        }
        let output = futures_lite::future::block_on(futures_lite::future::poll_once(&mut main))
            .expect("the floor's main task is stuck: a workload waited on something it cannot run");
        // Drop whatever the workload left queued, as a runtime's shutdown would.
        RAW_QUEUE.with(|queue| queue.borrow_mut().clear());
        output
    }
}
