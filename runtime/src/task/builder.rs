use std::future::Future;
use std::panic::Location;

use super::{Owner, Task, spawn_task};
use crate::context::Context;
use crate::task_core::raw::Spawn;

/// Configures a task before it starts: asyncio's `create_task(coro, name=..., context=...)` and
/// `eager_start`.
///
/// Use it with [`Builder::create_task`], [`TaskGroup::create_task_with`](crate::TaskGroup) or
/// [`TaskSet::create_task_with`](crate::TaskSet::create_task_with).
///
/// # Examples
///
/// ```
/// use tether::task::Builder;
///
/// tether::run(async {
///     let task = Builder::new().name("fetch-users").create_task(async { 3 });
///     assert_eq!(task.name(), "fetch-users");
///     assert_eq!(task.await.unwrap(), 3);
///
///     // An eager task runs its first poll inside create_task: this one is already done.
///     let eager = Builder::new().eager(true).create_task(async { 4 });
///     assert!(eager.is_finished());
/// });
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a Builder does nothing until one of its create methods is called"]
pub struct Builder {
    name: Option<String>,
    context: Option<Context>,
    eager: bool,
}

impl Builder {
    /// A builder with the defaults: named `Task-<id>`, a copy of the current context, started
    /// lazily.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The task's name.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// The context the task runs in, instead of a copy of the current one.
    pub fn context(mut self, context: Context) -> Builder {
        self.context = Some(context);
        self
    }

    /// Eager start: run the task's first poll inside the create call. A task that finishes
    /// then never touches the run queue. Off by default, as in asyncio.
    pub fn eager(mut self, eager: bool) -> Builder {
        self.eager = eager;
        self
    }

    pub(crate) fn into_spawn(self, owner: Owner, location: &'static Location<'static>) -> Spawn {
        Spawn {
            name: self.name,
            context: self.context,
            eager: self.eager,
            owner,
            location,
            home: 0,
            stop_requested: false,
        }
    }

    /// Starts the task on the running loop, owned by the returned handle; see
    /// [`create_task`](crate::create_task).
    ///
    /// # Panics
    ///
    /// Outside a running event loop.
    #[track_caller]
    pub fn create_task<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_task(future, self.into_spawn(Owner::Handle, Location::caller()))
    }

    /// Starts a `Send` task that may run on any worker, owned by the returned handle; see
    /// [`spawn`](crate::spawn).
    ///
    /// # Panics
    ///
    /// Outside a running event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(feature = "workers")] {
    /// use tether::task::Builder;
    ///
    /// tether::Runtime::builder().workers(2).build().run(async {
    ///     let task = Builder::new().name("checksum").spawn(async { 7 });
    ///     assert_eq!(task.name(), "checksum");
    ///     assert_eq!(task.await.unwrap(), 7);
    /// });
    /// # }
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        super::spawn_send(future, self.into_spawn(Owner::Handle, Location::caller()))
    }
}
