//! The workloads, each written once (generic over [`Rt`]) or once per runtime where the API
//! differs (groups, gather). Every one spawns with the runtime's own spawn and awaits every
//! handle it gets back.

use std::future::Future;
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use super::alloc;
use super::rt::{Rt, TimerRt};

/// Runs `body` `reps` times on a fresh runtime `R` and returns the time taken inside it.
pub fn timed<R, F, Fut>(reps: usize, body: F) -> Duration
where
    R: Rt,
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    R::run(async move {
        let start = Instant::now();
        for _ in 0..reps {
            body().await;
        }
        start.elapsed()
    })
}

/// [`timed`] for tether-only bodies, which need not be `Send` (task groups are not).
pub fn timed_tether<F, Fut>(reps: usize, body: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    tether::run(async move {
        let start = Instant::now();
        for _ in 0..reps {
            body().await;
        }
        start.elapsed()
    })
}

// ---------------------------------------------------------------------------------------------
// 1. spawn_many

/// Spawns `n` empty tasks (all in flight), then awaits every handle.
pub async fn spawn_many<R: Rt>(n: usize) {
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        handles.push(R::spawn(async {}));
    }
    for handle in handles {
        handle.await;
    }
}

/// The context value `spawn_many_with_context` sets before spawning.
static REQUEST_ID: tether::context::ContextVar<u64> =
    tether::context::ContextVar::new("request_id");

/// [`spawn_many`] on tether with a context value set, so that every task inherits (copies) a
/// non-empty context: what `tether::context` costs a spawn.
pub async fn spawn_many_with_context(n: usize) {
    let token = REQUEST_ID.set(7);
    spawn_many::<crate::workloads::rt::Tether>(n).await;
    REQUEST_ID.reset(token);
}

// ---------------------------------------------------------------------------------------------
// 2. yield_many

/// `tasks` tasks, each yielding `yields` times with the runtime's `yield_now`.
pub async fn yield_many<R: Rt>(tasks: usize, yields: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            R::spawn(async move {
                for _ in 0..yields {
                    R::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
}

// ---------------------------------------------------------------------------------------------
// 3. ping_pong

/// `pairs` pairs: a ping task spawns its pong task, sends it one message over a
/// `futures::channel::oneshot`, awaits the answer on another, then awaits the pong's handle.
pub async fn ping_pong<R: Rt>(pairs: usize) {
    let pings: Vec<_> = (0..pairs)
        .map(|_| {
            R::spawn(async {
                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                let pong = R::spawn(async move {
                    ping_rx.await.expect("ping");
                    pong_tx.send(()).expect("pong receiver alive");
                });
                ping_tx.send(()).expect("ping receiver alive");
                pong_rx.await.expect("pong");
                pong.await;
            })
        })
        .collect();
    for ping in pings {
        ping.await;
    }
}

// ---------------------------------------------------------------------------------------------
// 4. chained_spawn

/// One link of the chain: spawns the next link (unless it is the last) and forwards its
/// completion. A hand-written future so that the chain needs no boxing on any runtime.
#[derive(Debug)]
pub struct Link<R: Rt> {
    left: usize,
    next: Option<R::Handle<()>>,
}

impl<R: Rt> Future for Link<R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.left == 0 {
            return Poll::Ready(());
        }
        let left = this.left - 1;
        let next = this
            .next
            .get_or_insert_with(|| R::spawn(Link::<R> { left, next: None }));
        Pin::new(next).poll(cx)
    }
}

/// A chain of `n` tasks, each spawning the next and awaiting it.
pub async fn chained_spawn<R: Rt>(n: usize) {
    R::spawn(Link::<R> {
        left: n - 1,
        next: None,
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5. timers

/// `n` tasks, each sleeping `duration` with the runtime's own timer.
pub async fn sleep_many<R: TimerRt>(n: usize, duration: Duration) {
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        handles.push(R::spawn(R::sleep(duration)));
    }
    for handle in handles {
        handle.await;
    }
}

/// Creates `n` sleeps one after the other, polls each once (arming its timer) and drops it
/// (disarming it). 60 s each, so that no deadline can pass before the poll, however loaded the
/// machine.
pub async fn arm_cancel<R: TimerRt>(n: usize) {
    R::unconstrained(async move {
        for _ in 0..n {
            let mut sleep = pin!(R::sleep(Duration::from_secs(60)));
            let polled = futures::poll!(sleep.as_mut());
            assert!(polled.is_pending());
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 6. groups and gather

/// `tether::task_group!` with `n` empty children.
pub async fn tether_group(n: usize) {
    tether::task_group!(|tg| {
        for _ in 0..n {
            tg.create_task(async {});
        }
    })
    .expect("group");
}

/// async-executor as its own users write it, the independent probe's way: a `LocalExecutor`
/// made here, `n` empty tasks spawned on it directly (not reached through a thread-local, as the
/// generic [`spawn_many`] on `AsyncExecutor` does), each handle awaited in creation order,
/// `reps` times inside one `futures_lite::future::block_on(ex.run(..))`. Returns the time
/// taken inside, like [`timed`].
pub fn local_executor_spawn_await(reps: usize, n: usize) -> Duration {
    let ex = async_executor::LocalExecutor::new();
    futures_lite::future::block_on(ex.run(async {
        let start = Instant::now();
        for _ in 0..reps {
            let mut handles = Vec::with_capacity(n);
            for _ in 0..n {
                handles.push(ex.spawn(async {}));
            }
            for handle in handles {
                handle.await;
            }
        }
        start.elapsed()
    }))
}

/// `tether::TaskSet::new()` with `n` empty tasks, joined one by one.
pub async fn tether_task_set(n: usize) {
    let mut set = tether::TaskSet::new();
    for _ in 0..n {
        set.create_task(async {});
    }
    while let Some(outcome) = set.join_next().await {
        outcome.expect("task");
    }
}

/// `tokio::task::JoinSet` with `n` empty tasks, joined one by one.
pub async fn tokio_join_set(n: usize) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        set.spawn(async {});
    }
    while let Some(outcome) = set.join_next().await {
        outcome.expect("task");
    }
}

/// The future every gather variant awaits: yields once (runtime-independent), then returns.
pub async fn yield_once(i: usize) -> usize {
    futures_lite::future::yield_now().await;
    i
}

/// `tether::gather(iter)` of `n` futures.
pub async fn tether_gather(n: usize) {
    let outputs = tether::gather((0..n).map(yield_once)).await;
    black_box(outputs);
}

/// `futures::future::join_all` of the same `n` futures.
pub async fn join_all(n: usize) {
    let outputs = futures::future::join_all((0..n).map(yield_once)).await;
    black_box(outputs);
}

/// How many 8-future joins each gather!/join_all/join! repetition runs.
pub const GATHER8_CALLS: usize = 1_000;

/// `tether::gather!` of 8 futures, [`GATHER8_CALLS`] times.
pub async fn tether_gather8() {
    for _ in 0..GATHER8_CALLS {
        black_box(gather8().await);
    }
}

/// One `tether::gather!` of 8 futures.
pub async fn gather8() -> (usize, usize, usize, usize, usize, usize, usize, usize) {
    tether::gather!(
        yield_once(0),
        yield_once(1),
        yield_once(2),
        yield_once(3),
        yield_once(4),
        yield_once(5),
        yield_once(6),
        yield_once(7),
    )
}

/// `futures::future::join_all` of the same 8 futures, [`GATHER8_CALLS`] times.
pub async fn join_all8() {
    for _ in 0..GATHER8_CALLS {
        black_box(join_all8_once().await);
    }
}

/// One `futures::future::join_all` of 8 futures.
pub async fn join_all8_once() -> Vec<usize> {
    futures::future::join_all([
        yield_once(0),
        yield_once(1),
        yield_once(2),
        yield_once(3),
        yield_once(4),
        yield_once(5),
        yield_once(6),
        yield_once(7),
    ])
    .await
}

/// `futures::join!` of the same 8 futures, [`GATHER8_CALLS`] times.
pub async fn join_macro8() {
    for _ in 0..GATHER8_CALLS {
        black_box(join_macro8_once().await);
    }
}

/// One `futures::join!` of 8 futures.
pub async fn join_macro8_once() -> (usize, usize, usize, usize, usize, usize, usize, usize) {
    futures::join!(
        yield_once(0),
        yield_once(1),
        yield_once(2),
        yield_once(3),
        yield_once(4),
        yield_once(5),
        yield_once(6),
        yield_once(7),
    )
}

/// Heap allocations made by one awaited `fut` inside a running tether task, after a warm-up
/// call (so the loop's queues already have their capacity).
pub fn allocations_in_tether<F, Fut>(make: F) -> alloc::Counts
where
    F: Fn() -> Fut,
    Fut: Future,
{
    tether::run(async move {
        black_box(make().await);
        let start = alloc::start_counting();
        black_box(make().await);
        alloc::stop_counting(start)
    })
}

// ---------------------------------------------------------------------------------------------
// 7. bytes per task

static POLLED: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

struct Live;

impl Live {
    fn new() -> Live {
        LIVE.fetch_add(1, Relaxed);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Relaxed);
    }
}

/// What one pending task costs on the heap.
#[derive(Debug, Clone, Copy)]
pub struct TaskMemory {
    /// Heap bytes in use per task, steady state (queues and tables already grown).
    pub bytes: f64,
    /// Allocations per task, steady state.
    pub allocs: f64,
    /// Heap bytes in use per task in the first round, queue and table growth included.
    pub cold_bytes: f64,
    /// Heap bytes in use per task that has finished and whose handle has not been awaited yet
    /// (its output kept for the handle), steady state.
    pub finished_bytes: f64,
}

/// Spawns `n` tasks that each run once and then wait forever, and measures the heap in use
/// before and after, per task. The first round also counts the growth of the runtime's queues
/// and tables (`cold_bytes`); it is then cancelled and fully dropped, so the second round sees
/// the steady-state cost of a task alone. The handles live in a vector allocated before either
/// window.
pub async fn bytes_per_task<R: Rt>(n: usize) -> TaskMemory {
    let mut handles = Vec::with_capacity(n);
    let mut memory = TaskMemory {
        bytes: 0.0,
        allocs: 0.0,
        cold_bytes: 0.0,
        finished_bytes: 0.0,
    };
    for round in 0..2 {
        POLLED.store(0, Relaxed);
        let window = alloc::start_counting();
        for _ in 0..n {
            handles.push(R::spawn(async {
                let _live = Live::new();
                POLLED.fetch_add(1, Relaxed);
                std::future::pending::<()>().await;
            }));
        }
        while POLLED.load(Relaxed) < n {
            R::yield_now().await;
        }
        let counts = alloc::stop_counting(window);
        let bytes = counts.in_use_delta() as f64 / n as f64;
        if round == 0 {
            memory.cold_bytes = bytes;
        } else {
            memory.bytes = bytes;
            memory.allocs = counts.allocs as f64 / n as f64;
        }
        for handle in handles.drain(..) {
            R::cancel(handle);
        }
        while LIVE.load(Relaxed) > 0 {
            R::yield_now().await;
        }
        for _ in 0..8 {
            R::yield_now().await;
        }
    }
    // Finished tasks whose handles are still held: what a forgotten-about result costs.
    POLLED.store(0, Relaxed);
    let window = alloc::start_counting();
    for _ in 0..n {
        handles.push(R::spawn(async {
            POLLED.fetch_add(1, Relaxed);
        }));
    }
    while POLLED.load(Relaxed) < n {
        R::yield_now().await;
    }
    for _ in 0..8 {
        R::yield_now().await;
    }
    memory.finished_bytes = alloc::stop_counting(window).in_use_delta() as f64 / n as f64;
    for handle in handles.drain(..) {
        handle.await;
    }
    memory
}

// ---------------------------------------------------------------------------------------------
// 8. asyncio's idioms, written as their users write them

/// `tasks` tasks, each doing `yields` times the runtime's `sleep(0)` idiom: tether's
/// `sleep(Duration::ZERO)` (asyncio's `await asyncio.sleep(0)`), the others' `yield_now`.
pub async fn sleep0_many<R: Rt>(tasks: usize, yields: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            R::spawn(async move {
                for _ in 0..yields {
                    R::sleep_zero().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
}

/// `tether::task_group!` of `n` children, each doing one `sleep(Duration::ZERO)`.
pub async fn tether_group_sleep0(n: usize) {
    tether::task_group!(|tg| {
        for _ in 0..n {
            tg.create_task(tether::sleep(Duration::ZERO));
        }
    })
    .expect("group");
}

/// `tokio::task::JoinSet` of `n` tasks, each yielding once, joined one by one.
pub async fn tokio_join_set_yield(n: usize) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        set.spawn(tokio::task::yield_now());
    }
    while let Some(outcome) = set.join_next().await {
        outcome.expect("task");
    }
}

/// `n` tasks each doing the runtime's `sleep(0)` once, handles awaited in creation order: the
/// group and background-set rows on runtimes without a group or set of their own.
pub async fn spawn_sleep0<R: Rt>(n: usize) {
    let handles: Vec<_> = (0..n).map(|_| R::spawn(R::sleep_zero())).collect();
    for handle in handles {
        handle.await;
    }
}

/// asyncio's background-task set (`background_tasks.add(task)`,
/// `task.add_done_callback(background_tasks.discard)`): `TaskSet::background()` of `n` tasks,
/// each doing one `sleep(Duration::ZERO)`, waited until empty.
pub async fn tether_background(n: usize) {
    let mut set = tether::TaskSet::background();
    for _ in 0..n {
        set.create_task(tether::sleep(Duration::ZERO));
    }
    assert!(set.join_next().await.is_none());
}

// ---------------------------------------------------------------------------------------------
// 9. synchronisation: each runtime with its own (or its ecosystem's) primitives

/// Round trips in the queue and event ping-pong rows.
pub const ROUND_TRIPS: usize = 1_000;

/// A bounded channel, as each runtime's users reach for one: tether's `Queue` (asyncio's), tokio's
/// `mpsc`, smol's `async-channel`.
pub trait Channel: 'static {
    /// The sending side.
    type Tx: Send + Sync + 'static;
    /// The receiving side.
    type Rx: Send + 'static;
    /// A channel holding at most `capacity` items.
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx);
    /// Sends `item`, waiting for room.
    fn send(tx: &Self::Tx, item: usize) -> impl Future<Output = ()> + Send + '_;
    /// Receives the next item, waiting for one.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = usize> + Send + '_;
}

/// `tether::queue::Queue`, shared by both sides.
#[derive(Debug)]
pub enum TetherQueue {}

impl Channel for TetherQueue {
    type Tx = std::sync::Arc<tether::queue::Queue<usize>>;
    type Rx = std::sync::Arc<tether::queue::Queue<usize>>;

    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        let queue = std::sync::Arc::new(tether::queue::Queue::new(capacity));
        (queue.clone(), queue)
    }

    async fn send(tx: &Self::Tx, item: usize) {
        tx.put(item).await.expect("queue open");
    }

    async fn recv(rx: &mut Self::Rx) -> usize {
        rx.get().await.expect("queue open")
    }
}

/// `tokio::sync::mpsc`.
#[derive(Debug)]
pub enum TokioChannel {}

impl Channel for TokioChannel {
    type Tx = tokio::sync::mpsc::Sender<usize>;
    type Rx = tokio::sync::mpsc::Receiver<usize>;

    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity)
    }

    async fn send(tx: &Self::Tx, item: usize) {
        tx.send(item).await.expect("receiver alive");
    }

    async fn recv(rx: &mut Self::Rx) -> usize {
        rx.recv().await.expect("sender alive")
    }
}

/// smol's `async-channel`.
#[derive(Debug)]
pub enum SmolChannel {}

impl Channel for SmolChannel {
    type Tx = async_channel::Sender<usize>;
    type Rx = async_channel::Receiver<usize>;

    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        async_channel::bounded(capacity)
    }

    async fn send(tx: &Self::Tx, item: usize) {
        tx.send(item).await.expect("receiver alive");
    }

    async fn recv(rx: &mut Self::Rx) -> usize {
        rx.recv().await.expect("sender alive")
    }
}

/// Ping-pong over two channels of capacity 1: the main task sends, a second task answers,
/// `rounds` times.
pub async fn queue_ping_pong<R: Rt, C: Channel>(rounds: usize) {
    let (ping_tx, mut ping_rx) = C::bounded(1);
    let (pong_tx, mut pong_rx) = C::bounded(1);
    let ponger = R::spawn(async move {
        for _ in 0..rounds {
            let item = C::recv(&mut ping_rx).await;
            C::send(&pong_tx, item).await;
        }
    });
    for i in 0..rounds {
        C::send(&ping_tx, i).await;
        assert_eq!(C::recv(&mut pong_rx).await, i);
    }
    ponger.await;
}

/// A signal one task sets and another waits for, consumed by the wait: asyncio's
/// `event.set()` / `await event.wait(); event.clear()`.
pub trait Signal: Send + Sync + 'static {
    /// A signal not yet set.
    fn new() -> Self;
    /// Sets it, waking its waiter.
    fn set(&self);
    /// Waits until it is set, then clears it.
    fn wait(&self) -> impl Future<Output = ()> + Send + '_;
}

impl Signal for tether::sync::Event {
    fn new() -> Self {
        tether::sync::Event::new()
    }

    fn set(&self) {
        tether::sync::Event::set(self);
    }

    async fn wait(&self) {
        tether::sync::Event::wait(self).await;
        self.clear();
    }
}

impl Signal for tokio::sync::Notify {
    fn new() -> Self {
        tokio::sync::Notify::new()
    }

    fn set(&self) {
        // A permit is stored if nobody waits yet: the same "set until consumed" as an event.
        self.notify_one();
    }

    async fn wait(&self) {
        self.notified().await;
    }
}

/// smol's way to build an event: a flag and an `event-listener`.
#[derive(Debug, Default)]
pub struct SmolEvent {
    flag: std::sync::atomic::AtomicBool,
    event: event_listener::Event,
}

impl Signal for SmolEvent {
    fn new() -> Self {
        SmolEvent::default()
    }

    fn set(&self) {
        self.flag.store(true, std::sync::atomic::Ordering::Release);
        self.event.notify(1);
    }

    async fn wait(&self) {
        use std::sync::atomic::Ordering::AcqRel;
        loop {
            if self.flag.swap(false, AcqRel) {
                return;
            }
            let listener = self.event.listen();
            if self.flag.swap(false, AcqRel) {
                return;
            }
            listener.await;
        }
    }
}

/// Ping-pong over two signals: the main task sets the first and waits on the second, a second
/// task does the opposite, `rounds` times.
pub async fn event_ping_pong<R: Rt, S: Signal>(rounds: usize) {
    let ping = std::sync::Arc::new(S::new());
    let pong = std::sync::Arc::new(S::new());
    let ponger = R::spawn({
        let (ping, pong) = (ping.clone(), pong.clone());
        async move {
            for _ in 0..rounds {
                ping.wait().await;
                pong.set();
            }
        }
    });
    for _ in 0..rounds {
        ping.set();
        pong.wait().await;
    }
    ponger.await;
}

/// A mutual-exclusion lock, each runtime's own.
pub trait AsyncLock: Send + Sync + 'static {
    /// An unlocked lock.
    fn new() -> Self;
    /// Takes the lock, yields once while holding it (so the others queue up behind it), and
    /// lets it go.
    fn hold_across_yield<R: Rt>(&self) -> impl Future<Output = ()> + Send + '_;
}

impl AsyncLock for tether::sync::Lock {
    fn new() -> Self {
        tether::sync::Lock::new()
    }

    async fn hold_across_yield<R: Rt>(&self) {
        let _guard = self.lock().await;
        R::sleep_zero().await;
    }
}

impl AsyncLock for tokio::sync::Mutex<()> {
    fn new() -> Self {
        tokio::sync::Mutex::new(())
    }

    async fn hold_across_yield<R: Rt>(&self) {
        let _guard = self.lock().await;
        R::sleep_zero().await;
    }
}

impl AsyncLock for async_lock::Mutex<()> {
    fn new() -> Self {
        async_lock::Mutex::new(())
    }

    async fn hold_across_yield<R: Rt>(&self) {
        let _guard = self.lock().await;
        R::sleep_zero().await;
    }
}

/// Tasks contending for the lock in the lock row.
pub const LOCK_TASKS: usize = 100;
/// Acquisitions per task in the lock row.
pub const LOCK_ROUNDS: usize = 10;

/// [`LOCK_TASKS`] tasks, each taking the same lock [`LOCK_ROUNDS`] times and holding it across a
/// yield.
pub async fn lock_contended<R: Rt, L: AsyncLock>() {
    let lock = std::sync::Arc::new(L::new());
    let handles: Vec<_> = (0..LOCK_TASKS)
        .map(|_| {
            let lock = lock.clone();
            R::spawn(async move {
                for _ in 0..LOCK_ROUNDS {
                    lock.hold_across_yield::<R>().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
}
