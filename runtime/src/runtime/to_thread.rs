//! [`to_thread`]: blocking work on a bounded pool of threads, awaited from async code.
//!
//! [`submit`] is the one way into the pool for the whole crate: [`to_thread`] awaits what it
//! returns, and `tether::fs` keeps it in its own futures (a `File`'s operation in flight).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_channel::oneshot;

use crate::scheduler::event_loop::EventLoop;
use crate::task::Panic;
use crate::util::blocking::{BlockingPool, DEFAULT_THREADS};

/// Why [`to_thread`] produced no value.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BlockingError {
    /// The closure panicked on its thread; the panic was caught there.
    #[error("the blocking closure panicked: {0}")]
    Panicked(Panic),
}

/// The pool of the running loop, or a process-wide one outside a loop.
fn current_pool() -> Arc<BlockingPool> {
    static FALLBACK: OnceLock<Arc<BlockingPool>> = OnceLock::new();
    EventLoop::with_current(|lp| lp.shared().blocking().clone()).unwrap_or_else(|| {
        FALLBACK
            .get_or_init(|| Arc::new(BlockingPool::new(DEFAULT_THREADS)))
            .clone()
    })
}

/// Runs the blocking closure `f` on a thread of the loop's blocking pool and awaits its result:
/// asyncio's `await asyncio.to_thread(f)`.
///
/// The pool is bounded ([`Builder::blocking_threads`](crate::Builder::blocking_threads), 64 by
/// default); work beyond the bound waits its turn. Idle threads exit after 10 seconds. A panic
/// in `f` is caught on its thread and returned as [`BlockingError::Panicked`]: it never reaches
/// the loop.
///
/// Cancelling the awaiting task does not stop `f` (a thread cannot be interrupted safely); `f`
/// runs to the end and its result is dropped.
///
/// # Examples
///
/// ```
/// fn checksum(data: &[u8]) -> u64 {
///     // Stands for blocking work: file I/O, a C library, heavy hashing.
///     data.iter().map(|&b| u64::from(b)).sum()
/// }
///
/// tether::run(async {
///     let data = vec![1u8; 1 << 16];
///     let sum = tether::to_thread(move || checksum(&data)).await.unwrap();
///     assert_eq!(sum, 1 << 16);
/// });
/// ```
pub async fn to_thread<F, R>(f: F) -> Result<R, BlockingError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    submit(f).await
}

/// The outcome of a closure handed to the blocking pool by [`submit`]: a nameable future, so
/// that a type can keep an operation in flight in a field. Dropping it does not stop the
/// closure; its result is then dropped on the pool's thread.
#[derive(Debug)]
pub(crate) struct Blocking<R> {
    rx: oneshot::Receiver<Result<R, BlockingError>>,
}

impl<R> Future for Blocking<R> {
    type Output = Result<R, BlockingError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|sent| {
            sent.unwrap_or_else(|_| {
                unreachable!("a submitted job always runs and sends its outcome")
            })
        })
    }
}

/// Queues `f` on the blocking pool of the running loop (a process-wide pool outside a loop) and
/// returns its outcome as a future. `f` runs even if the future is dropped.
pub(crate) fn submit<F, R>(f: F) -> Blocking<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    submit_to(f, |pool, job| pool.submit(job))
}

/// [`submit`], for work the end of the run waits for even if nobody awaits it (a file's
/// writes): `run` returns only once it has ended. Outside a loop, as `submit`.
#[cfg(feature = "fs")]
pub(crate) fn submit_kept<F, R>(f: F) -> Blocking<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    submit_to(f, |pool, job| pool.submit_kept(job))
}

fn submit_to<F, R>(
    f: F,
    queue: impl FnOnce(&Arc<BlockingPool>, Box<dyn FnOnce() + Send>),
) -> Blocking<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    queue(
        &current_pool(),
        Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(f))
                .map_err(|payload| BlockingError::Panicked(Panic::new(payload)));
            // The awaiting side may be gone (cancelled): then the result is simply dropped. Sending
            // wakes the awaiting side's waker here, on the pool's thread: that waker is user code,
            // and its panic must not unwind into the pool's loop, which would lose the thread.
            crate::task_core::error::contain_panic(
                || "a waker".to_owned(),
                || {
                    let _ = tx.send(outcome);
                },
            );
        }),
    );
    Blocking { rx }
}
