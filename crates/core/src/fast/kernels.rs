//! Plain-slice kernels for the fused training path: GEMM through the `gemm` crate (the one
//! dfdx uses), and the element-wise parts of a block fused into single passes.

use super::sparse::Panels;
use crate::spec::Activation;

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
    gemm_strided(
        split_pays(m, n, k),
        m,
        n,
        k,
        c.as_mut_ptr(),
        n as isize,
        accumulate,
        a,
        a_rs,
        a_cs,
        b,
        b_rs,
        b_cs,
    )
}

/// Whether splitting a GEMM of m·n·k multiply-adds over the rayon threads pays for the
/// fork (below it, one thread is faster).
pub fn split_pays(m: usize, n: usize, k: usize) -> bool {
    m * n * k >= 1024 * 1024
}

/// `gemm` into a `c` whose rows are `c_rs` apart (a block of columns of a wider matrix), on
/// every rayon thread (`parallel`) or on the calling one. The split is over blocks of `c`,
/// never along k, so both give the same bits.
///
/// # Safety
/// As `gemm`, and `c` must be valid for m rows of n elements, `c_rs` apart.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_strided(
    parallel: bool,
    m: usize,
    n: usize,
    k: usize,
    c: *mut f32,
    c_rs: isize,
    accumulate: bool,
    a: *const f32,
    a_rs: isize,
    a_cs: isize,
    b: *const f32,
    b_rs: isize,
    b_cs: isize,
) {
    let parallelism = if parallel {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // One call per block along k (see K_BLOCK); each adds its block's sums to c.
    let (parts, block) = k_blocks(k);
    for part in 0..parts {
        let start = part * block;
        let len = block.min(k - start);
        let (a, b) = (
            a.offset(start as isize * a_cs),
            b.offset(start as isize * b_rs),
        );
        let accumulate = accumulate || part > 0;
        if chained_here(m, n, len) {
            chain_product(Product {
                m,
                n,
                k: len,
                c,
                c_rs,
                accumulate,
                a: (a, a_rs, a_cs),
                b: (b, b_rs, b_cs),
            });
            continue;
        }
        gemm::gemm(
            m,
            n,
            len,
            c,
            1,
            c_rs,
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
}

/// The longest stretch of k summed in one go. `gemm` 0.19 cuts k into blocks of
/// `max(512, a length from the L1 cache's sets and ways and its kernel's rows)` and adds each
/// block's sums to c in turn, so with k over 512 its bits depend on the CPU: 512 with every
/// kernel on an 8-way L1 (AMD Zen 3 and 4) and with AVX-512 on a 12-way one, 1024 with AVX2 on
/// a 12-way 48 KB L1 (recent Xeons). Cutting k here as it does at 512 (into ⌈k/512⌉ equal
/// blocks, the last shorter) leaves it one block per call: the same blocks on every CPU, and
/// the bits `gemm` already gave on an 8-way L1.
pub const K_BLOCK: usize = 512;

/// Whether a product is summed by `chain_product` rather than `gemm`. From `gemm` 0.19's
/// dispatch (`gemm-common`'s `gemm.rs`): one row or one column go to a gemv, k ≤ 2 to an outer
/// product, and m·n ≤ 256 with both operands contiguous along k (dfdx's x·Wᵀ) to a horizontal
/// dot-product kernel. Each sums in its own order, split over vector lanes, so the bits
/// followed the layout and the vector width: a 24-row last batch into the 10-class layer came
/// out different from the AVX2 and the AVX-512 builds (`.ci/isa-bits`). Its main kernels sum
/// each output along k in one chain, as `chain_product` does.
fn chained_here(m: usize, n: usize, k: usize) -> bool {
    m == 1 || n == 1 || k <= 2 || m * n <= 256
}

/// A (pointer, row stride, column stride) operand.
type Operand = (*const f32, isize, isize);

/// `c[m×n]` (rows `c_rs` apart) `= (accumulate ? c : 0) + a[m×k]·b[k×n]`.
#[derive(Clone, Copy)]
struct Product {
    m: usize,
    n: usize,
    k: usize,
    c: *mut f32,
    c_rs: isize,
    accumulate: bool,
    a: Operand,
    b: Operand,
}

/// A product with every output one chain of fused multiply-adds in k order, added to c
/// once: the order of `gemm`'s main kernels within a block along k, so a product gives the
/// same bits whichever of the two sums it.
///
/// # Safety
/// As `gemm_strided`.
unsafe fn chain_product(p: Product) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::wide::has_avx2_fma() {
            return chain_product_fma(p);
        }
    }
    chain_product_with(p)
}

/// With the FMA instruction: `mul_add` is a library call without it (the same bits, slower).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chain_product_fma(p: Product) {
    chain_product_with(p)
}

#[inline(always)]
unsafe fn chain_product_with(p: Product) {
    let Product {
        m,
        n,
        k,
        c,
        c_rs,
        accumulate,
        a: (a, a_rs, a_cs),
        b: (b, b_rs, b_cs),
    } = p;
    // Small products only (see `chained_here`): one output at a time is fast enough.
    for i in 0..m as isize {
        for j in 0..n as isize {
            let mut sum = 0.0f32;
            for kk in 0..k as isize {
                sum =
                    (*a.offset(i * a_rs + kk * a_cs)).mul_add(*b.offset(kk * b_rs + j * b_cs), sum);
            }
            let d = c.offset(i * c_rs + j);
            *d = if accumulate { *d + sum } else { sum };
        }
    }
}

/// (blocks, block length) for a sum over k; one block (of length 0) when k is 0.
fn k_blocks(k: usize) -> (usize, usize) {
    let parts = k.div_ceil(K_BLOCK).max(1);
    (parts, k.div_ceil(parts))
}

/// `z = x·wᵀ + bias` for x [n×in], w [out×in] (dfdx's Linear layout): the reference the
/// transposed forward is checked against (`transposed_forward`).
#[cfg(test)]
pub fn linear_forward(x: &[f32], n: usize, w: &[f32], bias: &[f32], out: usize, z: &mut [f32]) {
    let inp = w.len() / out;
    // wᵀ is k×n with row stride 1 and column stride `inp`.
    bias_plus_product(x, n, w, (1, inp as isize), bias, out, z);
}

/// `z = x·wt + bias` for x [n×in] and wt [in×out], the weights transposed from dfdx's [out×in]
/// (`transpose`). `gemm` reads x·Wᵀ from the [out×in] layout, both operands contiguous along
/// k, at a third of the rate of this product (70 against 192 GFLOP/s at 128×256×512 on 2
/// threads, AMD EPYC). The same bits: both reach `gemm`'s main kernels or `chain_product`.
pub fn linear_forward_t(x: &[f32], n: usize, wt: &[f32], bias: &[f32], out: usize, z: &mut [f32]) {
    // wt is k×n row-major.
    bias_plus_product(x, n, wt, (out as isize, 1), bias, out, z);
}

/// `z = bias + x·b` for x [n×in] and b [in×out] read from `w` with (row, column) strides
/// `b_strides`, which must address exactly the in·out elements of `w`.
fn bias_plus_product(
    x: &[f32],
    n: usize,
    w: &[f32],
    b_strides: (isize, isize),
    bias: &[f32],
    out: usize,
    z: &mut [f32],
) {
    let inp = w.len() / out;
    // The GEMM below reads through raw pointers: every length it relies on is checked here.
    assert_eq!(w.len(), out * inp, "w must hold in x out weights");
    assert_eq!(bias.len(), out, "one bias per output");
    assert_eq!(x.len(), n * inp, "x must be n x in");
    assert_eq!(z.len(), n * out);
    let (rs, cs) = b_strides;
    assert!(
        (rs, cs) == (1, inp as isize) || (rs, cs) == (out as isize, 1),
        "b is w as [out×in] or [in×out]"
    );
    for row in z.chunks_exact_mut(out) {
        row.copy_from_slice(bias);
    }
    // SAFETY: sizes checked above; both stride pairs address the in·out elements of w.
    unsafe {
        gemm(
            n,
            out,
            inp,
            z,
            true,
            x.as_ptr(),
            inp as isize,
            1,
            w.as_ptr(),
            rs,
            cs,
        )
    };
}

/// `t[cols×rows] = mᵀ` for a row-major m [rows×cols]. Each task writes a contiguous block of
/// t's rows, reading eight rows of m side by side so that every write is 8 floats wide
/// (about 37 µs for 256×512 on one thread, against 166 µs element by element).
pub fn transpose(m: &[f32], rows: usize, cols: usize, t: &mut [f32]) {
    use rayon::prelude::*;
    assert_eq!(m.len(), rows * cols, "m must be rows x cols");
    assert_eq!(t.len(), rows * cols, "t must be cols x rows");
    if rows == 0 || cols == 0 {
        return;
    }
    const T_ROWS: usize = 64;
    let block = |(c, dst): (usize, &mut [f32])| {
        let first = c * T_ROWS;
        let mut r = 0;
        while r + 8 <= rows {
            let src: [&[f32]; 8] = std::array::from_fn(|i| &m[(r + i) * cols..(r + i + 1) * cols]);
            for (j, out) in dst.chunks_exact_mut(rows).enumerate() {
                let col = first + j;
                let eight = &mut out[r..r + 8];
                for (o, s) in eight.iter_mut().zip(src) {
                    *o = s[col];
                }
            }
            r += 8;
        }
        for r in r..rows {
            for (j, out) in dst.chunks_exact_mut(rows).enumerate() {
                out[r] = m[r * cols + first + j];
            }
        }
    };
    if rows * cols >= 64 * 1024 {
        t.par_chunks_mut(T_ROWS * rows).enumerate().for_each(block);
    } else {
        t.chunks_mut(T_ROWS * rows).enumerate().for_each(block);
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
    // The GEMMs below read through raw pointers: every length they rely on is checked here.
    assert_eq!(w.len(), out * inp, "w must be out x in");
    assert_eq!(x.len(), n * inp, "x must be n x in");
    assert_eq!(dz.len(), n * out);
    assert_eq!(dw.len(), out * inp);
    let macs = n * out * inp;
    let weight_grad = |dw: &mut [f32], parallel: bool| {
        // SAFETY: dzᵀ is out×n (row stride 1, column stride out); x is n×inp row-major; dw
        // holds out×inp (checked above).
        unsafe {
            gemm_strided(
                parallel,
                out,
                inp,
                n,
                dw.as_mut_ptr(),
                inp as isize,
                false,
                dz.as_ptr(),
                1,
                out as isize,
                x.as_ptr(),
                inp as isize,
                1,
            )
        }
    };
    let input_grad = |dx: &mut [f32], parallel: bool| {
        assert_eq!(dx.len(), n * inp);
        // SAFETY: dz is n×out row-major, w is out×inp row-major, dx holds n×inp.
        unsafe {
            gemm_strided(
                parallel,
                n,
                inp,
                out,
                dx.as_mut_ptr(),
                inp as isize,
                false,
                dz.as_ptr(),
                out as isize,
                1,
                w.as_ptr(),
                inp as isize,
                1,
            )
        }
    };
    match dx {
        // Two GEMMs too small to split well, large enough to pay for a fork: one per
        // thread, side by side.
        Some(dx) if (JOIN_FROM..JOIN_BELOW).contains(&macs) => {
            rayon::join(
                || {
                    weight_grad(dw, false);
                    bias_grad(dz, out, db);
                },
                || input_grad(dx, false),
            );
        }
        dx => {
            let parallel = split_pays(n, out, inp);
            weight_grad(dw, parallel);
            bias_grad(dz, out, db);
            if let Some(dx) = dx {
                input_grad(dx, parallel);
            }
        }
    }
}

/// From `JOIN_FROM` to below `JOIN_BELOW` multiply-adds per GEMM, a layer's backward runs
/// its weight and input gradients side by side, one thread each, instead of splitting each
/// over both: it paid on 2-core machines (docs/BENCHMARKS.md, "Constants and what set them").
pub const JOIN_FROM: usize = 512 * 1024;
pub const JOIN_BELOW: usize = 32 * 1024 * 1024;

/// `z = x·W + bias` for x [n×in] and W [in×out] in the panel layout (`sparse::Panels`).
pub fn linear_p_forward(x: &[f32], n: usize, w: &[f32], bias: &[f32], out: usize, z: &mut [f32]) {
    let inp = w.len() / out;
    let panels = Panels::new(inp, out);
    assert_eq!(w.len(), panels.len(), "w must be in x out");
    assert_eq!(bias.len(), out, "one bias per output");
    assert_eq!(x.len(), n * inp, "x must be n x in");
    assert_eq!(z.len(), n * out);
    for row in z.chunks_exact_mut(out) {
        row.copy_from_slice(bias);
    }
    for t in 0..panels.count() {
        let (col, end) = panels.columns(t);
        let p = panels.panel(w, t);
        // SAFETY: sizes checked above; x is n×inp, the panel inp×(end−col), both row-major;
        // z's columns col..end of n rows `out` apart are in bounds.
        unsafe {
            gemm_strided(
                split_pays(n, end - col, inp),
                n,
                end - col,
                inp,
                z.as_mut_ptr().add(col),
                out as isize,
                true,
                x.as_ptr(),
                inp as isize,
                1,
                p.as_ptr(),
                (end - col) as isize,
                1,
            )
        };
    }
}

/// `dW = xᵀ·dz` (overwritten) for x [n×in], dz [n×out]: the weight gradient in panels.
pub fn linear_p_weight_grad(x: &[f32], n: usize, dz: &[f32], out: usize, dw: &mut [f32]) {
    let inp = dw.len() / out;
    let panels = Panels::new(inp, out);
    assert_eq!(dw.len(), panels.len(), "dw must be in x out");
    assert_eq!(x.len(), n * inp, "x must be n x in");
    assert_eq!(dz.len(), n * out);
    for t in 0..panels.count() {
        let (col, end) = panels.columns(t);
        let (at, len) = panels.range(t);
        // SAFETY: xᵀ is inp×n (row stride 1, column stride inp); dz's columns col..end are
        // n rows `out` apart; the panel is inp×(end−col) contiguous.
        unsafe {
            gemm(
                inp,
                end - col,
                n,
                &mut dw[at..at + len],
                false,
                x.as_ptr(),
                1,
                inp as isize,
                dz.as_ptr().add(col),
                out as isize,
                1,
            )
        };
    }
}

/// `db = Σ dz` over rows, summed in f64 per row block (overwritten).
pub fn bias_grad(dz: &[f32], out: usize, db: &mut [f32]) {
    assert_eq!(db.len(), out, "one bias gradient per output");
    for (d, s) in db.iter_mut().zip(par_column_sums(dz, out, |_, v| v as f64)) {
        *d = s as f32;
    }
}

#[inline(always)]
pub fn activate(z: &mut [f32], act: Activation) {
    match act {
        Activation::ReLU => z.iter_mut().for_each(|v| *v = v.max(0.0)),
        Activation::Sigmoid => z.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        Activation::Tanh => z.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::LeakyReLU { alpha } => z
            .iter_mut()
            .for_each(|v| *v = if *v > 0.0 { *v } else { alpha * *v }),
        Activation::ELU { alpha } => z.iter_mut().for_each(|v| {
            *v = if *v > 0.0 {
                *v
            } else {
                alpha * (v.exp() - 1.0)
            }
        }),
    }
}

/// `d *= act'(z)`, with the derivative written in terms of the activation's output `a`.
/// Selects, not branches: a ReLU's sign is a coin flip the branch predictor cannot learn.
#[inline(always)]
pub fn activation_backward(a: &[f32], d: &mut [f32], act: Activation) {
    let it = d.iter_mut().zip(a);
    match act {
        Activation::ReLU => it.for_each(|(d, &a)| *d = if a > 0.0 { *d } else { 0.0 }),
        Activation::Sigmoid => it.for_each(|(d, &a)| *d *= a * (1.0 - a)),
        Activation::Tanh => it.for_each(|(d, &a)| *d *= 1.0 - a * a),
        Activation::LeakyReLU { alpha } => {
            it.for_each(|(d, &a)| *d *= if a > 0.0 { 1.0 } else { alpha })
        }
        Activation::ELU { alpha } => {
            it.for_each(|(d, &a)| *d *= if a > 0.0 { 1.0 } else { a + alpha })
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

/// Softmax cross-entropy over rows of logits (one per class): returns the summed loss and the number of
/// correct argmaxes, and writes d(mean loss)/d(logits) into `dlogits`.
pub fn softmax_cross_entropy(logits: &[f32], labels: &[u8], dlogits: &mut [f32]) -> (f64, usize) {
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

/// Rows per parallel task: the element-wise passes split a batch into row blocks, in a fixed
/// way, so results never depend on the number of threads.
pub const ROW_BLOCK: usize = 16;

/// A small, fast generator for dropout masks (SplitMix64): masks are re-derived per row from
/// a per-step seed, so rows can be filled in parallel and stay deterministic.
#[derive(Debug, Clone, Copy)]
pub struct SplitMix(pub u64);

impl SplitMix {
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Column sums of `a` [rows×c] computed per row block in parallel, then added in block order.
pub fn par_column_sums(a: &[f32], c: usize, f: impl Fn(usize, f32) -> f64 + Sync) -> Vec<f64> {
    use rayon::prelude::*;
    let partial: Vec<Vec<f64>> = a
        .par_chunks(c * ROW_BLOCK)
        .with_min_len(min_blocks(c))
        .map(|block| {
            let mut s = vec![0.0f64; c];
            for row in block.chunks_exact(c) {
                for (j, v) in row.iter().enumerate() {
                    s[j] += f(j, *v);
                }
            }
            s
        })
        .collect();
    let mut total = vec![0.0f64; c];
    for p in partial {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// Row blocks per parallel task, so each task has at least ~8k elements: small layers run on
/// one thread instead of paying for task hand-offs. Chunking is unchanged, so are the results.
pub fn min_blocks(cols: usize) -> usize {
    (8192 / (cols * ROW_BLOCK)).max(1)
}

/// Inverted-dropout mask of one row: each element 0 with probability `p`, else 1/(1−p).
/// Drawn from (`seed`, `row`) alone, so rows can be filled in any order or in parallel; each
/// 64-bit draw decides two elements (its high and low halves).
#[inline(always)]
pub fn dropout_mask(mask: &mut [f32], p: f32, seed: u64, row: u64) {
    if p <= 0.0 {
        mask.iter_mut().for_each(|m| *m = 1.0);
        return;
    }
    let threshold = (p as f64 * 4_294_967_296.0) as u64;
    let scale = 1.0 / (1.0 - p);
    let keep = |bits: u64| if bits < threshold { 0.0 } else { scale };
    let mut rng = SplitMix(seed ^ row.wrapping_mul(0xA076_1D64_78BD_642F));
    let mut pairs = mask.chunks_exact_mut(2);
    for pair in &mut pairs {
        let r = rng.next_u64();
        pair[0] = keep(r >> 32);
        pair[1] = keep(r & 0xFFFF_FFFF);
    }
    if let [last] = pairs.into_remainder() {
        *last = keep(rng.next_u64() >> 32);
    }
}

#[cfg(test)]
mod length_checks {
    use super::*;

    #[test]
    #[should_panic(expected = "x must be n x in")]
    fn linear_backward_refuses_a_short_input_instead_of_reading_past_it() {
        let (n, inp, out) = (4, 3, 2);
        let x = vec![0.0; n * inp - 1];
        let w = vec![0.0; out * inp];
        let dz = vec![0.0; n * out];
        let (mut dw, mut db) = (vec![0.0; out * inp], vec![0.0; out]);
        linear_backward(&x, n, &w, out, &dz, &mut dw, &mut db, None);
    }

    #[test]
    #[should_panic(expected = "x must be n x in")]
    fn linear_forward_refuses_a_short_input() {
        let (n, inp, out) = (4, 3, 2);
        let mut z = vec![0.0; n * out];
        linear_forward(
            &vec![0.0; n * inp - 2],
            n,
            &vec![0.0; out * inp],
            &[0.0; 2],
            out,
            &mut z,
        );
    }
}

#[cfg(test)]
mod transposed_forward {
    use super::*;

    /// Reproducible values in [-0.5, 0.5) (xorshift).
    pub(super) fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    /// Every element lands in its place, for shapes on both sides of the parallel threshold
    /// and with row counts that are not multiples of eight.
    #[test]
    fn transpose_puts_every_element_in_its_place() {
        for (rows, cols) in [
            (1, 1),
            (3, 70),
            (10, 128),
            (13, 200),
            (256, 512),
            (300, 257),
        ] {
            let m = noise(rows * cols, 7);
            let mut t = vec![f32::NAN; rows * cols];
            transpose(&m, rows, cols, &mut t);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        t[c * rows + r],
                        m[r * cols + c],
                        "({r}, {c}) of {rows}x{cols}"
                    );
                }
            }
        }
    }

    /// The forward through the transposed weights gives the bits of the product read from
    /// dfdx's [out×in] layout, for every batch size up to 130 (last batches are short, and a
    /// 24-row one into 10 classes once differed) on the layer shapes of the paper nets, split
    /// over two threads or not.
    #[test]
    fn the_transposed_forward_gives_the_same_bits() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        let shapes = [
            (512, 256),
            (512, 128),
            (256, 128),
            (128, 64),
            (64, 32),
            (128, 10),
            (32, 10),
        ];
        for (inp, out) in shapes {
            let w = noise(out * inp, 2);
            let bias = noise(out, 3);
            let mut wt = vec![0.0; out * inp];
            transpose(&w, out, inp, &mut wt);
            for n in 1..=130 {
                let x = noise(n * inp, n as u64);
                let mut z = vec![0.0; n * out];
                let mut before = vec![0.0; n * out];
                pool.install(|| {
                    linear_forward_t(&x, n, &wt, &bias, out, &mut z);
                    linear_forward(&x, n, &w, &bias, out, &mut before);
                });
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&z), bits(&before), "{n}x{inp}->{out}");
            }
        }
    }
}

#[cfg(test)]
mod blocks_along_k {
    use super::transposed_forward::noise;
    use super::*;

    /// k is cut as `gemm` cuts it at 512: ⌈k/512⌉ equal blocks, the last shorter.
    #[test]
    fn k_is_cut_into_equal_blocks_of_at_most_512() {
        assert_eq!(k_blocks(0), (1, 0));
        assert_eq!(k_blocks(1), (1, 1));
        assert_eq!(k_blocks(512), (1, 512));
        assert_eq!(k_blocks(513), (2, 257));
        assert_eq!(k_blocks(784), (2, 392));
        assert_eq!(k_blocks(1100), (3, 367));
        assert_eq!(k_blocks(4096), (8, 512));
    }

    /// The product's bits follow a definition that names no CPU: each output is c plus, block
    /// by block along k, the block's sum as one chain of fused multiply-adds in k order.
    /// Checked against that scalar definition on one thread and on the pool, with k on both
    /// sides of `K_BLOCK`, b row-major and in dfdx's layout (b = Wᵀ, W [n×k] row-major), for
    /// `gemm`'s main kernels and the shapes summed by `chain_product` (one row, one column,
    /// k ≤ 2, m·n ≤ 256: `gemm` summed 57 of 1×64×300's outputs, 119 of 128×1×300's and 2 of
    /// 2×3×2's in another order). Were a CPU's `gemm` to cut k elsewhere, or sum a block in
    /// another order, this would fail there.
    #[test]
    fn each_block_of_k_is_one_chain_of_multiply_adds_added_to_c() {
        for (m, n, k) in [
            (128, 64, 784),
            (64, 48, 1100),
            (37, 100, 600),
            (128, 256, 512),
            (128, 128, 128),
            (24, 10, 32),
            (24, 10, 128),
            (16, 16, 512),
            (1, 64, 300),
            (1, 512, 784),
            (128, 1, 300),
            (2, 3, 2),
            (5, 7, 1),
        ] {
            let a = noise(m * k, 3);
            let b = noise(k * n, 5);
            let c0 = noise(m * n, 11);
            let (parts, block) = k_blocks(k);
            let mut want = c0.clone();
            for i in 0..m {
                for j in 0..n {
                    for part in 0..parts {
                        let mut acc = 0.0f32;
                        for kk in part * block..((part + 1) * block).min(k) {
                            acc = a[i * k + kk].mul_add(b[kk * n + j], acc);
                        }
                        want[i * n + j] += acc;
                    }
                }
            }
            // b as stored: row-major (k×n), or its transpose stored row-major (n×k).
            let mut bt = vec![0.0; k * n];
            transpose(&b, k, n, &mut bt);
            let layouts = [
                ("row-major", b.as_ptr(), n as isize, 1),
                ("dfdx", bt.as_ptr(), 1, k as isize),
            ];
            for ((layout, b, b_rs, b_cs), parallel) in
                layouts.into_iter().flat_map(|l| [(l, false), (l, true)])
            {
                let mut c = c0.clone();
                // SAFETY: a is m×k row-major; b addresses k×n elements by (b_rs, b_cs); c
                // holds m×n.
                unsafe {
                    gemm_strided(
                        parallel,
                        m,
                        n,
                        k,
                        c.as_mut_ptr(),
                        n as isize,
                        true,
                        a.as_ptr(),
                        k as isize,
                        1,
                        b,
                        b_rs,
                        b_cs,
                    )
                };
                let differ = c
                    .iter()
                    .zip(&want)
                    .filter(|(x, y)| x.to_bits() != y.to_bits())
                    .count();
                assert_eq!(differ, 0, "{m}x{n}x{k}, b {layout}, parallel {parallel}");
            }
        }
    }
}
