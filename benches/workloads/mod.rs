//! The workloads shared by the `compare` and `runtimes` benches and the `workload` example.
//!
//! Included with `#[path]` (the peers are dev-dependencies, which the package's library cannot
//! use); not every binary uses every item.
#![allow(dead_code)]

pub mod alloc;
pub mod catalogue;
pub mod rt;
pub mod work;
