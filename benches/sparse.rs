//! Where the sparse first layer stops paying: times `X·W₁` and `Xᵀ·dY` (batch 128, 784 →
//! 512) through the sparse kernels and the dense GEMM at a range of input densities, in
//! alternating pairs, and prints the crossover. `cargo bench --bench sparse`.

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

fn main() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let wt: Vec<f32> = (0..IN * OUT).map(|_| rng.gen_range(-0.1..0.1)).collect();
    let bias = vec![0.01f32; OUT];
    let dz: Vec<f32> = (0..N * OUT).map(|_| rng.gen_range(-0.1..0.1)).collect();
    let mut z = vec![0.0f32; N * OUT];
    let mut dw = vec![0.0f32; IN * OUT];
    println!(
        "{:>8} {:>10} {:>12} {:>12} {:>12} {:>12} {:>7}",
        "density", "pack", "sparse fwd", "dense fwd", "sparse dW", "dense dW", "ratio"
    );
    let mut crossover = None;
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
        let mut s = SparseBatch::default();
        let (mut pk, mut sf, mut df, mut sg, mut dg) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for _ in 0..3 {
            // Alternating pairs: the machine's speed drifts; both sides see the same drift.
            pk += time(|| s.pack_u8(pixels.chunks_exact(IN), IN, true));
            sf += time(|| s.forward(&wt, &bias, OUT, &mut z));
            df += time(|| kernels::linear_p_forward(&x, N, &wt, &bias, OUT, &mut z));
            sg += time(|| s.weight_grad(&dz, OUT, &mut dw));
            dg += time(|| kernels::linear_p_weight_grad(&x, N, &dz, OUT, &mut dw));
        }
        let ratio = (pk + sf + sg) / (df + dg);
        if ratio >= 1.0 && crossover.is_none() {
            crossover = Some(density);
        }
        println!(
            "{:>8.2} {:>8.0}µs {:>10.0}µs {:>10.0}µs {:>10.0}µs {:>10.0}µs {:>7.2}",
            density,
            pk / 3.0 * 1e6,
            sf / 3.0 * 1e6,
            df / 3.0 * 1e6,
            sg / 3.0 * 1e6,
            dg / 3.0 * 1e6,
            ratio
        );
    }
    // The same on real MNIST batches (its zeros come in runs, which packing skips 8 at a
    // time), when the data is here.
    match mnist_lab::data::load_dir(&mnist_lab::data::default_dir()) {
        Ok(data) => {
            let order = mnist_lab::data::epoch_order(data.train.len(), 1, 0);
            let mut s = SparseBatch::default();
            let mut x = Vec::new();
            let (mut pk, mut sf, mut df, mut sg, mut dg, mut density) =
                (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            for batch in order.chunks_exact(N).take(3) {
                data.train.fill_batch(batch, &mut x);
                let images = || batch.iter().map(|&i| data.train.image(i));
                pk += time(|| s.pack_u8(images(), IN, true));
                density += s.density() / 3.0;
                sf += time(|| s.forward(&wt, &bias, OUT, &mut z));
                df += time(|| kernels::linear_p_forward(&x, N, &wt, &bias, OUT, &mut z));
                sg += time(|| s.weight_grad(&dz, OUT, &mut dw));
                dg += time(|| kernels::linear_p_weight_grad(&x, N, &dz, OUT, &mut dw));
            }
            println!(
                "{:>8.2} {:>8.0}µs {:>10.0}µs {:>10.0}µs {:>10.0}µs {:>10.0}µs {:>7.2}  (MNIST)",
                density,
                pk / 3.0 * 1e6,
                sf / 3.0 * 1e6,
                df / 3.0 * 1e6,
                sg / 3.0 * 1e6,
                dg / 3.0 * 1e6,
                (pk + sf + sg) / (df + dg)
            );
        }
        Err(e) => println!("(no MNIST row: {e})"),
    }
    match crossover {
        Some(d) => println!("sparse (packing included) stops paying at about density {d}"),
        None => println!("sparse pays at every density measured"),
    }
}
