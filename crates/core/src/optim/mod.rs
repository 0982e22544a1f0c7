//! One optimiser type over dfdx's Adam and SGD and our own Keras-style RMSprop, Adagrad,
//! Adadelta (host-side updates that keep tensor ids, so gradients stay attached).

pub mod rules;
pub mod schedule;

use dfdx::nn::modules::TensorCollection;
use dfdx::nn::tensor_collection::{RecursiveWalker, TensorOptions, TensorVisitor, ViewTensorMut};
use dfdx::optim::{Adam, Momentum, Optimizer as _, OptimizerUpdateError, Sgd};
use dfdx::prelude::*;

use crate::model::DevError;
use crate::spec::OptimizerSpec;

/// Per-parameter state of a host-side rule (one or two accumulators).
#[derive(Debug, Clone, Default)]
struct Slot {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// Our own rules: state kept per parameter in visiting order (fixed for a given model type).
pub struct HostOptimizer {
    spec: OptimizerSpec,
    slots: Vec<Slot>,
    scratch_p: Vec<f32>,
    scratch_g: Vec<f32>,
}

struct HostStep<'a> {
    opt: &'a mut HostOptimizer,
    grads: &'a mut Gradients<f32, Cpu>,
    index: usize,
}

impl TensorVisitor<f32, Cpu> for HostStep<'_> {
    type Viewer = ViewTensorMut;
    type Err = DevError;
    type E2 = f32;
    type D2 = Cpu;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, Cpu>,
        p: &mut Tensor<S, f32, Cpu>,
    ) -> Result<Option<Tensor<S, f32, Cpu>>, DevError> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        // A parameter that took no part (e.g. BN on a layer without BN) gets a zero gradient.
        self.grads.try_alloc_for(p)?;
        let n = p.shape().num_elements();
        let opt = &mut *self.opt;
        opt.scratch_g.resize(n, 0.0);
        self.grads.get(p).copy_into(&mut opt.scratch_g);
        opt.scratch_p.resize(n, 0.0);
        p.copy_into(&mut opt.scratch_p);
        if opt.slots.len() <= self.index {
            let init = rules::initial_state(opt.spec);
            opt.slots.push(Slot {
                a: vec![init; n],
                b: vec![0.0; n],
            });
        }
        let slot = &mut opt.slots[self.index];
        let (w, g) = (&mut opt.scratch_p, &opt.scratch_g);
        // Only RMSprop, Adagrad and Adadelta come here (the step count matters to Adam only).
        rules::apply(opt.spec, 1, w, g, &mut slot.a, &mut slot.b);
        p.copy_from(w);
        self.index += 1;
        Ok(None)
    }
}

pub enum Optimizer<M> {
    Adam(Adam<M, f32, Cpu>),
    Sgd(Sgd<M, f32, Cpu>),
    Host(HostOptimizer),
}

impl<M: TensorCollection<f32, Cpu>> Optimizer<M> {
    pub fn new(model: &M, spec: OptimizerSpec) -> Self {
        match spec {
            OptimizerSpec::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => Optimizer::Adam(Adam::new(
                model,
                AdamConfig {
                    lr: lr as f64,
                    betas: [beta1 as f64, beta2 as f64],
                    eps: eps as f64,
                    weight_decay: None,
                },
            )),
            OptimizerSpec::Sgd {
                lr,
                momentum,
                nesterov,
            } => Optimizer::Sgd(Sgd::new(
                model,
                SgdConfig {
                    lr: lr as f64,
                    momentum: match (momentum > 0.0, nesterov) {
                        (false, _) => None,
                        (true, false) => Some(Momentum::Classic(momentum as f64)),
                        (true, true) => Some(Momentum::Nesterov(momentum as f64)),
                    },
                    weight_decay: None,
                },
            )),
            spec => Optimizer::Host(HostOptimizer {
                spec,
                slots: Vec::new(),
                scratch_p: Vec::new(),
                scratch_g: Vec::new(),
            }),
        }
    }

    /// Sets the learning rate of the next steps (a schedule's rate for the epoch).
    pub fn set_lr(&mut self, lr: f32) {
        match self {
            Optimizer::Adam(o) => o.cfg.lr = lr as f64,
            Optimizer::Sgd(o) => o.cfg.lr = lr as f64,
            Optimizer::Host(o) => o.spec = o.spec.with_lr(lr),
        }
    }

    /// Applies one update from `grads` (gradients of every parameter, e.g. from `alloc_grads`).
    pub fn step(&mut self, model: &mut M, grads: &mut Gradients<f32, Cpu>) -> Result<(), DevError> {
        let ignore_unused = |r: Result<(), OptimizerUpdateError<DevError>>| match r {
            Ok(()) | Err(OptimizerUpdateError::UnusedParams(_)) => Ok(()),
            Err(OptimizerUpdateError::DeviceError(e)) => Err(e),
        };
        match self {
            Optimizer::Adam(o) => ignore_unused(o.update(model, grads)),
            Optimizer::Sgd(o) => ignore_unused(o.update(model, grads)),
            Optimizer::Host(o) => {
                let mut step = HostStep {
                    opt: o,
                    grads,
                    index: 0,
                };
                M::iter_tensors(&mut RecursiveWalker {
                    m: model,
                    f: &mut step,
                })
                .map(|_| ())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adam_spec() -> OptimizerSpec {
        OptimizerSpec::Adam {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        }
    }

    /// One step on loss = sum(w * c): the gradient is c.
    fn one_step(spec: OptimizerSpec, w0: [f32; 2], c: [f32; 2], steps: usize) -> Vec<f32> {
        let dev = Cpu::seed_from_u64(0);
        let mut w: Tensor<Rank1<2>, f32, Cpu> = dev.tensor(w0);
        let mut opt = Optimizer::new(&w, spec);
        let coef = dev.tensor(c);
        for _ in 0..steps {
            let mut grads = (w.leaky_trace() * coef.clone()).sum().backward();
            opt.step(&mut w, &mut grads).expect("step");
        }
        w.as_vec()
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // Bias-corrected m̂ = g, v̂ = g², so the first step is lr·g/(|g|+ε) ≈ lr·sign(g).
        let w = one_step(adam_spec(), [1.0, 1.0], [0.5, -2.0], 1);
        assert!((w[0] - (1.0 - 0.1 * 0.5 / (0.5 + 1e-7))).abs() < 1e-6);
        assert!((w[1] - (1.0 + 0.1 * 2.0 / (2.0 + 1e-7))).abs() < 1e-6);
    }

    #[test]
    fn sgd_plain_and_momentum_by_hand() {
        let plain = OptimizerSpec::Sgd {
            lr: 0.1,
            momentum: 0.0,
            nesterov: false,
        };
        let w = one_step(plain, [1.0, 0.0], [0.5, -1.0], 2);
        assert!((w[0] - 0.9).abs() < 1e-6 && (w[1] - 0.2).abs() < 1e-6);
        // momentum 0.9: v1 = g, v2 = 0.9g + g = 1.9g; w = 1 - 0.1*(1 + 1.9)*0.5 = 0.855
        let mom = OptimizerSpec::Sgd {
            lr: 0.1,
            momentum: 0.9,
            nesterov: false,
        };
        let w = one_step(mom, [1.0, 0.0], [0.5, -1.0], 2);
        assert!((w[0] - 0.855).abs() < 1e-6, "{w:?}");
        // Nesterov: step uses g + 0.9·v: step1 = 0.5*(1+0.9)=0.95*... w = 1 - 0.1*(0.95 + 0.5*(1+0.9*1.9))
        let nes = OptimizerSpec::Sgd {
            lr: 0.1,
            momentum: 0.9,
            nesterov: true,
        };
        let w = one_step(nes, [1.0, 0.0], [0.5, -1.0], 2);
        let expected = 1.0 - 0.1 * (0.5 * 1.9 + 0.5 * (1.0 + 0.9 * 1.9));
        assert!((w[0] - expected).abs() < 1e-6, "{w:?} vs {expected}");
    }

    #[test]
    fn host_rules_update_through_the_model_api() {
        let spec = OptimizerSpec::Adadelta {
            lr: 1.0,
            rho: 0.95,
            eps: 1e-7,
        };
        let w = one_step(spec, [1.0, 1.0], [0.5, 0.0], 1);
        let mut p = [1.0f32, 1.0];
        rules::adadelta(
            &mut p,
            &[0.5, 0.0],
            &mut [0.0; 2],
            &mut [0.0; 2],
            1.0,
            0.95,
            1e-7,
        );
        assert_eq!(w, p.to_vec());
        let spec = OptimizerSpec::Adagrad {
            lr: 0.01,
            initial_accumulator: 0.1,
            eps: 1e-7,
        };
        let w = one_step(spec, [2.0, 2.0], [1.0, 0.0], 1);
        assert!((w[0] - 1.990_465).abs() < 1e-6, "{w:?}");
        let spec = OptimizerSpec::RMSprop {
            lr: 0.1,
            rho: 0.9,
            eps: 1e-7,
        };
        let w = one_step(spec, [1.0, 1.0], [0.5, 0.0], 1);
        assert!((w[0] - (1.0 - 0.05 / (0.025f32.sqrt() + 1e-7))).abs() < 1e-6);
    }
}
