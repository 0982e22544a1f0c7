//! Plain-slice kernels for the fused training path: GEMM through the `gemm` crate (the one
//! dfdx uses), and the element-wise parts of a block fused into single passes.

use crate::preset::Activation;

/// `c[m×n] (row-major) = (accumulate ? c : 0) + a·b`, where `a` is m×k and `b` is k×n, each
/// given by a pointer and (row stride, column stride). Uses every rayon thread.
///
/// # Safety
/// `a` and `b` must be valid for the strides and sizes given; `c` must hold m·n elements.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm(
    m: usize,
    n: usize,
    k: usize,
    c: &mut [f32],
    accumulate: bool,
    a: *const f32,
    a_rs: isize,
    a_cs: isize,
    b: *const f32,
    b_rs: isize,
    b_cs: isize,
) {
    debug_assert!(c.len() >= m * n);
    let parallelism = if m * n * k >= 32 * 1024 {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    gemm::gemm(
        m,
        n,
        k,
        c.as_mut_ptr(),
        1,
        n as isize,
        accumulate,
        a,
        a_cs,
        a_rs,
        b,
        b_cs,
        b_rs,
        1.0,
        1.0,
        false,
        false,
        false,
        parallelism,
    );
}

/// `z = x·wᵀ + bias` for x [n×in], w [out×in] (dfdx's Linear layout).
pub fn linear_forward(x: &[f32], n: usize, w: &[f32], bias: &[f32], out: usize, z: &mut [f32]) {
    let inp = w.len() / out;
    assert_eq!(x.len(), n * inp);
    assert_eq!(z.len(), n * out);
    // SAFETY: sizes checked above; wᵀ is k×n with row stride 1 and column stride `inp`.
    unsafe {
        gemm(
            n,
            out,
            inp,
            z,
            false,
            x.as_ptr(),
            inp as isize,
            1,
            w.as_ptr(),
            1,
            inp as isize,
        )
    };
    for row in z.chunks_exact_mut(out) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// Gradients of a Linear layer: `dw += dzᵀ·x`, `db += Σ dz`, and `dx = dz·w` when asked.
#[allow(clippy::too_many_arguments)]
pub fn linear_backward(
    x: &[f32],
    n: usize,
    w: &[f32],
    out: usize,
    dz: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
) {
    let inp = w.len() / out;
    assert_eq!(dz.len(), n * out);
    assert_eq!(dw.len(), out * inp);
    // SAFETY: dzᵀ is out×n (row stride 1, column stride out); x is n×inp row-major.
    unsafe {
        gemm(
            out,
            inp,
            n,
            dw,
            false,
            dz.as_ptr(),
            1,
            out as isize,
            x.as_ptr(),
            inp as isize,
            1,
        )
    };
    db.iter_mut().for_each(|v| *v = 0.0);
    for row in dz.chunks_exact(out) {
        for (d, g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
    if let Some(dx) = dx {
        assert_eq!(dx.len(), n * inp);
        // SAFETY: dz is n×out row-major, w is out×inp row-major.
        unsafe {
            gemm(
                n,
                inp,
                out,
                dx,
                false,
                dz.as_ptr(),
                out as isize,
                1,
                w.as_ptr(),
                inp as isize,
                1,
            )
        };
    }
}

pub fn activate(z: &mut [f32], act: Activation) {
    match act {
        Activation::ReLU => z.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Sigmoid => z.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        Activation::Tanh => z.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::LeakyReLU { alpha } => z
            .iter_mut()
            .for_each(|v| *v = if *v > 0.0 { *v } else { alpha * *v }),
        Activation::ELU { alpha } => z
            .iter_mut()
            .for_each(|v| *v = if *v > 0.0 { *v } else { alpha * (v.exp() - 1.0) }),
    }
}

/// `d *= act'(z)`, with the derivative written in terms of the activation's output `a`.
pub fn activation_backward(a: &[f32], d: &mut [f32], act: Activation) {
    let it = d.iter_mut().zip(a);
    match act {
        Activation::ReLU => it.for_each(|(d, &a)| {
            if a <= 0.0 {
                *d = 0.0
            }
        }),
        Activation::Sigmoid => it.for_each(|(d, &a)| *d *= a * (1.0 - a)),
        Activation::Tanh => it.for_each(|(d, &a)| *d *= 1.0 - a * a),
        Activation::LeakyReLU { alpha } => it.for_each(|(d, &a)| {
            if a <= 0.0 {
                *d *= alpha
            }
        }),
        Activation::ELU { alpha } => it.for_each(|(d, &a)| {
            if a <= 0.0 {
                *d *= a + alpha
            }
        }),
    }
}

/// Training-mode batch normalisation over the rows of `a` [n×c], in place: `a` becomes the
/// output; `xhat` and `inv_std` are kept for the backward pass; running stats are updated as
/// dfdx does (momentum on the new value, unbiased running variance).
#[allow(clippy::too_many_arguments)]
pub fn batchnorm_train(
    a: &mut [f32],
    n: usize,
    gamma: &[f32],
    beta: &[f32],
    running_mean: &mut [f32],
    running_var: &mut [f32],
    momentum: f32,
    eps: f32,
    xhat: &mut [f32],
    inv_std: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let c = gamma.len();
    scratch.clear();
    scratch.resize(2 * c, 0.0);
    let (mean, var) = scratch.split_at_mut(c);
    for row in a.chunks_exact(c) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    let inv_n = 1.0 / n as f32;
    mean.iter_mut().for_each(|m| *m *= inv_n);
    for row in a.chunks_exact(c) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(mean.iter()) {
            let d = v - m;
            *s += d * d;
        }
    }
    var.iter_mut().for_each(|v| *v *= inv_n);
    let unbias = n as f32 / (n as f32 - 1.0);
    for j in 0..c {
        running_mean[j] = (1.0 - momentum) * running_mean[j] + momentum * mean[j];
        running_var[j] = (1.0 - momentum) * running_var[j] + momentum * var[j] * unbias;
        inv_std[j] = 1.0 / (var[j] + eps).sqrt();
    }
    for (row, xrow) in a.chunks_exact_mut(c).zip(xhat.chunks_exact_mut(c)) {
        for j in 0..c {
            let x = (row[j] - mean[j]) * inv_std[j];
            xrow[j] = x;
            row[j] = x * gamma[j] + beta[j];
        }
    }
}

/// Backward of training-mode BN: from `dy` (overwritten with dx) and the saved `xhat`,
/// `inv_std`; accumulates `dgamma`, `dbeta`.
pub fn batchnorm_backward(
    dy: &mut [f32],
    n: usize,
    gamma: &[f32],
    xhat: &[f32],
    inv_std: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let c = gamma.len();
    // Sums in f64: the x̂·dγ and dβ terms nearly cancel when the batch variance is small.
    let mut sg = vec![0.0f64; c];
    let mut sb = vec![0.0f64; c];
    for (drow, xrow) in dy.chunks_exact(c).zip(xhat.chunks_exact(c)) {
        for j in 0..c {
            sg[j] += (drow[j] * xrow[j]) as f64;
            sb[j] += drow[j] as f64;
        }
    }
    for j in 0..c {
        dgamma[j] = sg[j] as f32;
        dbeta[j] = sb[j] as f32;
    }
    let inv_n = 1.0 / n as f64;
    for (drow, xrow) in dy.chunks_exact_mut(c).zip(xhat.chunks_exact(c)) {
        for j in 0..c {
            let centred = drow[j] as f64 - inv_n * (sb[j] + xrow[j] as f64 * sg[j]);
            drow[j] = (gamma[j] as f64 * inv_std[j] as f64 * centred) as f32;
        }
    }
}

/// Eval-mode BN with running statistics, in place.
pub fn batchnorm_eval(
    a: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    running_mean: &[f32],
    running_var: &[f32],
    eps: f32,
) {
    let c = gamma.len();
    let scale: Vec<f32> = (0..c)
        .map(|j| gamma[j] / (running_var[j] + eps).sqrt())
        .collect();
    for row in a.chunks_exact_mut(c) {
        for j in 0..c {
            row[j] = (row[j] - running_mean[j]) * scale[j] + beta[j];
        }
    }
}

/// Inverted dropout: each element kept with probability 1−p and scaled by 1/(1−p); the
/// mask (0 or the scale) is kept for the backward pass.
pub fn dropout(a: &mut [f32], p: f32, mask: &mut [f32], rng: &mut impl rand::Rng) {
    let scale = 1.0 / (1.0 - p);
    for (v, m) in a.iter_mut().zip(mask.iter_mut()) {
        *m = if rng.gen::<f32>() < p { 0.0 } else { scale };
        *v *= *m;
    }
}

/// Softmax cross-entropy over rows of 10 logits: returns the summed loss and the number of
/// correct argmaxes, and writes d(mean loss)/d(logits) into `dlogits`.
pub fn softmax_cross_entropy(
    logits: &[f32],
    labels: &[u8],
    dlogits: &mut [f32],
) -> (f64, usize) {
    let classes = logits.len() / labels.len().max(1);
    let inv_n = 1.0 / labels.len() as f32;
    let (mut loss, mut correct) = (0.0f64, 0usize);
    for ((row, drow), &y) in logits
        .chunks_exact(classes)
        .zip(dlogits.chunks_exact_mut(classes))
        .zip(labels)
    {
        let (mut best, mut max) = (0usize, f32::NEG_INFINITY);
        for (k, &v) in row.iter().enumerate() {
            if v > max {
                max = v;
                best = k;
            }
        }
        let mut sum = 0.0f32;
        for (d, &v) in drow.iter_mut().zip(row) {
            *d = (v - max).exp();
            sum += *d;
        }
        let inv = 1.0 / sum;
        for d in drow.iter_mut() {
            *d *= inv * inv_n;
        }
        drow[y as usize] -= inv_n;
        loss += (sum.ln() + max - row[y as usize]) as f64;
        if best == y as usize {
            correct += 1;
        }
    }
    (loss, correct)
}
