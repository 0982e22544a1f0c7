//! What the benches share.

use std::time::Instant;

/// Seconds of the fastest of `calls` calls of `f` (after one call to warm up): on a shared
/// machine the slower ones include time taken away from us.
pub fn fastest_of(calls: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..calls)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}
