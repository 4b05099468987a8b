//! [`Promise`]: asyncio's low-level `Future`, a value some other code will provide.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::scheduler::event_loop::{Callback, EventLoop, Shared};

/// Why a promise produced no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PromiseError<E> {
    /// The resolving side reported a failure with [`Resolver::set_error`].
    #[error("the promise failed: {0}")]
    Failed(E),
    /// The promise was cancelled, from either side.
    #[error("the promise was cancelled{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Cancelled {
        /// The message given to `cancel_with`, if any.
        message: Option<String>,
    },
    /// Every [`Resolver`] was dropped without resolving the promise: the code that owed the
    /// value will never provide it. Resolve every promise you hand out, or cancel it.
    #[error(
        "every resolver of the promise was dropped without resolving it; resolve or cancel it before letting go"
    )]
    Abandoned,
}

/// How a promise was settled, as its done callbacks are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Settled {
    /// A value was set.
    Fulfilled,
    /// An error was set.
    Failed,
    /// It was cancelled.
    Cancelled,
    /// Every resolver was dropped first.
    Abandoned,
}

type PromiseCallback = Box<dyn FnOnce(Settled) + Send>;

struct State<T, E> {
    outcome: Option<Result<T, PromiseError<E>>>,
    settled: Option<Settled>,
    /// `true` once `.await` took the outcome.
    taken: bool,
    waker: Option<Waker>,
    callbacks: Vec<PromiseCallback>,
    resolvers: usize,
}

struct Inner<T, E> {
    state: Mutex<State<T, E>>,
    /// The loop the promise was made on: where its done callbacks run.
    home: Option<Arc<Shared>>,
}

impl<T, E> Inner<T, E> {
    fn lock(&self) -> MutexGuard<'_, State<T, E>> {
        crate::util::loom_facade::lock(&self.state)
    }

    /// Settles the promise unless it is settled already; gives `outcome` back if it was.
    fn settle(
        &self,
        outcome: Result<T, PromiseError<E>>,
    ) -> Result<(), Result<T, PromiseError<E>>> {
        let mut state = self.lock();
        if state.settled.is_some() {
            return Err(outcome);
        }
        let settled = match &outcome {
            Ok(_) => Settled::Fulfilled,
            Err(PromiseError::Failed(_)) => Settled::Failed,
            Err(PromiseError::Cancelled { .. }) => Settled::Cancelled,
            Err(PromiseError::Abandoned) => Settled::Abandoned,
        };
        state.outcome = Some(outcome);
        state.settled = Some(settled);
        let waker = state.waker.take();
        let callbacks = std::mem::take(&mut state.callbacks);
        drop(state);
        // Callbacks first: a waker is anybody's code, and one that panics must not lose them.
        for callback in callbacks {
            self.run_callback(callback, settled);
        }
        if let Some(waker) = waker {
            crate::scheduler::event_loop::wake_contained(waker);
        }
        Ok(())
    }

    /// Runs a done callback on the promise's loop (or here, if it has none or it closed).
    fn run_callback(&self, callback: PromiseCallback, settled: Settled) {
        let run: Callback = Box::new(move || callback(settled));
        let refused = match &self.home {
            Some(home) => home.call_soon(run).err(),
            None => Some(run),
        };
        if let Some(run) = refused {
            run();
        }
    }
}

/// A value that callback-based code will provide later: asyncio's `loop.create_future()`.
///
/// Await the promise where the value is needed; hand a [`Resolver`] (`Send + Sync + Clone`) to
/// the code that will produce it, on this thread or another. Most programs never need one:
/// tasks and `async fn` cover what asyncio uses futures for. A promise bridges an API built on
/// callbacks.
///
/// Awaiting resolves to the value, or to a [`PromiseError`]: failed, cancelled, or abandoned
/// (every resolver dropped unresolved — a broken promise Rust can see, which asyncio cannot).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::Promise;
///
/// // A callback-based API: calls `done` from its own thread when the work is finished.
/// fn compute_in_background(input: u32, done: impl FnOnce(u32) + Send + 'static) {
///     std::thread::spawn(move || {
///         std::thread::sleep(Duration::from_millis(10));
///         done(input * 2);
///     });
/// }
///
/// tether::run(async {
///     let promise: Promise<u32> = Promise::new();
///     let resolver = promise.resolver();
///     compute_in_background(21, move |value| {
///         resolver.set_result(value).ok();
///     });
///     assert_eq!(promise.await.unwrap(), 42);
/// });
/// ```
pub struct Promise<T, E = Box<dyn Error + Send + Sync>> {
    inner: Arc<Inner<T, E>>,
    /// The awaiting task's record of this wait (see `crate::task_core::awaiting`).
    record: crate::task_core::awaiting::WaitRecord,
}

/// Settles a [`Promise`], from any thread.
pub struct Resolver<T, E = Box<dyn Error + Send + Sync>> {
    inner: Arc<Inner<T, E>>,
}

impl<T, E> Promise<T, E> {
    /// A new, unsettled promise. Its done callbacks run on the loop running on this thread, if
    /// any.
    pub fn new() -> Promise<T, E> {
        Promise {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    outcome: None,
                    settled: None,
                    taken: false,
                    waker: None,
                    callbacks: Vec::new(),
                    resolvers: 0,
                }),
                home: EventLoop::with_current(|lp| lp.shared().clone()),
            }),
            record: crate::task_core::awaiting::WaitRecord::new(),
        }
    }

    /// A resolver for this promise. Clones share the right to settle it; once every resolver is
    /// gone without settling it, the promise is [`Abandoned`](PromiseError::Abandoned).
    pub fn resolver(&self) -> Resolver<T, E> {
        self.inner.lock().resolvers += 1;
        Resolver {
            inner: self.inner.clone(),
        }
    }

    /// `true` once the promise is settled (asyncio's `done()`).
    pub fn is_done(&self) -> bool {
        self.inner.lock().settled.is_some()
    }

    /// `true` if the promise was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.lock().settled == Some(Settled::Cancelled)
    }

    /// Cancels the promise from the awaiting side. Returns `false` if it was already settled.
    pub fn cancel(&self) -> bool {
        self.inner
            .settle(Err(PromiseError::Cancelled { message: None }))
            .is_ok()
    }

    /// Calls `callback` once the promise is settled, on the loop it was made on: asyncio's
    /// `add_done_callback`. Added after it settled, the callback runs soon all the same.
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(Settled) + Send + 'static,
    {
        let mut state = self.inner.lock();
        match state.settled {
            None => state.callbacks.push(Box::new(callback)),
            Some(settled) => {
                drop(state);
                self.inner.run_callback(Box::new(callback), settled);
            }
        }
    }
}

impl<T, E> Default for Promise<T, E> {
    fn default() -> Self {
        Promise::new()
    }
}

impl<T, E> Future for Promise<T, E> {
    type Output = Result<T, PromiseError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.inner.lock();
        if let Some(outcome) = state.outcome.take() {
            state.taken = true;
            drop(state);
            return self.get_mut().record.track(Poll::Ready(outcome), || {
                crate::task_core::awaiting::Awaiting::Promise
            });
        }
        assert!(
            !state.taken,
            "a Promise was polled after it returned its outcome"
        );
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        drop(state);
        self.get_mut().record.track(Poll::Pending, || {
            crate::task_core::awaiting::Awaiting::Promise
        })
    }
}

impl<T, E> Resolver<T, E> {
    /// Fulfils the promise with `value`. Gives the value back if the promise was already
    /// settled (asyncio raises `InvalidStateError` there).
    pub fn set_result(&self, value: T) -> Result<(), T> {
        self.inner
            .settle(Ok(value))
            .map_err(|outcome| match outcome {
                Ok(value) => value,
                Err(_) => unreachable!("settle gives back what it was given"),
            })
    }

    /// Fails the promise with `error` (asyncio's `set_exception`). Gives the error back if the
    /// promise was already settled.
    pub fn set_error(&self, error: E) -> Result<(), E> {
        self.inner
            .settle(Err(PromiseError::Failed(error)))
            .map_err(|outcome| match outcome {
                Err(PromiseError::Failed(error)) => error,
                _ => unreachable!("settle gives back what it was given"),
            })
    }

    /// Cancels the promise. Returns `false` if it was already settled.
    pub fn cancel(&self) -> bool {
        self.inner
            .settle(Err(PromiseError::Cancelled { message: None }))
            .is_ok()
    }

    /// Cancels the promise with a message for the awaiting side.
    pub fn cancel_with(&self, message: impl Into<String>) -> bool {
        let message = Some(message.into());
        self.inner
            .settle(Err(PromiseError::Cancelled { message }))
            .is_ok()
    }

    /// `true` once the promise is settled.
    pub fn is_done(&self) -> bool {
        self.inner.lock().settled.is_some()
    }
}

impl<T, E> Clone for Resolver<T, E> {
    fn clone(&self) -> Self {
        self.inner.lock().resolvers += 1;
        Resolver {
            inner: self.inner.clone(),
        }
    }
}

impl<T, E> Drop for Resolver<T, E> {
    fn drop(&mut self) {
        let last = {
            let mut state = self.inner.lock();
            state.resolvers -= 1;
            state.resolvers == 0
        };
        if last {
            let _ = self.inner.settle(Err(PromiseError::Abandoned));
        }
    }
}

impl<T, E> fmt::Debug for Promise<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("settled", &self.inner.lock().settled)
            .finish()
    }
}

impl<T, E> fmt::Debug for Resolver<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("settled", &self.inner.lock().settled)
            .finish()
    }
}
