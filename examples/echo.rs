//! A TCP echo server on tether tasks and `tether::net` sockets, shared by the `echo_server`
//! example and the `echo` test (each includes this file with `#[path]`, so there is one copy).
//!
//! The sockets are driven by the loop's own I/O driver: when every connection waits, the loop
//! blocks in its poller, and a ready socket wakes its task on the loop's thread.
//!
//! - Every connection is a task owned by a [`TaskSet`]; nothing runs unowned.
//! - The set has a limit ([`TaskSet::with_limit`]): at most `limit` connections are served at
//!   once. The accept loop accepts a client, then waits for a free slot
//!   ([`TaskSet::create_task_when_free`]) before it accepts the next, so the producer feels
//!   the back-pressure: while every slot is taken, at most one accepted socket waits for its
//!   turn and the other clients wait in the kernel's backlog.
//! - Shutdown is graceful ([`TaskSet::shutdown_gracefully`]): when `shutdown` resolves, the
//!   listener is closed at once (new clients are refused) and every connection is asked to
//!   stop. A connection watches [`tether::cancellation_requested`]: asked while it waits for
//!   the client's next message, it closes at once; a message it has already read is echoed back
//!   first, then it closes. Bytes the client sent that it had not read yet are not echoed (the
//!   client sees the connection end, or reset if those bytes were still unread). A connection that cannot finish within `grace` (its client does
//!   not read the echo, so the write waits) is cancelled at the deadline, its socket closed.
//!   A client accepted but still waiting for a slot when shutdown comes is closed unserved.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use futures::future::{Either, select};
use futures::{AsyncReadExt, AsyncWriteExt};
use tether::TaskSet;
use tether::net::{TcpListener, TcpStream};

/// What a run of [`serve`] did. `accepted == finished + cancelled` once it has returned.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Connections accepted.
    pub accepted: usize,
    /// Connections that ended on their own: the client closed, an I/O error, or the connection
    /// closed when asked to during the shutdown (after echoing what it had read).
    pub finished: usize,
    /// Connections the shutdown had to cut short: still busy when the grace period ran out, or
    /// accepted but still waiting for a free slot when shutdown came.
    pub cancelled: usize,
}

/// Serves echo connections from `listener` until `shutdown` resolves, at most `limit` at a
/// time, then shuts down gracefully, giving open connections `grace` to finish (see the module
/// docs).
///
/// # Errors
///
/// An error of `accept` that is neither about one connection nor a shortage of file
/// descriptors (those are retried). Errors of a single connection only end that connection.
///
/// # Panics
///
/// If `limit` is 0 (no connection could ever be served).
pub async fn serve(
    listener: TcpListener,
    limit: usize,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Report> {
    let mut shutdown = pin!(shutdown);
    let mut connections = TaskSet::background().with_limit(limit);
    let finished = Rc::new(Cell::new(0));
    let mut accepted = 0;
    let mut unserved = 0;
    loop {
        // `select` polls its first future first: once shutdown is asked for, nothing more is
        // accepted, even a client already waiting in the backlog.
        let stream = match select(shutdown.as_mut(), pin!(listener.accept())).await {
            Either::Left(((), _)) => break,
            Either::Right((Ok((stream, _peer)), _)) => stream,
            Either::Right((Err(err), _)) if is_per_connection(&err) => continue,
            Either::Right((Err(err), _)) if err.raw_os_error() == Some(EMFILE) => {
                // Out of file descriptors: let some connections close, then go on.
                tether::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Either::Right((Err(err), _)) => return Err(err),
        };
        accepted += 1;
        let finished = finished.clone();
        let connection = async move {
            let _ = echo(stream).await;
            finished.set(finished.get() + 1);
        };
        // Back-pressure: no more accepting until this client has a slot. If shutdown comes
        // first, the connection (and its socket) is dropped unserved.
        let shut_down = matches!(
            select(
                shutdown.as_mut(),
                pin!(connections.create_task_when_free(connection)),
            )
            .await,
            Either::Left(_)
        );
        if shut_down {
            unserved += 1;
            break;
        }
    }
    // Stop accepting: from here on, clients are refused.
    drop(listener);
    let cut_short = connections.shutdown_gracefully(grace).await;
    Ok(Report {
        accepted,
        finished: finished.get(),
        cancelled: cut_short + unserved,
    })
}

/// Echoes everything `stream` sends until it closes, or until the server asks it to stop while
/// it waits for the next message; returns how many bytes went round.
async fn echo(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0;
    // Cancel-safe, so one future serves the whole connection.
    let mut stop = pin!(tether::cancellation_requested());
    loop {
        // The request first: asked while idle, say goodbye (close) instead of reading more.
        let n = match select(stop.as_mut(), pin!(stream.read(&mut buf))).await {
            Either::Left(((), _)) => break,
            Either::Right((read, _)) => read?,
        };
        if n == 0 {
            break;
        }
        // Not raced with the request: a message already read goes back whole.
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
    stream.close().await?;
    Ok(total)
}

/// "Too many open files" (Linux and the BSDs agree on 24).
const EMFILE: i32 = 24;

/// `accept` errors that concern one connection only: keep serving.
fn is_per_connection(err: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}
