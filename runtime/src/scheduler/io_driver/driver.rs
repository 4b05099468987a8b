//! The poller a loop blocks in, and the handle its resources register through.
//!
//! A single loop has a poller of its own. The workers of a multi-threaded runtime share one
//! ([`Poller`]), as tokio's do: a worker with nothing to do blocks in it if no other worker
//! does, else on its thread. So the readiness of every socket reaches whichever worker is idle,
//! and the tasks it wakes are queued on that worker, which runs them. With a poller per worker
//! instead, a socket's events waited until the worker it was registered with (the one that
//! accepted it) turned its poller, while the other worker idled in an empty one: a profile of
//! the echo benchmark on 2 workers showed the accepting worker doing about 85% of the sends.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use mio::{Events, Poll, Token};

use super::park::{ParkState, Parker};
use super::scheduled_io::{ScheduledIo, ready_bits};
use crate::util::loom_facade::{Mutex, Ordering, lock, try_lock};

/// The token of the poller's waker; every other token is the address of a [`ScheduledIo`].
const WAKE: Token = Token(usize::MAX);

/// How many events one turn takes from the poller at most (the rest come next turn).
const EVENTS: usize = 1024;

/// A poller and the loops that block in it: one loop's, or shared by the workers of a
/// runtime. The turns are serialised by its lock: one loop at a time polls and dispatches.
pub(crate) struct Poller {
    driver: std::sync::Mutex<Driver>,
    handle: Arc<Handle>,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        let driver = Driver::new()?;
        Ok(Poller {
            handle: driver.handle.clone(),
            driver: std::sync::Mutex::new(driver),
        })
    }

    pub(crate) fn handle(&self) -> &Arc<Handle> {
        &self.handle
    }

    /// Blocks the loop of `parker` for at most `timeout` (`None`: until woken), unless a
    /// notification is pending: in the poller if no other loop sits in it (then passes the
    /// wakers of the resources that became ready to `wake`), else on the loop's thread.
    /// Returns how many resources became ready.
    ///
    /// The wakers run before the poller is released, as tokio's do: a worker that goes idle
    /// meanwhile then parks on its thread, and the tasks they queue wake it there if they are
    /// more than this loop runs next. Run after the release instead, they found that worker
    /// blocked in the poller it had just taken, and woke it with an `eventfd` write and one
    /// more `epoll_wait` each time: on 2 workers the echo benchmark made about 2,500 such
    /// writes per 100,000 messages, against tokio's 250, and 20,000 `epoll_wait` calls against
    /// tokio's 16,000. `wake` must not block: it runs under the poller's lock.
    pub(crate) fn park(
        &self,
        parker: &Parker,
        timeout: Option<Duration>,
        wake: &mut dyn FnMut(Waker),
    ) -> usize {
        match self.try_driver() {
            Some(mut driver) => {
                let ready = driver.park(parker.state(), timeout);
                driver.dispatch(wake);
                ready
            }
            None => {
                parker.park_thread(timeout);
                0
            }
        }
    }

    /// Takes the events that are ready now, without blocking, and passes their wakers to
    /// `wake` (under the lock, as [`Poller::park`] does); none if another loop is polling (that
    /// one takes them).
    pub(crate) fn poll_now(&self, wake: &mut dyn FnMut(Waker)) -> usize {
        if self.handle.is_unused() {
            // No resource can be ready, and nothing waits to be freed: the turn would be an
            // `epoll_wait` that finds nothing, once every `IO_INTERVAL` tasks (a syscall per
            // 61 tasks on a loop that only runs tasks, and on each worker).
            return 0;
        }
        self.try_driver().map_or(0, |mut driver| {
            let ready = driver.turn(Some(Duration::ZERO));
            driver.dispatch(wake);
            ready
        })
    }

    fn try_driver(&self) -> Option<MutexGuard<'_, Driver>> {
        try_lock(&self.driver)
    }
}

/// The poller itself. Only the holder of its [`Poller`]'s lock uses it; other threads use its
/// [`Handle`].
pub(crate) struct Driver {
    poll: Poll,
    events: Events,
    handle: Arc<Handle>,
    /// Counts turns: the readiness an event sets carries the turn's tick.
    tick: u16,
    /// The wakers of the resources the last turn found ready, until they are dispatched.
    wakers: Vec<Waker>,
}

/// What resources and other threads use of a driver: registration, and waking the loop.
pub(crate) struct Handle {
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    registry: mio::Registry,
    waker: mio::Waker,
    /// The readiness of resources deregistered since the last turn: freed by the loop that
    /// takes the next turn, at its start, since the turn before may still be dispatching an
    /// event that carries its address.
    released: Mutex<Vec<Arc<ScheduledIo>>>,
    has_released: AtomicBool,
    /// Set when the driver is dropped, or its runtime closes: its resources can never become
    /// ready again.
    closed: AtomicBool,
    /// Resources registered and not yet deregistered: while there is one, readiness may still
    /// wake the loop (what the deadlock check must know).
    registered: AtomicUsize,
    /// Run once by [`Handle::close`]: what an area above must finish when its resources can
    /// never become ready again (`io::process` reaps the children dropped while running).
    close_hooks: Mutex<Vec<fn(&Handle)>>,
}

impl Driver {
    fn new() -> io::Result<Driver> {
        let poll = Poll::new()?;
        #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE)?;
        Ok(Driver {
            poll,
            events: Events::with_capacity(EVENTS),
            handle: Arc::new(Handle {
                #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
                registry,
                waker,
                released: Mutex::new(Vec::new()),
                has_released: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                registered: AtomicUsize::new(0),
                close_hooks: Mutex::new(Vec::new()),
            }),
            tick: 0,
            wakers: Vec::new(),
        })
    }

    /// Blocks in the poller for at most `timeout` (`None`: until woken), unless the parking
    /// loop (`park`) has a wake from another thread pending; collects the wakers of the
    /// resources that became ready. Returns how many resources became ready.
    fn park(&mut self, park: &ParkState, timeout: Option<Duration>) -> usize {
        if !park.begin(true) {
            return self.turn(Some(Duration::ZERO));
        }
        let ready = self.turn(timeout);
        park.end();
        ready
    }

    /// Passes the wakers the last turn collected to `wake`.
    fn dispatch(&mut self, wake: &mut dyn FnMut(Waker)) {
        let mut wakers = std::mem::take(&mut self.wakers);
        wakers.drain(..).for_each(&mut *wake);
        // Kept for its allocation (a waker that reached the poller again left nothing here).
        self.wakers = wakers;
    }

    fn turn(&mut self, timeout: Option<Duration>) -> usize {
        self.handle.free_released();
        self.tick = self.tick.wrapping_add(1);
        if let Err(error) = self.poll.poll(&mut self.events, timeout) {
            if error.kind() == io::ErrorKind::Interrupted {
                // A signal arrived: the loop looks at its work and comes back.
                return 0;
            }
            panic!("tether's I/O driver could not wait for events (epoll_wait): {error}");
        }
        let mut ready = 0;
        for event in &self.events {
            if event.token() == WAKE {
                continue;
            }
            // SAFETY: every other token is the address of the `ScheduledIo` of a registered
            // resource (`Handle::register`). Its `Arc` is kept by the resource until it
            // deregisters, and then by `released`, which is freed only at the start of a turn,
            // by the holder of the `Poller`'s lock, which serialises turns: after the
            // deregistration, so no later poll reports the token, and after this loop (of this
            // turn or any earlier one), so no event of an earlier poll is still being
            // dispatched.
            let io = unsafe { &*std::ptr::with_exposed_provenance::<ScheduledIo>(event.token().0) };
            io.set_readiness(self.tick, ready_bits(event), &mut self.wakers);
            ready += 1;
        }
        ready
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.handle.close();
    }
}

impl Handle {
    /// Wakes the loop that sits in the poller (see [`Parker::unpark`]).
    pub(crate) fn wake(&self) {
        // An `eventfd` write cannot fail short of the counter overflowing, which mio handles
        // by draining it.
        let _ = self.waker.wake();
    }

    /// Marks the poller finished: its resources report an error from now on (a runtime's
    /// shared poller may outlive the runtime, held by a leftover task handle).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let hooks = std::mem::take(&mut *lock(&self.close_hooks));
        hooks.into_iter().for_each(|hook| hook(self));
    }

    /// Runs `hook` on this handle when the driver closes (once, however often it is asked
    /// for): for an area above the driver that must finish work its resources were waiting
    /// for. At once if the driver has closed already.
    #[cfg(feature = "process")]
    pub(crate) fn on_close(&self, hook: fn(&Handle)) {
        if self.is_closed() {
            hook(self);
            return;
        }
        let mut hooks = lock(&self.close_hooks);
        if !hooks.iter().any(|known| std::ptr::fn_addr_eq(*known, hook)) {
            hooks.push(hook);
        }
    }

    /// `true` once the driver is gone.
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Registers `source` for both directions, edge-triggered; returns its readiness.
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    pub(crate) fn register(
        &self,
        source: &mut impl mio::event::Source,
    ) -> io::Result<Arc<ScheduledIo>> {
        let io = Arc::new(ScheduledIo::default());
        // Exposed, so that the driver can turn the token back into the pointer.
        let token = Token(Arc::as_ptr(&io).expose_provenance());
        self.registry.register(
            source,
            token,
            mio::Interest::READABLE | mio::Interest::WRITABLE,
        )?;
        self.registered.fetch_add(1, Ordering::Relaxed);
        Ok(io)
    }

    /// `true` while a resource is registered: I/O may still wake the loop.
    pub(crate) fn has_registrations(&self) -> bool {
        self.registered.load(Ordering::Relaxed) > 0
    }

    /// `true` while no resource is registered and none deregistered waits to be freed: a
    /// turn that does not block has nothing to do. (Another thread registering meanwhile loses
    /// nothing: its events wait in the poller for the next turn.)
    fn is_unused(&self) -> bool {
        !self.has_registrations() && !self.has_released.load(Ordering::Acquire)
    }

    /// Deregisters `source` and hands its readiness to the driver to free.
    #[cfg(any(feature = "net", feature = "signal", feature = "process"))]
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source, io: Arc<ScheduledIo>) {
        // Fails only if the source was never registered or the poller is gone: nothing to undo.
        let _ = self.registry.deregister(source);
        self.registered.fetch_sub(1, Ordering::Relaxed);
        io.forget_waits();
        lock(&self.released).push(io);
        self.has_released.store(true, Ordering::Release);
    }

    fn free_released(&self) {
        if !self.has_released.load(Ordering::Acquire) {
            return;
        }
        let released = {
            let mut released = lock(&self.released);
            self.has_released.store(false, Ordering::Relaxed);
            std::mem::take(&mut *released)
        };
        drop(released);
    }
}
