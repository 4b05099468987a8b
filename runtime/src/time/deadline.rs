//! [`current_deadline`]: the deadline the running code is under.

use super::Instant;

/// The effective deadline of the running code: the earliest deadline of every
/// [`timeout`](crate::timeout), [`timeout_at`](crate::timeout_at),
/// [`timeout_scope`](super::timeout_scope), [`move_on_after`](crate::move_on_after) and
/// [`move_on_at`](crate::move_on_at) around it, or `None` if there is none (trio's
/// `current_effective_deadline()`, which returns `inf` there).
///
/// Deadlines nest: an inner timeout cannot extend an outer one, so the effective deadline is
/// the earliest, wherever it is in the stack. A library can use it to decide whether one more
/// attempt still fits. The deadlines are those around the code being polled right now: a task
/// made by [`create_task`](crate::create_task), [`spawn`](crate::spawn) or a
/// [`TaskSet`](crate::TaskSet) starts with none (it is not dropped when they pass), while a
/// child of a task group run inside a timeout has the group's (the group is).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tether::time::{Instant, current_deadline};
///
/// tether::Runtime::builder().start_paused(true).build().run(async {
///     assert_eq!(current_deadline(), None);
///     let start = Instant::now();
///     let result = tether::timeout(Duration::from_secs(10), async {
///         // An inner limit further away does not move the outer one.
///         tether::timeout(Duration::from_secs(60), async {
///             let left = current_deadline().unwrap() - Instant::now();
///             if left < Duration::from_secs(30) {
///                 return "skipped the slow path: it would not fit";
///             }
///             "took the slow path"
///         })
///         .await
///     })
///     .await;
///     assert_eq!(result, Ok(Ok("skipped the slow path: it would not fit")));
///     assert_eq!(Instant::now(), start);
/// });
/// ```
pub fn current_deadline() -> Option<Instant> {
    crate::task_core::current::deadline().map(Instant::from_std)
}
