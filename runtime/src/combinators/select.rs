//! What the expansion of [`select!`](crate::select!) calls at run time: the random order of its
//! branches, and the trait that tells a finished future (the macro is in `tether-macros`).
//!
//! The order comes from a splitmix64 stream per thread, seeded once per thread from std's
//! randomly keyed hasher: a shuffle costs a few multiplications, takes no lock and needs no
//! dependency.

use std::cell::RefCell;

use futures_core::FusedFuture;

use crate::util::rng::{SplitMix64, random_seed};

thread_local! {
    static ORDER: RefCell<SplitMix64> = RefCell::new(SplitMix64::new(random_seed()));
}

/// Puts the branch indices in `order` in a random order (Fisher-Yates).
pub fn shuffle(order: &mut [usize]) {
    ORDER.with(|rng| rng.borrow_mut().shuffle(order));
}

/// What a `select!` branch's future must be: fused, so that a `select!` in a loop can tell it
/// has finished and not poll it again. A trait of its own for the error message alone.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a fused future, which a `select!` branch needs",
    label = "call `.fuse()` on it (`futures::FutureExt::fuse`)",
    note = "a fused future knows it has finished, so a `select!` in a loop never polls it again"
)]
pub trait SelectBranch: FusedFuture {}

impl<F: FusedFuture + ?Sized> SelectBranch for F {}

/// Whether a branch's future has finished (and must be skipped).
pub fn is_terminated<F: SelectBranch + ?Sized>(future: &F) -> bool {
    future.is_terminated()
}
