//! How many seeds a question needs: from a run's seed-to-seed spread of a paired difference,
//! the smallest difference its seeds could see (80% power) and the seeds a named difference
//! needs, for one test and for the run's family of comparisons (power of the paired t-test,
//! statsmodels' `TTestPower`).

use std::fmt::Write as _;

use super::factors::Layout;
use super::linear_model::Fitted;
use super::stats::{self, ALPHA, POWER};
use crate::runs::RunRecord;
use crate::spec::Metric;

/// Undecided rivals listed by `Plan::text`, closest first.
pub const MAX_LISTED: usize = 10;

/// A rival the best could not be told from, and what deciding it would take.
#[derive(Debug, Clone, PartialEq)]
pub struct Undecided {
    pub name: String,
    /// Rival − best on the metric.
    pub diff: f64,
    pub sd_diff: f64,
    pub pairs: usize,
    /// Seeds a paired test needs to see `diff` at the family's first Holm level.
    pub seeds_needed: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub metric: Metric,
    /// The sd of a per-seed difference between two variants.
    pub sd_diff: f64,
    /// Where `sd_diff` comes from, in words.
    pub source: String,
    /// Seeds per variant in the run (the most common count of finished units).
    pub seeds: usize,
    /// Tests in the run's family of one-factor comparisons.
    pub family: usize,
    /// (α, detectable difference at `seeds`) for one test and for the family.
    pub detectable_one: f64,
    pub detectable_family: f64,
    /// The difference the user asked about, and the seeds it needs (one test, family).
    pub delta: Option<(f64, f64, f64)>,
    pub best: Option<String>,
    /// What the best was chosen and its rivals tested on (validation where held out).
    pub chosen_on: Metric,
    pub undecided: Vec<Undecided>,
    /// Rivals the best was told apart from by a test, and rivals no test could be run on.
    pub told_apart: usize,
    pub untested: usize,
}

/// The plan for `record` on `metric`; `delta` is a difference the user wants to see;
/// `comparisons` is the run's family of one-factor comparisons on `metric` (the caller has it:
/// at 1,000 variants it is 499,500 tests, not worth making twice).
pub fn plan(
    record: &RunRecord,
    metric: Metric,
    delta: Option<f64>,
    comparisons: &[stats::Comparison],
) -> Result<Plan, String> {
    let layout = Layout::new(record);
    let vs = stats::per_variant(record);
    let mut counts: Vec<usize> = vs
        .iter()
        .filter(|v| v.alias_of.is_none())
        .map(|v| v.values.len())
        .collect();
    counts.sort_unstable();
    let seeds = counts.get(counts.len() / 2).copied().unwrap_or(0);
    // The model's residual variance is the pooled seed-to-seed variance once seed and every
    // factor are taken out; a difference of two units has twice it. Where every seed trained
    // every cell, each effect has its own seed error instead, and the plan pools the paired
    // comparisons' own per-seed sds (each rival below uses its own); so does a design the
    // mixed model fits, whose errors differ by kind of effect.
    let (sd_diff, source) = match Fitted::new(record, &layout, metric) {
        Ok(fit)
            if !fit.has_strata()
                && !fit.has_mixed()
                && fit.residual_df() > 0
                && fit.mse() > 0.0 =>
        {
            (
                (2.0 * fit.mse()).sqrt(),
                format!(
                    "√2 × the residual sd of the model ({} df{})",
                    fit.residual_df(),
                    if stats::design(record).blocked {
                        ", seed-blocked"
                    } else {
                        ""
                    }
                ),
            )
        }
        _ => {
            // No model: pool the paired differences' variances of every tested comparison.
            let var: Vec<f64> = comparisons
                .iter()
                .filter(|c| c.test.sd_diff.is_finite())
                .map(|c| c.test.sd_diff.powi(2))
                .collect();
            if var.is_empty() {
                return Err(
                    "no spread to plan from: the run needs two or more finished seeds of \
                     variants that differ"
                        .into(),
                );
            }
            (
                (var.iter().sum::<f64>() / var.len() as f64).sqrt(),
                format!(
                    "the root mean square of {} comparisons' own per-seed sds",
                    var.len()
                ),
            )
        }
    };
    if seeds < 2 {
        return Err(format!(
            "the variants have {seeds} finished seed(s): a paired test needs two or more"
        ));
    }
    let family = comparisons.len().max(1);
    let family_alpha = ALPHA / family as f64;
    let delta = delta.map(|d| {
        (
            d,
            stats::seeds_needed(d, sd_diff, ALPHA),
            stats::seeds_needed(d, sd_diff, family_alpha),
        )
    });
    let best = super::sequential::best_set(record, &vs, metric);
    let undecided = best
        .as_ref()
        .map(|b| {
            let alpha = b.level / b.family.max(1) as f64;
            b.rivals
                .iter()
                .filter(|r| r.in_set)
                .filter_map(|r| {
                    let t = r.test.as_ref().ok()?;
                    (t.method == stats::Method::Paired).then(|| Undecided {
                        name: r.name.clone(),
                        diff: t.diff,
                        sd_diff: t.sd_diff,
                        pairs: t.pairs,
                        seeds_needed: stats::seeds_needed(t.diff.abs(), t.sd_diff, alpha),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let (told_apart, untested) = best.as_ref().map_or((0, 0), |b| {
        (
            b.rivals
                .iter()
                .filter(|r| r.test.is_ok() && !r.in_set)
                .count(),
            b.rivals.iter().filter(|r| r.test.is_err()).count(),
        )
    });
    Ok(Plan {
        told_apart,
        untested,
        metric,
        sd_diff,
        source,
        seeds,
        family,
        detectable_one: stats::detectable_difference(sd_diff, seeds, ALPHA),
        detectable_family: stats::detectable_difference(sd_diff, seeds, family_alpha),
        delta,
        chosen_on: best.as_ref().map_or(metric, |b| b.chosen_on),
        best: best.map(|b| b.best),
        undecided,
    })
}

/// A difference to 4 decimals, or in scientific notation when that would print 0.0000 for a
/// number that is not 0.
fn small(x: f64) -> String {
    if x != 0.0 && x.abs() < 5e-5 {
        format!("{x:.2e}")
    } else {
        format!("{x:.4}")
    }
}

fn seeds_text(n: f64) -> String {
    if n.is_finite() {
        format!("{n}")
    } else {
        "more than 10⁹".into()
    }
}

impl Plan {
    pub fn text(&self) -> String {
        let mut out = String::new();
        let power = (POWER * 100.0).round();
        let _ = writeln!(
            out,
            "{}, paired over seeds: sd of a per-seed difference {} ({})",
            self.metric.name(),
            small(self.sd_diff),
            self.source
        );
        if self.sd_diff > 0.0 && self.sd_diff.is_finite() {
            let _ = writeln!(
                out,
                "with {} seeds a paired test sees differences of {} or more ({power}% power, \
                 one test at α = 0.05), {} or more as one of the run's {} one-factor \
                 comparisons (Holm's first level, α = 0.05/{})",
                self.seeds,
                small(self.detectable_one),
                small(self.detectable_family),
                self.family,
                self.family
            );
        } else {
            let _ = writeln!(
                out,
                "with {} seeds every per-seed difference is the same (no spread): a paired test \
                 cannot be computed, so no size of difference it would see can be given",
                self.seeds
            );
        }
        // The exact sign-flip test cannot go below 2/2ⁿ: under `test: Exact` a verdict
        // needs at least this many seeds whatever the difference.
        let (floor_one, floor_family) = (
            stats::exact_seeds(ALPHA),
            stats::exact_seeds(ALPHA / self.family.max(1) as f64),
        );
        let _ = writeln!(
            out,
            "under `test: Exact` (the exact sign-flip test, smallest p 2/2ⁿ with n seeds): at \
             least {floor_one} seeds to reach 0.05 as one test, {floor_family} as one of {}",
            self.family
        );
        if let Some((d, one, fam)) = self.delta {
            let _ = writeln!(
                out,
                "to see a difference of {d}: {} seeds (one test), {} seeds (Holm over {}) by \
                 the t-test; {} and {} by the exact test",
                seeds_text(one),
                seeds_text(fam),
                self.family,
                seeds_text(one.max(floor_one as f64)),
                seeds_text(fam.max(floor_family as f64)),
            );
        }
        if let Some(best) = &self.best {
            if self.undecided.is_empty() {
                let untested = match self.untested {
                    0 => String::new(),
                    1 => "; 1 rival could not be tested (no spread or too few seeds)".into(),
                    n => format!("; {n} rivals could not be tested (no spread or too few seeds)"),
                };
                let _ = match self.told_apart {
                    0 => writeln!(
                        out,
                        "best on {}: {}, tested against no variant{untested}",
                        self.chosen_on.name(),
                        crate::text::escape(best)
                    ),
                    n => writeln!(
                        out,
                        "best on {}: {}, told apart from the {n} variant{} it was tested \
                         against{untested}",
                        self.chosen_on.name(),
                        crate::text::escape(best),
                        if n == 1 { "" } else { "s" }
                    ),
                };
            } else {
                let _ = writeln!(
                    out,
                    "not yet told apart from the best on {} ({}), and the seeds each needs \
                     to see its difference as it stands ({power}% power, Holm over the best \
                     set's tests):",
                    self.chosen_on.name(),
                    crate::text::escape(best)
                );
                // The closest few: a list a reader can act on (a 1,000-variant grid has
                // hundreds of rivals the best cannot yet be told from).
                for u in self.undecided.iter().take(MAX_LISTED) {
                    let _ = writeln!(
                        out,
                        "  {}: {:+.4} (sd {:.4} over {} seeds) → {} seeds",
                        crate::text::escape(&u.name),
                        u.diff,
                        u.sd_diff,
                        u.pairs,
                        seeds_text(u.seeds_needed)
                    );
                }
                if self.undecided.len() > MAX_LISTED {
                    let _ = writeln!(
                        out,
                        "  … and {} more (comparisons.csv, family best-set)",
                        self.undecided.len() - MAX_LISTED
                    );
                }
            }
        }
        out
    }
}
