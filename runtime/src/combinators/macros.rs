//! The combinators' function-like macros (`gather!`, `select!`, `select_biased!`): thin
//! `macro_rules!` fronts over the proc macros in `tether-macros`.
//!
//! Each wrapper passes `$crate` in as a parenthesized first argument, so the paths the proc macro
//! emits resolve to this crate even when a user renames the `tether` dependency:
//!
//! ```text
//! tether::gather!(a, b)  =>  $crate::__private::gather!(($crate) a, b)
//! ```

/// Runs futures concurrently inside the current task and waits for all of them: asyncio's
/// `await asyncio.gather(a, b)`.
///
/// `gather!(a, b, c)` is awaited in place (so it may only appear in an `async` block or
/// function) and evaluates to the tuple of the outputs in argument order, `(A, B, C)`; a single
/// future gives a 1-tuple `(A,)`. Each argument may be anything that implements
/// [`IntoFuture`](core::future::IntoFuture), a [`Task`](crate::Task) included.
///
/// The futures are polled by the calling task itself: nothing is spawned or allocated, and they
/// may borrow local variables. For independent *tasks* that keep running while you do other
/// things, use [`create_task`](crate::create_task) instead.
///
/// # Fail fast: `gather!(try ...)`
///
/// With a leading `try`, every future outputs `Result<T, E>` with the same `E`, and the macro
/// evaluates to `Result<(T1, T2, ...), E>`. The first `Err`, in completion order, is returned
/// at once; the futures still running are dropped (cancelled) on the spot.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// async fn fetch(id: u32, delay_ms: u64) -> u32 {
///     tether::sleep(Duration::from_millis(delay_ms)).await;
///     id * 10
/// }
///
/// let results = tether::run(async {
///     // Both sleeps run at the same time: this takes about 20ms, not 30ms.
///     tether::gather!(fetch(1, 20), fetch(2, 10))
/// });
/// assert_eq!(results, (10, 20));
/// ```
///
/// The futures may borrow from the caller:
///
/// ```
/// use std::time::Duration;
///
/// async fn count(words: &[&str], delay_ms: u64) -> usize {
///     tether::sleep(Duration::from_millis(delay_ms)).await;
///     words.len()
/// }
///
/// let words = vec!["hello", "world"];
/// let (a, b) = tether::run(async { tether::gather!(count(&words, 2), count(&words[1..], 1)) });
/// assert_eq!((a, b), (2, 1));
/// ```
///
/// Fail fast on the first error:
///
/// ```
/// use std::time::Duration;
///
/// async fn parse_after(text: &str, delay_ms: u64) -> Result<u32, std::num::ParseIntError> {
///     tether::sleep(Duration::from_millis(delay_ms)).await;
///     text.parse()
/// }
///
/// tether::run(async {
///     let ok = tether::gather!(try parse_after("1", 1), parse_after("2", 2));
///     assert_eq!(ok, Ok((1, 2)));
///
///     // "x" fails after 1ms; the 60s future is dropped then, not waited for.
///     let failed = tether::gather!(try parse_after("x", 1), parse_after("3", 60_000));
///     assert!(failed.is_err());
/// });
/// ```
///
/// Outside an `async` context it does not compile:
///
/// ```compile_fail
/// fn not_async() {
///     let _ = tether::gather!(async { 1 }); // error: `await` is only allowed inside `async`
/// }
/// ```
#[macro_export]
macro_rules! gather {
    ($($input:tt)*) => {
        $crate::__private::gather!(($crate) $($input)*)
    };
}

/// Waits for several futures at once and runs the branch of the first that finishes, dropping
/// (cancelling) the others: tokio's `select!`, asyncio's `wait(..., return_when=FIRST_COMPLETED)`
/// for the common case. The grammar and behaviour are those of the `futures` crate's `select!`.
///
/// ```text
/// tether::select! {
///     pattern = future => body,    // one or more branches; a `{ block }` body needs no comma
///     default => body,             // optional: run when no future is ready at once (no wait)
///     complete => body,            // optional: run when every future has already finished
/// }
/// ```
///
/// The whole `select!` is an expression: its value is the body that ran. It may appear in an
/// `async` block or function (it awaits in place), or anywhere with `default =>` (then it does
/// not wait: each future is polled once). The bodies run in the surrounding code, so `break`,
/// `continue`, `return` and `?` in a body act there.
///
/// Two differences from tokio's: each future must be fused (`futures::FutureExt::fuse`, or a
/// [`Task`](crate::Task), which is fused already), and a future used by reference across several
/// `select!`s must also be pinned (`std::pin::pin!`): a branch whose future is a plain path
/// (`stop`) borrows it, so it must be `Unpin`; any other expression is evaluated once and pinned
/// in place. Branches are polled in a random order, so none starves the others;
/// [`select_biased!`](crate::select_biased!) polls them in the order written. A branch that
/// loses is dropped before the winner's body runs, so only cancel-safe futures should lose:
/// `tether::net` reads and accepts are (see [`net`](crate::net)). When every future has already
/// finished (a fused future reused in a loop), `complete =>` runs; without it, `select!` panics.
///
/// ```
/// # #[cfg(feature = "net")] {
/// use std::time::Duration;
/// use futures::FutureExt;
/// use tether::net::TcpListener;
///
/// tether::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     tether::select! {
///         accepted = listener.accept().fuse() => panic!("nobody connects: {accepted:?}"),
///         () = tether::sleep(Duration::from_millis(10)).fuse() => println!("no client yet"),
///     }
/// });
/// # }
/// ```
///
/// Waiting for two tasks, whichever finishes first, in a loop; `complete` ends it:
///
/// ```
/// use std::time::Duration;
///
/// tether::run(async {
///     let mut slow = tether::create_task(async {
///         tether::sleep(Duration::from_millis(20)).await;
///         "slow"
///     });
///     let mut fast = tether::create_task(async { "fast" });
///     let mut finished = Vec::new();
///     loop {
///         tether::select! {
///             done = slow => finished.push(done.unwrap()),
///             done = fast => finished.push(done.unwrap()),
///             complete => break,
///         }
///     }
///     assert_eq!(finished, ["fast", "slow"]);
/// });
/// ```
///
/// `default` runs when no future is ready yet, without waiting:
///
/// ```
/// use futures::FutureExt;
///
/// let stop = tether::sync::Event::new();
/// let state = tether::select! {
///     () = stop.wait().fuse() => "stopped",
///     default => "running",
/// };
/// assert_eq!(state, "running");
/// ```
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => {
        $crate::__private::select!(($crate) $($input)*)
    };
}

/// [`select!`](crate::select!) that polls its branches in the order written (the `futures`
/// crate's `select_biased!`): tokio's `select! { biased; ... }`. Put a shutdown signal first so
/// it wins over work that is always ready. Everything else is as in [`select!`](crate::select!).
///
/// ```
/// use futures::FutureExt;
///
/// tether::run(async {
///     let stop = tether::sync::Event::new();
///     stop.set();
///     let winner = tether::select_biased! {
///         () = stop.wait().fuse() => "stop",
///         () = tether::yield_now().fuse() => "work",
///     };
///     assert_eq!(winner, "stop");
/// });
/// ```
#[macro_export]
macro_rules! select_biased {
    ($($input:tt)*) => {
        $crate::__private::select_biased!(($crate) $($input)*)
    };
}
