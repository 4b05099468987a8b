//! Bridges to other runtimes' ecosystems.
//!
//! [`tokio()`](fn@tokio) (feature `tokio-bridge`) runs a future inside the context of a tokio runtime, for
//! the crates that need tokio's runtime rather than only its I/O traits: reqwest, sqlx's
//! `runtime-tokio`, the AWS SDK's default client, anything that calls `tokio::spawn`,
//! `tokio::net` or `tokio::time`. (Crates that only take a stream with tokio's `AsyncRead` and
//! `AsyncWrite` need no bridge: tether's streams implement them under the `tokio` feature.)
//!
//! | what the crate needs | on tether |
//! | --- | --- |
//! | tokio's I/O traits on a stream you give it | a tether stream as it is (feature `tokio`) |
//! | tokio's runtime, at a few call sites | `tether::compat::tokio(call).await` |
//! | tokio's runtime, everywhere | `#[tether::main(tokio)]`, [`Builder::tokio`](crate::Builder::tokio) |

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::tokio_bridge::TokioBridge;
use crate::scheduler::event_loop::EventLoop;

/// Runs `future` with a tokio runtime's context entered around each of its polls: asyncio has no
/// twin; smol users write `async_compat::Compat::new(future)`.
///
/// The tokio runtime belongs to the run of tether's runtime that polls the future: one
/// current-thread runtime on a helper thread, started the first time a run needs it and shut
/// down when the run ends (see [`Builder::tokio`](crate::Builder::tokio) for the costs, and for
/// `tokio::spawn`, which starts a task that no tether handle owns).
///
/// Build the tokio future inside an `async` block, as in the example: many of tokio's
/// constructors (`tokio::time::sleep`, `tokio::spawn`) look for the context when called, which is
/// before the bridge polls anything; `tether::compat::tokio(tokio::time::sleep(d))` panics with
/// tokio's "there is no reactor running".
///
/// # Panics
///
/// When polled outside a running tether loop, or if the helper thread cannot be started.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// tether::run(async {
///     // `tokio::time::sleep` panics outside a tokio context ("there is no reactor running");
///     // through the bridge it works, and tether's own timeout cancels it.
///     let slept = tether::timeout(
///         Duration::from_secs(5),
///         tether::compat::tokio(async { tokio::time::sleep(Duration::from_millis(1)).await }),
///     )
///     .await;
///     assert!(slept.is_ok());
/// });
/// ```
pub fn tokio<F: Future>(future: F) -> Tokio<F> {
    Tokio {
        future,
        tokio: None,
    }
}

/// The future of [`tokio`](fn@tokio).
#[must_use = "futures do nothing unless awaited"]
pub struct Tokio<F> {
    future: F,
    /// The bridge's runtime, found on the first poll.
    tokio: Option<tokio::runtime::Handle>,
}

impl<F: Future> Future for Tokio<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is pinned structurally and never moved out; `tokio` is not pinned
        // (a handle, written here through `&mut` without moving `future`).
        let this = unsafe { self.get_unchecked_mut() };
        let tokio = this.tokio.get_or_insert_with(|| {
            let extension = EventLoop::with_current(|lp| lp.extension().cloned())
                .flatten()
                .expect(
                    "tether::compat::tokio was polled outside a running tether loop: await it in \
                     tether::run, #[tether::main] or a task",
                );
            (&*extension as &dyn std::any::Any)
                .downcast_ref::<TokioBridge>()
                .expect("the run's extension is the tokio bridge")
                .handle()
                .clone()
        });
        let _entered = tokio.enter();
        // SAFETY: `this.future` is pinned: `this` came from a `Pin<&mut Self>`, and the field is
        // never moved while `Tokio` lives.
        unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}

impl<F> std::fmt::Debug for Tokio<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokio").finish_non_exhaustive()
    }
}
