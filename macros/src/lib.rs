//! Procedural macros for [tether](https://docs.rs/tether): `#[tether::main]`, `#[tether::test]`,
//! `tether::gather!`, `tether::task_group!`, `tether::select!` and `tether::select_biased!`.
//!
//! Depend on `tether` and use the macros from there; this crate is its implementation detail.
//! `#[main]` and `#[test]` are re-exported as they are. `gather!`, `task_group!`, `select!` and
//! `select_biased!` are reached through thin `macro_rules!` wrappers in `tether` that pass
//! `$crate` in first, so the paths in the expansion resolve even when the `tether` dependency is
//! renamed.
//!
//! Each macro lives in its own module: `entry` for `#[main]`/`#[test]`, `owned`, `gather`,
//! `task_group` and `select` (both `select!` forms); `let_underscore` holds the ownership check
//! the attributes share. Every misuse is a compile error that points at the offending tokens and
//! says how to fix it.

#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

use proc_macro::TokenStream;

mod crate_arg;
mod entry;
mod gather;
mod let_underscore;
mod owned;
mod select;
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
/// warning. `let _ =` on a task handle, which rustc's own help suggests, is refused too: see
/// [`#[tether::owned]`](macro@owned), which applies the same checks anywhere.
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
/// - `tokio`: run every loop inside the context of a tokio runtime on a helper thread, for
///   crates that need tokio's runtime (reqwest, sqlx's `runtime-tokio`): `#[tether::main(tokio)]`.
///   Needs tether's `tokio-bridge` feature; see `Builder::tokio` for what it costs and for
///   `tokio::spawn`, which starts a task no tether handle owns.
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

/// Checks, at compile time, that no task started in the annotated item is dropped on the spot:
/// the checks of [`#[tether::main]`](macro@main), for any `fn`, `async fn`, `impl` block, trait
/// or inline module of your crate.
///
/// A dropped [`Task`](https://docs.rs/tether/latest/tether/struct.Task.html) cancels its task.
/// Inside the item, two ways of dropping one at once do not compile:
///
/// - a call whose result is not used, `tether::create_task(work());` (the item gets
///   `#[deny(unused_must_use)]`, which also catches a future that is never awaited);
/// - `let _ = tether::create_task(work());`, which is what rustc's help for the first error
///   suggests, and which drops the `Task` at the end of the statement. `_ = ...;` and
///   `let _: Task<_> = ...;` are the same statement and are refused too.
///
/// ```compile_fail
/// #[tether::owned]
/// async fn accept_loop() {
///     // error: `let _ =` drops this task handle at once, which cancels its task before it runs
///     let _ = tether::spawn(async { /* serve a client */ });
/// }
/// # fn main() {}
/// ```
///
/// What stays allowed: awaiting the task, binding it to a name (even `_task`: a named
/// binding lives to the end of its scope), putting it in a `TaskSet` or a group, and
/// `drop(task)` written on purpose.
///
/// ```
/// #[tether::owned]
/// impl Server {
///     async fn accept(&self, background: &mut tether::TaskSet<()>) -> u32 {
///         let _keep = tether::create_task(async {}); // runs until `accept` returns
///         background.create_task(async {}); // the set owns it
///         let early = tether::create_task(async {});
///         drop(early); // cancelled on purpose
///         let _ = "not a task".len(); // any other value may still be ignored
///         tether::create_task(async { 7 }).await.unwrap()
///     }
/// }
///
/// struct Server;
///
/// tether::run(async {
///     let mut background = tether::TaskSet::new();
///     assert_eq!(Server.accept(&mut background).await, 7);
/// });
/// ```
///
/// # How it tells a task from other values
///
/// By type, not by name. Each `let _ = EXPR;` whose `EXPR` is a value (a call, a method
/// call, `.await`, `?`, a block, `if` or `match`) becomes a `match` that hands the value
/// through unchanged and asks the type checker, through a trait probe, whether its type owns a
/// task: `Task<T>`, `TaskSet<T>`, the futures of `tether::wait` and `tether::as_completed`
/// over tasks, and `Result`, `Option`, `Vec`, arrays and `Box` of those. So an alias
/// (`use tether::spawn as go;`), `Handle::spawn_threadsafe` (a `Result<Task<T>, _>`), a
/// `Builder`, and your own functions and methods that return a `Task` are caught wherever they
/// are defined, and nothing else is: `let _ = std::thread::spawn(..)` and
/// `let _ = sender.send(x)` compile as before. The value is dropped exactly where `let _ =`
/// dropped it. The probe reads the value's type at the end of the body that holds the
/// statement, once inference is done with it, so a type that later statements settle, and the
/// never type of a block that never returns, are judged correctly. The error names the type it
/// judged.
///
/// Matching on paths instead (`create_task`, `spawn`, ...) would give a proc-macro error
/// before type checking, but would miss aliases, methods and helper functions, and would flag
/// other crates' `spawn`s. The price of the type check is that the error comes from the type
/// checker (with the message above, on your expression), so it shows once the rest of the item
/// type-checks.
///
/// # What it cannot see
///
/// - Code outside annotated items: use the crate-level lints below for the plain statement.
/// - Tokens inside macro invocations (`tether::task_group!(..)`, `vec![..]`, your own
///   macros): a macro's input is not Rust code until it expands. `unused_must_use` still
///   covers a plain statement in them.
/// - `let _ = some_macro!(..)` and `let _ = place;`: a macro may expand to a place, and
///   `let _ = place;` moves nothing, so neither is rewritten (the latter drops nothing).
/// - Generic code: in `fn f<T>() { let _ = make::<T>(); }` the type is `T` when the probe looks,
///   whatever it is instantiated with; and a `Task` behind `impl Future` or `dyn Trait`.
/// - Your own types that hold a `Task` in a field, and tuples: `let _ = (task_a, 1);`.
/// - A value whose type is settled only after the body that holds the `let _ =` ends (by code
///   after the closure or async block around it): the check cannot tell, and says so, naming
///   the type; write it (`let _: Option<u8> = v.pop();`). Types that later statements of the
///   same body settle are judged correctly, and so are the never type and `()` that a block
///   which never returns falls back to (`let _ = timeout(d, async { loop { .. } }).await;`).
/// - `const fn`s and constants, where no task can start.
///
/// # Crate-wide lints
///
/// For the rest of the crate, deny the lints that catch a dropped `Task` by other means; with
/// them a plain `tether::create_task(work());` anywhere is an error, and clippy also refuses
/// `let _ =` on any `#[must_use]` value or future:
///
/// ```
/// #![deny(unused_must_use)]
/// #![deny(clippy::let_underscore_must_use, clippy::let_underscore_future)]
/// # fn main() {}
/// ```
///
/// (`clippy::let_underscore_must_use` is a restriction lint: it also refuses
/// `let _ = sender.send(x)` and other `#[must_use]` results.)
///
/// # Options
///
/// - `crate = "path"`: where to find tether when it is renamed or re-exported:
///   `#[tether::owned(crate = "my_tether")]`.
///
/// # Expansion
///
/// ```text
/// // Input:
/// #[tether::owned]
/// async fn f() { let _ = tether::create_task(work()); }
///
/// // Output:
/// #[deny(unused_must_use)]
/// async fn f() {
///     let mut judged;
///     let _ = match tether::create_task(work()) {
///         __tether_value => {
///             judged = /* a marker of the type of __tether_value */;
///             __tether_value
///         }
///     };
///     // At the end of the body, type-checked, never run: fails to compile if the marked
///     // type owns a task.
///     loop { break; ::tether::__private::owning::discard(/* probe of judged */); }
/// }
/// ```
#[proc_macro_attribute]
pub fn owned(args: TokenStream, item: TokenStream) -> TokenStream {
    owned::expand(args.into(), item.into()).into()
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

/// The implementation of `tether::select!`; call that macro, which passes `$crate` in.
///
/// Input: `($crate) pat = fut => body, ... [default => body] [complete => body]`. See the
/// documentation of `tether::select!`.
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::expand(input.into(), true).into()
}

/// The implementation of `tether::select_biased!`; call that macro, which passes `$crate` in.
///
/// Input: as for `select`, polled in the order written. See the documentation of
/// `tether::select_biased!`.
#[proc_macro]
pub fn select_biased(input: TokenStream) -> TokenStream {
    select::expand(input.into(), false).into()
}
