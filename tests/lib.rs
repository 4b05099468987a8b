//! Shared helpers for tether's behaviour tests (under `tests/`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Counts drops: a test hands `guard()`s to futures and checks that every destructor ran.
#[derive(Debug, Clone, Default)]
pub struct DropCounter {
    dropped: Rc<Cell<usize>>,
}

impl DropCounter {
    /// A new counter at zero.
    pub fn new() -> DropCounter {
        DropCounter::default()
    }

    /// A value whose drop counts once.
    pub fn guard(&self) -> DropGuard {
        DropGuard {
            dropped: self.dropped.clone(),
        }
    }

    /// How many guards have been dropped.
    pub fn dropped(&self) -> usize {
        self.dropped.get()
    }
}

/// Counts one drop on its [`DropCounter`].
#[derive(Debug)]
pub struct DropGuard {
    dropped: Rc<Cell<usize>>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.dropped.set(self.dropped.get() + 1);
    }
}

/// An ordered log of events, shareable between tasks.
#[derive(Debug, Clone, Default)]
pub struct Log {
    events: Rc<RefCell<Vec<String>>>,
}

impl Log {
    /// A new, empty log.
    pub fn new() -> Log {
        Log::default()
    }

    /// Appends an event.
    pub fn push(&self, event: impl Into<String>) {
        self.events.borrow_mut().push(event.into());
    }

    /// The events so far.
    pub fn events(&self) -> Vec<String> {
        self.events.borrow().clone()
    }
}

/// Generates `single::NAME` and `two_workers::NAME` for each scenario `NAME` (an `async fn` of
/// the calling module): the same behaviour test on the single-threaded loop and on a runtime of
/// two workers.
#[macro_export]
macro_rules! on_both_flavors {
    ($($name:ident),* $(,)?) => {
        mod single {
            $(
                #[test]
                fn $name() {
                    tether::Runtime::builder().build().run(super::$name());
                }
            )*
        }
        mod two_workers {
            $(
                #[test]
                fn $name() {
                    tether::Runtime::builder().workers(2).build().run(super::$name());
                }
            )*
        }
    };
}
