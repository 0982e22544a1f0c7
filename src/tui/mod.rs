//! The terminal UI: state (`app`), keys (`keys`), drawing (`ui`), and the runtime loop.

pub mod app;
pub mod keys;
pub mod runtime;
pub mod ui;
