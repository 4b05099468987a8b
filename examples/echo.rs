//! A TCP echo server on tether tasks and `tether::net` sockets, shared by the `echo_server`
//! example and the `echo` test (each includes this file with `#[path]`, so there is one copy).
//!
//! The sockets are driven by the loop's own I/O driver: when every connection waits, the loop
//! blocks in its poller, and a ready socket wakes its task on the loop's thread.
//!
//! - Every connection is a task owned by a [`TaskSet`]; nothing runs unowned.
//! - A [`Semaphore`] bounds how many connections are served at once: the accept loop takes a
//!   permit *before* it accepts, so while all permits are out, new clients wait in the kernel's
//!   backlog, and the permit travels with the connection's task and comes back when it ends.
//! - Shutdown is graceful: when `shutdown` resolves, the listener is closed at once (new
//!   clients are refused), the open connections get `grace` to finish on their own, and the
//!   ones still open after that are cancelled (their sockets closed) before [`serve`] returns.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{Either, select};
use futures::{AsyncReadExt, AsyncWriteExt};
use tether::TaskSet;
use tether::net::{TcpListener, TcpStream};
use tether::sync::Semaphore;

/// What a run of [`serve`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Connections accepted.
    pub accepted: usize,
    /// Connections that ended on their own (the client closed, or an I/O error).
    pub finished: usize,
    /// Connections still open when the grace period ran out, cancelled by the shutdown.
    pub cancelled: usize,
}

/// Serves echo connections from `listener` until `shutdown` resolves, at most
/// `limit.available_permits()` at a time, then shuts down gracefully (see the module docs).
///
/// # Errors
///
/// An error of `accept` that is neither about one connection nor a shortage of file
/// descriptors (those are retried). Errors of a single connection only end that connection.
pub async fn serve(
    listener: TcpListener,
    limit: Arc<Semaphore>,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Report> {
    let mut shutdown = pin!(shutdown);
    let mut connections = TaskSet::background();
    let finished = Rc::new(Cell::new(0));
    let mut accepted = 0;
    loop {
        // `select` polls its first future first: once shutdown is asked for, nothing more is
        // accepted, even a client already waiting in the backlog.
        //
        // A free slot first, so a client over the limit waits in the backlog, not half-served.
        let permit = match select(shutdown.as_mut(), pin!(limit.clone().acquire_owned())).await {
            Either::Left(((), _)) => break,
            Either::Right((permit, _)) => permit,
        };
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
        connections.create_task(async move {
            let _permit = permit; // the slot is free again when this task ends, however
            let _ = echo(stream).await;
            finished.set(finished.get() + 1);
        });
    }
    // Stop accepting: from here on, clients are refused.
    drop(listener);
    if tether::timeout(grace, connections.join_next())
        .await
        .is_err()
    {
        connections.shutdown().await;
    }
    let finished = finished.get();
    Ok(Report {
        accepted,
        finished,
        cancelled: accepted - finished,
    })
}

/// Echoes everything `stream` sends until it closes; returns how many bytes went round.
async fn echo(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
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
