//! Leaves: data structures and helpers that import nothing from the rest of the crate.
//!
//! Everything above uses them; they use only std (and loom, under the models).

pub(crate) mod blocking;
pub(crate) mod clock;
pub(crate) mod instant;
pub(crate) mod loom_facade;
pub(crate) mod registry;
pub(crate) mod rng;
pub(crate) mod slab;
pub(crate) mod timers;
pub(crate) mod waker_slot;
pub(crate) mod woken;
