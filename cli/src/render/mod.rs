//! Everything that turns a [`Snapshot`] into text: `ps`'s columns, `pstree`'s tree and cycles,
//! and the pieces `top` shares with them.

mod cycles;
pub mod format;
mod ps;
mod tree;

pub use cycles::find as cycles;
pub use ps::ps;
pub use tree::pstree;

#[cfg(test)]
mod tests;
