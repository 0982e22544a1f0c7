//! mnist-lab: train and compare small feed-forward networks on MNIST, live in a terminal.
//!
//! The top-level modules are layered: `LAYERS` ranks them, and a module uses only modules of a
//! lower rank (checked by `tests/layers.rs`).
#![deny(clippy::undocumented_unsafe_blocks)]

/// Every top-level module by rank, lowest first: an import may only point to a lower rank.
pub const LAYERS: &[&[&str]] = &[
    &["spec", "text", "signals", "thread_policy", "files"],
    &["data", "model"],
    &["preset", "optim"],
    &["runs", "fast"],
    &["engine", "roofline"],
    &["insight", "bench", "estimate"],
    &["report"],
    &["export", "session"],
    &["headless", "tui"],
    &["cli"],
    &["commands"],
];

// The training core and the study layer are crates of their own (`crates/`): an edit to the
// TUI rebuilds only this one. Their modules keep their paths: `mnist_lab::runs`, and
// `crate::runs` inside every crate.
pub use mnist_lab_core::{
    data, engine, fast, files, model, optim, preset, runs, signals, spec, text, thread_policy,
};
pub use mnist_lab_study::{bench, estimate, export, insight, report, roofline, session};

pub mod cli;
pub mod commands;
pub mod headless;
pub mod tui;
