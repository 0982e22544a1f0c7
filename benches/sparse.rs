//! Where the sparse first layer stops paying: times `X·W₁` and `Xᵀ·dY` (batch 128, 784 →
//! 512) through the sparse kernels and the dense GEMM at a range of input densities, in
//! alternating pairs, and prints the crossover; then the same on real MNIST batches when the
//! data is here. `cargo bench --bench sparse`.

use std::time::Instant;

use mnist_lab::fast::kernels;
use mnist_lab::fast::sparse::SparseBatch;
use rand::{Rng, SeedableRng};

const N: usize = 128;
const IN: usize = 784;
const OUT: usize = 512;

fn time(mut f: impl FnMut()) -> f64 {
    f();
    let reps = 40;
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() / reps as f64
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
            for batch in order.chunks_exact(N).take(3) {
                data.train.fill_batch(batch, &mut x);
                let images = || batch.iter().map(|&i| data.train.image(i));
                times.measure(&mut layer, &mut s, &x, |s| s.pack_u8(images(), IN, true));
            }
            times.print("  (MNIST)");
        }
        Err(e) => println!("(no MNIST row: {e})"),
    }
    match crossover {
        Some(d) => println!("sparse (packing included) stops paying at about density {d}"),
        None => println!("sparse pays at every density measured"),
    }
}
