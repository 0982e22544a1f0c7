//! A feed-forward network on plain slices: the same maths as the dfdx blocks (Dense →
//! activation → BN → Dropout), with fused element-wise passes, no per-batch allocation,
//! no gradient for the input pixels, and in-place optimiser updates.

use rand::rngs::StdRng;
use rand::RngCore;
use rayon::prelude::*;

use super::kernels as k;
use super::profile::{Laps, Profile};
use super::sparse::{Panels, SparseBatch};
use crate::spec::{Activation, UnitSpec};

/// A batch of inputs: dense rows, or the same pixels packed sparse (see `sparse`).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Dense(&'a [f32]),
    Sparse(&'a SparseBatch),
}

/// One layer's parameters, in dfdx's order: weight [out×in], bias, then BN scale, bias,
/// running mean, running var (BN tensors exist on every hidden layer, used or not).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub inp: usize,
    pub out: usize,
    /// [out×in] as dfdx keeps it, except the first layer's, which is [in×out] in panels
    /// (`sparse::Panels`): each input pixel's weights are contiguous for the sparse kernels.
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
    /// Layers 1.. weights transposed to [in×out] for the forward product (`k::linear_forward_t`
    /// says why). Unused for the first layer, whose panels already are [in×out].
    transposed: Vec<Transposed>,
    /// Where training steps spend their time, when asked (`bench --profile`).
    pub profile: Option<Profile>,
}

impl FastNet {
    /// Builds from dfdx's parameter list (see `params::export`) and the variant's settings.
    pub fn from_params(widths: &[usize], params: &[Vec<f32>], spec: &UnitSpec) -> Self {
        let hidden = widths.len() - 2;
        let mut layers = Vec::new();
        let mut it = params.iter();
        for l in 0..=hidden {
            let (inp, out) = (widths[l], widths[l + 1]);
            let w = it.next().expect("weight").clone();
            let b = it.next().expect("bias").clone();
            assert_eq!((w.len(), b.len()), (inp * out, out), "layer {l} shapes");
            let w = if l == 0 {
                Panels::new(inp, out).from_out_in(&w)
            } else {
                w
            };
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
            transposed: vec![Transposed::default(); layers.len()],
            layers,
            grads,
            dlogits: Vec::new(),
            profile: None,
        }
    }

    /// Parameters back in dfdx's order (for saving and for the dfdx model).
    pub fn params(&self) -> Vec<Vec<f32>> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            out.push(if i == 0 {
                Panels::new(l.inp, l.out).to_out_in(&l.w)
            } else {
                l.w.clone()
            });
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

    /// Layer `l`'s weight gradient in dfdx's [out×in] layout.
    pub fn weight_grad(&self, l: usize) -> Vec<f32> {
        let layer = &self.layers[l];
        if l == 0 {
            Panels::new(layer.inp, layer.out).to_out_in(&self.grads.w[0])
        } else {
            self.grads.w[l].clone()
        }
    }

    /// To be called after anything changes `layers[..].w` (the optimiser does): the forward
    /// reads transposed copies of the weights, which are then made again.
    pub fn weights_changed(&mut self) {
        self.transposed.iter_mut().for_each(|t| t.fresh = false);
    }

    /// Training forward and backward on one batch; gradients land in `self.grads`.
    /// Returns (summed loss, correct predictions).
    pub fn train_step(&mut self, x: Input<'_>, labels: &[u8], rng: &mut StdRng) -> (f64, usize) {
        let n = labels.len();
        let last = self.layers.len() - 1;
        let mut prof = self.profile.take();
        let mut laps = Laps::start(prof.is_some());
        for (l, layer) in self.layers.iter_mut().enumerate() {
            let (before, rest) = self.caches.split_at_mut(l);
            let cache = &mut rest[0];
            cache.y.resize(n * layer.out, 0.0);
            if l == 0 {
                first_forward(layer, x, n, &mut cache.y);
            } else {
                let input = &before[l - 1].y;
                forward(layer, input, n, &mut self.transposed[l], &mut cache.y);
            }
            laps.lap(&mut prof, |p| &mut p.forward_gemm[l]);
            if let Some(act) = layer.activation {
                if layer.norm_and_drop {
                    let bn = layer.bn.as_mut().expect("hidden layers have BN");
                    let seed = rng.next_u64();
                    fused_act_bn_dropout(cache, n, layer.out, act, bn, layer.dropout, seed);
                } else {
                    let out = layer.out;
                    cache
                        .y
                        .par_chunks_mut(out * k::ROW_BLOCK)
                        .with_min_len(k::min_blocks(out))
                        .for_each(|b| k::activate(b, act));
                }
                laps.lap(&mut prof, |p| &mut p.forward_elementwise[l]);
            }
            debug_assert!(l < last || layer.activation.is_none());
        }
        self.dlogits.resize(n * self.layers[last].out, 0.0);
        let (loss, correct) =
            k::softmax_cross_entropy(&self.caches[last].y, labels, &mut self.dlogits);
        laps.lap(&mut prof, |p| &mut p.loss);

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
                    let bn = layer.bn.as_ref().expect("hidden layers have BN");
                    fused_dropout_bn_act_backward(
                        dz,
                        Saved {
                            a: &cache.a,
                            xhat: &cache.xhat,
                            inv_std: &cache.inv_std,
                            mask: &cache.mask,
                        },
                        n,
                        layer.out,
                        act,
                        layer.dropout > 0.0,
                        &bn.gamma,
                        &mut self.grads.gamma[l],
                        &mut self.grads.beta[l],
                    );
                } else {
                    let out = layer.out;
                    dz.par_chunks_mut(out * k::ROW_BLOCK)
                        .zip(cache.y.par_chunks(out * k::ROW_BLOCK))
                        .with_min_len(k::min_blocks(out))
                        .for_each(|(d, a)| k::activation_backward(a, d, act));
                }
                laps.lap(&mut prof, |p| &mut p.backward_elementwise[l]);
            }
            if l == 0 {
                // Nobody needs the gradient of the pixels: only dW and db.
                let dwt = &mut self.grads.w[0];
                match x {
                    Input::Dense(x) => k::linear_p_weight_grad(x, n, dz, layer.out, dwt),
                    Input::Sparse(s) => s.weight_grad(dz, layer.out, dwt),
                }
                k::bias_grad(dz, layer.out, &mut self.grads.b[0]);
                laps.lap(&mut prof, |p| &mut p.backward_gemm[0]);
                continue;
            }
            let prev = &mut before[l - 1];
            prev.dy.resize(n * layer.inp, 0.0);
            k::linear_backward(
                &prev.y,
                n,
                &layer.w,
                layer.out,
                dz,
                &mut self.grads.w[l],
                &mut self.grads.b[l],
                Some(&mut prev.dy[..]),
            );
            laps.lap(&mut prof, |p| &mut p.backward_gemm[l]);
        }
        if let Some(p) = prof.as_mut() {
            p.steps += 1;
        }
        self.profile = prof;
        (loss, correct)
    }

    /// Eval-mode logits [n×classes] for a batch (BN running statistics, no dropout).
    pub fn predict(&mut self, x: Input<'_>, n: usize, logits: &mut Vec<f32>) {
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (before, rest) = self.caches.split_at_mut(l);
            let cache = &mut rest[0];
            cache.y.resize(n * layer.out, 0.0);
            if l == 0 {
                first_forward(layer, x, n, &mut cache.y);
            } else {
                let input = &before[l - 1].y;
                forward(layer, input, n, &mut self.transposed[l], &mut cache.y);
            }
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

/// A layer's weights transposed to [in×out], made again (in place) only after they changed.
#[derive(Debug, Clone, Default)]
struct Transposed {
    w: Vec<f32>,
    /// Whether `w` matches the layer's weights (cleared by `FastNet::weights_changed`).
    fresh: bool,
}

impl Transposed {
    fn of(&mut self, layer: &Layer) -> &[f32] {
        if !self.fresh {
            self.w.resize(layer.w.len(), 0.0);
            k::transpose(&layer.w, layer.out, layer.inp, &mut self.w);
            self.fresh = true;
        }
        &self.w
    }
}

/// A hidden or output layer's `z = x·Wᵀ + b`, through the transposed weights (the same bits
/// as dfdx's layout, at up to three times the rate).
fn forward(layer: &Layer, x: &[f32], n: usize, wt: &mut Transposed, z: &mut [f32]) {
    k::linear_forward_t(x, n, wt.of(layer), &layer.b, layer.out, z);
}

/// The first layer's `z = x·W₁ᵀ + b` from either kind of input.
fn first_forward(layer: &Layer, x: Input<'_>, n: usize, z: &mut [f32]) {
    match x {
        Input::Dense(x) => k::linear_p_forward(x, n, &layer.w, &layer.b, layer.out, z),
        Input::Sparse(s) => {
            assert_eq!(s.rows(), n, "one sparse row per example");
            s.forward(&layer.w, &layer.b, layer.out, z)
        }
    }
}

/// Forward of act → BN (batch statistics) → dropout in two row-parallel passes: activation
/// with column sums of a and a² (f64, per row block, added in block order); then normalise,
/// scale, shift and mask. Each pass is one fork/join, not one per stage.
fn fused_act_bn_dropout(
    cache: &mut Cache,
    n: usize,
    c: usize,
    act: Activation,
    bn: &mut Bn,
    p: f32,
    seed: u64,
) {
    let block = c * k::ROW_BLOCK;
    cache.a.resize(n * c, 0.0);
    let partial: Vec<(Vec<f64>, Vec<f64>)> = cache
        .y
        .par_chunks_mut(block)
        .zip(cache.a.par_chunks_mut(block))
        .with_min_len(k::min_blocks(c))
        .map(|(y, a)| activate_and_sum(y, a, c, act))
        .collect();
    let (mut sum, mut squares) = (vec![0.0f64; c], vec![0.0f64; c]);
    for (s, q) in partial {
        sum.iter_mut().zip(s).for_each(|(t, v)| *t += v);
        squares.iter_mut().zip(q).for_each(|(t, v)| *t += v);
    }
    let inv_n = 1.0 / n as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s * inv_n).collect();
    // E[a²] − E[a]² in f64: the cancellation costs ~1e-16 of E[a²], far below f32's step.
    let var: Vec<f64> = squares
        .iter()
        .zip(&mean)
        .map(|(q, m)| (q * inv_n - m * m).max(0.0))
        .collect();
    // Unbiased running variance as dfdx keeps it; one sample has none, and its biased
    // variance (0, what Keras uses) keeps the running variance finite.
    let unbias = if n > 1 {
        n as f32 / (n as f32 - 1.0)
    } else {
        1.0
    };
    let m = bn.momentum;
    cache.inv_std.resize(c, 0.0);
    let mean32: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
    for j in 0..c {
        let var = var[j] as f32;
        bn.running_mean[j] = (1.0 - m) * bn.running_mean[j] + m * mean32[j];
        bn.running_var[j] = (1.0 - m) * bn.running_var[j] + m * var * unbias;
        cache.inv_std[j] = 1.0 / (var + bn.eps).sqrt();
    }
    cache.xhat.resize(n * c, 0.0);
    cache.mask.resize(n * c, 0.0);
    let (gamma, beta, inv_std) = (&bn.gamma, &bn.beta, &cache.inv_std);
    cache
        .y
        .par_chunks_mut(block)
        .zip(cache.xhat.par_chunks_mut(block))
        .zip(cache.mask.par_chunks_mut(block))
        .enumerate()
        .with_min_len(k::min_blocks(c))
        .for_each(|(bi, ((y, xh), mask))| {
            let stats = [&mean32[..], inv_std, gamma, beta];
            normalise_and_drop(y, xh, mask, c, stats, p, seed, bi * k::ROW_BLOCK)
        });
}

crate::wide_fn! {
    /// Forward pass 1 on a block of rows: the activation, kept in `a`, and the column sums of
    /// a and a² (f64, rows in order).
    fn activate_and_sum(y: &mut [f32], a: &mut [f32], c: usize, act: Activation) -> (Vec<f64>, Vec<f64>) {
        k::activate(y, act);
        a.copy_from_slice(y);
        let (mut sum, mut squares) = (vec![0.0f64; c], vec![0.0f64; c]);
        for row in a.chunks_exact(c) {
            for j in 0..c {
                let v = row[j] as f64;
                sum[j] += v;
                squares[j] += v * v;
            }
        }
        (sum, squares)
    }
}

crate::wide_fn! {
    /// Forward pass 2 on a block of rows starting at row `first`: x̂ = (a − mean)/σ, kept,
    /// then y = (x̂·γ + β)·mask. `stats` is [mean, 1/σ, γ, β].
    fn normalise_and_drop(
        y: &mut [f32],
        xh: &mut [f32],
        mask: &mut [f32],
        c: usize,
        stats: [&[f32]; 4],
        p: f32,
        seed: u64,
        first: usize,
    ) {
        let [mean, inv_std, gamma, beta] = stats;
        for (r, ((yrow, xrow), mrow)) in y
            .chunks_exact_mut(c)
            .zip(xh.chunks_exact_mut(c))
            .zip(mask.chunks_exact_mut(c))
            .enumerate()
        {
            k::dropout_mask(mrow, p, seed, (first + r) as u64);
            for j in 0..c {
                let x = (yrow[j] - mean[j]) * inv_std[j];
                xrow[j] = x;
                yrow[j] = (x * gamma[j] + beta[j]) * mrow[j];
            }
        }
    }
}

/// What the forward pass kept for the backward of act → BN → dropout.
struct Saved<'a> {
    a: &'a [f32],
    xhat: &'a [f32],
    inv_std: &'a [f32],
    mask: &'a [f32],
}

/// Backward of dropout → BN → act: the mask and the column sums of dy and dy·x̂ in one
/// row-parallel pass, then one more computing dz = act'(a) · γ/σ · (dy − (Σdy + x̂·Σdy·x̂)/n).
#[allow(clippy::too_many_arguments)]
fn fused_dropout_bn_act_backward(
    dz: &mut [f32],
    cache: Saved<'_>,
    n: usize,
    c: usize,
    act: Activation,
    dropout: bool,
    gamma: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let block = c * k::ROW_BLOCK;
    // One pass: apply the dropout mask and take the column sums of dy and dy·x̂.
    let partial: Vec<(Vec<f64>, Vec<f64>)> = dz
        .par_chunks_mut(block)
        .zip(cache.mask.par_chunks(block))
        .zip(cache.xhat.par_chunks(block))
        .with_min_len(k::min_blocks(c))
        .map(|((d, m), x)| mask_and_sum(d, m, x, c, dropout))
        .collect();
    let (mut sb, mut sg) = (vec![0.0f64; c], vec![0.0f64; c]);
    for (b, g) in partial {
        sb.iter_mut().zip(b).for_each(|(t, v)| *t += v);
        sg.iter_mut().zip(g).for_each(|(t, v)| *t += v);
    }
    for j in 0..c {
        dgamma[j] = sg[j] as f32;
        dbeta[j] = sb[j] as f32;
    }
    let inv_n = 1.0 / n as f64;
    let coef: Vec<f32> = (0..c).map(|j| gamma[j] * cache.inv_std[j]).collect();
    let mb: Vec<f32> = sb.iter().map(|v| (v * inv_n) as f32).collect();
    let mg: Vec<f32> = sg.iter().map(|v| (v * inv_n) as f32).collect();
    dz.par_chunks_mut(block)
        .zip(cache.xhat.par_chunks(block))
        .zip(cache.a.par_chunks(block))
        .with_min_len(k::min_blocks(c))
        .for_each(|((d, x), a)| bn_act_backward(d, x, a, c, [&coef, &mb, &mg], act));
}

crate::wide_fn! {
    /// Backward pass 1 on a block of rows: the dropout mask, then the column sums of dy and
    /// dy·x̂ (f64, rows in order).
    fn mask_and_sum(d: &mut [f32], m: &[f32], x: &[f32], c: usize, dropout: bool) -> (Vec<f64>, Vec<f64>) {
        if dropout {
            d.iter_mut().zip(m).for_each(|(d, m)| *d *= m);
        }
        let (mut sb, mut sg) = (vec![0.0f64; c], vec![0.0f64; c]);
        for (drow, xrow) in d.chunks_exact(c).zip(x.chunks_exact(c)) {
            for j in 0..c {
                sb[j] += drow[j] as f64;
                sg[j] += (drow[j] * xrow[j]) as f64;
            }
        }
        (sb, sg)
    }
}

crate::wide_fn! {
    /// Backward pass 2 on a block of rows: dz = γ/σ·(dy − mean dy − x̂·mean dy·x̂), then the
    /// activation's derivative. `terms` is [γ/σ, mean dy, mean dy·x̂].
    fn bn_act_backward(d: &mut [f32], x: &[f32], a: &[f32], c: usize, terms: [&[f32]; 3], act: Activation) {
        let [coef, mb, mg] = terms;
        for (drow, xrow) in d.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
            for j in 0..c {
                drow[j] = coef[j] * (drow[j] - mb[j] - xrow[j] * mg[j]);
            }
        }
        k::activation_backward(a, d, act);
    }
}
