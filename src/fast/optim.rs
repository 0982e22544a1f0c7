//! In-place optimiser updates for the fused path, over both threads for large tensors.

use rayon::prelude::*;

use super::net::FastNet;
use crate::optim::rules;
use crate::spec::OptimizerSpec;

/// Elements per parallel chunk: element-wise rules give the same result however they split.
const CHUNK: usize = 16 * 1024;

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
        let mut slot = 0;
        let (spec, t) = (self.spec, self.t);
        for (l, layer) in net.layers.iter_mut().enumerate() {
            let g = &net.grads;
            let mut pairs: Vec<(&mut [f32], &[f32])> = vec![
                (&mut layer.w[..], &g.w[l][..]),
                (&mut layer.b[..], &g.b[l][..]),
            ];
            if let Some(bn) = layer.bn.as_mut() {
                pairs.push((&mut bn.gamma[..], &g.gamma[l][..]));
                pairs.push((&mut bn.beta[..], &g.beta[l][..]));
            }
            for (p, g) in pairs {
                if self.state.len() <= slot {
                    self.state.push((vec![init; p.len()], vec![0.0; p.len()]));
                }
                let (a, b) = &mut self.state[slot];
                if p.len() >= 2 * CHUNK {
                    p.par_chunks_mut(CHUNK)
                        .zip(g.par_chunks(CHUNK))
                        .zip(a.par_chunks_mut(CHUNK))
                        .zip(b.par_chunks_mut(CHUNK))
                        .for_each(|(((p, g), a), b)| rules::apply(spec, t, p, g, a, b));
                } else {
                    rules::apply(spec, t, p, g, a, b);
                }
                slot += 1;
            }
        }
    }
}
