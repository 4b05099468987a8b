//! The header every tether task carries in its allocation (async-task metadata).

use std::cell::Cell;
use std::fmt;
use std::mem::ManuallyDrop;
use std::num::NonZeroU64;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::callbacks::{Callbacks, DoneCallback};
use super::info::{GroupId, Outcome, Owner};
use super::stop::{StopNode, StopSlot};
use crate::util::loom_facade::lock;

/// A task's identity, unique for the life of the process.
///
/// Ids count up from 1 in creation order on each thread, which is also the number in a task's
/// default name (`Task-1`, `Task-2`, ... as asyncio names them). Each thread takes its ids in
/// blocks, so tasks created on different threads are numbered from different blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(NonZeroU64);

/// How many ids a thread takes from the process-wide counter at a time: one shared atomic
/// read-modify-write per this many tasks instead of one per task.
const ID_BLOCK: u64 = 1024;

impl TaskId {
    pub(crate) fn next() -> TaskId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            /// The next id of this thread's block, and the end of the block.
            static BLOCK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        let take_block = || {
            let start = NEXT.fetch_add(ID_BLOCK, Ordering::Relaxed);
            (start, start + ID_BLOCK)
        };
        let id = BLOCK
            .try_with(|block| {
                let (mut next, mut end) = block.get();
                if next == end {
                    (next, end) = take_block();
                }
                block.set((next + 1, end));
                next
            })
            // A task created while this thread's locals are torn down: a block of its own.
            .unwrap_or_else(|_| take_block().0);
        TaskId(NonZeroU64::new(id).expect("task ids never wrap: 2^64 tasks is not reachable"))
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }

    /// The id numbered `id`, if it is one (ids are never 0).
    pub(crate) fn from_u64(id: u64) -> Option<TaskId> {
        NonZeroU64::new(id).map(TaskId)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Cancellation has been requested.
const CANCEL_REQUESTED: u8 = 1 << 0;
/// The header's boxed extras exist (a name, a message, or done callbacks may be there).
const HAS_EXTRAS: u8 = 1 << 4;
/// The task has finished, and how (two bits, see [`Outcome`]).
const FINISHED: u8 = 1 << 1;
const OUTCOME_SHIFT: u8 = 2;
const OUTCOME_MASK: u8 = 0b11 << OUTCOME_SHIFT;
/// The reference held by the task's own waker (`OwnWaker`) has been given up.
const WAKER_GONE: u8 = 1 << 5;
/// The task has been asked to stop gracefully (see `stop`); its own node, if it has one, says
/// so too.
const STOP_REQUESTED: u8 = 1 << 6;

/// Per-task state shared by the task's future, its handles and its owner.
///
/// Cancellation is a request, not an act: `request_cancel` sets a flag and wakes the task, and
/// the task's own wrapper future (see `supervise`) drops the user's future the next time it is
/// polled. That keeps every drop on the thread that runs the task, lets any thread cancel, and
/// means the task's output is `Err(Cancelled)` only once the future is really gone.
pub(crate) struct Header {
    pub(crate) id: TaskId,
    /// The task that created this one, if a tether task did.
    pub(crate) parent: Option<TaskId>,
    /// The task's [`Owner`], in three fields (see [`OwnerKind`]).
    owner_kind: OwnerKind,
    /// The group of a group child (else 0).
    owner_group: u64,
    /// The task running a group child's group, if a task runs it (else `None`).
    owner_runner: Option<TaskId>,
    /// Where the task was created.
    pub(crate) location: &'static std::panic::Location<'static>,
    /// The id of the loop (or multi-threaded runtime) whose queue the task's schedule function
    /// pushes onto; 0 for tasks whose schedule function captures its queue instead (group
    /// children: their group's queue; tasks submitted through a `Handle`: their loop's shared
    /// part). Schedule functions find
    /// their queue through it instead of capturing a reference: async-task clones and drops a
    /// task's waker around every call of a schedule function that captures anything.
    pub(crate) home: u64,
    /// The task's `tracing` span, entered around each poll (the `tracing` feature).
    #[cfg(feature = "tracing")]
    pub(crate) span: tracing::Span,
    /// `CANCEL_REQUESTED`, `FINISHED` and the outcome bits.
    state: AtomicU8,
    /// The task's key in its owner's table ([`NO_SLOT`]: none yet), which the owner's hook frees
    /// when the future ends. Kept here, beside the state byte in what would be padding, rather
    /// than in the hook: every task saves the word, and the loop's hook needs nothing else.
    /// Written at creation, or once on the loop by a task adopted there, read by the hook on
    /// the same thread: relaxed.
    slot: AtomicU32,
    /// The task's own waker while its future is alive (what a cancellation request wakes).
    waker: OwnWaker,
    /// Rarely used fields, with their lock, allocated the first time one is set: a plain task
    /// pays one pointer for them (a lock inline would cost it another word). Null until then;
    /// freed with the header.
    extras: AtomicPtr<Mutex<Extras>>,
    /// Where graceful stop requests reach the task from: its owner's node, then its own.
    stop: StopSlot,
}

/// What kind of owner a task has: the tag of its [`Owner`], kept apart from the group's
/// fields so that the header can place it beside its state byte, in what would otherwise be
/// padding (an `Owner` field takes three words; this takes two).
///
/// Its values are published for outside tools (`crate::util::published`): keep them.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum OwnerKind {
    Handle = 0,
    Group = 1,
    Set = 2,
}

/// A task's own waker, held in its header from creation until its future ends.
///
/// The reference count it owns keeps the task alive while its future is: async-task would
/// otherwise close a pending task nothing else refers to (one waiting on something that holds
/// no waker), where tether keeps it until it ends or is cancelled. It points back at the task's
/// own allocation, so `supervise` clears it when the future ends (no cycle).
///
/// It is kept as the two raw parts of a `Waker`, not under a lock: setting it happens before the
/// task is shared, clearing it is the `WAKER_GONE` bit of the header's state (set in the same
/// atomic step as `FINISHED` when the task ends), and readers only borrow it. That is sound
/// because every reader reaches the header through something that keeps the task's allocation
/// alive on its own (a `Task` or a runnable, a `CancelHandle`'s clone of this waker, an entry of
/// a task table, which goes before the allocation does, or the task's own running poll): the
/// reference owned here may be dropped while a reader uses it, the allocation may not.
struct OwnWaker {
    /// The waker's data pointer; null until it is set. Never changed afterwards.
    data: AtomicPtr<()>,
    /// Its vtable, written with `data` and never changed afterwards.
    vtable: AtomicPtr<RawWakerVTable>,
}

impl OwnWaker {
    fn new() -> OwnWaker {
        OwnWaker {
            data: AtomicPtr::new(ptr::null_mut()),
            vtable: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Calls `f` with the waker, borrowed, if it was set.
    fn with<R>(&self, f: impl FnOnce(&Waker) -> R) -> Option<R> {
        let data = self.data.load(Ordering::Acquire);
        if data.is_null() {
            return None;
        }
        let vtable = self.vtable.load(Ordering::Relaxed);
        // SAFETY: `data` and `vtable` are the parts of a waker of this task (`set_waker`), whose
        // allocation the caller keeps alive (see the type's docs), so the waker's functions may
        // be called on them; `ManuallyDrop` keeps this borrowed copy from dropping the
        // reference the slot owns (or gave up under us: it was only counted once).
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &*vtable)) });
        Some(f(&waker))
    }

    /// Drops the reference the slot owns.
    ///
    /// # Safety
    ///
    /// Called once, by whoever set `WAKER_GONE` in the header's state (so at most once).
    unsafe fn release(&self) {
        let data = self.data.load(Ordering::Acquire);
        if data.is_null() {
            return;
        }
        let vtable = self.vtable.load(Ordering::Relaxed);
        // SAFETY: `data` and `vtable` came from the waker `set_waker` was given, whose reference
        // count the slot owns; the caller is the one party that gives it up.
        drop(unsafe { Waker::from_raw(RawWaker::new(data, &*vtable)) });
    }
}

#[derive(Default)]
pub(crate) struct Extras {
    pub(crate) name: Option<String>,
    cancel_message: Option<String>,
    callbacks: Callbacks,
    /// Polls counted while an outside tool asks for it (`crate::util::published`).
    polls: u64,
    /// Time spent in those polls, in nanoseconds.
    busy_ns: u64,
}

/// The [`Header::slot`] of a task that holds no slot (yet).
const NO_SLOT: u32 = u32::MAX;

/// A table key as a header keeps it.
///
/// # Panics
///
/// For a key from 2^32 - 1 up: a table would need that many live tasks (hundreds of GiB).
fn slot_of(key: usize) -> u32 {
    if key == usize::MAX {
        return NO_SLOT;
    }
    u32::try_from(key)
        .ok()
        .filter(|&slot| slot != NO_SLOT)
        .expect("a task table holds fewer than 2^32 - 1 live tasks")
}

/// Where a task comes from: what its header records at creation.
pub(crate) struct Origin {
    pub(crate) name: Option<String>,
    pub(crate) parent: Option<TaskId>,
    pub(crate) owner: Owner,
    pub(crate) location: &'static std::panic::Location<'static>,
    pub(crate) home: u64,
    /// The stop node whose requests reach the task (see `stop`).
    pub(crate) stop_parent: Option<Arc<StopNode>>,
    /// The task's key in its owner's table (`usize::MAX`: none yet).
    pub(crate) slot: usize,
}

impl Header {
    pub(crate) fn new(origin: Origin) -> Header {
        let id = TaskId::next();
        #[cfg(feature = "tracing")]
        let span = {
            let owner = match origin.owner {
                Owner::Handle => "handle",
                Owner::Group { .. } => "group",
                Owner::Set => "set",
            };
            let name = origin.name.clone().unwrap_or_else(|| format!("Task-{id}"));
            let parent = origin.parent.map_or(0, TaskId::as_u64);
            super::trace::task_span(&name, id.as_u64(), parent, owner, origin.location)
        };
        let Origin {
            name,
            parent,
            owner,
            location,
            home,
            stop_parent,
            slot,
        } = origin;
        let (owner_kind, owner_group, owner_runner) = match owner {
            Owner::Handle => (OwnerKind::Handle, 0, None),
            Owner::Set => (OwnerKind::Set, 0, None),
            Owner::Group { group, runner } => (OwnerKind::Group, group.0, runner),
        };
        Header {
            id,
            #[cfg(feature = "tracing")]
            span,
            parent,
            owner_kind,
            owner_group,
            owner_runner,
            location,
            home,
            state: AtomicU8::new(if name.is_some() { HAS_EXTRAS } else { 0 }),
            slot: AtomicU32::new(slot_of(slot)),
            waker: OwnWaker::new(),
            extras: AtomicPtr::new(name.map_or(ptr::null_mut(), |name| {
                Box::into_raw(Box::new(Mutex::new(Extras {
                    name: Some(name),
                    ..Extras::default()
                })))
            })),
            stop: StopSlot::new(stop_parent),
        }
    }

    /// The task's owner.
    pub(crate) fn owner(&self) -> Owner {
        match self.owner_kind {
            OwnerKind::Handle => Owner::Handle,
            OwnerKind::Set => Owner::Set,
            OwnerKind::Group => Owner::Group {
                group: GroupId(self.owner_group),
                runner: self.owner_runner,
            },
        }
    }

    /// The task's key in its owner's table (`usize::MAX`: none).
    pub(crate) fn slot(&self) -> usize {
        match self.slot.load(Ordering::Relaxed) {
            NO_SLOT => usize::MAX,
            slot => slot as usize,
        }
    }

    /// Records the key a task adopted by a loop took in its table (see `runtime::handle`).
    pub(crate) fn set_slot(&self, key: usize) {
        self.slot.store(slot_of(key), Ordering::Relaxed);
    }

    /// `true` for a group child.
    pub(crate) fn in_group(&self) -> bool {
        self.owner_kind == OwnerKind::Group
    }

    /// The extras, if they have been allocated.
    fn extras(&self) -> Option<&Mutex<Extras>> {
        let extras = self.extras.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a box installed by `extras_or_init` (or `new`), which is
        // only freed when the header is dropped, so it lives as long as `&self`.
        (!extras.is_null()).then(|| unsafe { &*extras })
    }

    /// The extras, allocated now if they have not been.
    fn extras_or_init(&self) -> &Mutex<Extras> {
        if let Some(extras) = self.extras() {
            return extras;
        }
        let new = Box::into_raw(Box::default());
        match self.extras.compare_exchange(
            ptr::null_mut(),
            new,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: `new` is now installed, and lives until the header is dropped.
            Ok(_) => unsafe { &*new },
            Err(installed) => {
                // Another thread installed its box first: ours was never shared.
                // SAFETY: `new` came from `Box::into_raw` above and nobody else has it.
                drop(unsafe { Box::from_raw(new) });
                // SAFETY: `installed` is non-null (the exchange failed) and installed for good,
                // as in `extras`.
                unsafe { &*installed }
            }
        }
    }

    fn with_extras<R>(&self, f: impl FnOnce(&mut Extras) -> R) -> R {
        self.state.fetch_or(HAS_EXTRAS, Ordering::AcqRel);
        f(&mut lock(self.extras_or_init()))
    }

    fn read_extras<R>(&self, f: impl FnOnce(Option<&Extras>) -> R) -> R {
        match self.extras() {
            Some(extras) => f(Some(&lock(extras))),
            None => f(None),
        }
    }

    /// The task's name: the one it was given, or `Task-<id>`.
    pub(crate) fn name(&self) -> String {
        self.read_extras(|extras| extras.and_then(|e| e.name.clone()))
            .unwrap_or_else(|| format!("Task-{}", self.id))
    }

    pub(crate) fn set_name(&self, name: String) {
        self.with_extras(|extras| extras.name = Some(name));
    }

    /// Stores the task's own waker, once, before the task is shared with anyone (while only
    /// its creator holds its runnable and its `Task`).
    pub(crate) fn set_waker(&self, waker: Waker) {
        debug_assert!(
            self.waker.data.load(Ordering::Relaxed).is_null(),
            "a task's waker is set once"
        );
        let waker = ManuallyDrop::new(waker);
        self.waker
            .vtable
            .store(ptr::from_ref(waker.vtable()).cast_mut(), Ordering::Relaxed);
        self.waker
            .data
            .store(waker.data().cast_mut(), Ordering::Release);
    }

    /// Calls `f` with the task's waker, borrowed, while its future is alive.
    fn with_waker<R>(&self, f: impl FnOnce(&Waker) -> R) -> Option<R> {
        if self.state.load(Ordering::Acquire) & WAKER_GONE != 0 {
            return None;
        }
        self.waker.with(f)
    }

    /// A clone of the task's waker, while its future is alive.
    pub(crate) fn waker(&self) -> Option<Waker> {
        self.with_waker(Waker::clone)
    }

    /// Drops the stored waker; called when the task's future ends (a no-op once `finish` has).
    pub(crate) fn clear_waker(&self) {
        // A plain load first: when `finish` has already done it, no read-modify-write at all.
        if self.state.load(Ordering::Relaxed) & WAKER_GONE != 0 {
            return;
        }
        if self.state.fetch_or(WAKER_GONE, Ordering::AcqRel) & WAKER_GONE == 0 {
            // SAFETY: this call set WAKER_GONE.
            unsafe { self.waker.release() };
        }
    }

    pub(crate) fn is_cancel_requested(&self) -> bool {
        self.state.load(Ordering::Acquire) & CANCEL_REQUESTED != 0
    }

    /// Asks the task to stop. Returns `false` if it has already finished. A later message
    /// replaces an earlier one, as in asyncio.
    pub(crate) fn request_cancel(&self, message: Option<String>) -> bool {
        if self.is_finished() {
            return false;
        }
        if message.is_some() {
            self.with_extras(|extras| extras.cancel_message = message);
        }
        self.state.fetch_or(CANCEL_REQUESTED, Ordering::AcqRel);
        self.with_waker(Waker::wake_by_ref);
        true
    }

    /// Asks the task, and what it owns, to stop gracefully. Returns `false` if it has already
    /// finished.
    pub(crate) fn request_stop(&self) -> bool {
        if self.is_finished() {
            return false;
        }
        // The bit first, then the slot: `StopSlot::own_node` does the opposite, so a node made
        // meanwhile is requested by one side or the other.
        self.state.fetch_or(STOP_REQUESTED, Ordering::SeqCst);
        self.stop.request_own();
        true
    }

    /// `true` if the task, or an owner above it, has been asked to stop gracefully.
    pub(crate) fn is_stop_requested(&self) -> bool {
        self.state.load(Ordering::Acquire) & STOP_REQUESTED != 0 || self.stop.is_requested()
    }

    /// The task's own stop node, made now if it has none: the parent node of the tasks it
    /// creates, and what code waiting for a request registers on.
    /// Called only by the running task itself.
    pub(crate) fn stop_node(&self) -> Arc<StopNode> {
        self.stop
            .own_node(|| self.state.load(Ordering::SeqCst) & STOP_REQUESTED != 0)
    }

    pub(crate) fn cancel_message(&self) -> Option<String> {
        self.read_extras(|extras| extras.and_then(|e| e.cancel_message.clone()))
    }

    /// Records how the task ended, drops its stored waker (in the same atomic step, which is
    /// why `supervise` leaves that to this), and returns its done callbacks, to be run on the
    /// loop.
    pub(crate) fn finish(&self, outcome: Outcome) -> Callbacks {
        let before = self.state.fetch_or(
            FINISHED | WAKER_GONE | ((outcome as u8) << OUTCOME_SHIFT),
            Ordering::AcqRel,
        );
        if before & WAKER_GONE == 0 {
            // SAFETY: the step above set WAKER_GONE.
            unsafe { self.waker.release() };
        }
        self.stop.close_own();
        if before & HAS_EXTRAS == 0 {
            // No extras, so no callbacks: one atomic, no lock. `add_callback` sets HAS_EXTRAS
            // under the lock before it checks FINISHED, so it cannot slip in between.
            return Callbacks::default();
        }
        self.extras()
            .map(|extras| std::mem::take(&mut lock(extras).callbacks))
            .unwrap_or_default()
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.state.load(Ordering::Acquire) & FINISHED != 0
    }

    /// How the task ended, once it has.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        let state = self.state.load(Ordering::Acquire);
        (state & FINISHED != 0).then(|| Outcome::from_bits((state & OUTCOME_MASK) >> OUTCOME_SHIFT))
    }

    /// Registers a done callback. Returns it back if the task has already finished, for the
    /// caller to schedule.
    pub(crate) fn add_callback(&self, callback: DoneCallback) -> Result<u64, DoneCallback> {
        let mut extras = lock(self.extras_or_init());
        // One atomic step marks the extras and reads FINISHED. Either `finish` already ran (the
        // callback is handed back to be scheduled), or it will see HAS_EXTRAS and take the
        // callbacks under this lock, after the push below: none is lost.
        let before = self.state.fetch_or(HAS_EXTRAS, Ordering::AcqRel);
        if before & FINISHED != 0 {
            return Err(callback);
        }
        Ok(extras.callbacks.push(callback))
    }

    pub(crate) fn remove_callback(&self, key: u64) -> usize {
        self.extras()
            .map_or(0, |extras| lock(extras).callbacks.remove(key))
    }
}

impl Header {
    /// Counts one poll that took `took` (only while an outside tool asks for it: this takes the
    /// extras' lock, and allocates them the first time).
    pub(crate) fn count_poll(&self, took: std::time::Duration) {
        self.with_extras(|extras| {
            extras.polls += 1;
            extras.busy_ns = extras.busy_ns.saturating_add(took.as_nanos() as u64);
        });
    }

    /// The extras, locked (tests of the published layout).
    #[cfg(all(test, feature = "inspect"))]
    pub(crate) fn extras_for_test(&self) -> std::sync::MutexGuard<'_, Extras> {
        lock(self.extras_or_init())
    }

    /// Publishes where an outside tool finds each field of a header and of its extras.
    pub(crate) fn publish_layout() {
        use crate::util::published::{field, set_field};
        use std::mem::offset_of;
        set_field(field::HEADER_ID, offset_of!(Header, id));
        set_field(field::HEADER_PARENT, offset_of!(Header, parent));
        set_field(field::HEADER_OWNER_KIND, offset_of!(Header, owner_kind));
        set_field(field::HEADER_OWNER_GROUP, offset_of!(Header, owner_group));
        set_field(field::HEADER_OWNER_RUNNER, offset_of!(Header, owner_runner));
        set_field(field::HEADER_LOCATION, offset_of!(Header, location));
        set_field(field::HEADER_STATE, offset_of!(Header, state));
        set_field(field::HEADER_EXTRAS, offset_of!(Header, extras));
        set_field(field::EXTRAS_NAME, offset_of!(Extras, name));
        set_field(field::EXTRAS_POLLS, offset_of!(Extras, polls));
        set_field(field::EXTRAS_BUSY, offset_of!(Extras, busy_ns));
        // Where a mutex keeps what it guards is std's business: measured on one.
        let extras = Mutex::new(Extras::default());
        let data = ptr::from_ref(&*lock(&extras)).addr() - ptr::from_ref(&extras).addr();
        set_field(field::EXTRAS_DATA, data);
    }
}

// What the published layout assumes of the types it names (checked here, where they are).
const _: () = {
    assert!(size_of::<TaskId>() == 8 && size_of::<Option<TaskId>>() == 8);
    assert!(size_of::<OwnerKind>() == 1);
    assert!(size_of::<AtomicPtr<Mutex<Extras>>>() == 8);
    assert!(size_of::<&'static std::panic::Location<'static>>() == 8);
};

impl Drop for Header {
    fn drop(&mut self) {
        let extras = *self.extras.get_mut();
        if !extras.is_null() {
            // SAFETY: installed from `Box::into_raw` and never freed before; `&mut self` means
            // nobody borrows it any more.
            drop(unsafe { Box::from_raw(extras) });
        }
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("cancel_requested", &self.is_cancel_requested())
            .field("outcome", &self.outcome())
            .finish()
    }
}

#[cfg(test)]
mod size_tests {
    use super::{GroupId, Header, Origin, Owner, TaskId};

    #[test]
    fn the_owner_kind_shares_the_state_bytes_word() {
        // id, parent, two owner words, location, home, the state word (state, owner kind, slot),
        // the waker's two words, extras and the stop slot; and the `tracing` span, if on.
        #[cfg(not(feature = "tracing"))]
        let span = 0;
        #[cfg(feature = "tracing")]
        let span = size_of::<tracing::Span>();
        assert_eq!(size_of::<Header>(), 11 * size_of::<u64>() + span);
    }

    #[test]
    fn the_owner_reads_back_as_it_was_given() {
        let owners = [
            Owner::Handle,
            Owner::Set,
            Owner::Group {
                group: GroupId(7),
                runner: None,
            },
            Owner::Group {
                group: GroupId(8),
                runner: Some(TaskId::next()),
            },
        ];
        for owner in owners {
            let header = Header::new(Origin {
                name: None,
                parent: None,
                owner,
                location: std::panic::Location::caller(),
                home: 0,
                stop_parent: None,
                slot: usize::MAX,
            });
            assert_eq!(header.owner(), owner);
            assert_eq!(header.in_group(), matches!(owner, Owner::Group { .. }));
        }
    }
}
