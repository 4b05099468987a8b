//! A mio source registered with a loop's driver: the read and write loops over its readiness.

use std::io;
#[cfg(any(feature = "net", feature = "process"))]
use std::io::{Read, Write};
use std::sync::Arc;
#[cfg(any(feature = "net", feature = "process"))]
use std::task::ready;
use std::task::{Context, Poll};

use super::driver::Handle;
use super::resource::Resource;
use super::scheduled_io::{Interest, ReadyEvent, ScheduledIo};
use crate::task_core::awaiting::{Awaiting, IoDirection};

/// A registered source. Dropping it deregisters the source, then closes it.
pub(crate) struct PollEvented<S: Resource> {
    /// `None` only once `into_inner` has taken it.
    source: Option<S>,
    handle: Arc<Handle>,
    io: Arc<ScheduledIo>,
    /// What kind of resource, for recorded waits: `S::KIND` unless the owner says better.
    kind: &'static str,
    /// `false`: the owner records its tasks' waits itself (a child process's exit is shown as
    /// the process, not as its pidfd), so the driver records none.
    recorded: bool,
}

impl<S: Resource> PollEvented<S> {
    #[cfg(feature = "net")]
    pub(crate) fn new(source: S, handle: Arc<Handle>) -> io::Result<PollEvented<S>> {
        PollEvented::with_kind(source, handle, S::KIND)
    }

    /// [`new`](PollEvented::new), with the kind recorded waits show (a signal's pipe is a Unix
    /// stream to mio, but a signal to the user).
    pub(crate) fn with_kind(
        mut source: S,
        handle: Arc<Handle>,
        kind: &'static str,
    ) -> io::Result<PollEvented<S>> {
        let io = handle.register(&mut source)?;
        Ok(PollEvented {
            source: Some(source),
            handle,
            io,
            kind,
            recorded: true,
        })
    }

    /// The driver records no wait on this source: its owner records what the waiting task
    /// really awaits.
    #[cfg(feature = "process")]
    pub(crate) fn unrecorded(mut self) -> PollEvented<S> {
        self.recorded = false;
        self
    }

    pub(crate) fn get_ref(&self) -> &S {
        self.source.as_ref().expect("present until into_inner")
    }

    #[cfg(feature = "net")]
    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Ready when the source is ready in `interest`'s direction.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<ReadyEvent>> {
        if self.handle.is_closed() {
            return Poll::Ready(Err(io::Error::other(
                "the event loop this I/O resource was created on has finished: \
                 create it inside the loop that uses it",
            )));
        }
        self.io
            .poll_ready(cx, interest, || {
                self.recorded.then(|| self.awaited(interest))
            })
            .map(Ok)
    }

    /// What a task parked on this source in `interest`'s direction awaits.
    #[cold]
    fn awaited(&self, interest: Interest) -> Awaiting {
        let source = self.get_ref();
        let (local, peer) = source.addresses();
        Awaiting::Io {
            direction: match interest {
                Interest::Read => IoDirection::Readable,
                Interest::Write => IoDirection::Writable,
            },
            resource: self.kind,
            local,
            peer,
            fd: source.as_raw_fd(),
        }
    }

    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event);
    }

    /// Runs `op` when the source is ready; on `WouldBlock`, clears the readiness seen and
    /// waits for the next edge.
    #[cfg(feature = "net")]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = ready!(self.poll_ready(cx, interest))?;
            match op(self.get_ref()) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_readiness(event);
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// [`poll_io`](PollEvented::poll_io) as a future: for the datagram sockets' methods.
    #[cfg(feature = "net")]
    pub(crate) async fn io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_io(cx, interest, &mut op)).await
    }

    /// Deregisters the source and gives it back.
    #[cfg(any(feature = "net", feature = "process"))]
    pub(crate) fn into_inner(mut self) -> S {
        let mut source = self.source.take().expect("present until into_inner");
        self.handle.deregister(&mut source, self.io.clone());
        source
    }
}

#[cfg(any(feature = "net", feature = "process"))]
impl<S: Resource> PollEvented<S> {
    /// Runs `op`, a read or write of up to `len` bytes, when the source is ready. A transfer
    /// shorter than `len` has drained the socket (or filled its send buffer): the poller will
    /// report the next change as a new edge, so readiness is cleared at once, with no extra
    /// call that would only return `WouldBlock`.
    fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        len: usize,
        mut op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let event = ready!(self.poll_ready(cx, interest))?;
            match op(self.get_ref()) {
                Ok(n) => {
                    if n > 0 && n < len {
                        self.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_readiness(event);
                }
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }
}

#[cfg(any(feature = "net", feature = "process"))]
impl<S: Resource> PollEvented<S>
where
    for<'a> &'a S: Read + Write,
{
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.poll_transfer(cx, Interest::Read, len, |mut source| source.read(buf))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_transfer(cx, Interest::Write, buf.len(), |mut source| {
            source.write(buf)
        })
    }
}

#[cfg(all(unix, any(feature = "hyper", feature = "tokio")))]
impl<S: Resource> PollEvented<S> {
    /// Reads into a buffer that may be uninitialised (hyper's and tokio's read buffers are), with
    /// `recv(2)` on the raw pointer: no zeroing, and no `&mut [u8]` over uninitialised bytes.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.poll_transfer(cx, Interest::Read, len, |source| {
            loop {
                // SAFETY: `buf` is valid for writes of `len` bytes, which is all `recv` does with
                // it; the fd is this source's open socket, alive while `self` is.
                let n = unsafe { libc::recv(source.as_raw_fd(), buf.as_mut_ptr().cast(), len, 0) };
                if n >= 0 {
                    return Ok(n as usize);
                }
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        })
    }
}

impl<S: Resource> Drop for PollEvented<S> {
    fn drop(&mut self) {
        if let Some(mut source) = self.source.take() {
            self.handle.deregister(&mut source, self.io.clone());
            // `source` closes here, after its deregistration.
        }
    }
}

impl<S: Resource + std::fmt::Debug> std::fmt::Debug for PollEvented<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.source.fmt(f)
    }
}
