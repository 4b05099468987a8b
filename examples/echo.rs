//! A TCP echo server on tether tasks and `tether::net` sockets, shared by the `echo_server`
//! example and the `echo` test (each includes this file with `#[path]`, so there is one copy).
//!
//! The sockets are driven by the loop's own I/O driver: when every connection waits, the loop
//! blocks in its poller, and a ready socket wakes its task on the loop's thread.
//!
//! - Every connection is a task owned by a [`TaskSet`]; nothing runs unowned.
//! - The set has a limit ([`TaskSet::with_limit`]): at most `limit` connections are served at
//!   once. The accept loop accepts a client, then waits for a free slot
//!   ([`TaskSet::spawn_when_free`]) before it accepts the next, so the producer feels the
//!   back-pressure: while every slot is taken by a busy connection, at most one accepted
//!   socket waits for its turn and the other clients wait in the kernel's backlog.
//! - Shutdown is graceful ([`TaskSet::shutdown_gracefully`]): when `shutdown` resolves, the
//!   listener is closed at once (new clients are refused) and every connection is asked to
//!   stop. A connection watches [`tether::cancellation_requested`]: asked while it waits for
//!   the client's next message, it closes at once; a message it has already read is echoed back
//!   first, then it closes. Bytes the client sent that it had not read yet are not echoed (the
//!   client sees the connection end, or reset if those bytes were still unread). A connection
//!   that cannot finish within `grace` (its client does not read the echo, so the write
//!   waits) is cancelled at the deadline, its socket closed.
//!   A client accepted but still waiting for a slot when shutdown comes is closed unserved.
//! - Slow and idle clients cannot lock the server: every connection is a member of an
//!   [`IdleQueue`], idle while it waits for the client's next message and busy while it echoes
//!   one. A connection idle for `idle_timeout` is closed (one timer, [`IdleQueue::sweep`], serves
//!   them all), and when every slot is taken a new client gets the slot of the connection idle
//!   longest ([`IdleQueue::shed_oldest`]): a crowd of silent clients cannot keep a
//!   well-behaved one waiting. Only when every connection is busy echoing does a new client
//!   wait for a slot.
//! - A connection whose code panics ends alone: the panic is its task's, caught by the runtime;
//!   its socket is closed and its slot freed, and the server goes on serving.
//! - Connections are `Send` tasks ([`TaskSet::spawn_when_free`]): on a runtime with workers
//!   they are spread over the workers; on the single loop it is the same as `create_task`.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::{Either, select};
use futures::{AsyncReadExt, AsyncWriteExt, FutureExt};
use tether::TaskSet;
use tether::net::{TcpListener, TcpStream};
use tether::sync::{IdleMember, IdleQueue};

/// What a run of [`serve`] did. `accepted == finished + shed + cancelled` once it has
/// returned, unless a connection panicked (it is in none of the three).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Connections accepted.
    pub accepted: usize,
    /// Connections that ended on their own: the client closed, an I/O error, or the connection
    /// closed when asked to during the shutdown (after echoing what it had read).
    pub finished: usize,
    /// Idle connections the server closed: idle for `idle_timeout`, or the one idle longest
    /// when a new client came and every slot was taken.
    pub shed: usize,
    /// Connections the shutdown had to cut short: still busy when the grace period ran out, or
    /// accepted but still waiting for a free slot when shutdown came.
    pub cancelled: usize,
}

/// How [`serve_with`] serves.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// At most this many connections at once.
    pub limit: usize,
    /// How long open connections get to finish once shutdown starts.
    pub grace: Duration,
    /// A connection waiting this long for its client's next message is closed.
    pub idle_timeout: Duration,
    /// Called with every message before it is echoed (a place for a handler's own work; the
    /// tests pass one that panics on a given input).
    pub inspect: fn(&[u8]),
}

/// The idle timeout of [`serve`].
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves echo connections from `listener` until `shutdown` resolves, at most `limit` at a
/// time, then shuts down gracefully, giving open connections `grace` to finish (see the module
/// docs). Idle connections are closed after [`IDLE_TIMEOUT`].
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
    let options = Options {
        limit,
        grace,
        idle_timeout: IDLE_TIMEOUT,
        inspect: |_| {},
    };
    serve_with(listener, options, shutdown).await
}

/// Counts kept by the connections, which may run on any worker.
#[derive(Default)]
struct Counts {
    finished: AtomicUsize,
    shed: AtomicUsize,
}

/// [`serve`], with every option.
///
/// # Errors
///
/// As [`serve`].
///
/// # Panics
///
/// If `options.limit` is 0.
pub async fn serve_with(
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()>,
) -> io::Result<Report> {
    let mut connections = TaskSet::background().with_limit(options.limit);
    let idle = IdleQueue::new();
    let counts = Arc::new(Counts::default());
    let mut accepted = 0;
    let mut unserved = 0;
    let accepting = accept_loop(
        &listener,
        &mut connections,
        &idle,
        &options,
        &counts,
        shutdown,
        (&mut accepted, &mut unserved),
    );
    // The idle timeout of every connection, on one timer, while the server accepts.
    match select(pin!(accepting), pin!(idle.sweep(options.idle_timeout))).await {
        Either::Left((accepting, _)) => accepting?,
        Either::Right((never, _)) => match never {},
    }
    // Stop accepting: from here on, clients are refused.
    drop(listener);
    let cut_short = connections.shutdown_gracefully(options.grace).await;
    Ok(Report {
        accepted,
        finished: counts.finished.load(Ordering::Relaxed),
        shed: counts.shed.load(Ordering::Relaxed),
        cancelled: cut_short + unserved,
    })
}

/// Accepts and starts connections until `shutdown` resolves; counts what it accepted, and the
/// client it had accepted but not started if shutdown came while it waited for a slot.
async fn accept_loop(
    listener: &TcpListener,
    connections: &mut TaskSet<()>,
    idle: &IdleQueue,
    options: &Options,
    counts: &Arc<Counts>,
    shutdown: impl Future<Output = ()>,
    (accepted, unserved): (&mut usize, &mut usize),
) -> io::Result<()> {
    let mut shutdown = pin!(shutdown);
    loop {
        // `select` polls its first future first: once shutdown is asked for, nothing more is
        // accepted, even a client already waiting in the backlog.
        let stream = match select(shutdown.as_mut(), pin!(listener.accept())).await {
            Either::Left(((), _)) => return Ok(()),
            Either::Right((Ok((stream, _peer)), _)) => stream,
            Either::Right((Err(err), _)) if is_per_connection(&err) => continue,
            Either::Right((Err(err), _)) if err.raw_os_error() == Some(EMFILE) => {
                // Out of file descriptors: free one by shedding the connection idle longest,
                // and let connections close, then go on (retrying at once would spin).
                idle.shed_oldest();
                tether::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Either::Right((Err(err), _)) => return Err(err),
        };
        *accepted += 1;
        // Every slot taken: the connection idle longest makes room (if every one is busy
        // echoing, the new client waits for one to end).
        if connections.len() >= options.limit {
            idle.shed_oldest();
        }
        let (member, counts, inspect) = (idle.member(), counts.clone(), options.inspect);
        let connection = async move {
            let counter = match echo(stream, &member, inspect).await {
                Ok(Ended::Shed) => &counts.shed,
                _ => &counts.finished,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        };
        // Back-pressure: no more accepting until this client has a slot. If shutdown comes
        // first, the connection (and its socket) is dropped unserved.
        let shut_down = matches!(
            select(
                shutdown.as_mut(),
                pin!(connections.spawn_when_free(connection)),
            )
            .await,
            Either::Left(_)
        );
        if shut_down {
            *unserved += 1;
            return Ok(());
        }
    }
}

/// Why a connection ended.
enum Ended {
    /// The client closed, or the server asked it to stop while it was idle.
    Closed,
    /// Shed from the idle queue: idle too long, or the stalest when a new client came.
    Shed,
}

/// Echoes everything `stream` sends until it closes, the server asks it to stop while it waits
/// for the next message, or it is shed while idle.
async fn echo(mut stream: TcpStream, member: &IdleMember, inspect: fn(&[u8])) -> io::Result<Ended> {
    // 4 KiB, as the benchmark servers: thousands of idle connections each hold one.
    let mut buf = vec![0; 4 * 1024];
    // Cancel-safe, so one future serves the whole connection.
    let mut stop = pin!(tether::cancellation_requested().fuse());
    let ended = loop {
        // Idle here. The request and the shedding first: asked while idle, say goodbye
        // (close) instead of reading more.
        let n = tether::select_biased! {
            () = stop => break Ended::Closed,
            () = member.shed().fuse() => break Ended::Shed,
            read = stream.read(&mut buf).fuse() => read?,
        };
        if n == 0 {
            break Ended::Closed;
        }
        // Not raced with the request: a message already read goes back whole, and the
        // connection is not shed while it does.
        let _busy = member.busy();
        inspect(&buf[..n]);
        stream.write_all(&buf[..n]).await?;
    };
    stream.close().await?;
    Ok(ended)
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
