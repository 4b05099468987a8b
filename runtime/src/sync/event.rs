use std::fmt;
use std::future::poll_fn;
use std::sync::Mutex;

use super::waiters::{Cancelled, WaitList, Wakers, lock, poll_waiter, wake_all};
use crate::task_core::awaiting::{Awaiting, SyncKind};

/// A flag that tasks can wait for: asyncio's `Event`.
///
/// An event starts cleared. [`wait`](Event::wait) returns at once while the event is set, and
/// otherwise waits until [`set`](Event::set) is called. Setting the event wakes *every* waiter;
/// [`clear`](Event::clear) makes later calls to `wait` block again.
///
/// A waiter woken by `set` returns even if the event is cleared again before it runs: the
/// wake-up is remembered, as asyncio's future result is.
///
/// `Event` is `Send + Sync`: another thread may `set` it (through an `Arc`) to wake tasks on
/// the loop.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use tether::sync::Event;
///
/// tether::run(async {
///     let ready = Rc::new(Event::new());
///     let waiter = tether::create_task({
///         let ready = ready.clone();
///         async move {
///             ready.wait().await;
///             "woken"
///         }
///     });
///     tether::yield_now().await;
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
pub struct Event {
    state: Mutex<State>,
    /// The name given at construction, for `dump_tasks` and deadlock reports.
    name: Option<&'static str>,
}

struct State {
    set: bool,
    waiters: WaitList<()>,
}

impl Event {
    /// A new event, not set. `const`, so an event can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Event;
    ///
    /// static SHUTDOWN: Event = Event::new();
    /// assert!(!SHUTDOWN.is_set());
    /// ```
    pub const fn new() -> Event {
        Event {
            state: Mutex::new(State {
                set: false,
                waiters: WaitList::new(),
            }),
            name: None,
        }
    }

    /// A new event, not set, with a name that [`dump_tasks`](crate::dump_tasks) and deadlock
    /// reports show for the tasks waiting on it. `const`, so it can be a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Event;
    ///
    /// static READY: Event = Event::named("ready");
    /// assert_eq!(READY.name(), Some("ready"));
    /// ```
    pub const fn named(name: &'static str) -> Event {
        let mut event = Event::new();
        event.name = Some(name);
        event
    }

    /// The name given to [`Event::named`], if any.
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// Sets the event and wakes every task waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Event;
    ///
    /// tether::run(async {
    ///     let event = Event::new();
    ///     event.set();
    ///     event.wait().await; // returns at once
    ///     assert!(event.is_set());
    /// });
    /// ```
    pub fn set(&self) {
        let mut wakers = Wakers::new();
        {
            let mut state = lock(&self.state);
            state.set = true;
            state.waiters.grant_all(|| (), &mut wakers);
        }
        wake_all(wakers);
    }

    /// Clears the event: [`wait`](Event::wait) blocks again until the next [`set`](Event::set).
    ///
    /// # Examples
    ///
    /// ```
    /// use tether::sync::Event;
    ///
    /// let event = Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        lock(&self.state).set = false;
    }

    /// `true` if the event is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = tether::sync::Event::new();
    /// assert!(!event.is_set());
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        lock(&self.state).set
    }

    /// Waits until the event is set; returns at once if it already is.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe. A dropped `wait` leaves the queue; since `set` wakes every waiter, there is
    /// nothing to pass on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tether::sync::Event;
    ///
    /// tether::run(async {
    ///     let done = Event::new();
    ///     tether::task_group!(|tg| {
    ///         tg.create_task(async {
    ///             done.wait().await;
    ///             println!("the worker saw the event");
    ///         });
    ///         tg.create_task(async {
    ///             tether::sleep(Duration::from_millis(5)).await;
    ///             done.set();
    ///         });
    ///     })
    ///     .unwrap();
    /// });
    /// ```
    pub async fn wait(&self) {
        let mut wait = Wait {
            event: self,
            key: None,
        };
        let parked = poll_fn(|cx| {
            poll_waiter(
                &wait.event.state,
                &mut wait.key,
                cx.waker(),
                |state| &mut state.waiters,
                |state| state.set.then_some(()),
            )
        });
        crate::task_core::awaiting::tracked(parked, || {
            Awaiting::sync(SyncKind::Event, self.name, self)
        })
        .await
    }
}

/// A parked [`Event::wait`]: leaves the queue when dropped.
struct Wait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let gone = lock(&self.event.state).waiters.cancel(key);
            // A granted wake-up needs no passing on: `set` woke everybody.
            if let Cancelled::Queued(waker) = gone {
                drop(waker);
            }
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}
