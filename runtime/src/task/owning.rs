//! The type-level half of the `let _ =` check that `#[tether::main]`, `#[tether::test]` and
//! `#[tether::owned]` put on the user's code: which types own running tasks, and the probe that
//! tells them apart from every other type without specialization.
//!
//! The macros rewrite `let _ = EXPR;` (for an `EXPR` that is a value, such as a call) into
//!
//! ```text
//! let _ = match EXPR {
//!     value => {
//!         use tether::__private::owning::{ViaAny as _, ViaOwnsTask as _};
//!         tether::__private::owning::discard((&Probe(&value)).verdict());
//!         value
//!     }
//! };
//! ```
//!
//! Method lookup tries the receiver `&Probe<T>` before auto-referencing it to `&&Probe<T>`, so
//! `ViaOwnsTask::verdict` (on `Probe<T>` where `T: OwnsTask`) wins whenever it applies, and
//! `ViaAny::verdict` (on `&Probe<T>`, any `T`) catches the rest: "autoref specialization". The
//! verdict for a task owner is [`WouldCancel`], which does not implement [`Discardable`], so
//! the call to [`discard`] fails with the message below, on the user's tokens. Every other
//! value passes through unchanged, and is dropped exactly where `let _ =` dropped it.

use super::Task;

/// Types that own running tasks: dropping a value of one cancels them.
///
/// Each owner says so beside its own definition: [`Task`] here, `TaskSet` in `crate::set`,
/// `Wait` and `AsCompleted` in `crate::combinators::wait`. A new owner adds its `impl` there,
/// and a ui-test that `let _ =` rejects it.
pub trait OwnsTask {}

impl<T> OwnsTask for Task<T> {}
// `Handle::spawn_threadsafe` returns `Result<Task<T>, LoopClosed>`; the containers a batch of
// tasks is usually built in are covered too.
impl<T: OwnsTask, E> OwnsTask for Result<T, E> {}
impl<T: OwnsTask> OwnsTask for Option<T> {}
impl<T: OwnsTask> OwnsTask for Vec<T> {}
impl<T: OwnsTask, const N: usize> OwnsTask for [T; N] {}
impl<T: OwnsTask + ?Sized> OwnsTask for Box<T> {}

/// A borrowed value whose type the probe's methods inspect.
#[derive(Debug)]
pub struct Probe<'a, T>(pub &'a T);

/// The verdict for a value that owns no task: `let _ =` may drop it.
#[derive(Debug)]
pub struct Fine;

/// The verdict for a value that owns a running task: `let _ =` would cancel it.
#[derive(Debug)]
pub struct WouldCancel;

/// Picked by method lookup first, when the probed type owns a task.
pub trait ViaOwnsTask {
    /// Always [`WouldCancel`].
    fn verdict(&self) -> WouldCancel {
        WouldCancel
    }
}

impl<T: OwnsTask> ViaOwnsTask for Probe<'_, T> {}

/// Picked by method lookup after auto-referencing, for every other type.
pub trait ViaAny {
    /// Always [`Fine`].
    fn verdict(&self) -> Fine {
        Fine
    }
}

impl<T> ViaAny for &Probe<'_, T> {}

/// Verdicts that allow `let _ =`.
#[diagnostic::on_unimplemented(
    message = "`let _ =` drops this task handle at once, which cancels its task before it runs",
    label = "this value owns a running task",
    note = "await it (`.await`), bind it to a named variable (`let _task = ...`) so the task runs \
            until the end of the scope, or hand it to a `TaskSet` or a task group; \
            to cancel it on purpose, write `drop(task)`"
)]
pub trait Discardable {}

// Not offered as a fix in the error: the fix is in the note.
#[diagnostic::do_not_recommend]
impl Discardable for Fine {}

/// Compiles only for a [`Discardable`] verdict.
pub fn discard<V: Discardable>(_verdict: V) {}

/// `let _: T = EXPR;` becomes `let _: T = match typed::<T>(EXPR) { .. }`, so that `T` is known
/// where the probe looks at the value.
pub fn typed<T>(value: T) -> T {
    value
}
