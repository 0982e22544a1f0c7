//! In-place optimiser updates for the fused path, over both threads for large tensors.

use rayon::prelude::*;

use super::net::FastNet;
use crate::optim::rules;
use crate::spec::OptimizerSpec;

/// Elements per parallel chunk: element-wise rules give the same result however they split.
const CHUNK: usize = 16 * 1024;

crate::wide_fn! {
    /// One optimiser update of a tensor (or a chunk of one), as wide as the CPU allows.
    fn apply(spec: OptimizerSpec, t: i32, p: &mut [f32], g: &[f32], a: &mut [f32], b: &mut [f32]) {
        rules::apply(spec, t, p, g, a, b)
    }
}

#[derive(Debug, Clone)]
pub struct FastOptimizer {
    spec: OptimizerSpec,
    t: i32,
    /// Two state slots per trained tensor, in (w, b, gamma, beta) order per layer.
    state: Vec<(Vec<f32>, Vec<f32>)>,
}

impl FastOptimizer {
    pub fn new(spec: OptimizerSpec) -> Self {
        FastOptimizer {
            spec,
            t: 0,
            state: Vec::new(),
        }
    }

    /// Sets the learning rate of the next steps (a schedule's rate for the epoch).
    pub fn set_lr(&mut self, lr: f32) {
        self.spec = self.spec.with_lr(lr);
    }

    pub fn step(&mut self, net: &mut FastNet) {
        self.t += 1;
        let init = rules::initial_state(self.spec);
        let (spec, t) = (self.spec, self.t);
        let mut tensors: Vec<(&mut [f32], &[f32])> = Vec::new();
        for (l, layer) in net.layers.iter_mut().enumerate() {
            let g = &net.grads;
            tensors.push((&mut layer.w[..], &g.w[l][..]));
            tensors.push((&mut layer.b[..], &g.b[l][..]));
            if let Some(bn) = layer.bn.as_mut() {
                tensors.push((&mut bn.gamma[..], &g.gamma[l][..]));
                tensors.push((&mut bn.beta[..], &g.beta[l][..]));
            }
        }
        // Each tensor's two state slots, made at the first step.
        for (p, _) in &tensors[self.state.len()..] {
            self.state.push((vec![init; p.len()], vec![0.0; p.len()]));
        }
        // Every tensor's chunks in one parallel region (one fork/join a step, not one per
        // large tensor); small tensors are one chunk each. The rules are element-wise, so
        // the split changes no bits.
        let mut chunks = Vec::new();
        for ((p, g), (a, b)) in tensors.into_iter().zip(self.state.iter_mut()) {
            chunks.extend(
                p.chunks_mut(CHUNK)
                    .zip(g.chunks(CHUNK))
                    .zip(a.chunks_mut(CHUNK))
                    .zip(b.chunks_mut(CHUNK)),
            );
        }
        chunks
            .into_par_iter()
            .for_each(|(((p, g), a), b)| apply(spec, t, p, g, a, b));
        net.weights_changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 build of the update (where the CPU has it) gives the baseline build's
    /// results bit for bit: wider vectors, the same operations per element.
    #[test]
    fn the_wide_update_equals_the_baseline_one_bit_for_bit() {
        let n = 1003; // not a multiple of any vector width: the tail is covered too
        let g: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 1e-3)
            .collect();
        let spec = OptimizerSpec::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        };
        let start: Vec<f32> = (0..n).map(|i| (i as f32).sin()).collect();
        let (mut p1, mut a1, mut b1) = (start.clone(), vec![0.0; n], vec![0.0; n]);
        let (mut p2, mut a2, mut b2) = (start, vec![0.0; n], vec![0.0; n]);
        for t in 1..=3 {
            apply(spec, t, &mut p1, &g, &mut a1, &mut b1);
            rules::apply(spec, t, &mut p2, &g, &mut a2, &mut b2);
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p1), bits(&p2));
        assert_eq!(bits(&a1), bits(&a2));
        assert_eq!(bits(&b1), bits(&b2));
        assert_ne!(p1[5], (5.0f32).sin(), "the update moved the parameters");
    }
}
