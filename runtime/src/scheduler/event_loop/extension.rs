//! What an upper layer attaches to one run of a runtime (the tokio bridge in
//! `crate::runtime::tokio_bridge`): every loop of the run holds it and runs inside it on its own
//! thread, and code running on a loop can find it. The loop defines the hook and never names
//! what implements it.

use std::any::Any;

/// Something every loop of one run holds. Unwind-safe, as the `Runtime` that carries it is: a
/// run that panics leaves it usable (the bridge's state is a lazily started helper).
pub(crate) trait RunExtension:
    Any + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe + std::fmt::Debug
{
    /// Runs a loop on this thread, from before its first poll to after its shutdown, inside
    /// whatever the extension sets up for the thread (and undoes after, or on unwinding).
    fn within(&self, run: &mut dyn FnMut());
}

/// Runs `body` inside `extension`, if there is one.
pub(crate) fn within<T>(
    extension: Option<&std::sync::Arc<dyn RunExtension>>,
    body: impl FnOnce() -> T,
) -> T {
    let Some(extension) = extension else {
        return body();
    };
    let mut body = Some(body);
    let mut output = None;
    extension.within(&mut || output = body.take().map(|body| body()));
    output.expect("a run extension runs the loop exactly once")
}
