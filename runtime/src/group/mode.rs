//! The modes of a group, which say what its children are: [`Plain`], [`Fallible`],
//! [`Sendable`], and the [`Child`] trait that states each mode's bounds.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;

/// The two kinds of group: children return anything ([`Plain`]), or `Result<T, E>` and the first
/// `Err` fails the group ([`Fallible`]).
pub trait Mode: sealed::Sealed {
    /// What a child's `Err` holds: `Infallible` for a plain group.
    type Error;
}

pub(super) mod sealed {
    /// Only tether can name it, so only tether implements [`Child`](super::Child).
    #[derive(Debug, Clone, Copy)]
    pub struct Token(pub(in crate::group) ());

    pub trait Sealed {
        /// A [`Sendable`](super::Sendable) group: every public entry point checks that it runs
        /// on the thread polling the group (see `owner.rs`). A constant, so that the
        /// other modes compile the check away.
        const CHECKED: bool = false;
    }
    impl Sealed for super::Plain {}
    impl<E> Sealed for super::Fallible<E> {}
    impl Sealed for super::Sendable<super::Plain> {
        const CHECKED: bool = true;
    }
    impl<E> Sealed for super::Sendable<super::Fallible<E>> {
        const CHECKED: bool = true;
    }
}

/// The mode of a plain group, made by `task_group!(|tg| ...)`.
#[derive(Debug)]
pub enum Plain {}

/// The mode of a fallible group, made by `task_group!(try |tg| ...)`: children return
/// `Result<T, E>`.
#[derive(Debug)]
pub struct Fallible<E>(PhantomData<fn() -> E>);

impl Mode for Plain {
    type Error = Infallible;
}

impl<E> Mode for Fallible<E> {
    type Error = E;
}

/// The mode of a group that is itself `Send`, made by `task_group!(send |tg| ...)`
/// (`Sendable<Plain>`) or `task_group!(send try |tg| ...)` (`Sendable<Fallible<E>>`): its
/// children must be `Send`, and its scope future is `Send` when its body's is, so that it may
/// run inside [`tether::spawn`](crate::spawn) on a multi-threaded runtime. See
/// ["Send groups"](crate::group#send-groups).
#[derive(Debug)]
pub struct Sendable<M>(PhantomData<fn() -> M>);

impl Mode for Sendable<Plain> {
    type Error = Infallible;
}

impl<E> Mode for Sendable<Fallible<E>> {
    type Error = E;
}

/// What a child future must be in a group of mode `M`, and what its handle yields.
///
/// Implemented for every future that fits the mode; it cannot be implemented outside tether
/// (a send group's soundness rests on its children being `Send`).
///
/// | mode | the future | its handle yields |
/// |---|---|---|
/// | [`Plain`] | any `Future + 'scope` | its output |
/// | [`Fallible<E>`] | `Future<Output = Result<T, E>> + 'scope` | `T` (an `Err` fails the group) |
/// | [`Sendable<Plain>`] | `Future + Send + 'scope`, `Send` output | its output |
/// | [`Sendable<Fallible<E>>`] | `Future<Output = Result<T, E>> + Send + 'scope`, `T` and `E` `Send` | `T` |
///
/// # Examples
///
/// ```
/// tether::run(async {
///     tether::task_group!(try |tg| {
///         // A fallible group's child returns `Result<T, E>`; the handle yields the `T`.
///         let parsed = tg.create_task(async { "7".parse::<u8>() });
///         assert_eq!(parsed.await.unwrap(), 7);
///     })
///     .unwrap();
/// });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a child of a `{M}` task group",
    label = "not a child this group accepts",
    note = "a `Fallible` group's children return `Result<T, E>` with the group's `E`; a \
            `Sendable` group's children and their outputs must be `Send`"
)]
pub trait Child<'scope, M: Mode>: Future + 'scope {
    /// What the child's handle yields: its output, or the `T` of its `Ok(T)`.
    type Value;

    /// Splits the child's output into what its handle yields and what fails the group.
    #[doc(hidden)]
    fn settle(output: Self::Output, _: sealed::Token) -> Result<Self::Value, M::Error>;
}

impl<'scope, F: Future + 'scope> Child<'scope, Plain> for F {
    type Value = F::Output;

    fn settle(output: F::Output, _: sealed::Token) -> Result<F::Output, Infallible> {
        Ok(output)
    }
}

impl<'scope, F, T, E> Child<'scope, Fallible<E>> for F
where
    F: Future<Output = Result<T, E>> + 'scope,
{
    type Value = T;

    fn settle(output: Result<T, E>, _: sealed::Token) -> Result<T, E> {
        output
    }
}

impl<'scope, F> Child<'scope, Sendable<Plain>> for F
where
    F: Future + Send + 'scope,
    F::Output: Send,
{
    type Value = F::Output;

    fn settle(output: F::Output, _: sealed::Token) -> Result<F::Output, Infallible> {
        Ok(output)
    }
}

impl<'scope, F, T, E> Child<'scope, Sendable<Fallible<E>>> for F
where
    F: Future<Output = Result<T, E>> + Send + 'scope,
    T: Send,
    E: Send,
{
    type Value = T;

    fn settle(output: Result<T, E>, _: sealed::Token) -> Result<T, E> {
        output
    }
}
