//! Combinators: futures that run other futures or tasks inside the calling task (`gather`,
//! `first_ok`, `wait`, `as_completed`, `shield`, `select!`), over the joins in `join`.

pub(crate) mod first_ok;
pub(crate) mod gather;
pub(crate) mod join;
mod macros;
pub(crate) mod select;
pub(crate) mod wait;
