//! mnist-lab: train and compare small feed-forward networks on MNIST, live in a terminal.
//!
//! The top-level modules are layered: `LAYERS` ranks them, and a module uses only modules of a
//! lower rank (checked by `tests/layers.rs`).
#![deny(clippy::undocumented_unsafe_blocks)]

/// Every top-level module by rank, lowest first: an import may only point to a lower rank.
pub const LAYERS: &[&[&str]] = &[
    &["spec", "text", "signals", "sched", "files"],
    &["data", "model"],
    &["preset", "optim"],
    &["runs", "fast"],
    &["engine"],
    &["insight", "bench"],
    &["report"],
    &["export", "session"],
    &["headless", "tui"],
    &["cli"],
    &["commands"],
];

pub mod bench;
pub mod cli;
pub mod commands;
pub mod data;
pub mod engine;
pub mod export;
pub mod fast;
pub mod files;
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
