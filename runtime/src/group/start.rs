//! Start handshakes: [`TaskGroup::start`] (trio's `nursery.start`, anyio's `TaskGroup.start`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_channel::oneshot;

use super::{Child, CreateTaskError, Mode, TaskGroup, TaskHandle};
use crate::task::{Builder, CancelHandle, Panic, TaskError};

/// The token a child started with [`TaskGroup::start`] calls [`Ready::started`] on when it is
/// ready: trio's `task_status`.
///
/// `started` consumes the token, so a child reports readiness at most once; the compiler
/// rejects a second call. `Ready<T>` is `Send` when `T` is, so it fits send groups.
#[must_use = "call `ready.started(value)` once the child is ready, or `start` waits for it to end"]
pub struct Ready<T> {
    sender: oneshot::Sender<T>,
}

impl<T> Ready<T> {
    /// Reports that the child is ready: the [`TaskGroup::start`] that made it returns `value`,
    /// and the child goes on running in its group.
    ///
    /// If the `start` future was dropped meanwhile (its caller was cancelled), the child was
    /// cancelled with it and `value` is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         let answer = tg.start(|ready| async move { ready.started(42) }).await;
    ///         assert_eq!(answer.unwrap(), 42);
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    pub fn started(self, value: T) {
        // An error means the `start` future is gone, and the child was cancelled with it.
        let _ = self.sender.send(value);
    }
}

impl<T> fmt::Debug for Ready<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("waiting", &!self.sender.is_canceled())
            .finish()
    }
}

/// Why [`TaskGroup::start`] returned no value: the child did not call [`Ready::started`].
///
/// A failure of the child (a panic, or an `Err` in a fallible group) is also a failure of its
/// group, reported in the group's [`GroupError`](crate::GroupError) as usual; in a group that is
/// not supervising, that failure cancels the caller of `start` too, so `start` returning
/// [`StartError::Panicked`] or [`StartError::Failed`] is seen only where the caller outlives
/// the failure: in a supervising group (`task_group!(supervise |tg| ...)`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The group refused to create the child (it is failing, cancelled or closing).
    #[error("start could not create the child: {0}")]
    Refused(#[from] CreateTaskError),
    /// The child panicked before it called `ready.started(value)`.
    #[error(
        "the child panicked before it called ready.started(value): {0}; the panic is also \
         reported in the group's GroupError"
    )]
    Panicked(Panic),
    /// The child returned `Err` before it called `ready.started(value)` (fallible groups). The
    /// error itself went to the group, which reports it in its
    /// [`GroupError`](crate::GroupError).
    #[error(
        "the child returned an error before it called ready.started(value); the error is \
         reported in the group's GroupError"
    )]
    Failed,
    /// The child was cancelled before it called `ready.started(value)`.
    #[error(
        "the child was cancelled before it called ready.started(value){}",
        .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    Cancelled {
        /// The message given to `cancel_with`, if any.
        message: Option<String>,
    },
    /// The child returned without calling `ready.started(value)`.
    #[error(
        "the child returned without calling ready.started(value); call it once the child is \
         ready, before it returns"
    )]
    Returned,
    /// The child dropped its [`Ready`] without calling `started`, and runs on.
    #[error(
        "the child dropped its Ready token without calling ready.started(value) and runs on; \
         keep the token until the child is ready"
    )]
    Dropped,
}

impl<'scope, 'env, M: Mode> TaskGroup<'scope, 'env, M> {
    /// Starts a child and waits until it says it is ready: trio's `nursery.start`, anyio's
    /// `TaskGroup.start`.
    ///
    /// `child` receives a [`Ready<T>`] token and returns the child's future, which must fit the
    /// group's mode as for [`TaskGroup::create_task`]: it is a scoped child, which may borrow
    /// from outside the group, and runs in the group's poll. The child is created at once; `start` resolves to `Ok(value)` as soon as the child calls
    /// `ready.started(value)`, and the child goes on running in the group, which owns and joins
    /// it as any other. A server binds its socket, reports the address it got, and serves on;
    /// whoever started it knows the socket is listening before it goes on.
    ///
    /// If the child ends before it calls `started`, `start` resolves to a [`StartError`]
    /// saying how: it panicked, returned `Err`, was cancelled, returned, or dropped its token.
    /// A panic or an `Err` is also a failure of the group, reported in its
    /// [`GroupError`](crate::GroupError) as usual (and, unless the group supervises, it
    /// cancels the caller of `start` with everything else). A refused child (the group is
    /// shutting down) is [`StartError::Refused`].
    ///
    /// Until the child has called `started`, it belongs to the `start` call as much as to the
    /// group: dropping the `start` future (a timeout, a cancelled caller) cancels the child, as
    /// trio's `start` cancels a task that has not started when its caller is cancelled.
    ///
    /// # Examples
    ///
    /// A listener reports its address, then serves:
    ///
    /// ```
    /// # #[cfg(feature = "net")] {
    /// use std::net::SocketAddr;
    /// use tether::net::{TcpListener, TcpStream};
    ///
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         let addr: SocketAddr = tg
    ///             .start(|ready| async move {
    ///                 let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///                 ready.started(listener.local_addr().unwrap());
    ///                 let (_stream, _) = listener.accept().await.unwrap(); // serve one client
    ///             })
    ///             .await
    ///             .unwrap();
    ///         // The listener is bound: connecting cannot race its start.
    ///         TcpStream::connect(addr).await.unwrap();
    ///     })
    ///     .unwrap();
    /// });
    /// # }
    /// ```
    ///
    /// A child that fails before it is ready:
    ///
    /// ```
    /// use tether::StartError;
    ///
    /// tether::run(async {
    ///     let _ = tether::task_group!(supervise try |tg| {
    ///         let started = tg
    ///             .start(|ready: tether::Ready<u16>| async move {
    ///                 let port: u16 = "http".parse()?;
    ///                 ready.started(port);
    ///                 Ok::<(), std::num::ParseIntError>(())
    ///             })
    ///             .await;
    ///         assert!(matches!(started, Err(StartError::Failed)));
    ///     });
    /// });
    /// ```
    #[track_caller]
    pub fn start<T, C, F>(&'scope self, child: C) -> Start<T, F::Value>
    where
        C: FnOnce(Ready<T>) -> F,
        F: Child<'scope, M>,
    {
        self.start_with(Builder::new(), child)
    }

    /// Like [`TaskGroup::start`], configured by a [`Builder`] (name, context, eager start).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::task::Builder;
    ///
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         let name = tg
    ///             .start_with(Builder::new().name("worker"), |ready| async move {
    ///                 ready.started(tether::current_task().unwrap().name);
    ///             })
    ///             .await;
    ///         assert_eq!(name.unwrap(), "worker");
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn start_with<T, C, F>(&'scope self, builder: Builder, child: C) -> Start<T, F::Value>
    where
        C: FnOnce(Ready<T>) -> F,
        F: Child<'scope, M>,
    {
        let location = std::panic::Location::caller();
        let (sender, receiver) = oneshot::channel();
        let state = match self.create(child(Ready { sender }), false, builder, location) {
            Ok(handle) => State::Waiting { receiver, handle },
            Err(refusal) => State::Refused(refusal),
        };
        Start { state }
    }
}

/// The future [`TaskGroup::start`] returns: resolves once the child calls
/// [`Ready::started`], or ends without it.
///
/// The child exists as soon as `start` is called. Dropping this future before the child has
/// started cancels the child.
#[must_use = "a start does nothing useful unless awaited; dropping it cancels the child"]
pub struct Start<T, V> {
    state: State<T, V>,
}

enum State<T, V> {
    Waiting {
        receiver: oneshot::Receiver<T>,
        handle: TaskHandle<V>,
    },
    Refused(CreateTaskError),
    Done,
}

impl<T, V> Start<T, V> {
    /// A handle that can cancel the child from anywhere, before or after it started; `None` if
    /// the group refused the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::StartError;
    ///
    /// tether::run(async {
    ///     tether::task_group!(|tg| {
    ///         let start = tg.start(|ready: tether::Ready<()>| async move {
    ///             std::future::pending::<()>().await; // never ready
    ///             ready.started(());
    ///         });
    ///         start.cancel_handle().unwrap().cancel();
    ///         assert!(matches!(start.await, Err(StartError::Cancelled { .. })));
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    pub fn cancel_handle(&self) -> Option<CancelHandle> {
        match &self.state {
            State::Waiting { handle, .. } => Some(handle.cancel_handle()),
            State::Refused(_) | State::Done => None,
        }
    }
}

impl<T, V> Future for Start<T, V> {
    type Output = Result<T, StartError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every field is `Unpin`: `Receiver`, `TaskHandle` and the error.
        let this = &mut *self;
        let State::Waiting { receiver, handle } = &mut this.state else {
            return match std::mem::replace(&mut this.state, State::Done) {
                State::Refused(refusal) => Poll::Ready(Err(StartError::Refused(refusal))),
                _ => panic!("`Start` polled after it resolved"),
            };
        };
        // Readiness first: a child that called `started` and then ended in the same poll has
        // started.
        let token_dropped = match Pin::new(receiver).poll(cx) {
            Poll::Ready(Ok(value)) => {
                this.state = State::Done;
                return Poll::Ready(Ok(value));
            }
            Poll::Ready(Err(oneshot::Canceled)) => true,
            Poll::Pending => false,
        };
        let outcome = match Pin::new(handle).poll(cx) {
            Poll::Ready(outcome) => outcome,
            // The caller (the body or a sibling) runs in the group's poll, as the child does,
            // and only after the child's poll returned: a token dropped as the child ended is
            // seen with its end. (A `Start` moved out to a task on another worker could see the
            // drop first, and report `Dropped` for a child that was ending anyway.)
            Poll::Pending if token_dropped => {
                // The child runs on, owned by the group as any other.
                this.state = State::Done;
                return Poll::Ready(Err(StartError::Dropped));
            }
            Poll::Pending => return Poll::Pending,
        };
        this.state = State::Done;
        Poll::Ready(Err(match outcome {
            Ok(_) => StartError::Returned,
            Err(TaskError::Panicked(panic)) => StartError::Panicked(panic),
            Err(TaskError::Failed) => StartError::Failed,
            Err(TaskError::Cancelled { message }) => StartError::Cancelled { message },
        }))
    }
}

impl<T, V> Drop for Start<T, V> {
    fn drop(&mut self) {
        if let State::Waiting { handle, .. } = &self.state {
            // Not started yet: nobody waits for this child's readiness any more.
            handle.cancel();
        }
    }
}

impl<T, V> fmt::Debug for Start<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Waiting { .. } => "waiting",
            State::Refused(_) => "refused",
            State::Done => "done",
        };
        f.debug_struct("Start").field("state", &state).finish()
    }
}
