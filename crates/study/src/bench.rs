//! `mnist-lab bench`: the machine's GEMM rate at the model's shapes, then real training epochs
//! of each paper-2019 architecture, reported as seconds/epoch and efficiency = achieved
//! FLOP/s ÷ GEMM FLOP/s.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use dfdx::prelude::*;
use serde::Serialize;

use crate::data::Dataset;
use crate::engine::{self, EngineOptions, Event, Kernel};
use crate::preset::{self, Preset};
use crate::spec::Arch;

#[derive(Debug, Clone, Serialize)]
pub struct GemmRate {
    /// Whose GEMM: "fast" (the fused path's, `gemm` 0.19 with AVX-512 where the CPU has it)
    /// or "dfdx" (dfdx's matmul, `gemm` 0.15, AVX2 at most on stable Rust).
    pub path: String,
    pub shape: String,
    pub gflops: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArchResult {
    pub arch: String,
    pub kernel: String,
    pub seconds_per_epoch: f64,
    pub images_per_sec: f64,
    /// Required FLOPs with a dense first layer.
    pub gflop_per_epoch: f64,
    /// Required FLOPs when the first layer skips zero pixels (what the fast kernel does).
    pub sparse_gflop_per_epoch: f64,
    /// Achieved rate, counted on the FLOPs this kernel needs (sparse ones for `fast`).
    pub achieved_gflops: f64,
    pub efficiency: f64,
    /// The physical limit: seconds an epoch would take if every FLOP it needs (the sparse
    /// count where the kernel skips zero pixels) ran at the measured GEMM rate.
    pub limit_seconds_per_epoch: f64,
    /// Seconds per epoch over that limit (1.0 = at the limit).
    pub times_limit: f64,
    /// GB one epoch must move (the byte model of `roofline`), and the seconds that takes at
    /// the measured bandwidths of each phase's working set.
    pub gb_per_epoch: f64,
    pub byte_limit_seconds: f64,
    /// Seconds per epoch over the larger of the FLOP and the byte limit.
    pub times_roofline: f64,
    /// Two units of this net at once, one thread each: wall seconds per epoch of the pair
    /// (measured on the fast path when the machine has two or more threads; NaN otherwise).
    pub pair_seconds_per_epoch: f64,
    pub final_test_acc: f32,
}

impl ArchResult {
    /// Two units one after another on all the threads take 2 × s/epoch; side by side on one
    /// thread each, `pair_seconds_per_epoch`. Above 1: side by side is faster.
    pub fn side_by_side_gain(&self) -> f64 {
        2.0 * self.seconds_per_epoch / self.pair_seconds_per_epoch
    }
}

/// Seconds `flop` FLOPs take at `gflops` GFLOP/s: an epoch's limit at the GEMM rate.
pub fn limit_seconds(flop: f64, gflops: f64) -> f64 {
    flop / (gflops * 1e9)
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub cpu: Option<String>,
    pub threads: usize,
    /// The widest vector kernels that ran ("AVX-512", "AVX2+FMA", "baseline").
    pub kernels: &'static str,
    pub gemm: Vec<GemmRate>,
    /// The fast path's GEMM rate at 128×784×512 (the first layer's shape): what the fast
    /// and dense kernels' efficiency is measured against.
    pub reference_gflops: f64,
    /// dfdx's GEMM rate at the same shape, the dfdx kernel's reference (measured only when
    /// that kernel is benched).
    pub dfdx_reference_gflops: Option<f64>,
    /// Fraction of non-zero pixels: training set, test set.
    pub input_density: (f64, f64),
    /// Read bandwidth by buffer size, every thread reading.
    pub bandwidth: Vec<crate::roofline::Bandwidth>,
    pub results: Vec<ArchResult>,
}

/// Fraction of a split's pixels that are not zero.
pub fn density(split: &crate::data::Split) -> f64 {
    split.density()
}

/// Seconds per call of `f`, the best of three timed batches of ~0.15 s each (after a warm-up).
fn best_time(flop: f64, mut f: impl FnMut()) -> f64 {
    f();
    let reps = ((0.15e9 * 100.0) / flop).clamp(1.0, 700.0) as usize;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    best
}

fn time_dfdx_matmul<const M: usize, const K: usize, const N: usize>(dev: &Cpu) -> f64 {
    let a: Tensor<Rank2<M, K>, f32, Cpu> = dev.sample_normal();
    let b: Tensor<Rank2<K, N>, f32, Cpu> = dev.sample_normal();
    let flop = 2.0 * (M * K * N) as f64;
    flop / best_time(flop, || {
        std::hint::black_box(a.clone().matmul(b.clone()));
    }) / 1e9
}

/// The fused path's GEMM (`fast::kernels::gemm`) on row-major m×k times k×n.
fn time_fast_gemm(m: usize, k: usize, n: usize) -> f64 {
    let a: Vec<f32> = (0..m * k).map(|i| (i % 17) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 13) as f32 * 0.01).collect();
    let mut c = vec![0.0f32; m * n];
    let flop = 2.0 * (m * k * n) as f64;
    flop / best_time(flop, || {
        // SAFETY: a is m×k and b is k×n, row-major, c holds m·n.
        unsafe {
            crate::fast::kernels::gemm(
                m,
                n,
                k,
                &mut c,
                false,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
            )
        };
        std::hint::black_box(&c);
    }) / 1e9
}

const SHAPES: [(usize, usize, usize); 3] = [(128, 784, 512), (128, 512, 256), (1024, 1024, 1024)];

fn shape_name((m, k, n): (usize, usize, usize)) -> String {
    format!("{m}x{k}x{n}")
}

/// GEMM rates at the shapes training uses, the fast path's and (with `dfdx`) dfdx's,
/// measured in the training pool as training calls them (from outside the pool each call
/// pays a thread hand-off, which would understate the rate and flatter the efficiency).
pub fn gemm_rates(dfdx: bool) -> Vec<GemmRate> {
    crate::engine::in_training_pool(|| {
        let mut rates: Vec<GemmRate> = SHAPES
            .iter()
            .map(|&(m, k, n)| GemmRate {
                path: "fast".into(),
                shape: shape_name((m, k, n)),
                gflops: time_fast_gemm(m, k, n),
            })
            .collect();
        if dfdx {
            let dev = Cpu::default();
            let measured = [
                time_dfdx_matmul::<128, 784, 512>(&dev),
                time_dfdx_matmul::<128, 512, 256>(&dev),
                time_dfdx_matmul::<1024, 1024, 1024>(&dev),
            ];
            rates.extend(
                SHAPES
                    .iter()
                    .zip(measured)
                    .map(|(&shape, gflops)| GemmRate {
                        path: "dfdx".into(),
                        shape: shape_name(shape),
                        gflops,
                    }),
            );
        }
        rates
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

/// What `bench` trains for `arch`: BN+Dropout every layer, Adam, batch 128, as paper-2019
/// (the paper's variant of that architecture, or its first such variant with `arch` in).
fn bench_spec(base: &Preset, arch: &Arch, epochs: usize) -> Result<crate::spec::UnitSpec> {
    let every = |v: &&crate::spec::UnitSpec| v.placement == crate::spec::Placement::Every;
    let spec = base
        .units
        .iter()
        .filter(every)
        .find(|v| &v.arch == arch)
        .or_else(|| base.units.iter().find(every))
        .ok_or_else(|| anyhow::anyhow!("paper-2019 has no variant with BN+Dropout Every"))?;
    let mut spec = spec.clone();
    if &spec.arch != arch {
        spec.name = arch.name();
        spec.arch = arch.clone();
        spec.reference = None;
    }
    spec.epochs = epochs;
    Ok(spec)
}

/// Trains `arch` (see `bench_spec`) for `epochs` with `kernel`.
fn bench_arch(
    base: &Preset,
    arch: &Arch,
    epochs: usize,
    kernel: Kernel,
    data: &Arc<Dataset>,
    reference: f64,
    bandwidth: &[crate::roofline::Bandwidth],
) -> Result<ArchResult> {
    let spec = bench_spec(base, arch, epochs)?;
    let preset = Preset {
        name: "bench".into(),
        description: String::new(),
        source: "bench".into(),
        units: vec![spec.clone()],
        until: None,
        test: Default::default(),
        margin: None,
        engine: if kernel == Kernel::Dfdx {
            crate::spec::Engine::Dfdx
        } else {
            crate::spec::Engine::Fast
        },
        overrides: Vec::new(),
    };
    let options = EngineOptions {
        kernel,
        ..Default::default()
    };
    let handle = engine::spawn(preset, data.clone(), options);
    let mut seconds = Vec::new();
    let mut acc = 0.0;
    for event in handle.events.iter() {
        match event {
            Event::EpochEnd { metrics, .. } => {
                seconds.push(metrics.seconds as f64);
                acc = metrics.test_acc;
            }
            Event::UnitFailed { message, .. } => anyhow::bail!("{arch}: {message}"),
            Event::RunFinished { .. } => break,
            _ => {}
        }
    }
    handle.join();
    let (train, test) = (data.train.len(), data.test.len());
    let flop = arch.epoch_flops(data.io(), train, test);
    let density = (density(&data.train), density(&data.test));
    let sparse_flop = arch.sparse_epoch_flops(data.io(), train, test, density);
    let sparse_used = kernel == Kernel::Fast && density.0 <= crate::fast::sparse::DENSE_ABOVE;
    let train = train as f64;
    let sec = median(&mut seconds);
    let needed = if sparse_used { sparse_flop } else { flop };
    let achieved = needed / sec / 1e9;
    let limit = limit_seconds(needed, reference);
    let nonzero = sparse_used.then(|| density.0 * data.io().inputs as f64);
    let traffic = crate::roofline::Traffic::with_first_layer(
        arch,
        data.io(),
        (data.train.len(), data.test.len()),
        spec.batch_size,
        nonzero,
    );
    let byte_limit = traffic.seconds(bandwidth);
    let pair = if kernel == Kernel::Fast && rayon::current_num_threads() >= 2 {
        pair_seconds(&spec, epochs, data)?
    } else {
        f64::NAN
    };
    Ok(ArchResult {
        pair_seconds_per_epoch: pair,
        gb_per_epoch: traffic.bytes() / 1e9,
        byte_limit_seconds: byte_limit,
        times_roofline: sec / limit.max(byte_limit),
        arch: arch.name(),
        kernel: format!("{kernel:?}").to_lowercase(),
        seconds_per_epoch: sec,
        images_per_sec: train / sec,
        gflop_per_epoch: flop / 1e9,
        sparse_gflop_per_epoch: sparse_flop / 1e9,
        achieved_gflops: achieved,
        efficiency: achieved / reference,
        limit_seconds_per_epoch: limit,
        times_limit: sec / limit,
        final_test_acc: acc,
    })
}

/// Wall seconds per epoch of two units of `spec` (seeds apart) trained at once, one thread
/// each, on the fast path: the median over epochs of the slower unit's epoch.
fn pair_seconds(spec: &crate::spec::UnitSpec, epochs: usize, data: &Arc<Dataset>) -> Result<f64> {
    let handles: Vec<_> = (0..2u64)
        .map(|k| {
            let mut unit = spec.clone();
            unit.seed += k;
            unit.name = format!("{} · s{}", spec.name, unit.seed);
            let preset = Preset {
                name: "bench-pair".into(),
                description: String::new(),
                source: "bench".into(),
                units: vec![unit],
                until: None,
                test: Default::default(),
                margin: None,
                engine: crate::spec::Engine::Fast,
                overrides: Vec::new(),
            };
            let options = EngineOptions {
                kernel: Kernel::Fast,
                threads: Some(1),
                ..Default::default()
            };
            engine::spawn(preset, data.clone(), options)
        })
        .collect();
    let mut per_unit: Vec<Vec<f64>> = vec![Vec::new(); 2];
    for (k, handle) in handles.iter().enumerate() {
        for event in handle.events.iter() {
            match event {
                Event::EpochEnd { metrics, .. } => per_unit[k].push(metrics.seconds as f64),
                Event::UnitFailed { message, .. } => anyhow::bail!("{}: {message}", spec.arch),
                Event::RunFinished { .. } => break,
                _ => {}
            }
        }
    }
    for h in handles {
        h.join();
    }
    let mut slower: Vec<f64> = (0..epochs.min(per_unit[0].len()).min(per_unit[1].len()))
        .map(|e| per_unit[0][e].max(per_unit[1][e]))
        .collect();
    Ok(median(&mut slower))
}

pub fn run(
    data: Arc<Dataset>,
    epochs: usize,
    kernels: &[Kernel],
    archs: &[Arch],
    mut progress: impl FnMut(&str),
) -> Result<BenchReport> {
    let env = crate::runs::record::Environment::detect("");
    progress("measuring GEMM rate ...");
    let gemm = gemm_rates(kernels.contains(&Kernel::Dfdx));
    let reference = gemm[0].gflops;
    let dfdx_reference = gemm.iter().find(|g| g.path == "dfdx").map(|g| g.gflops);
    progress("measuring read bandwidth by working-set size ...");
    let bandwidth = crate::roofline::measure(&crate::roofline::SIZES);
    let base = preset::load("paper-2019")?;
    let mut results = Vec::new();
    for arch in archs {
        for &kernel in kernels {
            progress(&format!(
                "training {arch} ({kernel:?}) for {epochs} epochs ..."
            ));
            let reference = match kernel {
                Kernel::Dfdx => dfdx_reference.unwrap_or(reference),
                _ => reference,
            };
            results.push(bench_arch(
                &base, arch, epochs, kernel, &data, reference, &bandwidth,
            )?);
        }
    }
    Ok(BenchReport {
        cpu: env.cpu_model,
        threads: rayon::current_num_threads(),
        kernels: crate::fast::wide::kernels_in_use(),
        gemm,
        reference_gflops: reference,
        dfdx_reference_gflops: dfdx_reference,
        input_density: (density(&data.train), density(&data.test)),
        bandwidth,
        results,
    })
}

pub fn text(report: &BenchReport) -> String {
    let mut out = format!(
        "machine: {} ({} thread{}, {} kernels)\n",
        report.cpu.as_deref().unwrap_or("unknown CPU"),
        report.threads,
        if report.threads == 1 { "" } else { "s" },
        report.kernels,
    );
    for path in ["fast", "dfdx"] {
        let rates: Vec<String> = report
            .gemm
            .iter()
            .filter(|g| g.path == path)
            .map(|g| format!("{} {:.1} GFLOP/s", g.shape, g.gflops))
            .collect();
        if !rates.is_empty() {
            out.push_str(&format!("GEMM ({path}): {}\n", rates.join(", ")));
        }
    }
    if !report.bandwidth.is_empty() {
        let bw: Vec<String> = report
            .bandwidth
            .iter()
            .map(|b| format!("{} KB {:.0} GB/s", b.bytes >> 10, b.gb_per_s))
            .collect();
        out.push_str(&format!("read bandwidth: {}\n", bw.join(", ")));
    }
    out.push('\n');
    out.push_str(&format!(
        "{:<20} {:<7} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>9} {:>8} {:>6} {:>8} {:>7} {:>9}\n",
        "arch",
        "kernel",
        "s/epoch",
        "img/s",
        "GFLOP/ep",
        "sparse",
        "GFLOP/s",
        "efficiency",
        "limit s",
        "x limit",
        "GB/ep",
        "bytes s",
        "x roof",
        "test acc"
    ));
    for r in &report.results {
        out.push_str(&format!(
            "{:<20} {:<7} {:>9.2} {:>9.0} {:>10.1} {:>10.1} {:>10.1} {:>10.2} {:>9.3} {:>8.2} {:>6.1} {:>8.3} {:>7.2} {:>9.4}\n",
            r.arch,
            r.kernel,
            r.seconds_per_epoch,
            r.images_per_sec,
            r.gflop_per_epoch,
            r.sparse_gflop_per_epoch,
            r.achieved_gflops,
            r.efficiency,
            r.limit_seconds_per_epoch,
            r.times_limit,
            r.gb_per_epoch,
            r.byte_limit_seconds,
            r.times_roofline,
            r.final_test_acc
        ));
    }
    let pairs: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.pair_seconds_per_epoch.is_finite())
        .map(|r| {
            let g = r.side_by_side_gain();
            format!(
                "{}: one at a time on {} threads {:.2} s/epoch each, two at once on one thread \
                 each {:.2} s/epoch → {}",
                r.arch,
                report.threads,
                r.seconds_per_epoch,
                r.pair_seconds_per_epoch,
                if g > 1.0 {
                    format!("two at once, {g:.2}× the units per hour")
                } else {
                    format!("one at a time, {:.2}× the units per hour", 1.0 / g)
                }
            )
        })
        .collect();
    if !pairs.is_empty() {
        out.push_str("\ntwo units of a study: one at a time, or two at once?\n");
        for p in pairs {
            out.push_str(&format!("  {p}\n"));
        }
    }
    out.push_str(&format!(
        "\nFLOP counted per epoch: (6W - 2 x pixels x h1) per train image (no gradient for the\n\
         pixels) + 2W per test image, W = weights. 'sparse': the same with the first layer's\n\
         products scaled by the non-zero pixels ({:.1}% of train, {:.1}% of test), what the\n\
         fast kernel needs; its GFLOP/s count those. efficiency = GFLOP/s / GEMM GFLOP/s at\n\
         128x784x512 of the kernel's own GEMM (fast for fast and dense, dfdx for dfdx).\n\
         limit s = the FLOPs the kernel needs at that GEMM rate; x limit = s/epoch over it.\n\
         GB/ep = the bytes an epoch must move (weights and Adam's state every batch, the sparse\n\
         first layer's weight rows per non-zero pixel, activations); bytes s = those at the read\n\
         bandwidth of each phase's working set; x roof = s/epoch over the larger of limit s and\n\
         bytes s (1.00 would be at the roofline).\n",
        report.input_density.0 * 100.0,
        report.input_density.1 * 100.0
    ));
    out
}

/// Where one epoch of `arch`'s training goes (see `bench_spec`), phase by phase, on the fast
/// path. Packing is timed on its own here; in training it overlaps the step on the other core.
pub fn profile(data: &Dataset, arch: &Arch) -> Result<crate::fast::profile::Profile> {
    use crate::fast::batch::{Batch, InputMode};
    use rand::SeedableRng;
    let spec = bench_spec(&preset::load("paper-2019")?, arch, 1)?;
    let widths = arch.widths(data.io());
    let params = crate::fast::init::initial_params(&widths, spec.init, spec.seed);
    let mut net = crate::fast::FastNet::from_params(&widths, &params, &spec);
    let mut prof = crate::fast::profile::Profile::new(widths.len() - 1);
    net.profile = Some(prof.clone());
    let mut opt = crate::fast::FastOptimizer::new(spec.optimizer);
    let mut rng = rand::rngs::StdRng::seed_from_u64(spec.seed);
    let n = spec
        .train_plan(data.train.len())
        .map_err(|m| anyhow::anyhow!(m))?
        .train;
    let order = crate::data::epoch_order(n, spec.seed, 0);
    let (mut batch, mut labels) = (Batch::default(), Vec::new());
    let (mut pack, mut optimizer, mut first_flops) = (0.0, 0.0, 0.0);
    for idx in crate::data::batches(&order, spec.batch_size) {
        let t = Instant::now();
        let images = idx.iter().map(|&i| data.train.image(i));
        batch.load(images, data.train.pixels, InputMode::Auto, true);
        labels.clear();
        labels.extend(idx.iter().map(|&i| data.train.labels[i]));
        pack += t.elapsed().as_secs_f64();
        let pixels = match batch.input() {
            crate::fast::Input::Sparse(s) => s.nnz(),
            crate::fast::Input::Dense(x) => x.len(),
        };
        first_flops += 2.0 * pixels as f64 * widths[1] as f64;
        net.train_step(batch.input(), &labels, &mut rng);
        let t = Instant::now();
        opt.step(&mut net);
        optimizer += t.elapsed().as_secs_f64();
    }
    if let Some(p) = net.profile.take() {
        prof = p;
    }
    prof.pack = pack;
    prof.optimizer = optimizer;
    prof.first_layer_flops = first_flops;
    Ok(prof)
}

/// A profile as a table: each phase's milliseconds per step and share of the step, then
/// the first layer's rate on the FLOPs it needs beside the dense GEMM's (`gemm`, GFLOP/s).
pub fn profile_text(arch: &Arch, p: &crate::fast::profile::Profile, gemm: f64) -> String {
    let steps = p.steps.max(1) as f64;
    let total = p.total();
    let mut out = format!(
        "\nprofile of {arch} (fast path, one epoch: {} steps, {} thread{}; {:.3} s):\n{:<28} {:>8} {:>7}\n",
        p.steps,
        rayon::current_num_threads(),
        if rayon::current_num_threads() == 1 { "" } else { "s" },
        total,
        "phase",
        "ms/step",
        "share"
    );
    for (name, s) in p.phases() {
        out.push_str(&format!(
            "{name:<28} {:>8.3} {:>6.1}%\n",
            s * 1e3 / steps,
            100.0 * s / total.max(1e-12)
        ));
    }
    if let Some((forward, backward)) = p.first_layer_gflops() {
        out.push_str(&format!(
            "first layer on its non-zero pixels: forward {forward:.1} GFLOP/s, weight gradient \
             {backward:.1} GFLOP/s; dense GEMM {gemm:.1} GFLOP/s at 128x784x512\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_rates_are_measured_for_each_path_asked_and_printed() {
        let fast_only = gemm_rates(false);
        assert_eq!(fast_only.len(), SHAPES.len());
        assert!(fast_only.iter().all(|g| g.path == "fast"));
        let both = gemm_rates(true);
        let paths: Vec<&str> = both.iter().map(|g| g.path.as_str()).collect();
        assert_eq!(paths, ["fast", "fast", "fast", "dfdx", "dfdx", "dfdx"]);
        for g in &both {
            assert!(g.gflops.is_finite() && g.gflops > 0.0, "{g:?}");
        }
        let report = BenchReport {
            cpu: None,
            threads: 2,
            kernels: "AVX2+FMA",
            reference_gflops: both[0].gflops,
            dfdx_reference_gflops: Some(both[3].gflops),
            gemm: both,
            input_density: (0.19, 0.19),
            bandwidth: vec![crate::roofline::Bandwidth {
                bytes: 32 << 10,
                gb_per_s: 300.0,
            }],
            results: Vec::new(),
        };
        let text = text(&report);
        assert!(text.contains("GEMM (fast): 128x784x512 "), "{text}");
        assert!(text.contains("(2 threads, AVX2+FMA kernels)"), "{text}");
        assert!(text.contains("GEMM (dfdx): 128x784x512 "), "{text}");
        assert!(text.contains("read bandwidth: 32 KB 300 GB/s"), "{text}");
    }

    /// The limit is the needed FLOPs at the GEMM rate, and each net says how far it is from
    /// it: 3 GFLOP at 150 GFLOP/s is 0.02 s; an epoch of 0.05 s is 2.5× that.
    #[test]
    fn each_net_is_measured_against_its_flop_limit() {
        let limit = limit_seconds(3e9, 150.0);
        assert!((limit - 0.02).abs() < 1e-12);
        let r = ArchResult {
            arch: "512-128".into(),
            kernel: "fast".into(),
            seconds_per_epoch: 0.05,
            images_per_sec: 1.2e6,
            gflop_per_epoch: 10.0,
            sparse_gflop_per_epoch: 3.0,
            achieved_gflops: 60.0,
            efficiency: 0.4,
            limit_seconds_per_epoch: limit,
            times_limit: 0.05 / limit,
            // The bytes take longer than the FLOPs here: the roofline ratio is to them.
            gb_per_epoch: 2.5,
            byte_limit_seconds: 0.025,
            times_roofline: 0.05 / 0.025,
            pair_seconds_per_epoch: 0.08,
            final_test_acc: 0.97,
        };
        let report = BenchReport {
            cpu: None,
            threads: 2,
            kernels: "AVX2+FMA",
            gemm: Vec::new(),
            reference_gflops: 150.0,
            dfdx_reference_gflops: None,
            input_density: (0.19, 0.19),
            bandwidth: Vec::new(),
            results: vec![r],
        };
        let text = text(&report);
        let row = text.lines().find(|l| l.starts_with("512-128")).unwrap();
        assert!(row.contains("    0.020     2.50 "), "{row}");
        assert!(row.contains("   2.5    0.025    2.00 "), "{row}");
        assert!(
            text.contains("x limit") && text.contains("x roof"),
            "{text}"
        );
        // Two at once take 0.08 s an epoch for both; one at a time, 2 × 0.05.
        assert!(
            text.contains("two at once on one thread each 0.08 s/epoch → two at once, 1.25×"),
            "{text}"
        );
    }
}
