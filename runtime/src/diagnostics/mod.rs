//! What the task core's records say to a person: the task tree of `dump_tasks`, deadlock
//! reports and debug mode's reports.
//!
//! It reads the task core and is called by the loop (which owns the debug settings and decides
//! when to report); the public calls (`all_tasks`, `dump_tasks`) are in `crate::task`.

pub(crate) mod deadlock;
pub(crate) mod debug;
pub(crate) mod listing;
