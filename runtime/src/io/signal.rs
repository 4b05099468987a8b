//! Ctrl-C and Unix signals, as futures on the event loop.
//!
//! No thread per signal: the first listener of a signal installs a process-wide handler
//! (through `signal-hook-registry`) that counts the signal and writes a byte to one
//! process-wide socket pair. Each listener registers its own duplicate of the reading end with
//! its loop's I/O driver, so a signal wakes every loop that waits for one, like any socket.
//!
//! Once a signal has a listener, its handler stays installed for the life of the process: the
//! signal's default action (for Ctrl-C, ending the process) no longer happens, even after the
//! listener is dropped. This is tokio's behaviour too; a program that wants the default back
//! after a graceful shutdown exits itself.

use std::io::{self, Read};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use crate::scheduler::io_driver::{Interest, PollEvented};
use crate::util::loom_facade::{Mutex, lock};

/// Waits for the next Ctrl-C (`SIGINT` on Unix): asyncio's `loop.add_signal_handler(SIGINT,
/// ...)`, tokio's `signal::ctrl_c`.
///
/// The handler is installed when the returned future is first polled, and from then on
/// `SIGINT` no longer ends the process (see the [module docs](self)): a Ctrl-C that comes
/// earlier ends it as usual, and one that comes later is reported.
///
/// ```no_run
/// use futures::FutureExt;
///
/// tether::run(async {
///     let serve = tether::sleep(std::time::Duration::from_secs(3600)); // the server's work
///     tether::select! {
///         () = serve.fuse() => {}
///         stop = tether::signal::ctrl_c().fuse() => {
///             stop.expect("listening for Ctrl-C");
///             println!("shutting down");
///         }
///     }
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut signal = unix::signal(libc::SIGINT)?;
    signal.recv().await;
    Ok(())
}

/// Signals by number.
pub mod unix {
    use super::*;

    /// Listens for signal `signum` (`libc::SIGTERM`, `libc::SIGHUP`, ...): the handler is
    /// installed now, if it was not yet. Signals that cannot be caught or must not be (`SIGKILL`,
    /// `SIGSTOP`, `SIGSEGV`, `SIGILL`, `SIGFPE`) are an error of kind
    /// [`InvalidInput`](io::ErrorKind::InvalidInput).
    ///
    /// ```
    /// use tether::signal::unix::signal;
    ///
    /// tether::run(async {
    ///     let mut hangups = signal(libc::SIGHUP).unwrap();
    ///     // SAFETY: sending a signal to this process, whose handler is installed.
    ///     assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGHUP) }, 0);
    ///     assert_eq!(hangups.recv().await, Some(()));
    /// });
    /// ```
    pub fn signal(signum: i32) -> io::Result<Signal> {
        let globals = globals()?;
        install(globals, signum)?;
        let reader = globals.reader.try_clone()?;
        let driver =
            crate::scheduler::event_loop::EventLoop::with_current(|lp| lp.shared().io().clone())
                .ok_or_else(|| {
                    io::Error::other(
                        "tether::signal needs a running tether event loop: call it inside \
                     tether::run, #[tether::main] or a task",
                    )
                })?;
        Ok(Signal {
            signum,
            seen: globals.counts[signum as usize].load(Ordering::SeqCst),
            io: PollEvented::with_kind(
                mio::net::UnixStream::from_std(reader),
                driver,
                "signal pipe",
            )?,
        })
    }

    /// A listener for one signal, from [`signal`]. Several deliveries that come before a
    /// [`recv`](Signal::recv) are reported once (the OS coalesces pending signals too).
    #[derive(Debug)]
    pub struct Signal {
        signum: i32,
        /// How many deliveries of the signal this listener has reported (or saw at creation).
        seen: u64,
        io: PollEvented<mio::net::UnixStream>,
    }

    impl Signal {
        /// Waits for the next delivery of the signal since the last `recv` (or since the
        /// listener was made). `None` once the loop the listener was made on has finished.
        pub async fn recv(&mut self) -> Option<()> {
            std::future::poll_fn(|cx| self.poll_recv(cx)).await
        }

        /// The poll behind [`recv`](Signal::recv).
        pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
            let count = &globals().expect("made by `signal`").counts[self.signum as usize];
            loop {
                // The handler counts before it writes: a byte read means the count is seen.
                let delivered = count.load(Ordering::SeqCst);
                if delivered > self.seen {
                    self.seen = delivered;
                    return Poll::Ready(Some(()));
                }
                let Ok(event) = ready!(self.io.poll_ready(cx, Interest::Read)) else {
                    return Poll::Ready(None);
                };
                // Drain what the handlers wrote (other listeners may have drained it already),
                // then look at the counts again.
                let mut bytes = [0; 64];
                loop {
                    match self.io.get_ref().read(&mut bytes) {
                        Ok(n) if n > 0 => continue,
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                        _ => break,
                    }
                }
                self.io.clear_readiness(event);
            }
        }
    }
}

/// What every listener shares, made by the first.
struct Globals {
    writer: std::os::unix::net::UnixStream,
    reader: std::os::unix::net::UnixStream,
    /// How many times each signal was delivered, by number.
    counts: Box<[AtomicU64]>,
    /// Which signals have their handler installed.
    installed: Mutex<Vec<bool>>,
}

/// Signal numbers go up to `SIGRTMAX` (64 on Linux).
const SIGNALS: usize = 65;

fn globals() -> io::Result<&'static Globals> {
    static GLOBALS: OnceLock<Globals> = OnceLock::new();
    if let Some(globals) = GLOBALS.get() {
        return Ok(globals);
    }
    let (writer, reader) = std::os::unix::net::UnixStream::pair()?;
    writer.set_nonblocking(true)?;
    reader.set_nonblocking(true)?;
    Ok(GLOBALS.get_or_init(|| Globals {
        writer,
        reader,
        counts: (0..SIGNALS).map(|_| AtomicU64::new(0)).collect(),
        installed: Mutex::new(vec![false; SIGNALS]),
    }))
}

fn install(globals: &'static Globals, signum: i32) -> io::Result<()> {
    let forbidden = signal_hook_registry::FORBIDDEN.contains(&signum);
    if forbidden || signum <= 0 || signum as usize >= SIGNALS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {signum} cannot be listened for: it is not a signal number, or one \
                 that cannot be caught (SIGKILL, SIGSTOP) or must not be (SIGSEGV, SIGILL, SIGFPE)"
            ),
        ));
    }
    let mut installed = lock(&globals.installed);
    if installed[signum as usize] {
        return Ok(());
    }
    let action = move || {
        globals.counts[signum as usize].fetch_add(1, Ordering::SeqCst);
        // A full socket drops the byte: the count says it all, and the listeners are awake.
        let _ = std::io::Write::write(&mut &globals.writer, &[1]);
    };
    // SAFETY: the action is async-signal-safe: an atomic add and a `write` on a non-blocking
    // socket, no allocation, no lock. signal-hook-registry saves and restores `errno`.
    unsafe { signal_hook_registry::register(signum, action) }.map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("could not install the handler of signal {signum}: {error}"),
        )
    })?;
    installed[signum as usize] = true;
    Ok(())
}
