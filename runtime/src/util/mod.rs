//! Leaves: data structures and helpers that import nothing from the rest of the crate.
//!
//! Everything above uses them; they use only std (and loom, under the models).

pub(crate) mod blocking;
pub(crate) mod clock;
pub(crate) mod instant;
pub(crate) mod loom_facade;
// Re-exported, hidden, for the `tether` tool only (`crate::__inspect`); its pairs of fields
// (an address and a length) are documented once, on the first of each pair.
#[allow(missing_docs)]
pub mod published;
pub(crate) mod registry;
pub(crate) mod rng;
pub(crate) mod slab;
pub(crate) mod timers;
pub(crate) mod waker_slot;
pub(crate) mod woken;
