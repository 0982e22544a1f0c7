//! Where the sparse first layer stops paying: times `X·W₁` and `Xᵀ·dY` (batch 128, 784 →
//! 512) through the sparse kernels and the dense GEMM at a range of input densities, in
//! alternating pairs, and prints the crossover; then the same on real MNIST batches when the
//! data is here, with the hybrid first layer (dense GEMM over the densest columns, sparse over
//! the rest) timed in its parts. Each time is the fastest of 40 calls. `cargo bench --bench sparse`.

use mnist_lab::fast::kernels;
use mnist_lab::fast::sparse::SparseBatch;
use rand::{Rng, SeedableRng};

const N: usize = 128;
const IN: usize = 784;
const OUT: usize = 512;

mod common;

fn time(f: impl FnMut()) -> f64 {
    common::fastest_of(40, f)
}

/// The layer's weights and the buffers both paths write.
struct Layer {
    wt: Vec<f32>,
    bias: Vec<f32>,
    dz: Vec<f32>,
    z: Vec<f32>,
    dw: Vec<f32>,
}

/// Seconds summed over the batches measured.
#[derive(Default)]
struct Times {
    batches: usize,
    density: f64,
    pack: f64,
    sparse_fwd: f64,
    dense_fwd: f64,
    sparse_dw: f64,
    dense_dw: f64,
}

impl Times {
    /// Times one batch both ways, alternating: `x` dense, `pack` filling `s` with the same.
    fn measure(
        &mut self,
        l: &mut Layer,
        s: &mut SparseBatch,
        x: &[f32],
        mut pack: impl FnMut(&mut SparseBatch),
    ) {
        self.pack += time(|| pack(s));
        self.density += s.density();
        self.batches += 1;
        self.sparse_fwd += time(|| s.forward(&l.wt, &l.bias, OUT, &mut l.z));
        self.dense_fwd += time(|| kernels::linear_p_forward(x, N, &l.wt, &l.bias, OUT, &mut l.z));
        self.sparse_dw += time(|| s.weight_grad(&l.dz, OUT, &mut l.dw));
        self.dense_dw += time(|| kernels::linear_p_weight_grad(x, N, &l.dz, OUT, &mut l.dw));
    }

    /// Sparse time (packing included) over dense time.
    fn ratio(&self) -> f64 {
        (self.pack + self.sparse_fwd + self.sparse_dw) / (self.dense_fwd + self.dense_dw)
    }

    fn print(&self, note: &str) {
        let k = self.batches.max(1) as f64;
        let us = |t: f64| t / k * 1e6;
        println!(
            "{:>8.2} {:>8.0}µs {:>10.0}µs {:>10.0}µs {:>10.0}µs {:>10.0}µs {:>7.2}{note}",
            self.density / k,
            us(self.pack),
            us(self.sparse_fwd),
            us(self.dense_fwd),
            us(self.sparse_dw),
            us(self.dense_dw),
            self.ratio()
        );
    }
}

fn main() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut layer = Layer {
        wt: (0..IN * OUT).map(|_| rng.gen_range(-0.1..0.1)).collect(),
        bias: vec![0.01f32; OUT],
        dz: (0..N * OUT).map(|_| rng.gen_range(-0.1..0.1)).collect(),
        z: vec![0.0f32; N * OUT],
        dw: vec![0.0f32; IN * OUT],
    };
    println!(
        "{:>8} {:>10} {:>12} {:>12} {:>12} {:>12} {:>7}",
        "density", "pack", "sparse fwd", "dense fwd", "sparse dW", "dense dW", "ratio"
    );
    let mut crossover = None;
    let mut s = SparseBatch::default();
    for density in [0.05, 0.1, 0.19, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0] {
        let pixels: Vec<u8> = (0..N * IN)
            .map(|_| {
                if rng.gen_bool(density) {
                    rng.gen_range(1..=255)
                } else {
                    0
                }
            })
            .collect();
        let x: Vec<f32> = pixels.iter().map(|&p| p as f32 / 255.0).collect();
        let mut times = Times::default();
        for _ in 0..3 {
            times.measure(&mut layer, &mut s, &x, |s| {
                s.pack_u8(pixels.chunks_exact(IN), IN, true)
            });
        }
        if times.ratio() >= 1.0 && crossover.is_none() {
            crossover = Some(density);
        }
        times.print("");
    }
    // Real MNIST batches: their zeros come in runs, which packing skips 8 at a time.
    match mnist_lab::data::load_dir(&mnist_lab::data::default_dir()) {
        Ok(data) => {
            let order = mnist_lab::data::epoch_order(data.train.len(), 1, 0);
            let mut x = Vec::new();
            let mut times = Times::default();
            for batch in order.chunks_exact(N).take(10) {
                data.train.fill_batch(batch, &mut x);
                let images = || batch.iter().map(|&i| data.train.image(i));
                times.measure(&mut layer, &mut s, &x, |s| s.pack_u8(images(), IN, true));
            }
            times.print("  (MNIST)");
            hybrid(&data.train, &order, &mut layer);
        }
        Err(e) => println!("(no MNIST row: {e})"),
    }
    match crossover {
        Some(d) => println!("sparse (packing included) stops paying at about density {d}"),
        None => println!("sparse pays at every density measured"),
    }
}

/// Issue 42's hybrid first layer, timed in its parts: the dense GEMM over the columns that
/// are non-zero in at least `threshold` of the training images, the sparse kernels over the
/// rest. Prints each part and their sum beside the sparse kernels on the whole batch (on
/// the same batches, fastest of 40 calls each).
fn hybrid(train: &mnist_lab::data::Split, order: &[usize], layer: &mut Layer) {
    let sample = train.len().min(10_000);
    let mut count = vec![0usize; IN];
    for i in 0..sample {
        for (c, &p) in train.image(i).iter().enumerate() {
            count[c] += (p != 0) as usize;
        }
    }
    println!(
        "\nhybrid first layer on MNIST batches (dense GEMM over the columns non-zero in at least\n\
         a share of training images, sparse over the rest; µs per batch, fastest of 40 calls):"
    );
    println!(
        "{:>9} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "share", "cols", "dense fwd", "rest fwd", "sum fwd", "dense dW", "rest dW", "sum dW"
    );
    for threshold in [0.0, 0.2, 0.35, 0.5, 0.65] {
        let dense_cols: Vec<usize> = (0..IN)
            .filter(|&c| threshold > 0.0 && count[c] as f64 >= threshold * sample as f64)
            .collect();
        let k = dense_cols.len().max(1);
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let w: Vec<f32> = (0..k * OUT).map(|_| rng.gen_range(-0.1..0.1)).collect();
        let mut dw = vec![0.0f32; k * OUT];
        let mut s = SparseBatch::default();
        let (mut t, mut batches) = ([0.0f64; 4], 0);
        for batch in order.chunks_exact(N).take(10) {
            let mut rest: Vec<u8> = Vec::with_capacity(N * IN);
            let mut x = vec![0.0f32; N * k];
            for (r, &i) in batch.iter().enumerate() {
                let img = train.image(i);
                let mut row = img.to_vec();
                for (j, &c) in dense_cols.iter().enumerate() {
                    x[r * k + j] = img[c] as f32 / 255.0;
                    row[c] = 0;
                }
                rest.extend_from_slice(&row);
            }
            s.pack_u8(rest.chunks_exact(IN), IN, true);
            if !dense_cols.is_empty() {
                t[0] +=
                    time(|| kernels::linear_p_forward(&x, N, &w, &layer.bias, OUT, &mut layer.z));
                t[2] += time(|| kernels::linear_p_weight_grad(&x, N, &layer.dz, OUT, &mut dw));
            }
            t[1] += time(|| s.forward(&layer.wt, &layer.bias, OUT, &mut layer.z));
            t[3] += time(|| s.weight_grad(&layer.dz, OUT, &mut layer.dw));
            batches += 1;
        }
        let us = |v: f64| v / batches as f64 * 1e6;
        println!(
            "{:>9} {:>6} {:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>10.0}",
            format!(">= {threshold}"),
            dense_cols.len(),
            us(t[0]),
            us(t[1]),
            us(t[0] + t[1]),
            us(t[2]),
            us(t[3]),
            us(t[2] + t[3])
        );
    }
}
