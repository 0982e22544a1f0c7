//! How long a preset will take on this machine: a model of an epoch's time fitted to the
//! epochs past runs timed on this CPU, for the picker and `list`.
//!
//! An epoch's machine-seconds (its seconds times the share of the cores it had) are modelled
//! as `per_image × images + flops / rate`: a cost per image (batching, the optimiser's update,
//! evaluation's bookkeeping) that dominates small networks, and a cost per FLOP that
//! dominates large ones. One FLOP rate alone, fitted on small networks, put `paper-2019` at
//! twice its measured time. A network measured here is estimated at its own measured speed.

use crate::data::Dataset;
use crate::preset::Preset;
use crate::runs::RunRecord;
use crate::spec::Io;

/// Training throughput assumed before this CPU has timed a run, in dense-equivalent FLOP/s
/// (docs/BENCHMARKS.md, "Constants and what set them").
pub const ASSUMED_FLOPS: f64 = 150e9;

/// How many training and test images the data set has: estimates scale with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSizes {
    pub train: usize,
    pub test: usize,
    /// Pixels per image and classes: what a network's ends cost.
    pub io: Io,
}

impl Default for DataSizes {
    /// MNIST's, until the data set in use is loaded.
    fn default() -> Self {
        DataSizes {
            train: 60_000,
            test: 10_000,
            io: Io::MNIST,
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
        }
    }

    /// The sizes a run recorded (MNIST's for runs from before it recorded them).
    pub fn of_run(r: &RunRecord) -> DataSizes {
        r.data.as_ref().map_or(DataSizes::default(), |d| DataSizes {
            train: d.train,
            test: d.test,
            io: Io {
                inputs: d.rows * d.cols,
                classes: d.classes,
            },
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
    /// The two-term model for networks not measured here: (seconds per image, seconds per
    /// FLOP); None where the measured networks cannot tell the terms apart.
    pub model: Option<(f64, f64)>,
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            flops: ASSUMED_FLOPS,
            epochs: 0,
            by_arch: Vec::new(),
            model: None,
        }
    }
}

/// What one network's measured epochs add up to: FLOPs, images, machine-seconds, epochs.
#[derive(Debug, Clone, Copy, Default)]
struct Timed {
    flops: f64,
    images: f64,
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
                let per_epoch = u.spec.arch.epoch_flops(sizes.io, train, test);
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
                    t.flops += per_epoch;
                    t.images += (train + test) as f64;
                    t.seconds += m.seconds as f64 * (threads as f64 / cores).min(1.0);
                    t.epochs += 1;
                }
            }
        }
        per.retain(|_, t| t.epochs > 0 && t.seconds > 0.0);
        let total = per.values().fold(Timed::default(), |a, t| Timed {
            flops: a.flops + t.flops,
            images: a.images + t.images,
            seconds: a.seconds + t.seconds,
            epochs: a.epochs + t.epochs,
        });
        if total.epochs == 0 {
            return Rate::default();
        }
        Rate {
            flops: total.flops / total.seconds,
            epochs: total.epochs,
            model: fit(per.values().copied()),
            by_arch: per
                .into_iter()
                .map(|(a, t)| (a, t.flops / t.seconds))
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

    /// Machine-seconds of one epoch of `arch` (its label) doing `flops` over `images`: at its
    /// own measured rate, else by the two-term model, else at the mean rate.
    pub fn epoch_seconds(&self, arch: &str, flops: f64, images: f64) -> f64 {
        if let Some((_, f)) = self.by_arch.iter().find(|(a, _)| a == arch) {
            return flops / f;
        }
        match self.model {
            Some((per_image, per_flop)) => per_image * images + per_flop * flops,
            None => flops / self.flops,
        }
    }

    /// Seconds to train every unit of `p` on a data set of `sizes` (one after another, or
    /// side by side on shares of the cores: the same machine-seconds).
    pub fn preset_seconds(&self, p: &Preset, sizes: DataSizes) -> f64 {
        p.units
            .iter()
            .map(|v| {
                let (train, test) = v.images(sizes.train, sizes.test);
                let flops = v.arch.epoch_flops(sizes.io, train, test);
                v.epochs as f64
                    * self.epoch_seconds(&v.arch.to_string(), flops, (train + test) as f64)
            })
            .sum()
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
            format!(
                "at an assumed {:.0} GFLOP/s (no past run measured here yet)",
                self.flops / 1e9
            )
        } else {
            format!(
                "from {} past epochs here ({} networks timed; others by a model of time per \
                 image and per FLOP)",
                self.epochs,
                self.by_arch.len()
            )
        }
    }
}

/// Least squares of seconds = per_image × images + per_flop × flops over the networks timed,
/// each weighed by its share of the time measured (relative errors); None when fewer than two
/// networks differ in FLOPs per image, or a term comes out negative.
fn fit(timed: impl Iterator<Item = Timed>) -> Option<(f64, f64)> {
    // Normal equations of the weighted fit on per-epoch means; w = 1/seconds² makes each
    // network's relative error count alike.
    let (mut a11, mut a12, mut a22, mut b1, mut b2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut shapes = Vec::new();
    for t in timed {
        let n = t.epochs as f64;
        let (x1, x2, y) = (t.images / n, t.flops / n, t.seconds / n);
        let w = 1.0 / (y * y);
        a11 += w * x1 * x1;
        a12 += w * x1 * x2;
        a22 += w * x2 * x2;
        b1 += w * x1 * y;
        b2 += w * x2 * y;
        shapes.push(x2 / x1);
    }
    let distinct = shapes
        .iter()
        .any(|s| (s - shapes[0]).abs() > 1e-6 * shapes[0].abs());
    let det = a11 * a22 - a12 * a12;
    if !distinct || det.abs() <= 1e-12 * a11 * a22 {
        return None;
    }
    let per_image = (b1 * a22 - b2 * a12) / det;
    let per_flop = (a11 * b2 - a12 * b1) / det;
    (per_image >= 0.0 && per_flop > 0.0 && per_image.is_finite() && per_flop.is_finite())
        .then_some((per_image, per_flop))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(images: f64, flops: f64, seconds: f64) -> Timed {
        Timed {
            flops,
            images,
            seconds,
            epochs: 1,
        }
    }

    #[test]
    fn the_fit_recovers_a_cost_per_image_and_per_flop() {
        // 2 µs an image and 1 ns per 100 FLOPs (100 GFLOP/s), exactly.
        let (pi, pf) = (2e-6, 1e-11);
        let nets = [(70_000.0, 2e10), (70_000.0, 9e10), (30_000.0, 4e11)];
        let model = fit(nets.iter().map(|&(i, f)| timed(i, f, pi * i + pf * f)))
            .expect("two shapes or more");
        assert!((model.0 - pi).abs() / pi < 1e-9, "{model:?}");
        assert!((model.1 - pf).abs() / pf < 1e-9, "{model:?}");
        // One shape cannot tell the terms apart.
        assert!(
            fit([timed(70_000.0, 2e10, 1.0), timed(35_000.0, 1e10, 0.5)].into_iter()).is_none()
        );
    }
}
