//! How long a preset will take on this machine: a model of an epoch's time fitted to the
//! epochs past runs timed on this CPU, for the picker and `list`.
//!
//! An epoch's machine-seconds (its seconds times the share of the cores it had) are modelled
//! as `per_image × images + per_first × first-layer FLOPs + per_rest × other FLOPs`: a cost
//! per image (batching, the optimiser's update, evaluation's bookkeeping) that dominates small
//! networks; the first layer's products, which skip zero pixels (so they scale with the data's
//! density) and run from L2 at about a third of the GEMM rate; and the dense layers behind it
//! at the GEMM rate. A network measured here is estimated at its own measured speed.
//!
//! Past runs that time four or more shapes of network fit the three costs; fewer (`quick`
//! alone times two small ones, 50–75 ms epochs) only scale [`PRIOR`], the costs measured on
//! a reference machine: fitted freely, two small networks had extrapolated `paper-2019` to
//! +61% and `width-depth` to +105% (and a two-cost model to −41% and −48%).

use crate::data::Dataset;
use crate::preset::Preset;
use crate::runs::RunRecord;
use crate::spec::Io;

/// Training throughput assumed before this CPU has timed a run, in dense-equivalent FLOP/s
/// (docs/BENCHMARKS.md, "Constants and what set them").
pub const ASSUMED_FLOPS: f64 = 150e9;

/// The three costs of an epoch (see the module's comment), in seconds per image and per
/// FLOP. `fitted`: from this machine's runs; false: [`PRIOR`] scaled to them (or as is).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeModel {
    pub per_image: f64,
    /// Per FLOP of the first layer's products over non-zero pixels.
    pub per_first: f64,
    /// Per FLOP of every other product.
    pub per_rest: f64,
    pub fitted: bool,
}

/// The costs measured on a 2-core AMD EPYC (AVX-512) on 2026-12-07 from `quick`, `paper-2019`
/// and `width-depth` (14 networks, every one within ±10%): 0.589 µs an image, the sparse first
/// layer at 66 GFLOP/s, the rest at 153 GFLOP/s (docs/BENCHMARKS.md, "Estimates").
pub const PRIOR: TimeModel = TimeModel {
    per_image: 0.589e-6,
    per_first: 1.0 / 66.0e9,
    per_rest: 1.0 / 153.1e9,
    fitted: false,
};

/// Units trained side by side by default (`--jobs`'s default).
pub const JOBS: usize = 2;

/// MNIST's fractions of non-zero pixels (training, test set).
pub const MNIST_DENSITY: (f64, f64) = (0.1912, 0.1928);

/// What one epoch of a network does: images, and FLOPs of the first layer (sparse) and of
/// the rest; `flops` is the dense-equivalent count the measured rates are in.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Work {
    pub images: f64,
    pub first: f64,
    pub rest: f64,
    pub flops: f64,
}

impl std::ops::AddAssign for Work {
    fn add_assign(&mut self, w: Work) {
        self.images += w.images;
        self.first += w.first;
        self.rest += w.rest;
        self.flops += w.flops;
    }
}

impl Work {
    /// An epoch of `arch` training `train` images and evaluating `test` at pixel `density`
    /// (training, test): the first layer's forward and weight gradient (no input gradient)
    /// over non-zero pixels, everything else dense.
    pub fn of(
        arch: &crate::spec::Arch,
        io: Io,
        train: usize,
        test: usize,
        density: (f64, f64),
    ) -> Work {
        let total = arch.epoch_flops(io, train, test);
        let first = (io.inputs * arch.hidden()[0]) as f64;
        let dense_first = 4.0 * first * train as f64 + 2.0 * first * test as f64;
        Work {
            images: (train + test) as f64,
            first: 4.0 * first * train as f64 * density.0 + 2.0 * first * test as f64 * density.1,
            rest: total - dense_first,
            flops: total,
        }
    }
}

impl TimeModel {
    pub fn seconds(&self, w: &Work) -> f64 {
        self.per_image * w.images + self.per_first * w.first + self.per_rest * w.rest
    }

    fn scaled(&self, k: f64) -> TimeModel {
        TimeModel {
            per_image: self.per_image * k,
            per_first: self.per_first * k,
            per_rest: self.per_rest * k,
            fitted: false,
        }
    }
}

/// How many training and test images the data set has: estimates scale with them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataSizes {
    pub train: usize,
    pub test: usize,
    /// Pixels per image and classes: what a network's ends cost.
    pub io: Io,
    /// Fractions of non-zero pixels (training, test): what the first layer's products cost.
    pub density: (f64, f64),
}

impl Default for DataSizes {
    /// MNIST's, until the data set in use is loaded.
    fn default() -> Self {
        DataSizes {
            train: 60_000,
            test: 10_000,
            io: Io::MNIST,
            density: MNIST_DENSITY,
        }
    }
}

impl DataSizes {
    /// The sizes of a loaded data set.
    pub fn of(d: &Dataset) -> DataSizes {
        DataSizes {
            train: d.train.len(),
            test: d.test.len(),
            io: d.io(),
            density: (d.train.density(), d.test.density()),
        }
    }

    /// The sizes a run recorded (MNIST's for runs from before it recorded them). Runs do not
    /// record their density: MNIST's is assumed.
    pub fn of_run(r: &RunRecord) -> DataSizes {
        r.data.as_ref().map_or(DataSizes::default(), |d| DataSizes {
            train: d.train,
            test: d.test,
            io: Io {
                inputs: d.rows * d.cols,
                classes: d.classes,
            },
            density: MNIST_DENSITY,
        })
    }
}

/// A duration as the header, the picker and `list` say it: "4m05s", "1h02m".
pub fn fmt_duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s / 60) % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// An estimate as said: one duration, or "min–max" for a preset whose rounds may add seeds.
pub fn range_text((lo, hi): (f64, f64)) -> String {
    if hi > lo * 1.001 {
        format!("{}–{}", fmt_duration(lo), fmt_duration(hi))
    } else {
        fmt_duration(lo)
    }
}

/// The speed estimates use: measured on this machine's past runs, or assumed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// FLOPs over machine-seconds of every measured epoch (the assumed rate when none).
    pub flops: f64,
    /// Epochs it was measured on (0: assumed, `ASSUMED_FLOPS`).
    pub epochs: usize,
    /// Each measured network's own rate (architecture label, FLOP/s).
    pub by_arch: Vec<(String, f64)>,
    /// The model for networks not measured here.
    pub model: TimeModel,
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            flops: ASSUMED_FLOPS,
            epochs: 0,
            by_arch: Vec::new(),
            model: PRIOR,
        }
    }
}

/// What one network's measured epochs add up to: work, machine-seconds, epochs.
#[derive(Debug, Clone, Copy, Default)]
struct Timed {
    work: Work,
    seconds: f64,
    epochs: usize,
}

impl Rate {
    /// The rate of the epochs these runs trained on this CPU (`cpu`) on the fast path: their
    /// FLOPs over their seconds, each weighed by the share of the cores it trained on. Runs of
    /// another machine, or of the dfdx engine, say nothing of this one's fast path.
    pub fn measured<'a>(runs: impl Iterator<Item = &'a RunRecord>, cpu: Option<&str>) -> Rate {
        let mut per: std::collections::BTreeMap<String, Timed> = Default::default();
        for r in runs.filter(|r| {
            cpu.is_some()
                && r.environment.cpu_model.as_deref() == cpu
                && r.engine == crate::spec::Engine::Fast
        }) {
            let sizes = DataSizes::of_run(r);
            let cores = r.environment.threads.max(1) as f64;
            for u in &r.units {
                let (train, test) = u.spec.images(sizes.train, sizes.test);
                let work = Work::of(&u.spec.arch, sizes.io, train, test, sizes.density);
                let t = per.entry(u.spec.arch.to_string()).or_default();
                for m in &u.history {
                    // The share of the machine the epoch had: units trained side by side
                    // (`--jobs`) each took part of the cores. Epochs that do not say are
                    // left out.
                    let Some(threads) = m.threads.filter(|t| *t > 0) else {
                        continue;
                    };
                    if !(m.seconds.is_finite() && m.seconds > 0.0) {
                        continue;
                    }
                    t.work += work;
                    t.seconds += m.seconds as f64 * (threads as f64 / cores).min(1.0);
                    t.epochs += 1;
                }
            }
        }
        per.retain(|_, t| t.epochs > 0 && t.seconds > 0.0);
        let (flops, seconds, epochs) = per.values().fold((0.0, 0.0, 0), |a, t| {
            (a.0 + t.work.flops, a.1 + t.seconds, a.2 + t.epochs)
        });
        if epochs == 0 {
            return Rate::default();
        }
        Rate {
            flops: flops / seconds,
            epochs,
            model: fit(per.values().copied()),
            by_arch: per
                .into_iter()
                .map(|(a, t)| (a, t.work.flops / t.seconds))
                .collect(),
        }
    }

    /// The rate for a network by its label: its own where measured, else the mean.
    pub fn for_arch(&self, arch: &str) -> f64 {
        self.by_arch
            .iter()
            .find(|(a, _)| a == arch)
            .map_or(self.flops, |(_, f)| *f)
    }

    /// Machine-seconds of one epoch of `arch` (its label) doing `work`: at its own measured
    /// rate, else by the model.
    pub fn epoch_seconds(&self, arch: &str, work: &Work) -> f64 {
        if let Some((_, f)) = self.by_arch.iter().find(|(a, _)| a == arch) {
            return work.flops / f;
        }
        self.model.seconds(work)
    }

    /// Seconds to train every unit of `p` on a data set of `sizes`, [`JOBS`] units side by
    /// side (the default `--jobs`), each on its share of the cores: units go to the first
    /// free share in order, so a unit left alone at the end leaves a share idle (paper-2019's
    /// 15th unit: 13 of its 222 s).
    pub fn preset_seconds(&self, p: &Preset, sizes: DataSizes) -> f64 {
        let mut lanes = [0.0f64; JOBS];
        for v in &p.units {
            let (train, test) = v.images(sizes.train, sizes.test);
            let work = Work::of(&v.arch, sizes.io, train, test, sizes.density);
            let machine = v.epochs as f64 * self.epoch_seconds(&v.arch.to_string(), &work);
            if let Some(free) = lanes.iter_mut().min_by(|a, b| a.total_cmp(b)) {
                *free += machine * JOBS as f64;
            }
        }
        lanes.iter().copied().fold(0.0, f64::max)
    }

    /// The seconds of `p` and, for `seeds: Until`, of its largest run (every variant at the
    /// most seeds the rounds may reach): (as listed, at most).
    pub fn preset_range(&self, p: &Preset, sizes: DataSizes) -> (f64, f64) {
        let now = self.preset_seconds(p, sizes);
        match &p.until {
            Some(u) if u.min > 0 => (now, now * u.max as f64 / u.min as f64),
            _ => (now, now),
        }
    }

    /// How the picker says where the rate comes from.
    pub fn source(&self) -> String {
        if self.epochs == 0 {
            "at an assumed speed, a reference 2-core machine's (no past run measured here yet)"
                .into()
        } else {
            format!(
                "from {} past epochs here ({} networks timed; others by a model of time per \
                 image and per FLOP{})",
                self.epochs,
                self.by_arch.len(),
                if self.model.fitted {
                    ""
                } else {
                    ", a reference machine's scaled to this one"
                }
            )
        }
    }
}

/// The model of the networks timed: the three costs fitted by least squares (each network's
/// relative error counting alike) where four or more shapes tell them apart (a scaled
/// condition number under 50, every cost positive), else [`PRIOR`] scaled to their times.
fn fit(timed: impl Iterator<Item = Timed>) -> TimeModel {
    use nalgebra::{DMatrix, DVector};
    let rows: Vec<([f64; 3], f64)> = timed
        .filter(|t| t.epochs > 0)
        .map(|t| {
            let n = t.epochs as f64;
            let w = t.work;
            ([w.images / n, w.first / n, w.rest / n], t.seconds / n)
        })
        .collect();
    if rows.is_empty() {
        return PRIOR;
    }
    // Scale of the prior: least squares in relative error, Σ p/y / Σ (p/y)².
    let (num, den) = rows.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        let p = PRIOR.seconds(&Work {
            images: x[0],
            first: x[1],
            rest: x[2],
            flops: 0.0,
        }) / y;
        (a + p, b + p * p)
    });
    let scaled = if den > 0.0 && num > 0.0 {
        PRIOR.scaled(num / den)
    } else {
        PRIOR
    };
    let mut shapes: Vec<[f64; 3]> = Vec::new();
    for (x, _) in &rows {
        let norm = x[0].max(1.0);
        let s = [1.0, x[1] / norm, x[2] / norm];
        if !shapes
            .iter()
            .any(|t| (0..3).all(|k| (t[k] - s[k]).abs() <= 1e-6 * t[k].abs().max(1e-12)))
        {
            shapes.push(s);
        }
    }
    if shapes.len() < 4 {
        return scaled;
    }
    let a = DMatrix::from_fn(rows.len(), 3, |i, k| rows[i].0[k] / rows[i].1);
    let b = DVector::from_element(rows.len(), 1.0);
    let norms: Vec<f64> = (0..3).map(|k| a.column(k).norm()).collect();
    if norms.iter().any(|n| *n <= 0.0) {
        return scaled;
    }
    let an = DMatrix::from_fn(a.nrows(), 3, |i, k| a[(i, k)] / norms[k]);
    let sv = an.clone().svd(false, false).singular_values;
    let (hi, lo) = (sv.max(), sv.min());
    if lo <= 0.0 || hi / lo > 50.0 {
        return scaled;
    }
    let Ok(c) = an.svd(true, true).solve(&b, 1e-12) else {
        return scaled;
    };
    let c: Vec<f64> = (0..3).map(|k| c[k] / norms[k]).collect();
    if c.iter().all(|v| v.is_finite() && *v > 0.0) {
        TimeModel {
            per_image: c[0],
            per_first: c[1],
            per_rest: c[2],
            fitted: true,
        }
    } else {
        scaled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(images: f64, first: f64, rest: f64) -> Work {
        Work {
            images,
            first,
            rest,
            flops: first + rest,
        }
    }

    fn timed(images: f64, first: f64, rest: f64, seconds: f64) -> Timed {
        Timed {
            work: work(images, first, rest),
            seconds,
            epochs: 1,
        }
    }

    #[test]
    fn four_shapes_fit_the_three_costs() {
        let m = TimeModel {
            per_image: 2e-6,
            per_first: 1.0 / 50e9,
            per_rest: 1.0 / 200e9,
            fitted: true,
        };
        let nets = [
            (70_000.0, 2e10, 1e10),
            (70_000.0, 5e10, 9e10),
            (30_000.0, 1e10, 4e11),
            (70_000.0, 8e10, 2e10),
        ];
        let got = fit(nets
            .iter()
            .map(|&(i, f, r)| timed(i, f, r, m.seconds(&work(i, f, r)))));
        assert!(got.fitted, "{got:?}");
        for (a, b) in [
            (got.per_image, m.per_image),
            (got.per_first, m.per_first),
            (got.per_rest, m.per_rest),
        ] {
            assert!((a - b).abs() / b < 1e-9, "{got:?}");
        }
    }

    #[test]
    fn fewer_shapes_scale_the_prior() {
        // Two networks, both timed at 1.5 × the prior: the prior, 1.5 × slower.
        let nets = [(28_000.0, 4e9, 6e9), (28_000.0, 8e9, 3e9)];
        let got = fit(nets
            .iter()
            .map(|&(i, f, r)| timed(i, f, r, 1.5 * PRIOR.seconds(&work(i, f, r)))));
        assert!(!got.fitted);
        assert!(
            (got.per_rest / PRIOR.per_rest - 1.5).abs() < 1e-9,
            "{got:?}"
        );
        assert!(
            (got.per_image / PRIOR.per_image - 1.5).abs() < 1e-9,
            "{got:?}"
        );
        assert_eq!(fit(std::iter::empty()), PRIOR);
    }
}
