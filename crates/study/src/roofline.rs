//! A limit that counts memory: the bytes an epoch of the fast path must move, at the
//! bandwidths this machine measures for the working set each phase streams, beside the FLOP
//! limit. A training step is not all GEMM: Adam reads and writes four arrays the size of the
//! weights every batch, and the sparse first layer reads one weight row per non-zero pixel of
//! every image. Where those bytes take longer than the FLOPs, the FLOP limit is unreachable,
//! and a speed claim is a ratio to the larger of the two.
//!
//! The byte model (per training batch of B images, P weights in all, the first layer h₁ wide,
//! n non-zero pixels per image on average), every access counted once, writes as reads:
//! * weights: the forward and backward passes read them (2P, the first layer's forward read is
//!   the gather below), the weight gradients are written (P), Adam reads W, g, m, v and writes
//!   W, m, v (7P): 10P floats from where 4P floats fit;
//! * the sparse first layer: per image n rows of h₁ floats read forward, read and written for
//!   the gradient: 3·n·h₁ floats from where the first layer's weights and gradient fit;
//! * activations: each layer's output written, read back and its gradient written and read:
//!   4·B·Σwidths floats, from where one batch's activations fit.
//!
//! Evaluation of the test set reads the weights once per batch and gathers n·h₁ per image.
//! Bandwidths are measured reading a buffer of each size with every thread (`measure`).

use serde::Serialize;

use crate::spec::{Arch, Io};

/// One measured bandwidth: reading a buffer of `bytes` over and over, with every thread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bandwidth {
    pub bytes: usize,
    pub gb_per_s: f64,
}

/// Buffer sizes measured: L1, L2, L2/L3, L3 and memory on the machines we use.
pub const SIZES: [usize; 6] = [32 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 128 << 20];

/// Read bandwidth at each of `sizes`, best of a few passes, every thread reading its share.
pub fn measure(sizes: &[usize]) -> Vec<Bandwidth> {
    use rayon::prelude::*;
    sizes
        .iter()
        .map(|&bytes| {
            let n = (bytes / 4).max(1024);
            let buf: Vec<f32> = (0..n).map(|i| (i % 7) as f32).collect();
            // Enough passes for about 256 MB read per trial, at least 4.
            let passes = ((256usize << 20) / bytes).clamp(4, 4096);
            let chunk = n.div_ceil(rayon::current_num_threads().max(1));
            let mut best = f64::INFINITY;
            for _ in 0..3 {
                let t = std::time::Instant::now();
                let s: f32 = buf
                    .par_chunks(chunk)
                    .map(|c| {
                        // 32 independent sums over whole 32-float blocks: the compiler keeps
                        // them in vector registers, so the loads, not the adds, set the pace.
                        let mut acc = [0f32; 32];
                        for _ in 0..passes {
                            for block in c.chunks_exact(32) {
                                for (a, v) in acc.iter_mut().zip(block) {
                                    *a += *v;
                                }
                            }
                        }
                        acc.iter().sum::<f32>()
                    })
                    .sum();
                std::hint::black_box(s);
                best = best.min(t.elapsed().as_secs_f64());
            }
            Bandwidth {
                bytes,
                gb_per_s: (n * 4 * passes) as f64 / best / 1e9,
            }
        })
        .collect()
}

/// The bandwidth for a working set of `bytes`: that of the smallest measured buffer that
/// holds it (the largest buffer's for anything bigger).
pub fn bandwidth_for(bw: &[Bandwidth], bytes: f64) -> f64 {
    bw.iter()
        .find(|b| b.bytes as f64 >= bytes)
        .or(bw.last())
        .map_or(f64::NAN, |b| b.gb_per_s * 1e9)
}

/// Bytes one epoch moves, phase by phase, with the working set each streams from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Traffic {
    /// (phase, bytes moved, working set in bytes)
    pub phases: Vec<(&'static str, f64, f64)>,
}

impl Traffic {
    /// The byte model above for `arch` on data of `io`, `train`/`test` images, `batch`, and
    /// `nonzero` non-zero pixels per image on average.
    pub fn of(
        arch: &Arch,
        io: Io,
        (train, test): (usize, usize),
        batch: usize,
        nonzero: f64,
    ) -> Traffic {
        Self::with_first_layer(arch, io, (train, test), batch, Some(nonzero))
    }

    /// As `of`; `nonzero` None: the first layer is a dense GEMM like the others (its weights
    /// join the weights' traffic, no gather).
    pub fn with_first_layer(
        arch: &Arch,
        io: Io,
        (train, test): (usize, usize),
        batch: usize,
        nonzero: Option<f64>,
    ) -> Traffic {
        let f = 4.0; // bytes per float
        let mut widths = vec![io.inputs];
        widths.extend_from_slice(arch.hidden());
        widths.push(io.classes);
        let p: f64 = widths.windows(2).map(|w| (w[0] * w[1]) as f64).sum();
        let first = (widths[0] * widths[1]) as f64;
        let h1 = widths[1] as f64;
        let batches = train.div_ceil(batch.max(1)) as f64;
        let test_batches = test.div_ceil(batch.max(1)) as f64;
        let acts: f64 = widths[1..].iter().map(|&w| w as f64).sum();
        let Some(nonzero) = nonzero else {
            return Traffic {
                phases: vec![
                    (
                        "weights + Adam",
                        10.0 * p * f * batches + p * f * test_batches,
                        4.0 * p * f,
                    ),
                    (
                        "activations",
                        4.0 * batch as f64 * acts * f * (batches + test_batches),
                        2.0 * batch as f64 * acts * f,
                    ),
                ],
            };
        };
        Traffic {
            phases: vec![
                (
                    "weights + Adam",
                    (10.0 * p - first) * f * batches + (p - first) * f * test_batches,
                    4.0 * p * f,
                ),
                (
                    "sparse first layer",
                    3.0 * nonzero * h1 * f * train as f64 + nonzero * h1 * f * test as f64,
                    2.0 * first * f,
                ),
                (
                    "activations",
                    4.0 * batch as f64 * acts * f * (batches + test_batches),
                    2.0 * batch as f64 * acts * f,
                ),
            ],
        }
    }

    /// Seconds the phases take at the bandwidths of their working sets.
    pub fn seconds(&self, bw: &[Bandwidth]) -> f64 {
        self.phases
            .iter()
            .map(|(_, bytes, set)| bytes / bandwidth_for(bw, *set))
            .sum()
    }

    pub fn bytes(&self) -> f64 {
        self.phases.iter().map(|p| p.1).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_model_counts_what_the_comment_says() {
        // 4 inputs, 3 hidden, 2 classes: P = 12 + 6 = 18, first layer 12, h₁ = 3.
        let arch = Arch::parse("3").unwrap();
        let io = Io {
            inputs: 4,
            classes: 2,
        };
        let t = Traffic::of(&arch, io, (8, 4), 4, 2.0);
        let (_, w, set) = t.phases[0];
        // 2 training batches of (10·18 − 12) floats, 1 test batch of 6 floats.
        assert_eq!(w, (2.0 * 168.0 + 6.0) * 4.0);
        assert_eq!(set, 4.0 * 18.0 * 4.0);
        let (_, g, _) = t.phases[1];
        assert_eq!(g, (3.0 * 2.0 * 3.0 * 8.0 + 2.0 * 3.0 * 4.0) * 4.0);
        let (_, a, _) = t.phases[2];
        assert_eq!(a, 4.0 * 4.0 * 5.0 * 4.0 * 3.0);
        assert_eq!(t.bytes(), w + g + a);
    }

    #[test]
    fn a_working_set_reads_at_the_bandwidth_of_the_buffer_that_holds_it() {
        let bw = [
            Bandwidth {
                bytes: 1000,
                gb_per_s: 100.0,
            },
            Bandwidth {
                bytes: 100_000,
                gb_per_s: 10.0,
            },
        ];
        assert_eq!(bandwidth_for(&bw, 500.0), 100e9);
        assert_eq!(bandwidth_for(&bw, 5000.0), 10e9);
        assert_eq!(bandwidth_for(&bw, 1e9), 10e9);
    }

    #[test]
    fn bandwidth_is_measured_as_a_positive_rate() {
        let bw = measure(&[32 << 10]);
        assert!(bw[0].gb_per_s.is_finite() && bw[0].gb_per_s > 0.1, "{bw:?}");
    }
}
