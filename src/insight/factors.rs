//! The factors a preset's variants differ by, and their main effects: for each level of a
//! factor, the mean and spread of the final test loss and accuracy across the other factors.

use serde::Serialize;

use crate::runs::{RunRecord, VariantStatus};
use crate::spec::VariantSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Factor {
    Depth,
    Placement,
    Optimizer,
    Dropout,
    Activation,
    Init,
    Widths,
    BatchSize,
    LearningRate,
}

pub const ALL: [Factor; 9] = [
    Factor::Depth,
    Factor::Placement,
    Factor::Optimizer,
    Factor::Dropout,
    Factor::Activation,
    Factor::Init,
    Factor::Widths,
    Factor::BatchSize,
    Factor::LearningRate,
];

impl Factor {
    pub fn name(self) -> &'static str {
        match self {
            Factor::Depth => "depth",
            Factor::Placement => "BN+Dropout",
            Factor::Optimizer => "optimizer",
            Factor::Dropout => "dropout",
            Factor::Activation => "activation",
            Factor::Init => "init",
            Factor::Widths => "widths",
            Factor::BatchSize => "batch",
            Factor::LearningRate => "lr",
        }
    }

    /// This variant's level of the factor, as a label.
    pub fn level(self, s: &VariantSpec) -> String {
        match self {
            Factor::Depth => match s.hidden_layers() {
                1 => "1 layer".to_string(),
                n => format!("{n} layers"),
            },
            Factor::Placement => format!("{:?}", s.placement),
            Factor::Optimizer => s.optimizer.label(),
            // The rate as set, also where no layer carries dropout (placement None): a grid
            // crosses it with placement, and the interaction shows where it does nothing.
            Factor::Dropout => format!("{}", s.dropout),
            Factor::Activation => s.activation.label(),
            Factor::Init => format!("{:?}", s.init),
            Factor::Widths => s.arch.name(),
            Factor::BatchSize => s.batch_size.to_string(),
            Factor::LearningRate => format!("{}", s.optimizer.lr()),
        }
    }
}

/// The distinct levels of `factor` among `specs`, in first-seen order.
pub fn levels(specs: &[&VariantSpec], factor: Factor) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in specs {
        let l = factor.level(s);
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// Factors with more than one level in this run (the ones worth looking at). Widths and depth
/// move together in our presets, so widths is shown only when depth alone does not vary.
pub fn varying(record: &RunRecord) -> Vec<Factor> {
    let specs: Vec<&VariantSpec> = record.variants.iter().map(|v| &v.spec).collect();
    let mut out: Vec<Factor> = ALL
        .iter()
        .copied()
        .filter(|f| levels(&specs, *f).len() > 1)
        .collect();
    if out.contains(&Factor::Depth) && out.contains(&Factor::Widths) {
        let depth = levels(&specs, Factor::Depth).len();
        if levels(&specs, Factor::Widths).len() == depth {
            out.retain(|f| *f != Factor::Widths);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Metric {
    TestLoss,
    TestAcc,
}

impl Metric {
    /// "lowest" for a loss, "highest" for an accuracy: the better end.
    pub fn best_word(self) -> &'static str {
        match self {
            Metric::TestLoss => "lowest",
            Metric::TestAcc => "highest",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::TestLoss => "test loss",
            Metric::TestAcc => "test accuracy",
        }
    }
}

/// Mean and (population) standard deviation of one level's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelEffect {
    pub level: String,
    pub n: usize,
    pub mean_loss: f64,
    pub sd_loss: f64,
    pub mean_acc: f64,
    pub sd_acc: f64,
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Finished variants as (spec, final test loss, final test accuracy).
pub fn results(record: &RunRecord) -> Vec<(&VariantSpec, f64, f64)> {
    record
        .variants
        .iter()
        .filter(|v| v.status == VariantStatus::Finished)
        .filter_map(|v| {
            v.final_metrics()
                .map(|m| (&v.spec, m.test_loss as f64, m.test_acc as f64))
        })
        .collect()
}

/// Main effects of `factor`: one row per level, over the finished variants.
pub fn main_effects(results: &[(&VariantSpec, f64, f64)], factor: Factor) -> Vec<LevelEffect> {
    let specs: Vec<&VariantSpec> = results.iter().map(|r| r.0).collect();
    // Each result's level named once, then grouped.
    let mut by_level: std::collections::HashMap<String, Vec<&(&VariantSpec, f64, f64)>> =
        std::collections::HashMap::new();
    for r in results {
        by_level.entry(factor.level(r.0)).or_default().push(r);
    }
    levels(&specs, factor)
        .into_iter()
        .map(|level| {
            let at = by_level.remove(&level).unwrap_or_default();
            let (mean_loss, sd_loss) = mean_sd(&at.iter().map(|r| r.1).collect::<Vec<_>>());
            let (mean_acc, sd_acc) = mean_sd(&at.iter().map(|r| r.2).collect::<Vec<_>>());
            LevelEffect {
                level,
                n: at.len(),
                mean_loss,
                sd_loss,
                mean_acc,
                sd_acc,
            }
        })
        .collect()
}

/// How much a factor matters: the range of its level means of `metric`.
pub fn effect_size(effects: &[LevelEffect], metric: Metric) -> f64 {
    let vals = effects.iter().map(|e| match metric {
        Metric::TestLoss => e.mean_loss,
        Metric::TestAcc => e.mean_acc,
    });
    let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo.is_finite() {
        hi - lo
    } else {
        0.0
    }
}

/// Factors ranked by effect size on `metric`, largest first.
pub fn ranking(record: &RunRecord, metric: Metric) -> Vec<(Factor, f64)> {
    let res = results(record);
    let mut out: Vec<(Factor, f64)> = varying(record)
        .into_iter()
        .map(|f| (f, effect_size(&main_effects(&res, f), metric)))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// Variants laid out by two factors: `cells[r][c]` lists the variant indices at that pair
/// of levels.
pub struct FactorGrid {
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub cells: Vec<Vec<Vec<usize>>>,
}

pub fn grid(record: &RunRecord, row: Factor, col: Factor) -> FactorGrid {
    let specs: Vec<&VariantSpec> = record.variants.iter().map(|v| &v.spec).collect();
    let rows = levels(&specs, row);
    let cols = levels(&specs, col);
    let mut cells = vec![vec![Vec::new(); cols.len()]; rows.len()];
    for (i, s) in specs.iter().enumerate() {
        let r = rows.iter().position(|l| *l == row.level(s));
        let c = cols.iter().position(|l| *l == col.level(s));
        if let (Some(r), Some(c)) = (r, c) {
            cells[r][c].push(i);
        }
    }
    FactorGrid { rows, cols, cells }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset;

    /// paper-2019's specs with hand-made final results.
    fn record(results: &[(usize, f32, f32)]) -> RunRecord {
        let p = preset::load("paper-2019").unwrap();
        let mut r = RunRecord::new(&p, crate::runs::record::Environment::detect("t"));
        for &(i, loss, acc) in results {
            let v = &mut r.variants[i];
            v.status = VariantStatus::Finished;
            v.history.push(crate::spec::EpochMetrics {
                epoch: 1,
                train_loss: loss,
                train_acc: acc,
                test_loss: loss,
                test_acc: acc,
                seconds: 1.0,
                samples_per_sec: 1.0,
                ..Default::default()
            });
        }
        r
    }

    #[test]
    fn main_effects_by_hand() {
        // 2L every (0) 0.05/0.99, 2L none (1) 0.10/0.97, 3L every (5) 0.07/0.98, 3L none (6) 0.12/0.96
        let r = record(&[
            (0, 0.05, 0.99),
            (1, 0.10, 0.97),
            (5, 0.07, 0.98),
            (6, 0.12, 0.96),
        ]);
        let res = results(&r);
        let depth = main_effects(&res, Factor::Depth);
        assert_eq!(depth.len(), 2);
        assert_eq!(depth[0].level, "2 layers");
        assert_eq!(depth[0].n, 2);
        assert!((depth[0].mean_loss - 0.075).abs() < 1e-6);
        assert!((depth[0].sd_loss - 0.025).abs() < 1e-6);
        assert!((depth[1].mean_loss - 0.095).abs() < 1e-6);
        assert!((depth[1].mean_acc - 0.97).abs() < 1e-6);
        let placement = main_effects(&res, Factor::Placement);
        assert_eq!(placement[0].level, "Every");
        assert!((placement[0].mean_loss - 0.06).abs() < 1e-6);
        assert!((placement[1].mean_loss - 0.11).abs() < 1e-6);
        // Placement (range 0.05) matters more than depth (range 0.02) on loss.
        let rank = ranking(&r, Metric::TestLoss);
        assert_eq!(rank[0].0, Factor::Placement);
        assert!((rank[0].1 - 0.05).abs() < 1e-6);
    }

    #[test]
    fn varying_factors_of_paper_2019() {
        let r = record(&[]);
        let f = varying(&r);
        assert!(f.contains(&Factor::Depth));
        assert!(f.contains(&Factor::Placement));
        assert!(f.contains(&Factor::Optimizer));
        assert!(f.contains(&Factor::Dropout));
        assert!(!f.contains(&Factor::Activation));
        assert!(!f.contains(&Factor::Widths), "widths duplicate depth here");
    }

    #[test]
    fn grid_places_every_variant_once() {
        let r = record(&[]);
        let g = grid(&r, Factor::Depth, Factor::Placement);
        assert_eq!(g.rows, vec!["2 layers", "3 layers", "5 layers"]);
        assert_eq!(g.cols, vec!["Every", "None", "First", "Last"]);
        let total: usize = g.cells.iter().flatten().map(|c| c.len()).sum();
        assert_eq!(total, 15);
        // Every has two variants per depth (Adam 0.5 and Adadelta 0.2).
        assert_eq!(g.cells[0][0], vec![0, 2]);
    }
}
