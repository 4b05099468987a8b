//! Procedural macros for [tether](https://docs.rs/tether): `#[tether::main]`, `#[tether::test]`,
//! `tether::gather!` and `tether::task_group!`.
//!
//! Depend on `tether` and use the macros from there; this crate is its implementation detail.
//! `#[main]` and `#[test]` are re-exported as they are. `gather!` and `task_group!` are reached
//! through thin `macro_rules!` wrappers in `tether` that pass `$crate` in first, so the paths in
//! the expansion resolve even when the `tether` dependency is renamed.
//!
//! Each macro lives in its own module: `entry` for `#[main]`/`#[test]`, `gather` and
//! `task_group`. Every misuse is a compile error that points at the offending tokens and says
//! how to fix it.

#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

use proc_macro::TokenStream;

mod crate_arg;
mod entry;
mod gather;
mod task_group;

/// Runs an `async fn main()` on a tether event loop: asyncio's `asyncio.run(main())`.
///
/// ```
/// use std::time::Duration;
///
/// #[tether::main]
/// async fn main() {
///     tether::sleep(Duration::from_millis(1)).await;
///     println!("hello");
/// }
/// ```
///
/// `main` may return anything `fn main` may, `Result<(), E>` included:
///
/// ```
/// #[tether::main]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let answer: u32 = "42".parse()?;
///     assert_eq!(answer, 42);
///     Ok(())
/// }
/// ```
///
/// # Coroutines are lazy
///
/// The body runs with `#[deny(unused_must_use)]`: a future called but never awaited, or a
/// [`Task`](https://docs.rs/tether/latest/tether/struct.Task.html) dropped on the spot (which
/// would cancel it), is a compile error rather than asyncio's "coroutine was never awaited"
/// warning:
///
/// ```compile_fail
/// async fn nested() -> i32 {
///     42
/// }
///
/// #[tether::main]
/// async fn main() {
///     nested(); // error: unused implementer of `Future` that must be used
/// }
/// ```
///
/// # Options
///
/// - `start_paused`: run on a virtual clock that jumps to the next timer whenever every task is
///   idle (mostly for tests): `#[tether::main(start_paused)]`.
/// - `debug`: asyncio's debug mode: report polls that block the loop, and tasks left running at
///   shutdown: `#[tether::main(debug)]`.
/// - `workers = N`: run N event loops that steal work from each other, instead of one (the
///   default, `workers = 1`): `#[tether::main(workers = 4)]`. The trade-off: tasks started with
///   `tether::spawn` must be `Send` and are spread over the workers, while `create_task` tasks
///   stay on the worker that made them. N must be an integer literal of at least 1, and
///   `start_paused` needs `workers = 1`: the virtual clock may only jump when every task is
///   idle, which one loop can tell at a glance and several cannot.
/// - `crate = "path"`: where to find tether when it is renamed or re-exported:
///   `#[tether::main(crate = "my_tether")]`.
///
/// # Expansion
///
/// ```text
/// // Input:
/// #[tether::main]
/// async fn main() -> Result<(), E> { body }
///
/// // Output:
/// fn main() -> Result<(), E> {
///     #[deny(unused_must_use)]
///     async fn __tether_main() -> Result<(), E> { body }
///     ::tether::Runtime::builder().start_paused(false).build().run(__tether_main())
/// }
/// ```
///
/// With `workers = 4`, the chain starts `::tether::Runtime::builder().workers(4)`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::main(args.into(), item.into()).into()
}

/// Runs an `async fn` test on its own tether event loop.
///
/// ```
/// # fn main() {}
/// #[tether::test]
/// async fn sleeps() {
///     tether::sleep(std::time::Duration::from_millis(1)).await;
/// }
/// ```
///
/// With `start_paused` the test runs on a virtual clock: a sleep of an hour takes no real time,
/// and times are exact.
///
/// ```
/// # fn main() {}
/// #[tether::test(start_paused)]
/// async fn an_hour_in_no_time() {
///     use std::time::Duration;
///     use tether::time::Instant;
///
///     let start = Instant::now();
///     tether::sleep(Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// }
/// ```
///
/// With `workers = N` the test runs on N event loops with work stealing, to exercise code
/// under real parallelism; tasks started with `tether::spawn` must be `Send` and are spread
/// over the workers, while `create_task` tasks stay on the worker that made them. It cannot be
/// combined with `start_paused`, which needs the single loop.
///
/// ```text
/// #[tether::test(workers = 4)]
/// async fn sums_on_several_workers() {
///     let tasks: Vec<_> = (0..8u64).map(|i| tether::spawn(async move { i * i })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.unwrap();
///     }
///     assert_eq!(sum, 140);
/// }
/// ```
///
/// Like [`#[tether::main]`](macro@main), the body denies `unused_must_use`, and the options are
/// `start_paused`, `debug`, `workers = N` and `crate = "path"`. Do not add `#[test]` yourself:
/// the macro adds it.
///
/// # Expansion
///
/// ```text
/// // Input:
/// #[tether::test(start_paused)]
/// async fn name() { body }
///
/// // Output:
/// #[::core::prelude::v1::test]
/// fn name() {
///     #[deny(unused_must_use)]
///     async fn __tether_test() { body }
///     ::tether::Runtime::builder().start_paused(true).build().run(__tether_test())
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::test(args.into(), item.into()).into()
}

/// The implementation of `tether::gather!`; call that macro, which passes `$crate` in.
///
/// Input: `($crate) [try] fut_a, fut_b, ...`. See the documentation of `tether::gather!`.
#[proc_macro]
pub fn gather(input: TokenStream) -> TokenStream {
    gather::expand(input.into()).into()
}

/// The implementation of `tether::task_group!`; call that macro, which passes `$crate` in.
///
/// Input: `($crate) [send] [try] [move] |tg| body`. See the documentation of
/// `tether::task_group!`.
#[proc_macro]
pub fn task_group(input: TokenStream) -> TokenStream {
    task_group::expand(input.into()).into()
}
