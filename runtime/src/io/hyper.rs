//! hyper 1.x on tether (feature `hyper`): hyper's runtime traits for tether's sockets, tasks
//! and timers, so that hyper's servers and clients run on tether's own loop with no adapter
//! crate and no tokio runtime.
//!
//! - [`tether::net::TcpStream`](crate::net::TcpStream) and
//!   [`UnixStream`](crate::net::UnixStream) implement [`hyper::rt::Read`] and
//!   [`hyper::rt::Write`] themselves: pass them to `serve_connection` or `handshake` as they
//!   are. Reads go straight into hyper's uninitialised buffers. Any other `futures`
//!   `AsyncRead + AsyncWrite` (a TLS stream, an `async-net` socket) goes through [`FuturesIo`].
//! - [`Timer`] gives hyper tether's timers (the virtual clock included), so that
//!   `header_read_timeout` and keep-alive timeouts work.
//! - [`Executor`] runs what hyper hands it (HTTP/2 streams, a client's connection) as tasks
//!   owned by a set: the tasks are cancelled when the last clone of the executor is dropped,
//!   so nothing hyper starts outlives the connection that holds the executor.
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use hyper::{Request, Response};
//! use tether::net::{TcpListener, TcpStream};
//!
//! tether::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = tether::create_task(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         let hello = hyper::service::service_fn(|_request: Request<hyper::body::Incoming>| async {
//!             Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("hello"))))
//!         });
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(tether::hyper::Timer)
//!             .serve_connection(stream, hello)
//!             .await
//!     });
//!
//!     let stream = TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await.unwrap();
//!     let connection = tether::create_task(connection);
//!     let request = Request::get("/").body(http_body_util::Empty::<Bytes>::new()).unwrap();
//!     let response = sender.send_request(request).await.unwrap();
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(body, "hello");
//!     drop(sender); // the client connection closes, and so does the server's
//!     connection.await.unwrap().unwrap();
//!     server.await.unwrap().unwrap();
//! });
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;

use crate::io::net::TcpStream;
use crate::set::TaskSet;

/// hyper's `rt::Read`/`rt::Write` for a tether stream, which reads into hyper's uninitialised
/// buffer with its `poll_read_uninit`.
macro_rules! hyper_io {
    ($ty:ty) => {
        impl hyper::rt::Read for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                mut buf: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                // SAFETY: `poll_read_uninit` only writes into the unfilled part it is given,
                // and reports how many bytes it wrote, which `advance` then marks filled.
                let n = ready!(self.poll_read_uninit(cx, unsafe { buf.as_mut() }))?;
                // SAFETY: those `n` bytes were just written by `recv`.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
        }

        impl hyper::rt::Write for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown(Shutdown::Write))
            }
        }
    };
}

hyper_io!(TcpStream);
#[cfg(unix)]
hyper_io!(crate::io::net::UnixStream);

/// Any `futures` `AsyncRead + AsyncWrite` as hyper's `rt::Read + rt::Write` (for a TLS
/// stream, or a runtime-agnostic crate's socket). tether's own streams need no wrapper.
///
/// Reads zero the part of hyper's buffer they are given before reading, since a `futures`
/// reader takes an initialised `&mut [u8]`; tether's streams avoid that cost.
#[derive(Debug)]
pub struct FuturesIo<T>(pub T);

impl<T: AsyncRead + Unpin> hyper::rt::Read for FuturesIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let n = ready!(Pin::new(&mut self.0).poll_read(cx, buf.initialize_unfilled()))?;
        // SAFETY: the reader wrote (at most) `n` bytes of the initialised slice it was given.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for FuturesIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

/// hyper's timer on tether's clock: give it to a connection builder (`.timer(Timer)`) for
/// `header_read_timeout`, keep-alive and other timeouts. Follows the virtual clock too.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timer;

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Sleep(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep(deadline.saturating_duration_since(std::time::Instant::now()))
    }
}

/// A tether sleep as hyper's `rt::Sleep`.
struct Sleep(crate::time::Sleep);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for Sleep {}

/// hyper's executor on tether: every future hyper hands it becomes a task owned by the
/// executor's set (a [`TaskSet::background`]), so cloning the executor shares the set, and
/// dropping the last clone cancels whatever is still running. The tasks stay on the loop that
/// made the executor (they need not be `Send`).
///
/// ```
/// use hyper::rt::Executor as _;
///
/// tether::run(async {
///     let (sent, received) = futures::channel::oneshot::channel();
///     let executor = tether::hyper::Executor::new();
///     executor.execute(async move { sent.send(42).unwrap() });
///     assert_eq!(received.await, Ok(42));
/// });
/// ```
#[derive(Clone)]
pub struct Executor {
    tasks: Rc<RefCell<TaskSet<()>>>,
}

impl Executor {
    /// An executor with an empty set of tasks.
    pub fn new() -> Executor {
        Executor {
            tasks: Rc::new(RefCell::new(TaskSet::background())),
        }
    }
}

impl Default for Executor {
    fn default() -> Executor {
        Executor::new()
    }
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("tasks", &self.tasks.borrow().len())
            .finish()
    }
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + 'static,
{
    fn execute(&self, future: F) {
        self.tasks.borrow_mut().create_task(async move {
            future.await;
        });
    }
}
