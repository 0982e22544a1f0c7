//! The fused CPU training path: same maths as the dfdx modules, on plain slices, checked
//! against them by tests (same outputs and gradients within 1e-5).

pub mod kernels;
pub mod net;
pub mod optim;
pub mod params;

pub use net::FastNet;
pub use optim::FastOptimizer;

/// Layer widths of an architecture name, input and output included ("512-128" → 784,512,128,10).
pub fn widths(arch: &str) -> Option<Vec<usize>> {
    let hidden: Vec<usize> = arch
        .split('-')
        .map(|w| w.parse().ok())
        .collect::<Option<_>>()?;
    let mut w = vec![crate::data::PIXELS];
    w.extend(hidden);
    w.push(crate::data::CLASSES);
    Some(w)
}
