//! The child's standard streams, as pipes registered with the loop's I/O driver.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::scheduler::io_driver::resource::Resource;
use crate::scheduler::io_driver::{Handle, PollEvented};

/// A file descriptor the driver watches: a pipe end or a pidfd. A `File` only for its `Read`
/// and `Write` on `&File` (plain `read(2)`/`write(2)`), and because it closes the fd on drop.
#[derive(Debug)]
pub(super) struct Fd(File);

impl Fd {
    /// Takes `fd`, made non-blocking: the driver tells when it is ready, and a read or write
    /// that would block must say so rather than stall the loop.
    pub(super) fn nonblocking(fd: OwnedFd) -> io::Result<Fd> {
        let raw = fd.as_raw_fd();
        // SAFETY: `fcntl` on an fd this function owns; F_GETFL/F_SETFL read and set its flags.
        let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
        // SAFETY: as above.
        if flags < 0 || unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Fd(File::from(fd)))
    }

    /// Takes `fd` as it is (a pidfd, which is never read).
    pub(super) fn new(fd: OwnedFd) -> Fd {
        Fd(File::from(fd))
    }
}

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Read for &Fd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.0).read(buf)
    }
}

impl Write for &Fd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&self.0).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl mio::event::Source for Fd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.as_raw_fd()).deregister(registry)
    }
}

impl Resource for Fd {
    const KIND: &'static str = "pipe";
}

/// Registers a pipe end of a child just spawned.
pub(super) fn register(fd: OwnedFd, driver: &Arc<Handle>) -> io::Result<PollEvented<Fd>> {
    PollEvented::with_kind(Fd::nonblocking(fd)?, driver.clone(), "pipe")
}

macro_rules! pipe_type {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            pub(super) io: PollEvented<Fd>,
        }

        impl $name {
            pub(super) fn new(std: $std, driver: &Arc<Handle>) -> io::Result<$name> {
                Ok($name {
                    io: register(OwnedFd::from(std), driver)?,
                })
            }

            /// Deregisters the pipe and gives back its end as an [`OwnedFd`] (for example to
            /// pass it as another command's [`Stdio`](std::process::Stdio), which makes a
            /// pipeline). The fd stays non-blocking.
            pub fn into_owned_fd(self) -> OwnedFd {
                OwnedFd::from(self.io.into_inner().0)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }
    };
}

pipe_type!(
    /// The writing end of a child's standard input ([`Child::stdin`](super::Child::stdin),
    /// with [`Stdio::piped`](std::process::Stdio::piped)). Implements the `futures` crate's
    /// [`AsyncWrite`](futures_io::AsyncWrite). Dropping it closes the pipe, so the child reads
    /// the end of its input (a pipe has no half-close, so `close` does nothing). Writing after the child closed its end fails with
    /// [`BrokenPipe`](io::ErrorKind::BrokenPipe).
    ///
    /// ```
    /// use futures::io::AsyncWriteExt;
    /// use tether::process::{Command, Stdio};
    ///
    /// tether::run(async {
    ///     let mut child = Command::new("wc").arg("-c").stdin(Stdio::piped())
    ///         .stdout(Stdio::piped()).spawn().unwrap();
    ///     let mut stdin = child.stdin.take().unwrap();
    ///     stdin.write_all(b"four").await.unwrap();
    ///     drop(stdin); // the end of wc's input
    ///     let output = child.output(&[]).await.unwrap();
    ///     assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), "4");
    /// });
    /// ```
    ChildStdin,
    std::process::ChildStdin
);

pipe_type!(
    /// The reading end of a child's standard output ([`Child::stdout`](super::Child::stdout),
    /// with [`Stdio::piped`](std::process::Stdio::piped)). Implements the `futures` crate's
    /// [`AsyncRead`](futures_io::AsyncRead); a read of 0 bytes is the end of the output.
    ///
    /// ```
    /// use futures::io::AsyncReadExt;
    /// use tether::process::{Command, Stdio};
    ///
    /// tether::run(async {
    ///     let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn().unwrap();
    ///     let mut text = String::new();
    ///     child.stdout.take().unwrap().read_to_string(&mut text).await.unwrap();
    ///     assert_eq!(text, "hi\n");
    ///     assert!(child.wait().await.unwrap().success());
    /// });
    /// ```
    ChildStdout,
    std::process::ChildStdout
);

pipe_type!(
    /// The reading end of a child's standard error ([`Child::stderr`](super::Child::stderr),
    /// with [`Stdio::piped`](std::process::Stdio::piped)). Implements the `futures` crate's
    /// [`AsyncRead`](futures_io::AsyncRead), as [`ChildStdout`] does.
    ///
    /// ```
    /// use futures::io::AsyncReadExt;
    /// use tether::process::{Command, Stdio};
    ///
    /// tether::run(async {
    ///     let mut child = Command::new("sh").args(["-c", "echo oops >&2"])
    ///         .stderr(Stdio::piped()).spawn().unwrap();
    ///     let mut text = String::new();
    ///     child.stderr.take().unwrap().read_to_string(&mut text).await.unwrap();
    ///     assert_eq!(text, "oops\n");
    ///     child.wait().await.unwrap();
    /// });
    /// ```
    ChildStderr,
    std::process::ChildStderr
);

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the pipe.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe has no half-close: the end closes when the value is dropped.
        Poll::Ready(Ok(()))
    }
}

macro_rules! async_read {
    ($($ty:ty),*) => {$(
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }
        }
    )*};
}

async_read!(ChildStdout, ChildStderr);
