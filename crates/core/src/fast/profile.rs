//! Where a training step's time goes, phase by phase and layer by layer: what `bench
//! --profile` prints, so the next change to the kernels is aimed at the largest share.

use std::time::Instant;

/// Seconds spent in each phase over the steps profiled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Per layer: the product `x·Wᵀ + b` (sparse or dense for the first layer).
    pub forward_gemm: Vec<f64>,
    /// Per layer: activation, BN and dropout forward.
    pub forward_elementwise: Vec<f64>,
    /// Softmax, cross-entropy and its gradient.
    pub loss: f64,
    /// Per layer: dropout, BN and activation backward.
    pub backward_elementwise: Vec<f64>,
    /// Per layer: the weight, bias and input gradients.
    pub backward_gemm: Vec<f64>,
    /// The optimiser's update of every tensor.
    pub optimizer: f64,
    /// Packing the input batch (sparse or dense).
    pub pack: f64,
    pub steps: usize,
    /// The first layer's useful FLOPs of one pass over the epoch (2 × non-zero pixels ×
    /// width, summed over the batches; every pixel for a dense batch): its forward and its
    /// weight gradient each do this much.
    pub first_layer_flops: f64,
}

impl Profile {
    pub fn new(layers: usize) -> Profile {
        Profile {
            forward_gemm: vec![0.0; layers],
            forward_elementwise: vec![0.0; layers],
            backward_elementwise: vec![0.0; layers],
            backward_gemm: vec![0.0; layers],
            ..Default::default()
        }
    }

    /// Every phase as (name, seconds), layers in order, forward before backward.
    pub fn phases(&self) -> Vec<(String, f64)> {
        let layers = self.forward_gemm.len();
        let mut out = vec![("pack batch".to_string(), self.pack)];
        for l in 0..layers {
            out.push((format!("L{} forward GEMM", l + 1), self.forward_gemm[l]));
            if l + 1 < layers {
                out.push((
                    format!("L{} act/BN/dropout", l + 1),
                    self.forward_elementwise[l],
                ));
            }
        }
        out.push(("softmax + loss".into(), self.loss));
        for l in (0..layers).rev() {
            if l + 1 < layers {
                out.push((
                    format!("L{} act/BN/dropout back", l + 1),
                    self.backward_elementwise[l],
                ));
            }
            out.push((format!("L{} backward GEMM", l + 1), self.backward_gemm[l]));
        }
        out.push(("optimizer".into(), self.optimizer));
        out
    }

    pub fn total(&self) -> f64 {
        self.phases().iter().map(|(_, s)| s).sum()
    }

    /// The first layer's GFLOP/s forward and backward, on the FLOPs it needs.
    pub fn first_layer_gflops(&self) -> Option<(f64, f64)> {
        let (f, b) = (*self.forward_gemm.first()?, *self.backward_gemm.first()?);
        (f > 0.0 && b > 0.0 && self.first_layer_flops > 0.0).then(|| {
            (
                self.first_layer_flops / f / 1e9,
                self.first_layer_flops / b / 1e9,
            )
        })
    }
}

/// A stopwatch that adds each lap to a phase of a profile; does nothing when not profiling.
pub struct Laps(Option<Instant>);

impl Laps {
    pub fn start(on: bool) -> Laps {
        Laps(on.then(Instant::now))
    }

    /// Adds the time since the last lap to the phase `slot` picks of `profile`.
    #[inline]
    pub fn lap(
        &mut self,
        profile: &mut Option<Profile>,
        slot: impl FnOnce(&mut Profile) -> &mut f64,
    ) {
        if let (Some(t), Some(p)) = (self.0.as_mut(), profile.as_mut()) {
            let now = Instant::now();
            *slot(p) += now.duration_since(*t).as_secs_f64();
            *t = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fast::{FastNet, Input};
    use rand::{Rng, SeedableRng};

    /// A profiled step fills every phase of every layer, counts the step, and the phases
    /// add up to the total; an unprofiled net records nothing.
    #[test]
    fn a_profiled_step_times_every_phase_of_every_layer() {
        let spec = crate::preset::load("quick").unwrap().units[0].clone();
        let widths = [784, 96, 48, 10];
        let params = crate::fast::init::initial_params(&widths, spec.init, 1);
        let mut net = FastNet::from_params(&widths, &params, &spec);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let x: Vec<f32> = (0..64 * 784).map(|_| rng.gen_range(0.0..1.0)).collect();
        let labels: Vec<u8> = (0..64).map(|_| rng.gen_range(0..10)).collect();
        net.train_step(Input::Dense(&x), &labels, &mut rng);
        assert!(net.profile.is_none(), "nothing recorded unless asked");
        net.profile = Some(Profile::new(3));
        for _ in 0..2 {
            net.train_step(Input::Dense(&x), &labels, &mut rng);
        }
        let p = net.profile.take().unwrap();
        assert_eq!(p.steps, 2);
        for l in 0..3 {
            assert!(
                p.forward_gemm[l] > 0.0 && p.backward_gemm[l] > 0.0,
                "layer {l}: {p:?}"
            );
        }
        for l in 0..2 {
            assert!(p.forward_elementwise[l] > 0.0, "layer {l}: {p:?}");
            assert!(p.backward_elementwise[l] > 0.0, "layer {l}: {p:?}");
        }
        assert!(p.loss > 0.0);
        let names: Vec<String> = p.phases().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.first().map(String::as_str), Some("pack batch"));
        assert_eq!(names.last().map(String::as_str), Some("optimizer"));
        // 3 forward GEMMs, 2 element-wise passes each way, 3 backward GEMMs, loss, pack, opt.
        assert_eq!(names.len(), 3 + 2 + 2 + 3 + 3);
        let sum: f64 = p.phases().iter().map(|(_, s)| s).sum();
        assert!((sum - p.total()).abs() < 1e-12);
        // The first layer's rate needs its FLOPs, which only the caller knows.
        assert_eq!(p.first_layer_gflops(), None);
        let mut q = p.clone();
        q.first_layer_flops = 2.0 * 64.0 * 784.0 * 96.0 * 2.0;
        let (f, b) = q.first_layer_gflops().unwrap();
        assert!((f - q.first_layer_flops / q.forward_gemm[0] / 1e9).abs() < 1e-9);
        assert!((b - q.first_layer_flops / q.backward_gemm[0] / 1e9).abs() < 1e-9);
    }
}
