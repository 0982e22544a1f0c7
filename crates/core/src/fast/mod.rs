//! The fused CPU training path: same maths as the dfdx modules, on plain slices, checked
//! against them by tests (same outputs and gradients within 1e-5).

pub mod batch;
pub mod init;
pub mod kernels;
pub mod net;
pub mod params;
pub mod profile;
pub mod sparse;
pub mod update;
pub mod weights;
pub mod wide;

pub use net::{FastNet, Input};
pub use update::FastOptimizer;
