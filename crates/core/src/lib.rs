//! mnist-lab's training core: plain specs, data sets, presets, the run store, the fused CPU
//! path, the dfdx reference networks and the engine that trains units on a worker thread.
//! Nothing here knows a terminal or a statistic: the study crate and the app build on it.
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod data;
pub mod engine;
pub mod fast;
pub mod files;
pub mod model;
pub mod optim;
pub mod preset;
pub mod runs;
pub mod signals;
pub mod spec;
pub mod text;
pub mod thread_policy;
