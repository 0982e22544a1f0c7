//! A feed-forward network on plain slices: the same maths as the dfdx blocks (Dense →
//! activation → BN → Dropout), with fused element-wise passes, no per-batch allocation,
//! no gradient for the 784-wide input, and in-place optimiser updates.

use rand::rngs::StdRng;

use super::kernels as k;
use crate::preset::{Activation, VariantSpec};

/// One layer's parameters, in dfdx's order: weight [out×in], bias, then BN scale, bias,
/// running mean, running var (BN tensors exist on every hidden layer, used or not).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub inp: usize,
    pub out: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub bn: Option<Bn>,
    /// None for the output layer.
    pub activation: Option<Activation>,
    pub norm_and_drop: bool,
    pub dropout: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bn {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub running_mean: Vec<f32>,
    pub running_var: Vec<f32>,
    pub momentum: f32,
    pub eps: f32,
}

/// Per-layer buffers of one batch, reused from batch to batch.
#[derive(Debug, Default, Clone)]
struct Cache {
    /// Activation output (before BN), for act'.
    a: Vec<f32>,
    /// Layer output (after BN and dropout), the next layer's input.
    y: Vec<f32>,
    xhat: Vec<f32>,
    inv_std: Vec<f32>,
    mask: Vec<f32>,
    dy: Vec<f32>,
}

/// Gradients, laid out like the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Grads {
    pub w: Vec<Vec<f32>>,
    pub b: Vec<Vec<f32>>,
    pub gamma: Vec<Vec<f32>>,
    pub beta: Vec<Vec<f32>>,
}

#[derive(Debug, Clone)]
pub struct FastNet {
    pub layers: Vec<Layer>,
    caches: Vec<Cache>,
    pub grads: Grads,
    dlogits: Vec<f32>,
    scratch: Vec<f32>,
}

impl FastNet {
    /// Builds from dfdx's parameter list (see `params::export`) and the variant's settings.
    pub fn from_params(widths: &[usize], params: &[Vec<f32>], spec: &VariantSpec) -> Self {
        let hidden = widths.len() - 2;
        let mut layers = Vec::new();
        let mut it = params.iter();
        for l in 0..=hidden {
            let (inp, out) = (widths[l], widths[l + 1]);
            let w = it.next().expect("weight").clone();
            let b = it.next().expect("bias").clone();
            assert_eq!((w.len(), b.len()), (inp * out, out), "layer {l} shapes");
            let is_hidden = l < hidden;
            let bn = is_hidden.then(|| Bn {
                gamma: it.next().expect("bn scale").clone(),
                beta: it.next().expect("bn bias").clone(),
                running_mean: it.next().expect("bn mean").clone(),
                running_var: it.next().expect("bn var").clone(),
                momentum: crate::model::block::KERAS_BN_MOMENTUM as f32,
                eps: crate::model::block::KERAS_BN_EPSILON as f32,
            });
            layers.push(Layer {
                inp,
                out,
                w,
                b,
                bn,
                activation: is_hidden.then_some(spec.activation),
                norm_and_drop: is_hidden && spec.placement.applies(l, hidden),
                dropout: spec.dropout,
            });
        }
        let grads = Grads {
            w: layers.iter().map(|l| vec![0.0; l.w.len()]).collect(),
            b: layers.iter().map(|l| vec![0.0; l.out]).collect(),
            gamma: layers.iter().map(|l| vec![0.0; l.out]).collect(),
            beta: layers.iter().map(|l| vec![0.0; l.out]).collect(),
        };
        FastNet {
            caches: vec![Cache::default(); layers.len()],
            layers,
            grads,
            dlogits: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Parameters back in dfdx's order (for saving and for the dfdx model).
    pub fn params(&self) -> Vec<Vec<f32>> {
        let mut out = Vec::new();
        for l in &self.layers {
            out.push(l.w.clone());
            out.push(l.b.clone());
            if let Some(bn) = &l.bn {
                out.push(bn.gamma.clone());
                out.push(bn.beta.clone());
                out.push(bn.running_mean.clone());
                out.push(bn.running_var.clone());
            }
        }
        out
    }

    /// Training forward and backward on one batch; gradients land in `self.grads`.
    /// Returns (summed loss, correct predictions).
    pub fn train_step(&mut self, x: &[f32], labels: &[u8], rng: &mut StdRng) -> (f64, usize) {
        let n = labels.len();
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter_mut().enumerate() {
            let (before, rest) = self.caches.split_at_mut(l);
            let cache = &mut rest[0];
            let input: &[f32] = if l == 0 { x } else { &before[l - 1].y };
            cache.y.resize(n * layer.out, 0.0);
            k::linear_forward(input, n, &layer.w, &layer.b, layer.out, &mut cache.y);
            if let Some(act) = layer.activation {
                k::activate(&mut cache.y, act);
                if layer.norm_and_drop {
                    cache.a.clear();
                    cache.a.extend_from_slice(&cache.y);
                    let bn = layer.bn.as_mut().expect("hidden layers have BN");
                    cache.xhat.resize(n * layer.out, 0.0);
                    cache.inv_std.resize(layer.out, 0.0);
                    k::batchnorm_train(
                        &mut cache.y,
                        n,
                        &bn.gamma,
                        &bn.beta,
                        &mut bn.running_mean,
                        &mut bn.running_var,
                        bn.momentum,
                        bn.eps,
                        &mut cache.xhat,
                        &mut cache.inv_std,
                        &mut self.scratch,
                    );
                    if layer.dropout > 0.0 {
                        cache.mask.resize(n * layer.out, 0.0);
                        k::dropout(&mut cache.y, layer.dropout, &mut cache.mask, rng);
                    }
                }
            }
            debug_assert!(l < last || layer.activation.is_none());
        }
        self.dlogits.resize(n * 10, 0.0);
        let (loss, correct) =
            k::softmax_cross_entropy(&self.caches[last].y, labels, &mut self.dlogits);

        // Backward, last layer first; dy of layer l is written into caches[l].dy.
        for l in (0..self.layers.len()).rev() {
            let layer = &self.layers[l];
            let (before, rest) = self.caches.split_at_mut(l);
            let cache = &mut rest[0];
            let dz: &mut Vec<f32> = if l == last {
                &mut self.dlogits
            } else {
                &mut cache.dy
            };
            if let Some(act) = layer.activation {
                if layer.norm_and_drop {
                    if layer.dropout > 0.0 {
                        dz.iter_mut().zip(&cache.mask).for_each(|(d, m)| *d *= m);
                    }
                    let bn = layer.bn.as_ref().expect("hidden layers have BN");
                    k::batchnorm_backward(
                        dz,
                        n,
                        &bn.gamma,
                        &cache.xhat,
                        &cache.inv_std,
                        &mut self.grads.gamma[l],
                        &mut self.grads.beta[l],
                    );
                    k::activation_backward(&cache.a, dz, act);
                } else {
                    k::activation_backward(&cache.y, dz, act);
                }
            }
            let (input, dx): (&[f32], Option<&mut [f32]>) = if l == 0 {
                (x, None) // nobody needs the gradient of the pixels
            } else {
                let prev = &mut before[l - 1];
                prev.dy.resize(n * layer.inp, 0.0);
                (&prev.y, Some(&mut prev.dy[..]))
            };
            k::linear_backward(
                input,
                n,
                &layer.w,
                layer.out,
                dz,
                &mut self.grads.w[l],
                &mut self.grads.b[l],
                dx,
            );
        }
        (loss, correct)
    }

    /// Eval-mode logits [n×10] for a batch (BN running statistics, no dropout).
    pub fn predict(&mut self, x: &[f32], n: usize, logits: &mut Vec<f32>) {
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (before, rest) = self.caches.split_at_mut(l);
            let cache = &mut rest[0];
            let input: &[f32] = if l == 0 { x } else { &before[l - 1].y };
            cache.y.resize(n * layer.out, 0.0);
            k::linear_forward(input, n, &layer.w, &layer.b, layer.out, &mut cache.y);
            if let Some(act) = layer.activation {
                k::activate(&mut cache.y, act);
                if layer.norm_and_drop {
                    let bn = layer.bn.as_ref().expect("hidden layers have BN");
                    k::batchnorm_eval(
                        &mut cache.y,
                        &bn.gamma,
                        &bn.beta,
                        &bn.running_mean,
                        &bn.running_var,
                        bn.eps,
                    );
                }
            }
        }
        logits.clear();
        logits.extend_from_slice(&self.caches[last].y);
    }
}
