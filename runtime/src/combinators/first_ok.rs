//! [`first_ok`]: the first success among several attempts.

use std::future::{IntoFuture, poll_fn};

use crate::combinators::join::Unordered;

/// Every attempt given to [`first_ok`] failed: their errors, in the order the attempts were
/// given (not the order they failed in).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "all {} attempts failed (the errors are in `errors()`, in input order); check each one, or give first_ok another way to succeed",
    errors.len()
)]
pub struct AllFailed<E> {
    errors: Vec<E>,
}

impl<E> AllFailed<E> {
    /// Each attempt's error, in input order.
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// The errors, in input order.
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }
}

/// Runs every future of `futures` concurrently, inside the calling task, and resolves to the
/// first `Ok` to arrive; the futures still running are then dropped (cancelled, destructors
/// and all) before this returns. If every future fails, resolves to [`AllFailed`], which holds
/// every error in input order. No future at all is `AllFailed` with no errors.
///
/// Java's `StructuredTaskScope` with `anySuccessfulResultOrThrow`, happy eyeballs; in asyncio
/// and trio it is a task group whose first success cancels the rest, written by hand; tokio's
/// `select_ok` keeps only the last error. Nothing is spawned, so the futures may borrow. To
/// stagger the attempts, give each a `sleep` before it starts.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// async fn connect(addr: &str, ms: u64) -> Result<String, String> {
///     tether::sleep(Duration::from_millis(ms)).await;
///     if addr.starts_with("10.") { Err(format!("{addr}: unreachable")) } else { Ok(addr.to_owned()) }
/// }
///
/// tether::run(async {
///     let tries = [connect("10.0.0.1", 1), connect("192.0.2.1", 5), connect("192.0.2.2", 50)];
///     assert_eq!(tether::first_ok(tries).await.unwrap(), "192.0.2.1");
///
///     let failed = tether::first_ok([connect("10.0.0.2", 3), connect("10.0.0.3", 1)]).await;
///     assert_eq!(
///         failed.unwrap_err().errors(),
///         ["10.0.0.2: unreachable", "10.0.0.3: unreachable"],
///     );
/// });
/// ```
pub async fn first_ok<I, T, E>(futures: I) -> Result<T, AllFailed<E>>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let mut running = Unordered::new(futures.into_iter().map(IntoFuture::into_future));
    let mut errors: Vec<Option<E>> = std::iter::repeat_with(|| None)
        .take(running.len())
        .collect();
    while let Some((index, outcome)) = poll_fn(|cx| running.poll_next(cx)).await {
        match outcome {
            Ok(value) => return Ok(value),
            Err(error) => errors[index] = Some(error),
        }
    }
    Err(AllFailed {
        errors: errors
            .into_iter()
            .map(|error| error.expect("every attempt has failed"))
            .collect(),
    })
}
