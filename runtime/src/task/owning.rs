//! The type-level half of the `let _ =` check that `#[tether::main]`, `#[tether::test]` and
//! `#[tether::owned]` put on the user's code: which types own running tasks, and the probe that
//! tells them apart from every other type without specialization.
//!
//! The macros rewrite `let _ = EXPR;` (for an `EXPR` that is a value, such as a call) into
//!
//! ```text
//! let mut judged;                                  // at the top of the enclosing block
//! ...
//! let _ = match EXPR {
//!     value => {
//!         judged = tether::__private::owning::Marker::of(&value);
//!         value
//!     }
//! };
//! ...
//! loop {                                           // at the end of the block, before its tail
//!     break;
//!     use tether::__private::owning::{ViaAny as _, ViaOwnsTask as _};
//!     tether::__private::owning::discard(&judged, (&Probe(&judged)).verdict());
//! }
//! ```
//!
//! Method lookup tries the receiver `&Probe<T>` before auto-referencing it to `&&Probe<T>`, so
//! `ViaOwnsTask::verdict` (on `Probe<T>` where `T: Judged`) wins whenever it applies, and
//! `ViaAny::verdict` (on `&Probe<T>`, any `T`) catches the rest: "autoref specialization". The
//! verdict for a task owner is [`WouldCancel`] (for a process owner, [`WouldKill`]), which is
//! [`Discardable`] for no type, so the call to [`discard`] fails with the message of
//! [`CancelledByLetUnderscore`] (or [`KilledByLetUnderscore`]), naming the type, on the user's
//! tokens. Every other value passes through unchanged, and is dropped exactly where `let _ =`
//! dropped it.
//!
//! Two things keep the check free of false alarms where inference is not done when the
//! statement is read:
//!
//! - **The probe runs late.** Method lookup picks `ViaOwnsTask` for any type that *may* own a
//!   task, an unresolved `Result<?T, E>` included; the verdict would then be wrong for a `?T`
//!   that later code settles (`let _ = rx.try_recv(); ... tx.send(5)`). So the value only
//!   leaves a [`Marker`] of its type where it is dropped, and the probe reads the marker at the
//!   end of the block, once the block's statements have settled the type. The probe sits after a
//!   `break`: it is type-checked but never runs, and the borrow checker sees no use of the
//!   marker, so a borrow in its type (`let _ = v.iter_mut().next(); v.push(1);`) ends where the
//!   user's code says. (Where there is no block to wait for, in a closure's expression body or a
//!   block's tail, the probe runs in place.)
//! - **Fallback types are judged.** What inference leaves to the compiler's fallback is still
//!   open at the end of the block: the output of a block that never returns
//!   (`timeout(d, async { loop {} })`: `!` in edition 2024, `()` before), and integer and float
//!   literals. A `Result<?T, E>` may own a task until fallback settles `?T`, so lookup picks
//!   `ViaOwnsTask`, and the verdict is [`Judged::Verdict`], a projection that the compiler
//!   resolves after fallback: [`Fine`] for `!`, `()` and those types in a container. (Integer
//!   and float variables never match a task owner, so they take the `ViaAny` path at once.)

use super::Task;

/// `item`, with the error for a type the probe could not tell apart when it read it: one
/// message for the two traits such an error can end at.
macro_rules! could_not_tell {
    ($item:item) => {
        #[diagnostic::on_unimplemented(
            message = "tether's `let _ =` check could not tell whether this `{Self}` owns a running \
                       task: its type was settled only after the end of the body, where the check reads it",
            label = "the type of this value is decided later",
            note = "write the type (`let _: Type = ...`), or bind the value to a name \
                    (`let _unused = ...`), which drops it at the end of the scope instead; please \
                    report this case to tether, with the type"
        )]
        $item
    };
}

// Unimplemented only where the probe met a type that it could not tell apart when it read it:
// the same message as `Judged`'s (rustc reports whichever of the two the failed obligation
// ends at).
could_not_tell! {
    /// Types that own running work: dropping a value of one cancels its tasks (or kills its
    /// process).
    ///
    /// Each owner says so beside its own definition: [`Task`] here, `TaskSet` in `crate::set`,
    /// `Wait` and `AsCompleted` in `crate::combinators::wait`. A new owner adds its `impl`
    /// there, and a ui-test that `let _ =` rejects it.
    pub trait OwnsTask {
        /// What `let _ =` would do to it: [`WouldCancel`] or [`WouldKill`].
        type Verdict;
    }
}

impl<T> OwnsTask for Task<T> {
    type Verdict = WouldCancel;
}
// `Handle::spawn_threadsafe` returns `Result<Task<T>, LoopClosed>`; the containers a batch of
// tasks is usually built in are covered too. (`do_not_recommend`: when a type the probe could
// not tell apart turns out to own nothing, the error names the whole type, not a part of it.)
#[diagnostic::do_not_recommend]
impl<T: OwnsTask, E> OwnsTask for Result<T, E> {
    type Verdict = T::Verdict;
}
#[diagnostic::do_not_recommend]
impl<T: OwnsTask> OwnsTask for Option<T> {
    type Verdict = T::Verdict;
}
#[diagnostic::do_not_recommend]
impl<T: OwnsTask> OwnsTask for Vec<T> {
    type Verdict = T::Verdict;
}
#[diagnostic::do_not_recommend]
impl<T: OwnsTask, const N: usize> OwnsTask for [T; N] {
    type Verdict = T::Verdict;
}
#[diagnostic::do_not_recommend]
impl<T: OwnsTask + ?Sized> OwnsTask for Box<T> {
    type Verdict = T::Verdict;
}

could_not_tell! {
    /// The verdict on every type the probe may pick `ViaOwnsTask` for: an owner's, or [`Fine`]
    /// for the types that inference's fallback may still choose after the probe has been read.
    pub trait Judged {
        /// [`Fine`], [`WouldCancel`] or [`WouldKill`].
        type Verdict;
    }
}

// `do_not_recommend`: a type that turns out to own nothing gets `Judged`'s message.
#[diagnostic::do_not_recommend]
impl<T: OwnsTask> Judged for T {
    type Verdict = T::Verdict;
}

/// Names the never type `!` on stable Rust, as the return type of a function pointer.
pub trait Returns {
    /// What the function returns.
    type Output;
}

impl<R> Returns for fn() -> R {
    type Output = R;
}

/// `!`: the type of an expression that never produces a value.
pub type Never = <fn() -> ! as Returns>::Output;

/// `Judged` for each type that fallback may choose (`!`; `()` in editions before 2024), alone
/// and in the containers that hold owners. None of them owns a task (`!: OwnsTask` and
/// `(): OwnsTask` have no impl, so these do not overlap the blanket impl).
macro_rules! fallback_is_fine {
    ($($fallback:ty),*) => {$(
        impl Judged for $fallback {
            type Verdict = Fine;
        }
        impl<E> Judged for Result<$fallback, E> {
            type Verdict = Fine;
        }
        impl Judged for Option<$fallback> {
            type Verdict = Fine;
        }
        impl Judged for Vec<$fallback> {
            type Verdict = Fine;
        }
        impl<const N: usize> Judged for [$fallback; N] {
            type Verdict = Fine;
        }
        impl Judged for Box<$fallback> {
            type Verdict = Fine;
        }
    )*};
}

fallback_is_fine!(Never, ());

/// A value's type, left where the value is dropped for the probe to read later. It holds no
/// value, borrows nothing and has no drop glue.
pub struct Marker<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Marker<T> {
    /// The marker of `value`'s type.
    pub fn of(_value: &T) -> Self {
        Marker(std::marker::PhantomData)
    }
}

impl<T> std::fmt::Debug for Marker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Marker")
    }
}

/// A marked type that the probe's methods inspect.
#[derive(Debug)]
pub struct Probe<'a, T>(pub &'a Marker<T>);

/// The verdict for a value that owns no task: `let _ =` may drop it.
#[derive(Debug)]
pub struct Fine;

/// The verdict for a value that owns a running task: `let _ =` would cancel it.
#[derive(Debug)]
pub struct WouldCancel;

/// The verdict for a value that owns a running child process: `let _ =` would kill it.
#[derive(Debug)]
pub struct WouldKill;

/// Picked by method lookup first, when the probed type may own a task.
pub trait ViaOwnsTask {
    /// The verdict the probed type's [`Judged`] impl gives.
    type Verdict;

    /// The probed type's verdict (never called: the probe is only type-checked).
    fn verdict(&self) -> Self::Verdict;
}

impl<T: Judged> ViaOwnsTask for Probe<'_, T> {
    type Verdict = T::Verdict;

    fn verdict(&self) -> T::Verdict {
        unreachable!("the `let _ =` probe is only type-checked, never run")
    }
}

/// Picked by method lookup after auto-referencing, for every other type.
pub trait ViaAny {
    /// Always [`Fine`].
    fn verdict(&self) -> Fine {
        Fine
    }
}

impl<T> ViaAny for &Probe<'_, T> {}

/// Verdicts that allow `let _ =` on a value of type `T`.
pub trait Discardable<T> {}

// Not offered as a fix in the error: the fix is in the note.
#[diagnostic::do_not_recommend]
impl<T> Discardable<T> for Fine {}

// The errors come from these impls' bounds, which say what the drop would do, and name `T`.
impl<T: CancelledByLetUnderscore> Discardable<T> for WouldCancel {}

impl<T: KilledByLetUnderscore> Discardable<T> for WouldKill {}

/// Implemented by no type: the error for `let _ =` on a task owner.
#[diagnostic::on_unimplemented(
    message = "`let _ =` drops this `{Self}` at once, which cancels the task it owns",
    label = "this value owns a running task",
    note = "await it (`.await`), bind it to a named variable (`let _task = ...`) so the task runs \
            until the end of the scope, or hand it to a `TaskSet` or a task group; \
            to cancel it on purpose, write `drop(task)`"
)]
pub trait CancelledByLetUnderscore {}

/// Implemented by no type: the error for `let _ =` on a process owner.
#[diagnostic::on_unimplemented(
    message = "`let _ =` drops this `{Self}` at once, which kills the child process it owns",
    label = "this value owns a running child process",
    note = "wait for it (`child.wait().await`), bind it to a named variable (`let _child = ...`) \
            so the process runs until the end of the scope, or end it on purpose with \
            `child.kill()` or `drop(child)`"
)]
pub trait KilledByLetUnderscore {}

/// Compiles only for a [`Discardable`] verdict on the marked type.
pub fn discard<T, V: Discardable<T>>(_marker: &Marker<T>, _verdict: V) {}

/// `let _: T = EXPR;` becomes `let _: T = match typed::<T>(EXPR) { .. }`, so that `T` is known
/// where the probe looks at the value.
pub fn typed<T>(value: T) -> T {
    value
}
