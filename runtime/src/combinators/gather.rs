//! [`gather`] and [`try_gather`]: await a dynamic number of futures together.

use std::future::{IntoFuture, poll_fn};

use crate::combinators::join::JoinAll;

/// Awaits every future of `futures` concurrently, inside the calling task, and returns their
/// outputs in the order given: asyncio's `await asyncio.gather(*aws)`.
///
/// Nothing is spawned, so the futures may borrow. For a fixed number of futures of different
/// types, [`gather!`](macro@crate::gather) returns a tuple and allocates nothing.
///
/// Up to 30 futures are all polled on every wake-up, as `futures::future::join_all` does;
/// above that, each has a waker of its own and a wake-up polls only the futures that were
/// woken, so a thousand futures finishing one at a time cost a thousand polls, not a million.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// async fn square(x: u64) -> u64 {
///     tether::sleep(Duration::from_millis(x)).await;
///     x * x
/// }
///
/// let squares = tether::run(tether::gather((1..=3).map(square)));
/// assert_eq!(squares, [1, 4, 9]);
/// ```
pub async fn gather<I>(futures: I) -> Vec<<I::Item as IntoFuture>::Output>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let mut join = JoinAll::new(futures.into_iter().map(IntoFuture::into_future));
    match poll_fn(|cx| join.poll_join(cx, |_| false)).await {
        Ok(outputs) => outputs,
        Err(_) => unreachable!("no output fails a gather"),
    }
}

/// Like [`gather`] for futures that return `Result`: resolves to the first `Err` as soon as one
/// appears, dropping the futures still running, or to every `Ok` value in order.
///
/// # Examples
///
/// ```
/// async fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
///     text.parse()
/// }
///
/// let all = tether::run(tether::try_gather(["1", "2"].map(parse)));
/// assert_eq!(all, Ok(vec![1, 2]));
/// let first_error = tether::run(tether::try_gather(["1", "x"].map(parse)));
/// assert!(first_error.is_err());
/// ```
pub async fn try_gather<I, T, E>(futures: I) -> Result<Vec<T>, E>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let mut join = JoinAll::new(futures.into_iter().map(IntoFuture::into_future));
    // Either every output, each `Ok`, or the first `Err` alone: collecting gives the answer.
    let outputs = match poll_fn(|cx| join.poll_join(cx, Result::is_err)).await {
        Ok(outputs) => outputs,
        Err(failure) => vec![failure],
    };
    outputs.into_iter().collect()
}
