//! The hidden layers' forward products of the paper nets (batch 128), each through
//! `linear_forward_t`, and the transposition of the weights it needs after every update:
//! microseconds and GFLOP/s, fastest of 200 calls. `cargo bench --bench shapes`.

use mnist_lab::fast::kernels;

mod common;

fn time(f: impl FnMut()) -> f64 {
    common::fastest_of(200, f)
}

fn main() {
    println!(
        "{:>14} {:>12} {:>9} {:>14}",
        "n x in x out", "forward µs", "GFLOP/s", "transpose µs"
    );
    for (n, inp, out) in [
        (128, 784, 512),
        (128, 512, 256),
        (128, 512, 128),
        (128, 256, 128),
    ] {
        let x: Vec<f32> = (0..n * inp).map(|i| (i % 7) as f32 * 0.1).collect();
        let w: Vec<f32> = (0..inp * out).map(|i| (i % 5) as f32 * 0.01).collect();
        let bias = vec![0.0f32; out];
        let (mut z, mut wt) = (vec![0.0f32; n * out], vec![0.0f32; inp * out]);
        let transpose = time(|| kernels::transpose(&w, out, inp, &mut wt));
        let forward = time(|| kernels::linear_forward_t(&x, n, &wt, &bias, out, &mut z));
        let flops = 2.0 * (n * inp * out) as f64;
        println!(
            "{:>14} {:>12.1} {:>9.0} {:>14.1}",
            format!("{n}x{inp}x{out}"),
            forward * 1e6,
            flops / forward / 1e9,
            transpose * 1e6
        );
    }
}
