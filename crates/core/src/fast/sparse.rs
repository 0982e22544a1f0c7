//! The first layer on sparse input. About 81% of MNIST's pixels are exactly zero, so `X·W₁`
//! and `Xᵀ·dY` need about a fifth of the dense FLOPs when the batch is kept as its non-zero
//! pixels. A batch is packed once (u8 → f32 scaling folded in), by row for the forward product
//! and by column for the weight gradient. Each output element is summed in a fixed order, so
//! results do not depend on the thread count; they differ from the dense GEMM only by order.

use rayon::prelude::*;

/// A batch's pixels as compressed rows and compressed columns of the same entries.
#[derive(Debug, Clone, Default)]
pub struct SparseBatch {
    rows: usize,
    cols: usize,
    row_start: Vec<u32>,
    row_col: Vec<u32>,
    row_val: Vec<f32>,
    col_start: Vec<u32>,
    col_row: Vec<u32>,
    col_val: Vec<f32>,
}

/// Output columns handled per pass: 64 f32 accumulators stay in vector registers while one
/// row's non-zeros stream by, and a 784×64 slice of the weights (200 KB) stays in L2.
const TILE: usize = 64;

impl SparseBatch {
    /// Packs u8 images of `cols` pixels each, scaled by 1/255 as `Split::fill_batch` does.
    /// With `columns` false only the rows are built (enough for `forward`, as in evaluation).
    pub fn pack_u8<'a>(
        &mut self,
        images: impl Iterator<Item = &'a [u8]>,
        cols: usize,
        columns: bool,
    ) {
        self.clear(cols);
        for img in images {
            assert_eq!(img.len(), cols, "every image has {cols} pixels");
            self.push_row(
                img,
                |p| p != 0,
                |p| p as f32 * (1.0 / 255.0),
                |chunk| {
                    // Eight zero pixels skipped with one test: most of MNIST's zeros come in runs.
                    chunk.len() == 8 && u64::from_ne_bytes(chunk.try_into().expect("8 bytes")) == 0
                },
            );
        }
        if columns {
            self.build_columns();
        }
    }

    /// Packs a dense row-major batch of `cols` columns (tests, and data already in f32).
    pub fn pack_dense(&mut self, x: &[f32], cols: usize) {
        assert!(
            cols > 0 && x.len().is_multiple_of(cols),
            "x must be rows x {cols}"
        );
        self.clear(cols);
        for row in x.chunks_exact(cols) {
            self.push_row(row, |v| v != 0.0, |v| v, |_| false);
        }
        self.build_columns();
    }

    /// Appends a row's non-zeros (skipping 8-value chunks that `all_zero` vouches for).
    /// Every value of a chunk is written and the end advances only past non-zeros: no branch
    /// to mispredict on the pixels themselves.
    fn push_row<T: Copy>(
        &mut self,
        row: &[T],
        nonzero: impl Fn(T) -> bool,
        scaled: impl Fn(T) -> f32,
        all_zero: impl Fn(&[T]) -> bool,
    ) {
        let len = self.row_col.len();
        self.row_col.reserve(row.len());
        self.row_val.reserve(row.len());
        let mut n = 0;
        {
            let cols = &mut self.row_col.spare_capacity_mut()[..row.len()];
            let vals = &mut self.row_val.spare_capacity_mut()[..row.len()];
            for (c, chunk) in row.chunks(8).enumerate() {
                if all_zero(chunk) {
                    continue;
                }
                for (j, &v) in chunk.iter().enumerate() {
                    cols[n].write((c * 8 + j) as u32);
                    vals[n].write(scaled(v));
                    n += nonzero(v) as usize;
                }
            }
        }
        // SAFETY: the first n spare elements were written just above (n ≤ row.len(), which
        // is within the capacity reserved).
        unsafe {
            self.row_col.set_len(len + n);
            self.row_val.set_len(len + n);
        }
        self.end_row();
    }

    fn clear(&mut self, cols: usize) {
        self.rows = 0;
        self.cols = cols;
        self.row_start.clear();
        self.row_start.push(0);
        self.row_col.clear();
        self.row_val.clear();
    }

    fn end_row(&mut self) {
        self.rows += 1;
        self.row_start.push(self.row_col.len() as u32);
    }

    /// The same entries by column, rows ascending within each column (a counting sort).
    fn build_columns(&mut self) {
        self.col_start.clear();
        self.col_start.resize(self.cols + 1, 0);
        for &c in &self.row_col {
            self.col_start[c as usize + 1] += 1;
        }
        for c in 0..self.cols {
            self.col_start[c + 1] += self.col_start[c];
        }
        let nnz = self.row_col.len();
        self.col_row.resize(nnz, 0);
        self.col_val.resize(nnz, 0.0);
        let mut next: Vec<u32> = self.col_start[..self.cols].to_vec();
        for r in 0..self.rows {
            let (a, b) = (self.row_start[r] as usize, self.row_start[r + 1] as usize);
            for e in a..b {
                let c = self.row_col[e] as usize;
                let at = next[c] as usize;
                self.col_row[at] = r as u32;
                self.col_val[at] = self.row_val[e];
                next[c] += 1;
            }
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn nnz(&self) -> usize {
        self.row_col.len()
    }

    /// Fraction of entries that are non-zero.
    pub fn density(&self) -> f64 {
        self.nnz() as f64 / (self.rows * self.cols).max(1) as f64
    }

    /// `z[rows×out] = bias + X·W`, with `W` [cols×out] in the panel layout (`Panels`).
    pub fn forward(&self, w: &[f32], bias: &[f32], out: usize, z: &mut [f32]) {
        let panels = Panels::new(self.cols, out);
        assert_eq!(w.len(), panels.len(), "w must be cols x out");
        assert_eq!(bias.len(), out, "one bias per output");
        assert_eq!(z.len(), self.rows * out, "z must be rows x out");
        let dst = SharedOut(z.as_mut_ptr());
        (0..panels.count()).into_par_iter().for_each(|t| {
            let (col, end) = panels.columns(t);
            let src = panels.panel(w, t);
            let entries = |r: usize| {
                let (s, e) = (self.row_start[r] as usize, self.row_start[r + 1] as usize);
                (&self.row_col[s..e], &self.row_val[s..e])
            };
            // SAFETY: row r's columns col..end lie inside z (checked above), and only this
            // task writes them: panels are disjoint column ranges.
            let zrow = |r: usize| unsafe { dst.slice(r * out + col, end - col) };
            let mut r = 0;
            while r + 1 < self.rows {
                gather2(
                    [entries(r), entries(r + 1)],
                    src,
                    &bias[col..end],
                    [zrow(r), zrow(r + 1)],
                );
                r += 2;
            }
            if r < self.rows {
                gather(entries(r), src, &bias[col..end], zrow(r));
            }
        });
    }

    /// `dW[cols×out] = Xᵀ·dz` (overwritten), in the panel layout of `forward`'s weights.
    pub fn weight_grad(&self, dz: &[f32], out: usize, dw: &mut [f32]) {
        let panels = Panels::new(self.cols, out);
        assert_eq!(dz.len(), self.rows * out, "dz must be rows x out");
        assert_eq!(dw.len(), panels.len(), "dw must be cols x out");
        let dst = SharedOut(dw.as_mut_ptr());
        (0..panels.count()).into_par_iter().for_each(|t| {
            let (col, end) = panels.columns(t);
            let width = end - col;
            // This panel's columns of dz, contiguous: rows 2 KB apart would all fall in the
            // same few cache sets and evict each other.
            let mut src = Vec::with_capacity(self.rows * width);
            for row in dz.chunks_exact(out) {
                src.extend_from_slice(&row[col..end]);
            }
            let zero = [0.0f32; TILE];
            let (at, len) = panels.range(t);
            // SAFETY: a panel is a disjoint range of dw (checked above), written only here.
            let panel = unsafe { dst.slice(at, len) };
            let entries = |c: usize| {
                let (s, e) = (self.col_start[c] as usize, self.col_start[c + 1] as usize);
                (&self.col_row[s..e], &self.col_val[s..e])
            };
            let mut rows = panel.chunks_exact_mut(width).enumerate();
            while let Some((c, a)) = rows.next() {
                match rows.next() {
                    Some((_, b)) => {
                        gather2([entries(c), entries(c + 1)], &src, &zero[..width], [a, b])
                    }
                    None => gather(entries(c), &src, &zero[..width], a),
                }
            }
        });
    }
}

/// The first layer's weights [in×out], stored as panels of `TILE` output columns, each panel
/// [in×width] contiguous. A row-major [in×512] matrix puts a column tile's rows 2 KB apart,
/// so they share a handful of cache sets and evict each other; a panel is one 200 KB block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panels {
    pub inp: usize,
    pub out: usize,
}

impl Panels {
    pub fn new(inp: usize, out: usize) -> Self {
        Panels { inp, out }
    }

    pub fn len(&self) -> usize {
        self.inp * self.out
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn count(&self) -> usize {
        self.out.div_ceil(TILE)
    }

    /// Output columns `col..end` of panel `t`.
    pub fn columns(&self, t: usize) -> (usize, usize) {
        (t * TILE, ((t + 1) * TILE).min(self.out))
    }

    /// Where panel `t` lies in the buffer: (start, length).
    pub fn range(&self, t: usize) -> (usize, usize) {
        let (col, end) = self.columns(t);
        (self.inp * col, self.inp * (end - col))
    }

    pub fn panel<'a>(&self, w: &'a [f32], t: usize) -> &'a [f32] {
        let (at, len) = self.range(t);
        &w[at..at + len]
    }

    /// From dfdx's [out×in] layout.
    pub fn from_out_in(&self, w: &[f32]) -> Vec<f32> {
        assert_eq!(w.len(), self.len());
        let mut p = vec![0.0; w.len()];
        for t in 0..self.count() {
            let (col, end) = self.columns(t);
            let (at, _) = self.range(t);
            for k in 0..self.inp {
                for j in col..end {
                    p[at + k * (end - col) + (j - col)] = w[j * self.inp + k];
                }
            }
        }
        p
    }

    /// Back to dfdx's [out×in] layout.
    pub fn to_out_in(&self, p: &[f32]) -> Vec<f32> {
        assert_eq!(p.len(), self.len());
        let mut w = vec![0.0; p.len()];
        for t in 0..self.count() {
            let (col, end) = self.columns(t);
            let (at, _) = self.range(t);
            for k in 0..self.inp {
                for j in col..end {
                    w[j * self.inp + k] = p[at + k * (end - col) + (j - col)];
                }
            }
        }
        w
    }
}

/// `dst`'s base pointer, shared by tasks that write disjoint parts of it.
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);

// SAFETY: tasks only write disjoint ranges through it (see its users).
unsafe impl Send for SharedOut {}
// SAFETY: as for Send.
unsafe impl Sync for SharedOut {}

impl SharedOut {
    /// # Safety
    /// `at..at + len` must be in bounds, and written by nobody else meanwhile.
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, at: usize, len: usize) -> &mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(at), len)
    }
}

/// `dst = init + Σ v · src[i]` over the entries (i, v), in entry order; `src` holds rows as
/// wide as `dst`, contiguous.
fn gather(entries: Entries<'_>, src: &[f32], init: &[f32], dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::wide::use_avx512() {
            // SAFETY: the CPU has AVX-512F, which implies FMA (checked just above).
            return unsafe { gather_avx512(entries, src, init, dst) };
        }
        if super::wide::has_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { gather_avx2(entries, src, init, dst) };
        }
    }
    gather_with::<false>(entries, src, init, dst)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn gather_avx512(entries: (&[u32], &[f32]), src: &[f32], init: &[f32], dst: &mut [f32]) {
    gather_with::<true>(entries, src, init, dst)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gather_avx2(entries: (&[u32], &[f32]), src: &[f32], init: &[f32], dst: &mut [f32]) {
    gather_with::<true>(entries, src, init, dst)
}

/// The accumulators live in a local array (vector registers once vectorised). With `FMA`
/// each step is one fused multiply-add (as the GEMM does where the CPU has it): every CPU
/// with FMA gives the same bits, whatever its vector width.
#[inline(always)]
fn gather_with<const FMA: bool>(
    (idx, vals): (&[u32], &[f32]),
    src: &[f32],
    init: &[f32],
    dst: &mut [f32],
) {
    let step = |acc: f32, v: f32, s: f32| if FMA { v.mul_add(s, acc) } else { acc + v * s };
    let width = dst.len();
    if width == TILE {
        let mut acc = [0.0f32; TILE];
        acc.copy_from_slice(init);
        for (&i, &v) in idx.iter().zip(vals) {
            let at = i as usize * TILE;
            let s: &[f32; TILE] = src[at..at + TILE].try_into().expect("a whole tile");
            for j in 0..TILE {
                acc[j] = step(acc[j], v, s[j]);
            }
        }
        dst.copy_from_slice(&acc);
    } else {
        dst.copy_from_slice(init);
        for (&i, &v) in idx.iter().zip(vals) {
            let at = i as usize * width;
            for (d, &s) in dst.iter_mut().zip(&src[at..at + width]) {
                *d = step(*d, v, s);
            }
        }
    }
}

type Entries<'a> = (&'a [u32], &'a [f32]);

/// Two `gather`s at once over the same `src`, interleaved so that the loads of one hide the
/// latency of the other's; each destination is summed in its own entry order, as `gather`
/// would, so the bits are the same.
fn gather2(entries: [Entries<'_>; 2], src: &[f32], init: &[f32], dst: [&mut [f32]; 2]) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::wide::use_avx512() {
            // SAFETY: the CPU has AVX-512F, which implies FMA (checked just above).
            return unsafe { gather2_avx512(entries, src, init, dst) };
        }
    }
    let [a, b] = dst;
    gather(entries[0], src, init, a);
    gather(entries[1], src, init, b);
}

/// Only with 32 vector registers: two tiles of 64 accumulators each need 8 of them.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn gather2_avx512(
    entries: [Entries<'_>; 2],
    src: &[f32],
    init: &[f32],
    dst: [&mut [f32]; 2],
) {
    let [a, b] = dst;
    if a.len() != TILE {
        gather_with::<true>(entries[0], src, init, a);
        gather_with::<true>(entries[1], src, init, b);
        return;
    }
    let (mut x, mut y) = ([0.0f32; TILE], [0.0f32; TILE]);
    x.copy_from_slice(init);
    y.copy_from_slice(init);
    let ((ia, va), (ib, vb)) = (entries[0], entries[1]);
    let both = ia.len().min(ib.len());
    let row = |i: u32| -> &[f32; TILE] {
        let at = i as usize * TILE;
        src[at..at + TILE].try_into().expect("a whole tile")
    };
    for e in 0..both {
        let (sa, sb) = (row(ia[e]), row(ib[e]));
        for j in 0..TILE {
            x[j] = va[e].mul_add(sa[j], x[j]);
            y[j] = vb[e].mul_add(sb[j], y[j]);
        }
    }
    for e in both..ia.len() {
        let sa = row(ia[e]);
        for j in 0..TILE {
            x[j] = va[e].mul_add(sa[j], x[j]);
        }
    }
    for e in both..ib.len() {
        let sb = row(ib[e]);
        for j in 0..TILE {
            y[j] = vb[e].mul_add(sb[j], y[j]);
        }
    }
    a.copy_from_slice(&x);
    b.copy_from_slice(&y);
}

/// Above this density the dense GEMM is faster than the sparse kernels. Measured with
/// `cargo bench --bench sparse` (batch 128, 784 → 512, 2-core Xeon with AVX-512, after the
/// GEMM moved to AVX-512 kernels): sparse with its packing took 0.74–0.76 of the dense time
/// at density 0.19 and 1.10–1.11 at 0.3 (crossing near 0.27), and 0.64 on real MNIST batches;
/// without the packing, which now runs beside the previous step, it crosses near 0.37.
/// (With the AVX2 GEMM it crossed near 0.65.)
pub const DENSE_ABOVE: f64 = 0.3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_hold_the_same_entries_as_rows() {
        let x = [0.0, 1.0, 0.0, 2.0, 3.0, 0.0, 0.0, 4.0, 0.0];
        let mut s = SparseBatch::default();
        s.pack_dense(&x, 3);
        assert_eq!((s.rows(), s.nnz()), (3, 4));
        assert_eq!(s.col_start, vec![0, 1, 4, 4]);
        assert_eq!(s.col_row, vec![1, 0, 1, 2]);
        assert_eq!(s.col_val, vec![2.0, 1.0, 3.0, 4.0]);
        assert!((s.density() - 4.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn u8_pixels_are_scaled_like_the_dense_batch() {
        let img = [0u8, 255, 51, 0];
        let mut s = SparseBatch::default();
        s.pack_u8(std::iter::once(&img[..]), 4, true);
        assert_eq!(s.row_col, vec![1, 2]);
        assert_eq!(s.row_val, vec![1.0, 51.0 * (1.0 / 255.0)]);
    }
}
