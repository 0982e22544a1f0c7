//! The factors a preset's variants differ by, and their main effects: for each level of a
//! factor, the mean and spread of the final test loss and accuracy across the other factors.

use serde::Serialize;

use crate::runs::{RunRecord, UnitStatus};
use crate::spec::Metric;
use crate::spec::UnitSpec;

/// A field of a unit's spec that can differ between variants. Seed is not one: it is the
/// block (the same seed gives every variant the same data order, initial weights and dropout
/// stream), never a factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Factor {
    /// The architecture, named by its number of hidden layers (used when that names it).
    Depth,
    /// The architecture, named by its widths (used when two architectures share a depth).
    Widths,
    /// The width of every hidden layer: with `Depth`, the two factors of a grid of
    /// architectures whose layers are all one width (64, 64-64, 256, 256-256, …).
    Width,
    Placement,
    Optimizer,
    LearningRate,
    Dropout,
    Activation,
    Init,
    BatchSize,
    Epochs,
    Schedule,
    EarlyStopping,
    Validation,
    TrainSubset,
    TestSubset,
}

/// Every factor but the architecture's two names, in the order tables list them.
const FIELDS: [Factor; 13] = [
    Factor::Placement,
    Factor::Optimizer,
    Factor::LearningRate,
    Factor::Dropout,
    Factor::Activation,
    Factor::Init,
    Factor::BatchSize,
    Factor::Epochs,
    Factor::Schedule,
    Factor::EarlyStopping,
    Factor::Validation,
    Factor::TrainSubset,
    Factor::TestSubset,
];

impl Factor {
    pub fn name(self) -> &'static str {
        match self {
            Factor::Depth => "depth",
            Factor::Widths => "widths",
            Factor::Width => "width",
            Factor::Placement => "BN+Dropout",
            Factor::Optimizer => "optimizer",
            Factor::LearningRate => "lr",
            Factor::Dropout => "dropout",
            Factor::Activation => "activation",
            Factor::Init => "init",
            Factor::BatchSize => "batch",
            Factor::Epochs => "epochs",
            Factor::Schedule => "schedule",
            Factor::EarlyStopping => "early stopping",
            Factor::Validation => "validation",
            Factor::TrainSubset => "train subset",
            Factor::TestSubset => "test subset",
        }
    }

    /// This unit's level of the factor, as a readable label.
    pub fn level(self, s: &UnitSpec) -> String {
        match self {
            Factor::Depth => match s.hidden_layers() {
                1 => "1 layer".to_string(),
                n => format!("{n} layers"),
            },
            Factor::Widths => s.arch.name(),
            Factor::Width => format!("{} wide", s.arch.hidden()[0]),
            Factor::Placement => s.placement.to_string(),
            Factor::Optimizer => s.optimizer.label(),
            Factor::LearningRate => format!("{}", s.optimizer.lr()),
            Factor::Dropout => format!("{}", s.dropout),
            Factor::Activation => s.activation.label(),
            Factor::Init => s.init.to_string(),
            Factor::BatchSize => s.batch_size.to_string(),
            Factor::Epochs => s.epochs.to_string(),
            Factor::Schedule => s.schedule.map_or("constant".into(), |x| x.label()),
            Factor::EarlyStopping => s.early_stopping.map_or("none".into(), |e| {
                format!(
                    "patience {}{}{}",
                    e.patience,
                    if e.min_delta > 0.0 {
                        format!(" Δ{}", e.min_delta)
                    } else {
                        String::new()
                    },
                    if e.restore_best { ", restore best" } else { "" }
                )
            }),
            Factor::Validation => s.validation.label(),
            Factor::TrainSubset => s.train_subset.map_or("all".into(), |n| n.to_string()),
            Factor::TestSubset => s.test_subset.map_or("all".into(), |n| n.to_string()),
        }
    }

    /// The level as a short tag that says what it is on its own: numbers carry their
    /// factor's name ("lr 0.001", "dropout 0.5"); names stand alone ("Adam", "Every").
    pub fn tag(self, s: &UnitSpec) -> String {
        let level = self.level(s);
        match self {
            Factor::LearningRate
            | Factor::Dropout
            | Factor::BatchSize
            | Factor::TrainSubset
            | Factor::TestSubset => format!("{} {level}", self.name()),
            Factor::Epochs => format!("{level} epochs"),
            _ => level,
        }
    }

    /// The exact value of the field (two levels with one label still differ here: two Adams
    /// with other betas).
    fn key(self, s: &UnitSpec) -> String {
        match self {
            Factor::Depth => s.hidden_layers().to_string(),
            Factor::Widths => s.arch.name(),
            Factor::Width => s.arch.hidden()[0].to_string(),
            Factor::Optimizer => format!("{:?}", s.optimizer.with_lr(0.0)),
            Factor::Schedule => format!("{:?}", s.schedule),
            Factor::EarlyStopping => format!("{:?}", s.early_stopping),
            _ => self.level(s),
        }
    }

    /// The value that decides training, where another value trains the identical network:
    /// None when the field has no effect at all on this unit (the dropout rate where no layer
    /// has dropout). `data` = (train, test) images when the run recorded them.
    fn effective_key(self, s: &UnitSpec, data: Option<(usize, usize)>) -> Option<String> {
        let plain = Some(self.key(s));
        match self {
            Factor::Dropout if s.placement == crate::spec::Placement::None => None,
            // An early stop that cannot fire and restores nothing is no early stop.
            Factor::EarlyStopping => match s.early_stopping {
                Some(e) if e.patience >= s.epochs && !e.restore_best => {
                    Some(format!("{:?}", None::<()>))
                }
                _ => plain,
            },
            // A step schedule that never steps inside the run, or steps by 1, is constant.
            Factor::Schedule => match s.schedule {
                Some(crate::spec::Schedule::Step { every, gamma })
                    if every >= s.epochs || gamma == 1.0 =>
                {
                    Some(format!("{:?}", None::<()>))
                }
                _ => plain,
            },
            Factor::TrainSubset => match (s.train_subset, data) {
                (Some(n), Some((train, _))) if n >= train => Some("all".into()),
                _ => plain,
            },
            Factor::TestSubset => match (s.test_subset, data) {
                (Some(n), Some((_, test))) if n >= test => Some("all".into()),
                _ => plain,
            },
            _ => plain,
        }
    }
}

/// The distinct levels of `factor` among `specs`, in first-seen order.
pub fn levels(specs: &[&UnitSpec], factor: Factor) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in specs {
        let l = factor.level(s);
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// Which fields vary in a run and each variant's level of each: the design read from the
/// resolved specs, not from a list of factors the code knows about.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The fields that take more than one value across the variants.
    pub factors: Vec<Factor>,
    /// Each factor's levels, in first-seen order.
    pub levels: Vec<Vec<String>>,
    /// Variant names, in the order their first unit appears.
    pub variants: Vec<String>,
    /// Per variant, its level index of each factor.
    pub at: Vec<Vec<usize>>,
    /// Per variant and factor: whether the field has no effect on it (dropout under None).
    pub inert: Vec<Vec<bool>>,
    /// Per variant: the first variant that trains the identical network (itself if none
    /// came before).
    pub alias_of: Vec<usize>,
}

impl Layout {
    pub fn new(record: &RunRecord) -> Layout {
        let mut variants: Vec<String> = Vec::new();
        let mut specs: Vec<&UnitSpec> = Vec::new();
        for v in &record.units {
            if !variants.iter().any(|n| n == v.spec.variant_name()) {
                variants.push(v.spec.variant_name().to_string());
                specs.push(&v.spec);
            }
        }
        Layout::of(
            &variants,
            &specs,
            record.data.as_ref().map(|d| (d.train, d.test)),
        )
    }

    fn of(names: &[String], specs: &[&UnitSpec], data: Option<(usize, usize)>) -> Layout {
        let distinct = |f: Factor| {
            let mut keys: Vec<String> = specs.iter().map(|s| f.key(s)).collect();
            keys.sort();
            keys.dedup();
            keys.len()
        };
        // The architecture is one field: named by depth when depth tells the architectures
        // apart, by widths otherwise (never both: a pair differing in architecture differs
        // in one field). When every architecture has layers of one width and both width and
        // depth vary, it is two factors: width and depth (a width × depth question).
        let uniform = specs
            .iter()
            .all(|s| s.arch.hidden().iter().all(|w| *w == s.arch.hidden()[0]));
        let arch: Vec<Factor> = match distinct(Factor::Widths) {
            0 | 1 => Vec::new(),
            _ if uniform && distinct(Factor::Width) > 1 && distinct(Factor::Depth) > 1 => {
                vec![Factor::Width, Factor::Depth]
            }
            n if distinct(Factor::Depth) == n => vec![Factor::Depth],
            _ => vec![Factor::Widths],
        };
        let factors: Vec<Factor> = arch
            .into_iter()
            .chain(FIELDS.iter().copied().filter(|f| distinct(*f) > 1))
            .collect();
        let mut levels: Vec<Vec<String>> = vec![Vec::new(); factors.len()];
        let mut keys: Vec<Vec<String>> = vec![Vec::new(); factors.len()];
        let mut at = Vec::with_capacity(specs.len());
        for s in specs {
            let mut row = Vec::with_capacity(factors.len());
            for (k, f) in factors.iter().enumerate() {
                let key = f.key(s);
                let i = match keys[k].iter().position(|x| *x == key) {
                    Some(i) => i,
                    None => {
                        keys[k].push(key);
                        levels[k].push(f.level(s));
                        keys[k].len() - 1
                    }
                };
                row.push(i);
            }
            at.push(row);
        }
        // One label per level: two keys with one label get the exact value beside it.
        for k in 0..factors.len() {
            for i in 0..levels[k].len() {
                if levels[k].iter().filter(|l| **l == levels[k][i]).count() > 1 {
                    levels[k][i] = format!("{} [{}]", levels[k][i], keys[k][i]);
                }
            }
        }
        let effective: Vec<Vec<Option<String>>> = specs
            .iter()
            .map(|s| factors.iter().map(|f| f.effective_key(s, data)).collect())
            .collect();
        let inert = effective
            .iter()
            .map(|row| row.iter().map(|k| k.is_none()).collect())
            .collect();
        let alias_of = (0..specs.len())
            .map(|i| (0..=i).find(|&j| effective[j] == effective[i]).unwrap_or(i))
            .collect();
        Layout {
            factors,
            levels,
            variants: names.to_vec(),
            at,
            inert,
            alias_of,
        }
    }

    /// Variant `v`'s level of factor number `k`.
    pub fn level(&self, v: usize, k: usize) -> &str {
        &self.levels[k][self.at[v][k]]
    }

    pub fn index(&self, variant: &str) -> Option<usize> {
        self.variants.iter().position(|n| n == variant)
    }

    /// The factors two variants differ in: fields with other values that matter to both.
    pub fn differing(&self, a: usize, b: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.factors.len()).filter(move |&k| {
            self.at[a][k] != self.at[b][k] && !self.inert[a][k] && !self.inert[b][k]
        })
    }

    /// Whether variant `v` trains the same networks as an earlier variant.
    pub fn is_alias(&self, v: usize) -> bool {
        self.alias_of[v] != v
    }

    /// Factors that have no effect at some levels of another: ("dropout", "BN+Dropout None").
    pub fn nested(&self) -> Vec<(Factor, String)> {
        let mut out: Vec<(Factor, String)> = Vec::new();
        for (k, f) in self.factors.iter().enumerate() {
            if !self.inert.iter().any(|row| row[k]) {
                continue;
            }
            let under = match f {
                Factor::Dropout => "BN+Dropout None".to_string(),
                _ => "some variants".to_string(),
            };
            out.push((*f, under));
        }
        out
    }

    /// "dropout has no effect under BN+Dropout None: 2 variants train the same networks as
    /// others (…) and are counted once"
    pub fn alias_sentences(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .nested()
            .into_iter()
            .map(|(f, under)| format!("{} has no effect under {under}", f.name()))
            .collect();
        let pairs: Vec<String> = (0..self.variants.len())
            .filter(|&v| self.is_alias(v))
            .map(|v| format!("{} = {}", self.variants[v], self.variants[self.alias_of[v]]))
            .collect();
        if !pairs.is_empty() {
            out.push(format!(
                "{} variant{} train{} the same networks as another (bit for bit at each seed) \
                 and {} counted once: {}",
                pairs.len(),
                if pairs.len() == 1 { "" } else { "s" },
                if pairs.len() == 1 { "s" } else { "" },
                if pairs.len() == 1 { "is" } else { "are" },
                pairs.join(", ")
            ));
        }
        out
    }
}

/// Factors with more than one value in this run (the ones worth looking at).
pub fn varying(record: &RunRecord) -> Vec<Factor> {
    Layout::new(record).factors
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
pub fn results(record: &RunRecord) -> Vec<(&UnitSpec, f64, f64)> {
    record
        .units
        .iter()
        .filter(|v| v.status == UnitStatus::Finished)
        .filter_map(|v| {
            v.final_metrics()
                .map(|m| (&v.spec, m.test_loss as f64, m.test_acc as f64))
        })
        .collect()
}

/// Main effects of `factor`: one row per level, over the finished variants.
pub fn main_effects(results: &[(&UnitSpec, f64, f64)], factor: Factor) -> Vec<LevelEffect> {
    let specs: Vec<&UnitSpec> = results.iter().map(|r| r.0).collect();
    // Each result's level named once, then grouped.
    let mut by_level: std::collections::HashMap<String, Vec<&(&UnitSpec, f64, f64)>> =
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
    let vals = effects.iter().map(|e| {
        if metric.lower_is_better() {
            e.mean_loss
        } else {
            e.mean_acc
        }
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
    let specs: Vec<&UnitSpec> = record.units.iter().map(|v| &v.spec).collect();
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
            let v = &mut r.units[i];
            v.status = UnitStatus::Finished;
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

    /// The factors read from a grid of architectures.
    fn factors_of(archs: &str) -> Vec<Factor> {
        let p = preset::parse(
            "t",
            &format!(
                "(name: \"t\", grid: (arch: [{archs}], placement: [Every, None]), variants: [])"
            ),
        )
        .unwrap();
        varying(&RunRecord::new(
            &p,
            crate::runs::record::Environment::detect("t"),
        ))
    }

    #[test]
    fn one_width_per_layer_splits_the_architecture_into_width_and_depth() {
        assert_eq!(
            factors_of(r#""64", "256", "64-64", "256-256", "64-64-64", "256-256-256""#),
            vec![Factor::Width, Factor::Depth, Factor::Placement]
        );
        // Only the width varies: depth does not name the nets, the widths do.
        assert_eq!(
            factors_of(r#""64", "256""#),
            vec![Factor::Widths, Factor::Placement]
        );
        // Layers of other widths: the architecture stays one field.
        assert_eq!(
            factors_of(r#""64", "512-128", "64-64""#),
            vec![Factor::Widths, Factor::Placement]
        );
        assert_eq!(
            factors_of(r#""512-128", "512-256-128""#),
            vec![Factor::Depth, Factor::Placement]
        );
        let p = preset::parse(
            "t",
            r#"(name: "t", grid: (arch: ["64", "1024-1024"]), variants: [])"#,
        )
        .unwrap();
        let r = RunRecord::new(&p, crate::runs::record::Environment::detect("t"));
        let l = Layout::new(&r);
        assert_eq!(l.factors, vec![Factor::Width, Factor::Depth]);
        assert_eq!(
            l.levels,
            vec![vec!["64 wide", "1024 wide"], vec!["1 layer", "2 layers"]]
        );
    }
}
