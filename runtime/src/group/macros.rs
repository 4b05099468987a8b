//! `task_group!`: a thin `macro_rules!` front over the proc macro in `tether-macros`, which
//! passes `$crate` in so that the expansion's paths resolve to this crate even when a user
//! renames the `tether` dependency (as the combinators' macros do, `crate::combinators`).

/// Runs a body with a task group and awaits the group in place: asyncio's
/// `async with asyncio.TaskGroup() as tg:`.
///
/// `task_group!(|tg| body)` calls `body` with the group `tg`; tasks started with
/// `tg.create_task(fut)` are owned by the group, and the macro does not finish until every one
/// of them is done. It is awaited in place (so it may only appear in an `async` block or
/// function) and evaluates to `Result<R, `[`GroupError`](crate::GroupError)`>`, where `R` is the body's value. Children
/// may borrow anything that outlives the `task_group!`, as with [`std::thread::scope`].
///
/// Write the closure without `async` (the macro adds it); `move` is allowed. The fallible form
/// `task_group!(try |tg| body)` is for children returning `Result<_, E>`: the first `Err` fails
/// the group like a panic does, cancelling the other children.
///
/// `task_group!(|tg| body)` expands to `TaskGroup::scope(async |tg| body).await`, and
/// `task_group!(try |tg| body)` to `TaskGroup::try_scope(async |tg| body).await`; see
/// [`TaskGroup::scope`](crate::TaskGroup::scope) and
/// [`TaskGroup::try_scope`](crate::TaskGroup::try_scope).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// async fn say_after(delay: Duration, what: &str) -> usize {
///     tether::sleep(delay).await;
///     println!("{what}");
///     what.len()
/// }
///
/// let greeting = String::from("hello");
/// let outcome = tether::run(async {
///     // Both children run at the same time; the group ends when both are done (about 20ms).
///     tether::task_group!(|tg| {
///         let hello = tg.create_task(say_after(Duration::from_millis(10), &greeting));
///         tg.create_task(say_after(Duration::from_millis(20), "world"));
///         hello.await.unwrap()
///     })
/// });
/// assert_eq!(outcome.unwrap(), 5);
/// ```
///
/// The fallible form fails the group on the first `Err`:
///
/// ```
/// let outcome = tether::run(async {
///     tether::task_group!(try |tg| {
///         tg.create_task(async { "42".parse::<u32>() });
///         tg.create_task(async { "x".parse::<u32>() });
///     })
/// });
/// assert!(outcome.is_err());
/// ```
///
/// The `Send` form, `task_group!(send |tg| body)` (and `send try`), opens a group whose scope
/// future is `Send` (when the body's is), so it can run inside [`tether::spawn`](crate::spawn)
/// on a multi-threaded runtime: its children must be `Send`, and may still borrow `Sync` data
/// from outside the group. It expands to a [`TaskGroup::scope_send`](crate::TaskGroup::scope_send)
/// (or `try_scope_send`) call; see ["Send groups"](crate::group#send-groups).
///
/// ```
/// # #[cfg(feature = "workers")] {
/// let runtime = tether::Runtime::builder().workers(2).build();
/// let total = runtime.run(async {
///     tether::spawn(async {
///         let words = ["send", "groups"];
///         tether::task_group!(send |tg| {
///             let a = tg.create_task(async { words[0].len() });
///             let b = tg.create_task(async { words[1].len() });
///             a.await.unwrap() + b.await.unwrap()
///         })
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(total.unwrap(), 10);
/// # }
/// ```
///
/// The supervising form, `task_group!(supervise |tg| body)` (and `supervise try`,
/// `send supervise`, `send supervise try`; the keywords go in that order), is Kotlin's
/// `supervisorScope`: a child's failure does not cancel its siblings or the body, and every
/// failure is reported by name at the end. It expands to a
/// [`TaskGroup::supervise`](crate::TaskGroup::supervise) (or `try_supervise`,
/// `supervise_send`, `try_supervise_send`) call.
///
/// ```
/// let outcome = tether::run(async {
///     tether::task_group!(supervise try |tg| {
///         tg.create_task(async { "x".parse::<u32>() }); // fails, alone
///         tg.create_task(async { "42".parse::<u32>() }).await.unwrap() // still runs
///     })
/// });
/// assert_eq!(outcome.unwrap_err().failures().len(), 1);
/// ```
///
/// Any group can be ended early, without failure, by [`TaskGroup::cancel`](crate::TaskGroup::cancel);
/// see there for what the group then evaluates to.
///
/// `task_group!(limit = n, |tg| body)` (before any other form: `limit = n, send supervise try |tg| ...`)
/// runs at most `n` children at once; the others wait, unpolled, in creation order (see
/// [`GroupBuilder::limit`](crate::group::GroupBuilder::limit)). It expands to
/// `TaskGroup::builder().limit(n).scope(async |tg| body).await`. `limit = 0` does not compile.
///
/// ```
/// use std::cell::Cell;
///
/// let (running, most) = (Cell::new(0), Cell::new(0));
/// tether::run(async {
///     tether::task_group!(limit = 2, try |tg| {
///         for n in 0..10 {
///             let (running, most) = (&running, &most);
///             tg.create_task(async move {
///                 running.set(running.get() + 1);
///                 most.set(most.get().max(running.get()));
///                 tether::yield_now().await;
///                 running.set(running.get() - 1);
///                 Ok::<_, std::num::ParseIntError>(n)
///             });
///         }
///     })
///     .unwrap();
/// });
/// assert_eq!(most.get(), 2);
/// ```
///
/// Write the closure without `async`; the macro adds it:
///
/// ```compile_fail
/// # tether::run(async {
/// tether::task_group!(async |tg| { tg.create_task(async {}); }); // error: remove this `async`
/// # });
/// ```
#[macro_export]
macro_rules! task_group {
    ($($input:tt)*) => {
        $crate::__private::task_group!(($crate) $($input)*)
    };
}
