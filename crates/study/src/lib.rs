//! mnist-lab's study layer: statistics over finished units, benchmarks, reports, exports and
//! the session both front-ends share. Built on the training core, whose modules it re-exports
//! so that `crate::runs` and the like read the same in every crate of the workspace.
#![deny(clippy::undocumented_unsafe_blocks)]

pub use mnist_lab_core::{
    data, engine, fast, files, model, optim, preset, runs, signals, spec, text, thread_policy,
};

pub mod bench;
pub mod estimate;
pub mod export;
pub mod insight;
pub mod report;
pub mod roofline;
pub mod session;
