//! Context variables: asyncio's `contextvars`, inherited by every task from its creator.
//!
//! A [`ContextVar`] is declared as a `static`. Every task runs in its own [`Context`], a copy of
//! its creator's taken when the task was created: a child sees the values its parent had set,
//! and what a task sets is seen by the tasks it creates afterwards, never by its parent or its
//! siblings. Copying is O(1): a context is a shared, immutable map, copied on write.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

type Value = Arc<dyn Any + Send + Sync>;

/// A set of context-variable values: asyncio's `contextvars.Context`.
///
/// Cheap to clone (one reference count), and copy-on-write: a clone changes independently of the
/// original.
///
/// # Examples
///
/// ```
/// use tether::context::{Context, ContextVar};
///
/// static USER: ContextVar<&'static str> = ContextVar::new("user");
///
/// let mut ctx = Context::new();
/// ctx.run(|| {
///     USER.set("ada");
/// });
/// assert_eq!(USER.get(), None, "the change stayed inside ctx");
/// assert_eq!(ctx.run(|| USER.get()), Some("ada"));
/// ```
#[derive(Clone, Default)]
pub struct Context {
    /// `(variable id, value)` pairs; `None` for the empty context, so tasks without context
    /// values pay nothing.
    vars: Option<Arc<Vec<(u64, Value)>>>,
}

thread_local! {
    /// The context of the code running on this thread now.
    static CURRENT: RefCell<Context> = const { RefCell::new(Context { vars: None }) };
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// `true` if no variable has a value here.
    pub fn is_empty(&self) -> bool {
        self.vars.as_ref().is_none_or(|vars| vars.is_empty())
    }

    /// Runs `f` with this context as the current one; what `f` sets stays in `self`
    /// (asyncio's `Context.run`).
    pub fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let outer = enter_context(self);
        let _restore = Restore { outer, into: self };
        f()
    }

    /// Drops this context, each value it holds the last reference to on its own under
    /// `catch_unwind`, so that a value whose `Drop` panics cannot unwind into the caller, nor
    /// abort the process by panicking again while the next value is dropped during the unwind.
    /// Returns the first panic's payload; the payloads of later ones are dropped (contained).
    #[inline]
    pub(crate) fn drop_contained(self) -> Option<Box<dyn Any + Send>> {
        // The empty context, most tasks' own, has nothing to drop.
        drop_values(self.vars?)
    }

    fn lookup(&self, id: u64) -> Option<&Value> {
        self.vars
            .as_ref()?
            .iter()
            .find(|(var, _)| *var == id)
            .map(|(_, value)| value)
    }

    fn replace(&mut self, id: u64, value: Option<Value>) -> Option<Value> {
        let vars = Arc::make_mut(self.vars.get_or_insert_with(Default::default));
        let slot = vars.iter().position(|(var, _)| *var == id);
        match (slot, value) {
            (Some(i), Some(value)) => Some(std::mem::replace(&mut vars[i].1, value)),
            (Some(i), None) => Some(vars.swap_remove(i).1),
            (None, Some(value)) => {
                vars.push((id, value));
                None
            }
            (None, None) => None,
        }
    }
}

/// Puts the outer context back when `Context::run` ends, keeping the inner one's changes.
struct Restore<'a> {
    outer: Option<Context>,
    into: &'a mut Context,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        leave_context(self.into, self.outer.take());
    }
}

/// [`Context::drop_contained`] for a context that holds values.
fn drop_values(vars: Arc<Vec<(u64, Value)>>) -> Option<Box<dyn Any + Send>> {
    // `into_inner` hands the values to exactly one of the contexts sharing them: the last.
    let mut vars = Arc::into_inner(vars)?;
    let mut first = None;
    while let Some((_, value)) = vars.pop() {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(value))) {
            match first {
                None => first = Some(payload),
                Some(_) => {
                    let _ = catch_unwind(AssertUnwindSafe(|| drop(payload)));
                }
            }
        }
    }
    first
}

/// Makes `context` current (a task's, for one poll, or [`Context::run`]'s); returns what to
/// give [`leave_context`] after it.
///
/// Most tasks have an empty context and run where the current one is empty too: then nothing
/// is swapped (`None`), and [`leave_context`] only looks for values set meanwhile.
#[inline]
pub(crate) fn enter_context(context: &mut Context) -> Option<Context> {
    CURRENT
        .try_with(|current| {
            let mut current = current.borrow_mut();
            if context.vars.is_none() && current.vars.is_none() {
                return None;
            }
            Some(std::mem::replace(&mut *current, std::mem::take(context)))
        })
        .ok()
        .flatten()
}

/// Ends what [`enter_context`] began: what was left current goes back into `context`, and
/// `outer` (what `enter_context` returned) becomes current again.
#[inline]
pub(crate) fn leave_context(context: &mut Context, outer: Option<Context>) {
    match outer {
        Some(outer) => *context = swap_current(outer),
        None => {
            // Both were empty at entry: only values set since (now current) move.
            let _ = CURRENT.try_with(|current| {
                let mut current = current.borrow_mut();
                if current.vars.is_some() {
                    *context = std::mem::take(&mut *current);
                }
            });
        }
    }
}

/// Makes `context` current and returns the one it replaces.
fn swap_current(context: Context) -> Context {
    CURRENT
        .try_with(|current| std::mem::replace(&mut *current.borrow_mut(), context))
        .unwrap_or_default()
}

/// A copy of the current context: asyncio's `contextvars.copy_context()`. O(1).
///
/// # Examples
///
/// ```
/// use tether::context::{ContextVar, copy_context};
///
/// static LEVEL: ContextVar<u8> = ContextVar::new("level");
///
/// LEVEL.set(1);
/// let mut snapshot = copy_context();
/// LEVEL.set(2);
/// assert_eq!(snapshot.run(|| LEVEL.get()), Some(1));
/// ```
pub fn copy_context() -> Context {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .unwrap_or_default()
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("values", &self.vars.as_ref().map_or(0, |vars| vars.len()))
            .finish()
    }
}

/// A context variable: asyncio's `contextvars.ContextVar`. Declare it as a `static`.
///
/// Values are per task: each task starts with its creator's values, and what it sets is seen by
/// itself and the tasks it creates afterwards, never by its parent or siblings. The value type
/// is `Clone + Send + Sync` so that a value can be read out and travel with tasks.
///
/// # Examples
///
/// ```
/// use tether::context::ContextVar;
///
/// static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
///
/// tether::run(async {
///     REQUEST_ID.set(7);
///     let child = tether::create_task(async {
///         let inherited = REQUEST_ID.get();
///         REQUEST_ID.set(8); // the child's own copy
///         inherited
///     });
///     assert_eq!(child.await.unwrap(), Some(7));
///     assert_eq!(REQUEST_ID.get(), Some(7), "the parent is unaffected");
/// });
/// ```
pub struct ContextVar<T> {
    name: &'static str,
    default: Option<fn() -> T>,
    /// Assigned on first use, so the variable can be built in a `const`.
    id: AtomicU64,
    _value: PhantomData<fn() -> T>,
}

/// Restores a variable to what it was before a [`ContextVar::set`]: asyncio's `Token`.
pub struct Token<T> {
    id: u64,
    previous: Option<Value>,
    _value: PhantomData<fn() -> T>,
}

impl<T: Clone + Send + Sync + 'static> ContextVar<T> {
    /// A variable with no default: `get` returns `None` until it is set.
    pub const fn new(name: &'static str) -> ContextVar<T> {
        ContextVar {
            name,
            default: None,
            id: AtomicU64::new(0),
            _value: PhantomData,
        }
    }

    /// A variable whose `get` returns `default()` until it is set.
    ///
    /// ```
    /// use tether::context::ContextVar;
    ///
    /// static RETRIES: ContextVar<u32> = ContextVar::with_default("retries", || 3);
    /// assert_eq!(RETRIES.get(), Some(3));
    /// ```
    pub const fn with_default(name: &'static str, default: fn() -> T) -> ContextVar<T> {
        ContextVar {
            name,
            default: Some(default),
            id: AtomicU64::new(0),
            _value: PhantomData,
        }
    }

    /// The variable's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    fn id(&self) -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = self.id.load(Ordering::Acquire);
        if id != 0 {
            return id;
        }
        let fresh = NEXT.fetch_add(1, Ordering::Relaxed);
        match self
            .id
            .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => fresh,
            Err(won) => won,
        }
    }

    /// The value in the current context, or the default, or `None`.
    pub fn get(&self) -> Option<T> {
        let id = self.id();
        let found = CURRENT
            .try_with(|current| {
                current
                    .borrow()
                    .lookup(id)
                    .and_then(|value| value.downcast_ref::<T>().cloned())
            })
            .ok()
            .flatten();
        found.or_else(|| self.default.map(|default| default()))
    }

    /// Sets the value in the current context; the token undoes it.
    pub fn set(&self, value: T) -> Token<T> {
        let id = self.id();
        let previous = CURRENT
            .try_with(|current| current.borrow_mut().replace(id, Some(Arc::new(value))))
            .ok()
            .flatten();
        Token {
            id,
            previous,
            _value: PhantomData,
        }
    }

    /// Puts the variable back to what it was before the `set` that made `token`.
    ///
    /// # Panics
    ///
    /// If `token` was made by another variable.
    pub fn reset(&self, token: Token<T>) {
        assert_eq!(
            token.id,
            self.id(),
            "a Token was passed to ContextVar::reset of another variable than `{}`; reset each variable with its own token",
            self.name
        );
        let _ = CURRENT.try_with(|current| current.borrow_mut().replace(token.id, token.previous));
    }
}

impl<T> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextVar")
            .field("name", &self.name)
            .finish()
    }
}

impl<T> fmt::Debug for Token<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("had_value", &self.previous.is_some())
            .finish()
    }
}
