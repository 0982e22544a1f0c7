//! mnist-lab: train and compare small feed-forward networks on MNIST, live in a terminal.
//!
//! Layers, lowest first; each module uses only those below it (checked by `tests/layers.rs`):
//! spec → data → preset → runs → model, optim, fast → engine → insight → report → export →
//! session → headless, tui → cli.
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod bench;
pub mod cli;
pub mod data;
pub mod engine;
pub mod export;
pub mod fast;
pub mod headless;
pub mod insight;
pub mod model;
pub mod optim;
pub mod preset;
pub mod report;
pub mod runs;
pub mod sched;
pub mod session;
pub mod signals;
pub mod spec;
pub mod text;
pub mod tui;
