//! mnist-lab: train and compare small feed-forward networks on MNIST, live in a terminal.

pub mod bench;
pub mod cli;
pub mod data;
pub mod engine;
pub mod fast;
pub mod headless;
pub mod insight;
pub mod model;
pub mod optim;
pub mod preset;
pub mod report;
pub mod runs;
pub mod sched;
pub mod signals;
pub mod tui;
