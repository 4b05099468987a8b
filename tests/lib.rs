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
///
/// `on_both_flavors!(#[attr] with |builder| configure; NAME, ...)` puts the attributes on every
/// generated test and passes both builders through `configure` first (a pool size, a switch to
/// turn on before the runtime starts).
#[macro_export]
macro_rules! on_both_flavors {
    // One test: its attributes come in one bracketed group, so that the list of names can be
    // repeated over without repeating the attributes at the same depth.
    (@test [$(#[$attr:meta])*] $name:ident, |$builder:ident| $start:expr, $configure:expr) => {
        #[test]
        $(#[$attr])*
        fn $name() {
            let $builder = $start;
            $configure.build().run(super::$name());
        }
    };
    (@flavors $attrs:tt |$builder:ident| $configure:expr; $($name:ident),*) => {
        mod single {
            $(
                $crate::on_both_flavors!(
                    @test $attrs $name, |$builder| tether::Runtime::builder(), $configure
                );
            )*
        }
        mod two_workers {
            $(
                $crate::on_both_flavors!(
                    @test $attrs $name, |$builder| tether::Runtime::builder().workers(2), $configure
                );
            )*
        }
    };
    ($(#[$attr:meta])* with |$builder:ident| $configure:expr; $($name:ident),* $(,)?) => {
        $crate::on_both_flavors!(@flavors [$(#[$attr])*] |$builder| $configure; $($name),*);
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_flavors!(with |builder| builder; $($name),*);
    };
}
