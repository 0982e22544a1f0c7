//! The fused kernels against the dfdx reference on random inputs: forward outputs, every
//! gradient, BN running statistics, odd and partial batch sizes, and the training curve.

mod common;

use dfdx::prelude::*;
use mnist_lab::engine::{EngineOptions, Kernel};
use mnist_lab::fast::sparse::SparseBatch;
use mnist_lab::fast::{params, FastNet, Input};
use mnist_lab::model::{ArchVisitor, Net};
use mnist_lab::spec::Arch;
use mnist_lab::spec::{Activation, Placement, UnitSpec};
use rand::{Rng, SeedableRng};

/// Outputs agree within 1e-5 of the tensor's scale.
fn close(a: &[f32], b: &[f32], what: &str) {
    close_within(a, b, what, 1e-5)
}

/// Gradients agree within 3e-5 of the tensor's scale, except through BN of nearly constant
/// activations (stacked sigmoids), where f32 rounding is amplified by 1/σ: ours sums in f64,
/// dfdx in f32, and they differ by up to ~6e-5 of the scale there.
fn close_grad(a: &[f32], b: &[f32], what: &str, act: Activation) {
    let tol = if act == Activation::Sigmoid {
        1e-4
    } else {
        3e-5
    };
    close_within(a, b, what, tol)
}

fn close_within(a: &[f32], b: &[f32], what: &str, tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * scale + 1e-7,
            "{what}[{i}]: fused {x} vs dfdx {y} (scale {scale})"
        );
    }
}

fn spec(arch: &str, placement: Placement, activation: Activation) -> UnitSpec {
    let mut s =
        common::small_preset(&format!("arch: \"{arch}\""), "(name: \"k\")").units[0].clone();
    s.placement = placement;
    s.activation = activation;
    s.dropout = 0.0; // dropout masks come from different generators; checked on their own
    s.seed = 42;
    s
}

/// Compares one forward (eval), one training forward+backward, and BN running stats.
struct Parity {
    spec: UnitSpec,
    batch: usize,
}

impl ArchVisitor for Parity {
    type Output = ();
    fn visit<M: Net>(self) {
        let dev = Cpu::seed_from_u64(self.spec.seed);
        let mut model = M::new_configured(&dev, &self.spec);
        // Perturb BN parameters so scale/bias/running stats are not the trivial 1/0.
        let mut p = params::export(&model);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for t in p.iter_mut() {
            if t.len() < 600 {
                for v in t.iter_mut() {
                    *v += rng.gen_range(0.0..0.5);
                }
            }
        }
        params::import(&mut model, &p);
        let widths = self.spec.arch.widths(mnist_lab::spec::Io::MNIST);
        let mut fast = FastNet::from_params(&widths, &params::export(&model), &self.spec);

        let n = self.batch;
        let x: Vec<f32> = (0..n * 784).map(|_| rng.gen_range(0.0..1.0)).collect();
        let labels: Vec<u8> = (0..n).map(|_| rng.gen_range(0..10)).collect();

        // Eval forward.
        let xt = dev.tensor_from_vec(x.clone(), (n, Const::<784>));
        let reference = model.forward(xt.clone()).as_vec();
        let mut logits = Vec::new();
        fast.predict(Input::Dense(&x), n, &mut logits);
        close(&logits, &reference, "eval logits");

        // Training step: loss, gradients, running statistics.
        let mut one_hot = vec![0.0f32; n * 10];
        for (i, &l) in labels.iter().enumerate() {
            one_hot[i * 10 + l as usize] = 1.0;
        }
        let y = dev.tensor_from_vec(one_hot, (n, Const::<10>));
        let grads = model.alloc_grads();
        let out = model.forward_mut(xt.traced(grads));
        let loss = cross_entropy_with_logits_loss(out, y);
        let ref_loss = loss.array();
        let mut grads = loss.backward();
        let ref_grads = params::export_grads(&model, &mut grads);
        let mut frng = rand::rngs::StdRng::seed_from_u64(1);
        let (sum, _) = fast.train_step(Input::Dense(&x), &labels, &mut frng);
        let fast_loss = (sum / n as f64) as f32;
        assert!(
            (fast_loss - ref_loss).abs() <= 1e-5 * ref_loss.abs().max(1.0),
            "loss {fast_loss} vs {ref_loss}"
        );
        let mut i = 0;
        for (l, layer) in fast.layers.iter().enumerate() {
            close_grad(
                &fast.weight_grad(l),
                &ref_grads[i],
                &format!("layer {l} dW"),
                self.spec.activation,
            );
            close_grad(
                &fast.grads.b[l],
                &ref_grads[i + 1],
                &format!("layer {l} db"),
                self.spec.activation,
            );
            i += 2;
            if layer.bn.is_some() {
                close_grad(
                    &fast.grads.gamma[l],
                    &ref_grads[i],
                    &format!("layer {l} dgamma"),
                    self.spec.activation,
                );
                close_grad(
                    &fast.grads.beta[l],
                    &ref_grads[i + 1],
                    &format!("layer {l} dbeta"),
                    self.spec.activation,
                );
                i += 2;
            }
        }
        assert_eq!(i, ref_grads.len());
        let after = params::export(&model);
        close(
            &fast.params().concat(),
            &after.concat(),
            "parameters incl. running stats",
        );
    }
}

#[test]
fn fused_matches_dfdx_for_every_placement_and_activation() {
    let acts = [
        Activation::ReLU,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::LeakyReLU { alpha: 0.1 },
        Activation::ELU { alpha: 1.0 },
    ];
    for arch in ["512-128", "512-256-128-64-32"] {
        for placement in [
            Placement::Every,
            Placement::First,
            Placement::Last,
            Placement::None,
        ] {
            for act in acts {
                // Five stacked sigmoids saturate: BN on the last of them divides by a tiny σ
                // and f32 rounding dominates both implementations. Checked on 2 layers only.
                if act == Activation::Sigmoid && arch != "512-128" {
                    continue;
                }
                let s = spec(arch, placement, act);
                eprintln!("case {arch} {placement:?} {act:?}");
                mnist_lab::model::dispatch(
                    &Arch::parse(arch).unwrap(),
                    Parity { spec: s, batch: 32 },
                );
            }
        }
    }
}

#[test]
fn fused_matches_dfdx_at_odd_and_partial_batch_sizes() {
    for batch in [2, 5, 37, 129] {
        let s = spec("256", Placement::Every, Activation::ReLU);
        mnist_lab::model::dispatch(&Arch::parse("256").unwrap(), Parity { spec: s, batch });
        let s = spec("512-256-128", Placement::Last, Activation::Tanh);
        mnist_lab::model::dispatch(
            &Arch::parse("512-256-128").unwrap(),
            Parity { spec: s, batch },
        );
    }
}

#[test]
fn dropout_masks_drop_about_p_scale_survivors_and_depend_only_on_seed_and_row() {
    let mut mask = vec![0.0f32; 100_000];
    mnist_lab::fast::kernels::dropout_mask(&mut mask, 0.3, 99, 5);
    let dropped = mask.iter().filter(|v| **v == 0.0).count() as f64 / mask.len() as f64;
    assert!((dropped - 0.3).abs() < 0.01, "{dropped}");
    assert!(mask
        .iter()
        .all(|v| *v == 0.0 || (*v - 1.0 / 0.7).abs() < 1e-6));
    let mut again = vec![0.0f32; 100_000];
    mnist_lab::fast::kernels::dropout_mask(&mut again, 0.3, 99, 5);
    assert_eq!(mask, again);
    mnist_lab::fast::kernels::dropout_mask(&mut again, 0.3, 99, 6);
    assert_ne!(mask, again, "another row, another mask");
    mnist_lab::fast::kernels::dropout_mask(&mut again, 0.0, 99, 6);
    assert!(again.iter().all(|v| *v == 1.0));
}

#[test]
fn fused_and_dfdx_training_curves_agree_without_dropout() {
    let p = common::small_preset(
        "arch: \"512-128\", epochs: 2, batch_size: 100, train_subset: 3000, test_subset: 1000, \
         seed: 21, dropout: 0.0",
        "(name: \"bn\", placement: Every), (name: \"plain\", placement: None, optimizer: Adadelta()), \
         (name: \"sgd\", placement: First, optimizer: Sgd(lr: 0.05, momentum: 0.9, nesterov: true))",
    );
    let run = |kernel| {
        let opts = EngineOptions {
            kernel,
            ..Default::default()
        };
        common::numbers(&common::run_all(p.clone(), opts).1)
    };
    let (fast, reference) = (run(Kernel::Fast), run(Kernel::Dfdx));
    for (v, (f, r)) in fast.iter().zip(&reference).enumerate() {
        for (e, (a, b)) in f.iter().zip(r).enumerate() {
            let ok = |x: f32, y: f32| (x - y).abs() <= 2e-3 * y.abs().max(1e-2);
            assert!(
                ok(a.0, b.0) && ok(a.2, b.2),
                "variant {v} epoch {e}: fused {a:?} vs dfdx {b:?}"
            );
            assert!(
                (a.3 - b.3).abs() <= 0.003,
                "variant {v} epoch {e}: accuracy {a:?} vs {b:?}"
            );
        }
    }
}

#[test]
fn fused_path_is_deterministic_with_dropout() {
    let p = common::small_preset(
        "arch: \"512-128\", epochs: 1, train_subset: 2000, test_subset: 500, seed: 8, dropout: 0.5",
        "(name: \"a\", placement: Every)",
    );
    let a = common::numbers(&common::run_all(p.clone(), EngineOptions::default()).1);
    let b = common::numbers(&common::run_all(p, EngineOptions::default()).1);
    assert_eq!(a, b);
}

/// A batch of MNIST-like pixels: `zeros` of every 100 pixels are 0, with whole-zero images
/// and whole-dense images where asked.
fn pixel_batch(
    n: usize,
    seed: u64,
    zero_image: Option<usize>,
    dense_image: Option<usize>,
) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut px: Vec<u8> = (0..n * 784)
        .map(|_| {
            if rng.gen_bool(0.2) {
                rng.gen_range(1..=255)
            } else {
                0
            }
        })
        .collect();
    if let Some(i) = zero_image {
        px[i * 784..(i + 1) * 784].fill(0);
    }
    if let Some(i) = dense_image {
        for p in &mut px[i * 784..(i + 1) * 784] {
            *p = rng.gen_range(1..=255);
        }
    }
    px
}

/// The sparse first layer against the dense one on the same network: eval logits, loss,
/// every gradient and the BN running statistics, within the dense-vs-dfdx tolerances.
#[test]
fn sparse_input_matches_dense_input() {
    let cases = [
        (1, None, None),
        (37, Some(3), Some(5)),
        (128, Some(0), Some(127)),
        (1, Some(0), None), // a batch that is one all-zero image
        (1, None, Some(0)), // one fully dense image
    ];
    for arch in ["512-128", "512-256-128-64-32", "128-64"] {
        for (case, &(n, zero, dense)) in cases.iter().enumerate() {
            let mut s = spec(arch, Placement::Every, Activation::ReLU);
            s.arch = Arch::parse(arch).unwrap();
            mnist_lab::model::dispatch(
                &Arch::parse(arch).unwrap(),
                SparseParity {
                    spec: s,
                    pixels: pixel_batch(n, 10 + case as u64, zero, dense),
                },
            );
        }
    }
}

struct SparseParity {
    spec: UnitSpec,
    pixels: Vec<u8>,
}

impl ArchVisitor for SparseParity {
    type Output = ();
    fn visit<M: Net>(self) {
        let dev = Cpu::seed_from_u64(self.spec.seed);
        let model = M::new_configured(&dev, &self.spec);
        let widths = self.spec.arch.widths(mnist_lab::spec::Io::MNIST);
        let start = params::export(&model);
        let mut dense = FastNet::from_params(&widths, &start, &self.spec);
        let mut sparse = FastNet::from_params(&widths, &start, &self.spec);
        let n = self.pixels.len() / 784;
        let x: Vec<f32> = self.pixels.iter().map(|&p| p as f32 / 255.0).collect();
        let mut packed = SparseBatch::default();
        packed.pack_u8(self.pixels.chunks_exact(784), 784, true);
        let what = format!("{} n={n}", self.spec.arch);

        let (mut a, mut b) = (Vec::new(), Vec::new());
        dense.predict(Input::Dense(&x), n, &mut a);
        sparse.predict(Input::Sparse(&packed), n, &mut b);
        close(&b, &a, &format!("{what}: eval logits"));

        let labels: Vec<u8> = (0..n).map(|i| (i * 7 % 10) as u8).collect();
        let mut r1 = rand::rngs::StdRng::seed_from_u64(3);
        let mut r2 = rand::rngs::StdRng::seed_from_u64(3);
        let (ld, cd) = dense.train_step(Input::Dense(&x), &labels, &mut r1);
        let (ls, cs) = sparse.train_step(Input::Sparse(&packed), &labels, &mut r2);
        assert!(
            (ld - ls).abs() <= 1e-5 * ld.abs().max(1.0),
            "{what}: loss {ls} vs {ld}"
        );
        assert_eq!(cd, cs, "{what}: correct predictions");
        for l in 0..dense.layers.len() {
            close_grad(
                &sparse.weight_grad(l),
                &dense.weight_grad(l),
                &format!("{what}: layer {l} dW"),
                Activation::ReLU,
            );
            close_grad(
                &sparse.grads.b[l],
                &dense.grads.b[l],
                &format!("{what}: layer {l} db"),
                Activation::ReLU,
            );
        }
        close(
            &sparse.params().concat(),
            &dense.params().concat(),
            &format!("{what}: running statistics"),
        );
    }
}

#[test]
fn sparse_kernels_match_a_naive_product_at_a_width_that_is_not_whole_panels() {
    let px = pixel_batch(3, 99, Some(1), Some(2));
    let mut packed = SparseBatch::default();
    packed.pack_u8(px.chunks_exact(784), 784, true);
    let nonzero = px.iter().filter(|&&p| p != 0).count();
    assert_eq!(packed.nnz(), nonzero);
    assert_eq!((packed.rows(), packed.cols()), (3, 784));
    let x: Vec<f32> = px.iter().map(|&p| p as f32 * (1.0 / 255.0)).collect();
    // 100 outputs: one whole panel of 64 and a partial one of 36.
    let out = 100;
    let panels = mnist_lab::fast::sparse::Panels::new(784, out);
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let w_out_in: Vec<f32> = (0..out * 784).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let bias: Vec<f32> = (0..out).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let w = panels.from_out_in(&w_out_in);
    assert_eq!(
        panels.to_out_in(&w),
        w_out_in,
        "the panel layout round-trips"
    );
    let mut z = vec![0.0f32; 3 * out];
    packed.forward(&w, &bias, out, &mut z);
    let mut naive = vec![0.0f32; 3 * out];
    for r in 0..3 {
        for j in 0..out {
            let dot: f64 = (0..784)
                .map(|k| x[r * 784 + k] as f64 * w_out_in[j * 784 + k] as f64)
                .sum();
            naive[r * out + j] = (dot + bias[j] as f64) as f32;
        }
    }
    close(&z, &naive, "sparse forward");
    let dz: Vec<f32> = (0..3 * out).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let mut dw = vec![f32::NAN; 784 * out];
    packed.weight_grad(&dz, out, &mut dw);
    let dw = panels.to_out_in(&dw);
    let mut naive_dw = vec![0.0f32; out * 784];
    for j in 0..out {
        for k in 0..784 {
            naive_dw[j * 784 + k] = (0..3)
                .map(|r| dz[r * out + j] as f64 * x[r * 784 + k] as f64)
                .sum::<f64>() as f32;
        }
    }
    close(
        &dw,
        &naive_dw,
        "sparse weight gradient (every element overwritten)",
    );
    let mut dense_dw = vec![0.0f32; 784 * out];
    mnist_lab::fast::kernels::linear_p_weight_grad(&x, 3, &dz, out, &mut dense_dw);
    close(
        &panels.to_out_in(&dense_dw),
        &naive_dw,
        "dense weight gradient in panels",
    );
    let mut dense_z = vec![0.0f32; 3 * out];
    mnist_lab::fast::kernels::linear_p_forward(&x, 3, &w, &bias, out, &mut dense_z);
    close(&dense_z, &naive, "dense forward in panels");
}

/// dfdx's starting weights of `spec`'s architecture (built and configured as training does).
struct DfdxStart(UnitSpec);

impl ArchVisitor for DfdxStart {
    type Output = Vec<Vec<f32>>;
    fn visit<M: Net>(self) -> Vec<Vec<f32>> {
        let dev = Cpu::seed_from_u64(self.0.seed);
        params::export(&M::new_configured(&dev, &self.0))
    }
}

/// The fast path draws any architecture's starting weights itself; for the menu's it must
/// draw exactly dfdx's, bit for bit, for every initialiser, so both paths start alike.
#[test]
fn fast_initial_weights_are_dfdx_s_bit_for_bit_on_every_menu_architecture() {
    use mnist_lab::spec::{Init, Io};
    for arch in Arch::menu() {
        for init in [Init::HeNormal, Init::GlorotUniform, Init::LecunUniform] {
            let mut s = spec(arch.as_str(), Placement::Every, Activation::ReLU);
            s.init = init;
            s.seed = 1234;
            let ours = mnist_lab::fast::init::initial_params(&arch.widths(Io::MNIST), init, s.seed);
            let theirs = mnist_lab::model::dispatch(&arch, DfdxStart(s));
            assert_eq!(ours.len(), theirs.len(), "{arch}: tensor count");
            for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                let same =
                    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{arch} {init:?}: tensor {k} differs from dfdx's");
            }
        }
    }
}

/// The same unit trained in three processes, two with two threads and one with one, writes
/// the same weights file byte for byte: the kernels split work over blocks of the output,
/// never along a sum, whatever the thread count (the backward of mid-sized layers runs its
/// two GEMMs side by side, `kernels::JOIN_FROM..JOIN_BELOW`, and still sums in one order),
/// and the file's header is written in one order.
#[test]
fn the_same_unit_gives_the_same_weights_bytes_on_one_or_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (k, threads) in ["2", "2", "1"].iter().enumerate() {
        let root = tmp.path().join(format!("runs{k}"));
        let out = common::bin()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "run",
                "paper-2019",
                "--epochs",
                "1",
                "--train-subset",
                "3000",
                "--only",
                "5L adam every,3L adam none",
                // One engine, so its pool has RAYON_NUM_THREADS workers (two engines on two
                // cores would each get one, whatever the variable says).
                "--jobs",
                "1",
            ])
            .arg("--runs-dir")
            .arg(&root)
            .output()
            .unwrap();
        common::succeeded(&out);
        let dir = common::only_run_dir(&root).join("weights");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2);
        files.push(
            names
                .iter()
                .map(|p| std::fs::read(p).unwrap())
                .collect::<Vec<_>>(),
        );
    }
    assert!(files[0] == files[1], "two runs on two threads differ");
    assert!(files[0] == files[2], "one thread and two threads differ");
}
