//! Which differences are real: per-variant means with 95% confidence intervals over seeds,
//! Welch's t-test between two variants, main effects, and a two-way ANOVA for balanced
//! full-factorial designs (naming confounded factors where a design is not one). The t and F
//! distributions are statrs's.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor, StudentsT};
use std::collections::HashMap;

use super::factors::{self, Factor, Metric};
use crate::runs::{RunRecord, VariantRecord, VariantStatus};
use crate::spec::{Reference, VariantSpec};

/// Significance level of every test and the confidence of every interval.
pub const ALPHA: f64 = 0.05;

/// Mean, sample standard deviation and 95% confidence interval (Student's t) of a sample.
/// With one value, sd and the interval are NaN (unknown), never 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

fn t_quantile(df: f64, p: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |t| t.inverse_cdf(p))
}

/// n, mean and sample sd (NaN below two values) without a confidence interval.
fn mean_sd(xs: &[f64]) -> Estimate {
    let n = xs.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / n as f64
    };
    let sd = if n < 2 {
        f64::NAN
    } else {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    Estimate {
        n,
        mean,
        sd,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
    }
}

pub fn estimate(xs: &[f64]) -> Estimate {
    let e = mean_sd(xs);
    if e.n < 2 {
        return e;
    }
    let half = t_quantile((e.n - 1) as f64, 1.0 - ALPHA / 2.0) * e.sd / (e.n as f64).sqrt();
    Estimate {
        ci_low: e.mean - half,
        ci_high: e.mean + half,
        ..e
    }
}

/// Welch's two-sample t-test of mean(a) − mean(b), with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Welch {
    pub diff: f64,
    pub t: f64,
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl Welch {
    pub fn significant(&self) -> bool {
        self.p < ALPHA
    }
}

/// None when either sample has fewer than two values or both have no spread.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    // Mean and sd only: an estimate's own CI costs a t quantile, which a test does not need
    // (and a large grid tests hundreds of thousands of pairs).
    let (ea, eb) = (mean_sd(a), mean_sd(b));
    if ea.n < 2 || eb.n < 2 {
        return None;
    }
    let (va, vb) = (ea.sd.powi(2) / ea.n as f64, eb.sd.powi(2) / eb.n as f64);
    let se2 = va + vb;
    if se2 <= 0.0 || !se2.is_finite() {
        return None;
    }
    let diff = ea.mean - eb.mean;
    let t = diff / se2.sqrt();
    // Welch–Satterthwaite degrees of freedom.
    let df = se2.powi(2) / (va.powi(2) / (ea.n - 1) as f64 + vb.powi(2) / (eb.n - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    let half = dist.inverse_cdf(1.0 - ALPHA / 2.0) * se2.sqrt();
    Some(Welch {
        diff,
        t,
        df,
        p,
        ci_low: diff - half,
        ci_high: diff + half,
    })
}

/// "p = 0.031", or "p < 0.001" for tiny values. A p just under the 0.05 line gets a fourth
/// digit ("p = 0.0497"), so a rounded "0.050" is never printed beside "a real difference".
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else if (0.0495..ALPHA).contains(&p) {
        format!("p = {p:.4}")
    } else {
        format!("p = {p:.3}")
    }
}

/// Holm's step-down adjustment of a family of p-values (same order as given): the k-th
/// smallest is multiplied by (m − k + 1), made monotone, capped at 1 (statsmodels'
/// `multipletests(method="holm")`).
pub fn holm(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    let mut out = vec![f64::NAN; m];
    let mut running: f64 = 0.0;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * ps[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Benjamini–Hochberg's step-up adjustment (false discovery rate), same order as given
/// (statsmodels' `multipletests(method="fdr_bh")`).
pub fn benjamini_hochberg(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    let mut out = vec![f64::NAN; m];
    let mut running: f64 = 1.0;
    for (k, &i) in order.iter().enumerate().rev() {
        running = running.min((m as f64 / (k + 1) as f64 * ps[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// One variant's repeats: its finished units' results as estimates over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantStats {
    pub name: String,
    /// The first unit's spec (units differ only by seed).
    #[serde(skip)]
    pub spec: VariantSpec,
    /// Units of the variant in the run (finished or not).
    pub units: usize,
    /// Final test loss and accuracy of the finished units (the restored epoch's where early
    /// stopping kept the best weights).
    pub loss: Estimate,
    pub acc: Estimate,
    /// Test loss at each unit's best validation epoch.
    pub best_epoch_loss: Estimate,
    pub reference: Option<Reference>,
    /// Per finished unit: (seed, final loss, final accuracy).
    #[serde(skip)]
    pub values: Vec<(u64, f64, f64)>,
}

impl VariantStats {
    pub fn sample(&self, metric: Metric) -> Vec<f64> {
        self.values
            .iter()
            .map(|v| match metric {
                Metric::TestLoss => v.1,
                Metric::TestAcc => v.2,
            })
            .collect()
    }

    pub fn estimate(&self, metric: Metric) -> &Estimate {
        match metric {
            Metric::TestLoss => &self.loss,
            Metric::TestAcc => &self.acc,
        }
    }
}

/// Indices of each variant's units, in the order the variants first appear.
pub fn variant_groups(record: &RunRecord) -> Vec<Vec<usize>> {
    let mut names: Vec<&str> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, v) in record.variants.iter().enumerate() {
        match names.iter().position(|n| *n == v.spec.variant_name()) {
            Some(k) => groups[k].push(i),
            None => {
                names.push(v.spec.variant_name());
                groups.push(vec![i]);
            }
        }
    }
    groups
}

fn finished(v: &VariantRecord) -> bool {
    v.status == VariantStatus::Finished
}

/// Every variant of the run, in the order its first unit appears.
pub fn per_variant(record: &RunRecord) -> Vec<VariantStats> {
    let mut order: Vec<&str> = Vec::new();
    for v in &record.variants {
        if !order.contains(&v.spec.variant_name()) {
            order.push(v.spec.variant_name());
        }
    }
    order
        .into_iter()
        .map(|name| {
            let units: Vec<&VariantRecord> = record
                .variants
                .iter()
                .filter(|v| v.spec.variant_name() == name)
                .collect();
            let values: Vec<(u64, f64, f64)> = units
                .iter()
                .filter(|v| finished(v))
                .filter_map(|v| {
                    let m = v.final_metrics()?;
                    Some((v.spec.seed, m.test_loss as f64, m.test_acc as f64))
                })
                .collect();
            let best: Vec<f64> = units
                .iter()
                .filter(|v| finished(v))
                .filter_map(|v| v.best_validation_epoch().map(|m| m.test_loss as f64))
                .collect();
            VariantStats {
                name: name.to_string(),
                spec: units[0].spec.clone(),
                units: units.len(),
                loss: estimate(&values.iter().map(|v| v.1).collect::<Vec<_>>()),
                acc: estimate(&values.iter().map(|v| v.2).collect::<Vec<_>>()),
                best_epoch_loss: estimate(&best),
                reference: units[0].spec.reference,
                values,
            }
        })
        .collect()
}

/// Whether the best variant on a metric is really the best.
#[derive(Debug, Clone, PartialEq)]
pub enum Leader {
    /// Better than the runner-up at p < 0.05.
    Best {
        name: String,
        runner_up: String,
        test: Welch,
    },
    /// Not distinguishable from the runner-up; `test` is None when there are too few seeds
    /// to test at all.
    Tied {
        name: String,
        runner_up: String,
        test: Option<Welch>,
    },
    /// Both have several seeds, every one with the same value: there is no spread to test
    /// a difference against.
    NoSpread {
        name: String,
        runner_up: String,
        seeds: usize,
    },
    /// Only one variant has results.
    Alone { name: String },
}

impl Leader {
    pub fn name(&self) -> &str {
        match self {
            Leader::Best { name, .. }
            | Leader::Tied { name, .. }
            | Leader::NoSpread { name, .. }
            | Leader::Alone { name } => name,
        }
    }

    /// One line for the table and the views.
    pub fn sentence(&self, metric: Metric) -> String {
        match self {
            Leader::Best {
                name,
                runner_up,
                test,
            } => format!(
                "best on {}: {name}, ahead of {runner_up} ({})",
                metric.name(),
                format_p(test.p)
            ),
            Leader::Tied {
                name,
                runner_up,
                test: Some(t),
            } => format!(
                "{} mean {}: {name}, tied with {runner_up} ({}, not significant)",
                metric.best_word(),
                metric.name(),
                format_p(t.p)
            ),
            Leader::Tied {
                name, runner_up, ..
            } => format!(
                "{} mean {}: {name}, tied with {runner_up} (too few seeds to test; use --seeds)",
                metric.best_word(),
                metric.name()
            ),
            Leader::NoSpread {
                name,
                runner_up,
                seeds,
            } => format!(
                "{} mean {}: {name}, then {runner_up} (no spread over {seeds} seeds: every seed \
                 gave the same value, so there is nothing to test against)",
                metric.best_word(),
                metric.name()
            ),
            Leader::Alone { name } => format!("only {name} has results"),
        }
    }
}

/// The variant with the best mean on `metric` (lowest loss, highest accuracy), and whether
/// it beats the runner-up significantly (Welch's t-test).
pub fn leader(stats: &[VariantStats], metric: Metric) -> Option<Leader> {
    let better = |e: &Estimate| match metric {
        Metric::TestLoss => e.mean,
        Metric::TestAcc => -e.mean,
    };
    let mut ranked: Vec<&VariantStats> = stats
        .iter()
        .filter(|s| s.estimate(metric).mean.is_finite())
        .collect();
    ranked.sort_by(|a, b| better(a.estimate(metric)).total_cmp(&better(b.estimate(metric))));
    let first = ranked.first()?;
    let Some(second) = ranked.get(1) else {
        return Some(Leader::Alone {
            name: first.name.clone(),
        });
    };
    let test = welch(&first.sample(metric), &second.sample(metric));
    Some(match test {
        Some(t) if t.significant() => Leader::Best {
            name: first.name.clone(),
            runner_up: second.name.clone(),
            test: t,
        },
        None if first.estimate(metric).n >= 2
            && second.estimate(metric).n >= 2
            && first.estimate(metric).sd == 0.0
            && second.estimate(metric).sd == 0.0 =>
        {
            Leader::NoSpread {
                name: first.name.clone(),
                runner_up: second.name.clone(),
                seeds: first.estimate(metric).n.min(second.estimate(metric).n),
            }
        }
        test => Leader::Tied {
            name: first.name.clone(),
            runner_up: second.name.clone(),
            test,
        },
    })
}

/// Units as (spec, value of `metric`), for effects and ANOVA.
fn unit_values(record: &RunRecord, metric: Metric) -> Vec<(&VariantSpec, f64)> {
    factors::results(record)
        .into_iter()
        .map(|(s, loss, acc)| {
            (
                s,
                match metric {
                    Metric::TestLoss => loss,
                    Metric::TestAcc => acc,
                },
            )
        })
        .collect()
}

/// How a run's varying factors are laid out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Design {
    pub factors: Vec<Factor>,
    /// Every combination of the factors' levels has the same number of finished units.
    pub balanced: bool,
    /// Units per cell when balanced.
    pub replicates: usize,
    /// Factors not crossed with the others, each with the factors it is entangled with
    /// (a pair of their levels never occurs together).
    pub confounded: Vec<(Factor, Vec<Factor>)>,
}

impl Design {
    pub fn is_confounded(&self, f: Factor) -> bool {
        self.confounded.iter().any(|(c, _)| *c == f)
    }

    /// "optimizer is confounded with dropout, BN+Dropout"
    pub fn confounding_sentence(&self, f: Factor) -> Option<String> {
        let (_, with) = self.confounded.iter().find(|(c, _)| *c == f)?;
        let names: Vec<&str> = with.iter().map(|w| w.name()).collect();
        Some(if names.is_empty() {
            format!("{} is not crossed with the other factors", f.name())
        } else {
            format!("{} is confounded with {}", f.name(), names.join(", "))
        })
    }
}

/// The design of the finished units: which factors vary, whether every combination of their
/// levels was run equally often, and which factors are entangled.
pub fn design(record: &RunRecord) -> Design {
    let units = unit_values(record, Metric::TestLoss);
    let specs: Vec<&VariantSpec> = units.iter().map(|u| u.0).collect();
    let fs: Vec<Factor> = factors::varying(record)
        .into_iter()
        .filter(|f| factors::levels(&specs, *f).len() > 1)
        .collect();
    let levels: Vec<Vec<String>> = fs.iter().map(|f| factors::levels(&specs, *f)).collect();
    // Count units per combination of levels.
    let mut cells: std::collections::HashMap<Vec<String>, usize> = Default::default();
    for s in &specs {
        *cells
            .entry(fs.iter().map(|f| f.level(s)).collect())
            .or_default() += 1;
    }
    let combos: usize = levels.iter().map(|l| l.len()).product();
    let counts: Vec<usize> = cells.values().copied().collect();
    let balanced =
        !fs.is_empty() && cells.len() == combos && counts.windows(2).all(|w| w[0] == w[1]);
    let replicates = if balanced { counts[0] } else { 0 };
    let mut confounded = Vec::new();
    if !balanced {
        for (i, a) in fs.iter().enumerate() {
            // A is crossed with the rest when every combination of the other factors' levels
            // that occurs, occurs with every level of A.
            let rest = |s: &VariantSpec| -> Vec<String> {
                fs.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, f)| f.level(s))
                    .collect()
            };
            let mut by_rest: std::collections::HashMap<Vec<String>, Vec<String>> =
                Default::default();
            for s in &specs {
                let e = by_rest.entry(rest(s)).or_default();
                let l = a.level(s);
                if !e.contains(&l) {
                    e.push(l);
                }
            }
            let crossed = by_rest.values().all(|ls| ls.len() == levels[i].len());
            if crossed {
                continue;
            }
            let with: Vec<Factor> = fs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter(|(j, b)| {
                    let pairs: std::collections::HashSet<(String, String)> =
                        specs.iter().map(|s| (a.level(s), b.level(s))).collect();
                    pairs.len() < levels[i].len() * levels[*j].len()
                })
                .map(|(_, b)| *b)
                .collect();
            confounded.push((*a, with));
        }
    }
    Design {
        factors: fs,
        balanced,
        replicates,
        confounded,
    }
}

/// One level of a factor: the mean over the units at that level with its 95% CI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelEstimate {
    pub level: String,
    pub estimate: Estimate,
}

/// Main effects of `factor` on `metric`: one estimate per level, over all finished units.
pub fn main_effect(record: &RunRecord, factor: Factor, metric: Metric) -> Vec<LevelEstimate> {
    let units = unit_values(record, metric);
    let specs: Vec<&VariantSpec> = units.iter().map(|u| u.0).collect();
    // Each unit's level named once (a level per unit and per level is millions at 5,000 units).
    let mut at: HashMap<String, Vec<f64>> = HashMap::new();
    for u in &units {
        at.entry(factor.level(u.0)).or_default().push(u.1);
    }
    factors::levels(&specs, factor)
        .into_iter()
        .map(|level| {
            let xs = at.remove(&level).unwrap_or_default();
            LevelEstimate {
                level,
                estimate: estimate(&xs),
            }
        })
        .collect()
}

/// A row of an ANOVA table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnovaRow {
    /// "depth", or "depth × BN+Dropout" for an interaction.
    pub term: String,
    pub factors: Vec<Factor>,
    pub df: usize,
    pub ss: f64,
    pub f: f64,
    pub p: f64,
    /// Share of the total sum of squares: SS / SS_total.
    pub eta2: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anova {
    pub metric: Metric,
    pub rows: Vec<AnovaRow>,
    pub residual_df: usize,
    pub residual_ss: f64,
    pub total_ss: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnovaError {
    #[error("no factor varies among the finished units")]
    NoFactors,
    #[error("the design is not a balanced full factorial ({0})")]
    Unbalanced(String),
    #[error("no residual degrees of freedom: repeat the units over more seeds")]
    NoResidual,
    #[error(
        "no spread left over the model: the repeats of every cell gave the same value, so F \
         is undefined"
    )]
    NoSpread,
}

/// Main effects and two-way interactions of a balanced full-factorial design (higher-order
/// interactions go to the residual), as statsmodels' `anova_lm` gives for
/// `y ~ A + B + C + A:B + A:C + B:C`.
/// `d` is `design(record)`: callers that show the design too compute it once.
pub fn anova(record: &RunRecord, d: &Design, metric: Metric) -> Result<Anova, AnovaError> {
    if d.factors.is_empty() {
        return Err(AnovaError::NoFactors);
    }
    if !d.balanced {
        let why = d
            .confounded
            .iter()
            .filter_map(|(f, _)| d.confounding_sentence(*f))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AnovaError::Unbalanced(if why.is_empty() {
            "cells have different numbers of units".into()
        } else {
            why
        }));
    }
    let units = unit_values(record, metric);
    let n = units.len() as f64;
    let grand = units.iter().map(|u| u.1).sum::<f64>() / n;
    let total_ss: f64 = units.iter().map(|u| (u.1 - grand).powi(2)).sum();
    // Mean of the units whose levels of `fs` are `key`.
    let means = |fs: &[Factor]| {
        let mut sums: std::collections::HashMap<Vec<String>, (f64, usize)> = Default::default();
        for (s, y) in &units {
            let e = sums
                .entry(fs.iter().map(|f| f.level(s)).collect())
                .or_default();
            e.0 += y;
            e.1 += 1;
        }
        sums.into_iter()
            .map(|(k, (sum, c))| (k, sum / c as f64))
            .collect::<std::collections::HashMap<_, _>>()
    };
    let specs: Vec<&VariantSpec> = units.iter().map(|u| u.0).collect();
    let nlev = |f: Factor| factors::levels(&specs, f).len();
    let mut rows = Vec::new();
    let fs = &d.factors;
    let main: Vec<std::collections::HashMap<Vec<String>, f64>> =
        fs.iter().map(|f| means(&[*f])).collect();
    for (i, f) in fs.iter().enumerate() {
        let ss: f64 = units
            .iter()
            .map(|(s, _)| (main[i][&vec![f.level(s)]] - grand).powi(2))
            .sum();
        rows.push((vec![*f], nlev(*f) - 1, ss));
    }
    for i in 0..fs.len() {
        for j in i + 1..fs.len() {
            let (a, b) = (fs[i], fs[j]);
            let ab = means(&[a, b]);
            let ss: f64 = units
                .iter()
                .map(|(s, _)| {
                    let (la, lb) = (a.level(s), b.level(s));
                    (ab[&vec![la.clone(), lb.clone()]] - main[i][&vec![la]] - main[j][&vec![lb]]
                        + grand)
                        .powi(2)
                })
                .sum();
            rows.push((vec![a, b], (nlev(a) - 1) * (nlev(b) - 1), ss));
        }
    }
    let model_df: usize = rows.iter().map(|r| r.1).sum();
    let residual_df = (units.len() - 1).saturating_sub(model_df);
    if residual_df == 0 {
        return Err(AnovaError::NoResidual);
    }
    let residual_ss = (total_ss - rows.iter().map(|r| r.2).sum::<f64>()).max(0.0);
    // Rounding leaves a residual of ~1e-16 of the total where the repeats are identical.
    if residual_ss <= total_ss.abs() * 1e-12 {
        return Err(AnovaError::NoSpread);
    }
    let ms_resid = residual_ss / residual_df as f64;
    let rows = rows
        .into_iter()
        .map(|(fs, df, ss)| {
            let f = (ss / df as f64) / ms_resid;
            let p =
                FisherSnedecor::new(df as f64, residual_df as f64).map_or(f64::NAN, |d| d.sf(f));
            AnovaRow {
                term: fs.iter().map(|f| f.name()).collect::<Vec<_>>().join(" × "),
                factors: fs,
                df,
                ss,
                f,
                p,
                eta2: if total_ss > 0.0 {
                    ss / total_ss
                } else {
                    f64::NAN
                },
            }
        })
        .collect();
    Ok(Anova {
        metric,
        rows,
        residual_df,
        residual_ss,
        total_ss,
    })
}

/// Two variants that differ in exactly one factor, and Welch's test of their difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    // Shared, not copied: a large grid has hundreds of thousands of comparisons of the same
    // few thousand names.
    pub a: std::sync::Arc<str>,
    pub b: std::sync::Arc<str>,
    pub factor: Factor,
    pub level_a: std::sync::Arc<str>,
    pub level_b: std::sync::Arc<str>,
    pub test: Welch,
    /// Holm-adjusted p within the family of every one-factor comparison of the run.
    pub p_adjusted: f64,
    /// How many tests that family holds.
    pub family: usize,
}

impl Comparison {
    /// "BN+Dropout Every vs None (2L adam every vs 2L adam none): -0.0210 test loss,
    /// 95% CI [-0.0270, -0.0150], p < 0.001: a real difference"
    pub fn sentence(&self, metric: Metric) -> String {
        let t = &self.test;
        format!(
            "{} {} vs {} ({} vs {}): {:+.4} {}, 95% CI [{:+.4}, {:+.4}], {} (Holm over {}: {}): {}",
            self.factor.name(),
            self.level_a,
            self.level_b,
            self.a,
            self.b,
            t.diff,
            metric.name(),
            t.ci_low,
            t.ci_high,
            format_p(t.p),
            self.family,
            format_p(self.p_adjusted).trim_start_matches("p "),
            // Words follow the adjusted p: one real difference among many tests by chance is
            // not one.
            if self.p_adjusted < ALPHA {
                "a real difference"
            } else {
                "not distinguishable from seed noise"
            }
        )
    }
}

/// Every pair of variants that differ in exactly one varying factor, tested (pairs with too
/// few seeds to test are left out).
pub fn one_factor_comparisons(
    record: &RunRecord,
    stats: &[VariantStats],
    metric: Metric,
) -> Vec<Comparison> {
    let fs = factors::varying(record);
    // Each variant's level of each factor, named once (not once per pair: 499,500 pairs at
    // 1,000 variants).
    let levels: Vec<Vec<std::sync::Arc<str>>> = stats
        .iter()
        .map(|v| fs.iter().map(|f| f.level(&v.spec).into()).collect())
        .collect();
    let names: Vec<std::sync::Arc<str>> = stats.iter().map(|v| v.name.as_str().into()).collect();
    let samples: Vec<Vec<f64>> = stats.iter().map(|v| v.sample(metric)).collect();
    // Rows of pairs in parallel (each test is independent), gathered in order.
    use rayon::prelude::*;
    let mut out = (0..stats.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let (levels, samples, fs, names) = (&levels, &samples, &fs, &names);
            (i + 1..stats.len()).filter_map(move |j| {
                let mut differing = (0..fs.len()).filter(|&k| levels[i][k] != levels[j][k]);
                let (Some(k), None) = (differing.next(), differing.next()) else {
                    return None;
                };
                welch(&samples[i], &samples[j]).map(|test| Comparison {
                    a: names[i].clone(),
                    b: names[j].clone(),
                    factor: fs[k],
                    level_a: levels[i][k].clone(),
                    level_b: levels[j][k].clone(),
                    test,
                    p_adjusted: f64::NAN,
                    family: 0,
                })
            })
        })
        .collect::<Vec<Comparison>>();
    // One family: every one-factor comparison of the run, Holm-adjusted together.
    let adjusted = holm(&out.iter().map(|c| c.test.p).collect::<Vec<_>>());
    let family = out.len();
    for (c, p) in out.iter_mut().zip(adjusted) {
        c.p_adjusted = p;
        c.family = family;
    }
    out
}
