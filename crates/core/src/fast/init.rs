//! A network's starting parameters for any widths, drawn exactly as dfdx draws them for its
//! compile-time types: the same seed gives the same weights on both paths, so the fast path
//! of a menu architecture starts where dfdx's does (`tests/kernels.rs` checks it bit for bit).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Normal, Uniform};

use crate::spec::Init;

/// Every tensor in dfdx's visiting order (weight [out×in], bias, then BN scale, bias,
/// running mean, running var on each hidden layer; see `FastNet::from_params`).
///
/// dfdx builds first, each Linear's weight and bias uniform in ±1/√in from the device's
/// `StdRng`, then our `configure` redraws every weight from the initialiser and zeroes the
/// biases; the first draws still advance the generator, so they are made and dropped here.
pub fn initial_params(widths: &[usize], init: Init, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let layers: Vec<(usize, usize)> = widths.windows(2).map(|w| (w[0], w[1])).collect();
    for &(inp, out) in &layers {
        let b = 1.0f32 / (inp as f32).sqrt();
        let u = Uniform::new(-b, b);
        for _ in 0..inp * out + out {
            let _: f32 = rng.sample(u);
        }
    }
    let hidden = layers.len() - 1;
    let mut params = Vec::new();
    for (l, &(inp, out)) in layers.iter().enumerate() {
        params.push(draw_weights(&mut rng, init, inp, out));
        params.push(vec![0.0; out]);
        if l < hidden {
            params.push(vec![1.0; out]);
            params.push(vec![0.0; out]);
            params.push(vec![0.0; out]);
            params.push(vec![1.0; out]);
        }
    }
    params
}

/// `inp × out` weights in [out×in] order, as `model::init_linear` fills them.
fn draw_weights(rng: &mut StdRng, init: Init, inp: usize, out: usize) -> Vec<f32> {
    let (fan_in, fan_out) = (inp as f32, out as f32);
    let n = inp * out;
    match init {
        Init::HeNormal => {
            let d = Normal::new(0.0, (2.0 / fan_in).sqrt()).expect("finite positive std");
            (0..n).map(|_| rng.sample(d)).collect()
        }
        Init::GlorotUniform => {
            let b = (6.0 / (fan_in + fan_out)).sqrt();
            let d = Uniform::new(-b, b);
            (0..n).map(|_| rng.sample(d)).collect()
        }
        Init::LecunUniform => {
            let b = (3.0 / fan_in).sqrt();
            let d = Uniform::new(-b, b);
            (0..n).map(|_| rng.sample(d)).collect()
        }
    }
}
