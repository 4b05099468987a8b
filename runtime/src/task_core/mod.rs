//! The task core, crate-private: what a task is made of (its header, the raw task async-task
//! allocates, its stop link, its slot in a table), how its poll is supervised, what it awaits,
//! and what runs on this thread now.
//!
//! It knows nothing of the loop: the loop installs its hooks (`current::LoopHooks`) while it
//! runs, and owners of tasks implement `raw::TaskSlots`. The public task API (`Task`,
//! `create_task`, `spawn`) is the facade in `crate::task`.

pub(crate) mod awaiting;
pub(crate) mod callbacks;
pub(crate) mod current;
pub(crate) mod error;
pub(crate) mod header;
pub(crate) mod info;
pub(crate) mod inspect;
pub(crate) mod raw;
pub(crate) mod stop;
pub(crate) mod supervise;
pub(crate) mod table;
pub(crate) mod trace;
