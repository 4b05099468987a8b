//! [`TaskGroup::cancel`]: ending a group early, without failure.

use super::{Mode, State, TaskGroup};

impl<M: Mode> TaskGroup<'_, '_, M> {
    /// Ends the group now, without failure: asyncio 3.15's `tg.cancel()`, moro's `terminate`.
    ///
    /// Every child is cancelled (spread children are asked to stop), the body is cancelled too
    /// (dropped the next time it waits, so code after its current `await` does not run), and
    /// the scope waits for all of them as usual, destructors included. New children are refused
    /// from now on ([`CreateTaskError::Cancelled`](crate::CreateTaskError::Cancelled)).
    ///
    /// # What the group evaluates to
    ///
    /// - If the body had already returned its value `v` (a child called `cancel` after the
    ///   body finished), `Ok(v)`.
    /// - If the body was cancelled before it returned, there is no value: the group resolves to
    ///   a [`GroupError`](crate::GroupError) that lists no failure, for which
    ///   [`GroupError::is_cancelled`](crate::GroupError::is_cancelled) is `true`.
    ///   [`GroupError::cancelled_as_none`](crate::GroupError::cancelled_as_none) reads the
    ///   outcome as `Result<Option<R>, GroupError>`: `Ok(None)` for this case, which is what
    ///   asyncio's `async with` gives (it exits without raising, and the body's remaining code
    ///   never runs). The body's value stays a plain `R` for the groups that never call
    ///   `cancel`, which are most, as the `task_group!` contract (`Result<R, GroupError>`)
    ///   promises. A group that may be cancelled and is passed on with `?` wants
    ///   `GroupError::cancelled_as_none(tether::task_group!(...))?`, or the cancellation
    ///   travels up as an error.
    /// - If something failed as well (a child panicked before, or a destructor panicked while
    ///   the group was cancelling), the failures are reported as usual.
    ///
    /// Calling `cancel` on a group that is already failing or closing does nothing. As with
    /// [`TaskHandle::cancel`](crate::TaskHandle::cancel), a child is dropped at its next await
    /// point: there is no grace period.
    ///
    /// # Panics
    ///
    /// In a send group, if called from a thread that is not running the group.
    ///
    /// # Examples
    ///
    /// A server that stops when told to, without failing:
    ///
    /// ```
    /// use tether::GroupError;
    /// use tether::sync::Event;
    ///
    /// let stop = Event::new();
    /// let outcome = tether::run(async {
    ///     let outcome = tether::task_group!(|tg| {
    ///         tg.create_task(async {
    ///             stop.wait().await;
    ///             tg.cancel(); // stop serving: the body and every child are dropped
    ///         });
    ///         tg.create_task(async { stop.set() });
    ///         loop {
    ///             tether::yield_now().await; // serve forever
    ///         }
    ///     });
    ///     GroupError::cancelled_as_none(outcome)
    /// });
    /// assert!(matches!(outcome, Ok(None)));
    /// ```
    pub fn cancel(&self) {
        self.check_owner();
        if self.state.get() != State::Open {
            return;
        }
        self.cancelled.set(true);
        self.state.set(State::Cancelling);
        // No child waiting for a slot starts now, even as cancelled ones free theirs.
        self.close_limit();
        self.children.borrow().cancel_owned();
        self.cancel_spread();
    }

    /// `true` once [`TaskGroup::cancel`] has been called on this group.
    ///
    /// # Examples
    ///
    /// ```
    /// tether::run(async {
    ///     let _ = tether::task_group!(|tg| {
    ///         assert!(!tg.is_cancelled());
    ///         tg.cancel();
    ///         assert!(tg.is_cancelled() && tg.is_shutting_down());
    ///     });
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.check_owner();
        self.cancelled.get()
    }
}
