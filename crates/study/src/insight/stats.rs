//! Which differences are real: per-variant means with 95% confidence intervals over seeds,
//! paired tests between variants that share seeds (Welch's where they share none), families
//! of tests corrected together, the set of variants that could be best, and the design read
//! from what varies. The model (ANOVA, least-squares means, Tukey) is in `model`. The t
//! distribution is statrs's.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::HashMap;

use super::factors::{Factor, Layout};
use crate::runs::{RunRecord, UnitRecord, UnitStatus};
use crate::spec::{DecisionTest, EpochMetrics, Metric};
use crate::spec::{Reference, UnitSpec};

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
pub fn mean_sd(xs: &[f64]) -> Estimate {
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

/// `estimate` with its interval cut at the values the metric can take (an accuracy's at
/// [0, 1], a loss's at 0). Cutting keeps the t-interval's coverage: the true mean is inside
/// the bounds, so what is cut off never held it.
pub fn estimate_within(xs: &[f64], (lo, hi): (f64, f64)) -> Estimate {
    let e = estimate(xs);
    // NaN (one value: no interval) stays NaN; f64::max would turn it into the bound.
    let cut = |x: f64, f: fn(f64, f64) -> f64, b: f64| if x.is_nan() { x } else { f(x, b) };
    Estimate {
        ci_low: cut(e.ci_low, f64::max, lo),
        ci_high: cut(e.ci_high, f64::min, hi),
        ..e
    }
}

/// Which test compared two variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    /// Paired t-test on the per-seed differences (the variants share seeds: common random
    /// numbers).
    Paired,
    /// Welch's two-sample t-test (the variants share no seeds).
    Welch,
}

impl Method {
    pub fn label(self) -> &'static str {
        match self {
            Method::Paired => "paired t",
            Method::Welch => "welch",
        }
    }
}

/// A difference of means, mean(a) − mean(b), its 95% confidence interval and a two-sided test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    pub method: Method,
    /// Seeds in both (paired), or 0 (Welch).
    pub pairs: usize,
    pub n_a: usize,
    pub n_b: usize,
    pub diff: f64,
    /// Sample sd of the per-seed differences (paired; NaN for Welch).
    pub sd_diff: f64,
    pub t: f64,
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Exact sign-flip permutation p (two-sided) of a paired test with at most
    /// `PERMUTATION_MAX` pairs: the check that does not lean on normality.
    pub p_permutation: Option<f64>,
}

/// Pairs up to which the exact sign-flip permutation p is computed (2^12 = 4,096 flips).
pub const PERMUTATION_MAX: usize = 12;

impl Difference {
    pub fn significant(&self) -> bool {
        self.p < ALPHA
    }

    /// One-sided p of "a is larger than b".
    pub fn p_greater(&self) -> f64 {
        StudentsT::new(0.0, 1.0, self.df).map_or(f64::NAN, |d| d.sf(self.t))
    }

    /// "5 seeds, paired" or "n = 3 and 4, Welch".
    pub fn sample_text(&self) -> String {
        match self.method {
            // Partly shared seeds: say how many pairs the test stands on, of how many each
            // variant has (the others are not lost: they pair once the partner trains them).
            Method::Paired if self.n_a > self.pairs || self.n_b > self.pairs => format!(
                "paired on {} shared seeds of {} and {}",
                self.pairs, self.n_a, self.n_b
            ),
            Method::Paired => format!("{} seeds, paired", self.pairs),
            Method::Welch => format!("n = {} and {}, Welch", self.n_a, self.n_b),
        }
    }

    /// The test a verdict at `level` rests on: the t-test, and beside it the exact
    /// sign-flip p, or, where with this many seeds the exact test cannot reach `level`
    /// (its smallest two-sided p is 2/2ⁿ: 0.0625 at 5 seeds), that the verdict is the
    /// t-test's alone.
    pub fn basis(&self, level: f64) -> String {
        match self.method {
            Method::Welch => "t-test".into(),
            Method::Paired => {
                let floor = exact_floor(self.pairs);
                if floor >= level {
                    // 2/2ⁿ prints exactly: 0.5, 0.25, 0.125, 0.0625.
                    format!(
                        "t-test only (with {} seeds the exact test cannot go below {floor})",
                        self.pairs
                    )
                } else {
                    match self.p_permutation {
                        Some(pp) => format!("t-test; exact sign-flip {}", format_p(pp)),
                        None => "t-test".into(),
                    }
                }
            }
        }
    }
}

impl Difference {
    /// The two-sided p a verdict under `rule` rests on: the t-test's, or the exact sign-flip
    /// p (paired, up to `PERMUTATION_MAX` pairs; beyond, and for Welch, the t-test's).
    pub fn decision_p(&self, rule: DecisionTest) -> f64 {
        match (rule, self.method, self.p_permutation) {
            (DecisionTest::Exact, Method::Paired, Some(pp)) => pp,
            _ => self.p,
        }
    }

    /// One-sided p of "a is larger than b" under `rule`. The sign-flip distribution is
    /// symmetric, so its one-sided p is half the two-sided one in the observed direction.
    pub fn decision_p_greater(&self, rule: DecisionTest) -> f64 {
        match (rule, self.method, self.p_permutation) {
            (DecisionTest::Exact, Method::Paired, Some(pp)) => {
                if self.diff > 0.0 {
                    pp / 2.0
                } else {
                    1.0 - pp / 2.0
                }
            }
            _ => self.p_greater(),
        }
    }

    /// The equivalence test (TOST) of |a − b| < `margin`: the larger of the two one-sided t
    /// p-values against −margin and +margin (statsmodels' `ttost_paired`, `ttost_ind` with
    /// Welch's df). Below the level: the difference lies within ±margin.
    pub fn tost_p(&self, margin: f64) -> f64 {
        let Ok(dist) = StudentsT::new(0.0, 1.0, self.df) else {
            return f64::NAN;
        };
        // The standard error the CI was built from.
        let se = (self.ci_high - self.diff) / dist.inverse_cdf(1.0 - ALPHA / 2.0);
        if !(se > 0.0 && se.is_finite()) {
            return f64::NAN;
        }
        let lower = dist.sf((self.diff + margin) / se);
        let upper = dist.cdf((self.diff - margin) / se);
        lower.max(upper)
    }

    /// Whether `rule` decides this test by the exact sign-flip p.
    pub fn exact_decides(&self, rule: DecisionTest) -> bool {
        rule == DecisionTest::Exact && self.method == Method::Paired && self.p_permutation.is_some()
    }
}

/// The fewest seeds with which the exact sign-flip test can give a p below `level`
/// (2/2ⁿ < level).
pub fn exact_seeds(level: f64) -> usize {
    (1..=64).find(|&n| exact_floor(n) < level).unwrap_or(64)
}

/// The smallest two-sided p the exact sign-flip test can give with `pairs` pairs: 2/2ⁿ.
pub fn exact_floor(pairs: usize) -> f64 {
    2.0 / 2f64.powi(pairs.min(1000) as i32)
}

/// Why two variants could not be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Untestable {
    /// Fewer than two pairs, and fewer than two values on a side.
    TooFewSeeds { n_a: usize, n_b: usize },
    /// Every seed gave the same difference (or both sides the same value): nothing to test
    /// a difference against.
    NoSpread { n: usize },
}

impl Untestable {
    pub fn sentence(self) -> String {
        match self {
            Untestable::TooFewSeeds { n_a, n_b } => format!(
                "cannot test with n = {n_a} and n = {n_b} (needs 2 finished seeds each; use --seeds)"
            ),
            Untestable::NoSpread { n } => format!(
                "no spread over {n} seeds: every seed gave the same difference, so there is \
                 nothing to test it against"
            ),
        }
    }
}

fn t_test(diff: f64, se: f64, df: f64) -> Option<(f64, f64, f64, f64)> {
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let t = diff / se;
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    let half = dist.inverse_cdf(1.0 - ALPHA / 2.0) * se;
    Some((t, p, diff - half, diff + half))
}

/// Welch's two-sample t-test of mean(a) − mean(b), with its 95% confidence interval.
/// None when either sample has fewer than two values or both have no spread.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Difference> {
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
    // Welch–Satterthwaite degrees of freedom.
    let df = se2.powi(2) / (va.powi(2) / (ea.n - 1) as f64 + vb.powi(2) / (eb.n - 1) as f64);
    let (t, p, ci_low, ci_high) = t_test(diff, se2.sqrt(), df)?;
    Some(Difference {
        method: Method::Welch,
        pairs: 0,
        n_a: ea.n,
        n_b: eb.n,
        diff,
        sd_diff: f64::NAN,
        t,
        df,
        p,
        ci_low,
        ci_high,
        p_permutation: None,
    })
}

/// Paired t-test of the per-seed differences d = a − b (SciPy's `ttest_rel`), with the exact
/// sign-flip permutation p for up to `PERMUTATION_MAX` pairs. None below two pairs or when
/// every difference is the same.
pub fn paired(d: &[f64]) -> Option<Difference> {
    let e = mean_sd(d);
    if e.n < 2 || e.sd.is_nan() || e.sd <= 0.0 {
        return None;
    }
    let df = (e.n - 1) as f64;
    let (t, p, ci_low, ci_high) = t_test(e.mean, e.sd / (e.n as f64).sqrt(), df)?;
    Some(Difference {
        method: Method::Paired,
        pairs: e.n,
        n_a: e.n,
        n_b: e.n,
        diff: e.mean,
        sd_diff: e.sd,
        t,
        df,
        p,
        ci_low,
        ci_high,
        p_permutation: (e.n <= PERMUTATION_MAX).then(|| sign_flip_p(d)),
    })
}

/// Exact two-sided sign-flip permutation p of the mean of `d`: the share of the 2^n ways of
/// flipping signs whose |sum| reaches the observed one (SciPy's `permutation_test` with
/// `permutation_type="samples"`). Gray code: each step flips one sign, O(1).
pub fn sign_flip_p(d: &[f64]) -> f64 {
    let n = d.len();
    let observed: f64 = d.iter().sum();
    // Ties within rounding count as reaching it.
    let eps = 1e-9
        * d.iter()
            .map(|x| x.abs())
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
    let mut sum = observed;
    let mut sign = vec![1.0; n];
    let mut hits = 0u64;
    let total = 1u64 << n;
    for step in 0..total {
        if step > 0 {
            let i = step.trailing_zeros() as usize;
            sum -= 2.0 * sign[i] * d[i];
            sign[i] = -sign[i];
        }
        if sum.abs() >= observed.abs() - eps {
            hits += 1;
        }
    }
    hits as f64 / total as f64
}

/// a − b over seeds: paired on the seeds both have (common random numbers) when there are two
/// or more, Welch's test of the two samples when they share fewer.
pub fn compare(a: &[(u64, f64)], b: &[(u64, f64)]) -> Result<Difference, Untestable> {
    let mut d = Vec::new();
    for (seed, x) in a {
        if let Some((_, y)) = b.iter().find(|(s, _)| s == seed) {
            d.push(x - y);
        }
    }
    if d.len() >= 2 {
        return paired(&d)
            .map(|t| Difference {
                n_a: a.len(),
                n_b: b.len(),
                ..t
            })
            .ok_or(Untestable::NoSpread { n: d.len() });
    }
    let (xa, xb): (Vec<f64>, Vec<f64>) = (
        a.iter().map(|v| v.1).collect(),
        b.iter().map(|v| v.1).collect(),
    );
    if xa.len() < 2 || xb.len() < 2 {
        return Err(Untestable::TooFewSeeds {
            n_a: xa.len(),
            n_b: xb.len(),
        });
    }
    welch(&xa, &xb).ok_or(Untestable::NoSpread {
        n: xa.len().min(xb.len()),
    })
}

/// The smallest difference a paired test of `pairs` seeds sees with 80% power at level
/// `alpha`, given the sd of the per-seed differences.
pub fn detectable_difference(sd_diff: f64, pairs: usize, alpha: f64) -> f64 {
    super::dist::detectable_effect(pairs as f64, alpha, POWER) * sd_diff
}

/// Seeds a paired test needs to see `delta` with 80% power at level `alpha` (whole seeds).
pub fn seeds_needed(delta: f64, sd_diff: f64, alpha: f64) -> f64 {
    super::dist::pairs_needed(delta / sd_diff, alpha, POWER).ceil()
}

/// The power every plan is made for.
pub const POWER: f64 = 0.8;

/// "p = 0.031", or "p < 0.001" for tiny values. A p just under the 0.05 line gets a fourth
/// digit ("p = 0.0497"), so a rounded "0.050" is never printed beside "a real difference".
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else if (0.0495..ALPHA).contains(&p) {
        // Near the level, as many digits as it takes for the printed p to fall on the same
        // side of 0.05 as p: 0.049996 is "0.04999…", never a "0.0500" called significant.
        let side = |d: usize| {
            let scale = 10f64.powi(d as i32);
            ((p * scale).round() / scale < ALPHA) == (p < ALPHA)
        };
        let d = (4..=9).find(|&d| side(d)).unwrap_or(9);
        format!("p = {p:.d$}")
    } else {
        format!("p = {p:.3}")
    }
}

/// Indices of `ps` from the smallest p to the largest.
fn ascending(ps: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ps.len()).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    order
}

/// Holm's step-down adjustment of a family of p-values (same order as given): the k-th
/// smallest is multiplied by (m − k + 1), made monotone, capped at 1 (statsmodels'
/// `multipletests(method="holm")`).
pub fn holm(ps: &[f64]) -> Vec<f64> {
    let (m, order) = (ps.len(), ascending(ps));
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
    let (m, order) = (ps.len(), ascending(ps));
    let mut out = vec![f64::NAN; m];
    let mut running: f64 = 1.0;
    for (k, &i) in order.iter().enumerate().rev() {
        running = running.min((m as f64 / (k + 1) as f64 * ps[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// How a family of tests is corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Adjustment {
    /// Holm's step-down: controls the chance of any false "real difference" (the default).
    #[default]
    Holm,
    /// Benjamini–Hochberg: controls the expected share of false ones.
    BenjaminiHochberg,
}

impl Adjustment {
    pub fn apply(self, ps: &[f64]) -> Vec<f64> {
        match self {
            Adjustment::Holm => holm(ps),
            Adjustment::BenjaminiHochberg => benjamini_hochberg(ps),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Adjustment::Holm => "holm",
            Adjustment::BenjaminiHochberg => "fdr_bh",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Adjustment::Holm => "Holm",
            Adjustment::BenjaminiHochberg => "Benjamini–Hochberg",
        }
    }
}

/// One finished unit's numbers at the epoch whose weights it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitValue {
    pub seed: u64,
    /// The epoch whose weights the unit keeps.
    pub kept: EpochMetrics,
}

impl UnitValue {
    pub fn get(&self, metric: Metric) -> Option<f64> {
        metric.of(&self.kept)
    }
}

/// One variant's repeats: its finished units' results as estimates over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantStats {
    pub name: String,
    /// The first unit's spec (units differ only by seed).
    #[serde(skip)]
    pub spec: UnitSpec,
    /// Units of the variant in the run (finished or not).
    pub units: usize,
    /// Final test loss and accuracy of the finished units (the kept epoch's), with intervals
    /// cut at the metric's bounds.
    pub loss: Estimate,
    pub acc: Estimate,
    /// Test loss at each unit's best validation epoch.
    pub best_epoch_loss: Estimate,
    pub reference: Option<Reference>,
    /// Per finished unit, its numbers at the kept epoch.
    #[serde(skip)]
    pub values: Vec<UnitValue>,
    /// Units that failed or diverged, each named with why: counted, never dropped silently.
    pub failed: Vec<String>,
    /// The earlier variant that trains the identical networks (this one is not analysed
    /// separately), if any.
    pub alias_of: Option<String>,
}

impl VariantStats {
    /// (seed, value) of each finished unit that has the metric.
    pub fn sample(&self, metric: Metric) -> Vec<(u64, f64)> {
        self.values
            .iter()
            .filter_map(|v| v.get(metric).map(|x| (v.seed, x)))
            .collect()
    }

    pub fn values_of(&self, metric: Metric) -> Vec<f64> {
        self.values.iter().filter_map(|v| v.get(metric)).collect()
    }

    pub fn estimate(&self, metric: Metric) -> Estimate {
        match metric {
            Metric::TestLoss => self.loss,
            Metric::TestAcc => self.acc,
            m => estimate_within(&self.values_of(m), m.bounds()),
        }
    }

    /// The variant whose networks this one trains: itself, or the earlier one it aliases.
    pub fn group(&self) -> &str {
        self.alias_of.as_deref().unwrap_or(&self.name)
    }

    /// Whether every finished unit has validation numbers (a holdout was monitored).
    pub fn has_holdout(&self) -> bool {
        !self.values.is_empty() && self.values.iter().all(|v| v.kept.val_loss.is_some())
    }
}

/// Indices of each variant's units, in the order the variants first appear.
pub fn variant_groups(record: &RunRecord) -> Vec<Vec<usize>> {
    record.variants().into_iter().map(|v| v.units).collect()
}

fn finished(v: &UnitRecord) -> bool {
    v.status == UnitStatus::Finished
}

/// "s2021 (diverged at epoch 3)"
fn failure_text(v: &UnitRecord) -> String {
    let why = match &v.failure {
        Some(f) => match f.epoch {
            Some(e) => format!("{:?} at epoch {e}", f.kind).to_lowercase(),
            None => format!("{:?}", f.kind).to_lowercase(),
        },
        None => "failed".into(),
    };
    format!("{} ({why})", v.spec.name)
}

/// Every variant of the run, in the order its first unit appears.
pub fn per_variant(record: &RunRecord) -> Vec<VariantStats> {
    let layout = Layout::new(record);
    let groups = variant_groups(record);
    groups
        .iter()
        .map(|g| {
            let units: Vec<&UnitRecord> = g.iter().map(|&i| &record.units[i]).collect();
            let values: Vec<UnitValue> = units
                .iter()
                .filter(|v| finished(v))
                .filter_map(|v| {
                    let m = v.final_metrics()?;
                    Some(UnitValue {
                        seed: v.spec.seed,
                        kept: *m,
                    })
                })
                .collect();
            let best: Vec<f64> = units
                .iter()
                .filter(|v| finished(v))
                .filter_map(|v| v.best_validation_epoch().map(|m| m.test_loss as f64))
                .collect();
            let failed = units
                .iter()
                .filter(|v| v.status == UnitStatus::Failed)
                .map(|v| failure_text(v))
                .collect();
            let name = units[0].spec.variant_name().to_string();
            let alias_of = layout
                .index(&name)
                .filter(|&i| layout.is_alias(i))
                .map(|i| layout.variants[layout.alias_of[i]].clone());
            VariantStats {
                name,
                spec: units[0].spec.clone(),
                units: units.len(),
                loss: estimate_within(
                    &values
                        .iter()
                        .map(|v| v.kept.test_loss as f64)
                        .collect::<Vec<_>>(),
                    Metric::TestLoss.bounds(),
                ),
                acc: estimate_within(
                    &values
                        .iter()
                        .map(|v| v.kept.test_acc as f64)
                        .collect::<Vec<_>>(),
                    Metric::TestAcc.bounds(),
                ),
                best_epoch_loss: estimate_within(&best, Metric::TestLoss.bounds()),
                reference: units[0].spec.reference,
                values,
                failed,
                alias_of,
            }
        })
        .collect()
}

/// A variant that could be the best, or is not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rival {
    pub name: String,
    /// Its difference from the best (rival − best), or why it could not be tested.
    pub test: Result<Difference, Untestable>,
    /// One-sided p of "the rival is worse than the best", and Holm-adjusted in the family.
    pub p: f64,
    pub p_adjusted: f64,
    /// Cannot be told apart from the best.
    pub in_set: bool,
    /// Seeds of the rival or the best are still to train: too few seeds *yet*.
    pub pending: bool,
}

/// The variants that cannot be told apart from the best: the best by mean on the selection
/// metric (validation where every variant held images out, else test), and every other one
/// whose Holm-corrected one-sided test against it is not significant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestSet {
    /// The level of each one-sided test (Holm-adjusted p below it: told apart).
    pub level: f64,
    /// The test the one-sided p comes from (the run's `test:`).
    pub rule: DecisionTest,
    /// The metric the run reports (test loss), shown beside the one chosen on.
    pub reported: Metric,
    /// What the best was chosen on.
    pub chosen_on: Metric,
    /// The best's mean on `reported`.
    pub best_reported: f64,
    pub best: String,
    /// Every other analysed variant, ranked by mean.
    pub rivals: Vec<Rival>,
    /// Tests in the family (rivals that could be tested).
    pub family: usize,
}

impl BestSet {
    /// Names in the set, the best first.
    pub fn members(&self) -> Vec<&str> {
        std::iter::once(self.best.as_str())
            .chain(
                self.rivals
                    .iter()
                    .filter(|r| r.in_set)
                    .map(|r| r.name.as_str()),
            )
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.members().contains(&name)
    }

    /// One line: the set, how it was chosen and tested.
    pub fn sentence(&self) -> String {
        let on = self.chosen_on.name();
        let caveat = if matches!(self.chosen_on, Metric::TestLoss | Metric::TestAcc) {
            " (chosen on the test set: no holdout)"
        } else {
            ""
        };
        if self.rivals.is_empty() {
            return format!("only {} has results", self.best);
        }
        let inside: Vec<String> = self
            .rivals
            .iter()
            .filter(|r| r.in_set && r.test.is_ok())
            .enumerate()
            // Every member is named (the set is the claim); the closest carry their numbers,
            // the rest are in comparisons.csv (family best-set).
            .map(|(k, r)| {
                if k < BEST_RIVALS_SHOWN {
                    r.numbers()
                } else {
                    r.name.clone()
                }
            })
            .collect();
        // Rivals that could not be tested stay candidates, said apart: not "not
        // distinguishable", which would claim a test.
        let untested: Vec<String> = self
            .rivals
            .iter()
            .filter_map(|r| match &r.test {
                Err(Untestable::NoSpread { n }) => Some(format!(
                    "{} (no spread over {n} seeds: every seed gave the same difference)",
                    r.name
                )),
                Err(Untestable::TooFewSeeds { .. }) if r.pending => {
                    Some(format!("{} (its seeds are still training)", r.name))
                }
                Err(Untestable::TooFewSeeds { .. }) => {
                    Some(format!("{} (too few seeds; use --seeds)", r.name))
                }
                Ok(_) => None,
            })
            .collect();
        let how = format!(
            "Holm over {} one-sided {}{}{}",
            self.family,
            if self.rule == DecisionTest::Exact {
                "exact sign-flip test"
            } else {
                "test"
            },
            if self.family == 1 { "" } else { "s" },
            if (self.level - ALPHA).abs() > 1e-12 {
                format!(" at {}", super::sequential::level_text(self.level))
            } else {
                String::new()
            }
        );
        let mut line = if inside.is_empty() && untested.is_empty() {
            // What the test shows: no rival could be better than the best at this level, the
            // closest rivals' numbers beside it (a strict winner between tied variants is
            // what a sample mean picks, not what the tests show).
            let closest: Vec<String> = self
                .rivals
                .iter()
                .take(BEST_RIVALS_SHOWN)
                .map(|r| r.numbers())
                .collect();
            let more = self.rivals.len().saturating_sub(BEST_RIVALS_SHOWN);
            format!(
                "best on {on}{caveat}: {}; no other variant could be better ({}, one-sided, \
                 {how}, chosen on {on}): closest {}{}",
                self.best,
                confidence_text(self.level),
                closest.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        } else if inside.is_empty() {
            format!(
                "{} mean {on}{caveat}: {}",
                self.chosen_on.best_word(),
                self.best
            )
        } else {
            format!(
                "could be best on {on}{caveat}: {} ({} mean) and, not distinguishable from it \
                 ({how}), {}",
                self.best,
                self.chosen_on.best_word(),
                inside.join(", ")
            )
        };
        if !untested.is_empty() {
            line.push_str(&format!("; not tested against it: {}", untested.join(", ")));
        }
        if self.reported != self.chosen_on && self.best_reported.is_finite() {
            line.push_str(&format!(
                "; {} of {}: {:.4}",
                self.reported.name(),
                self.best,
                self.best_reported
            ));
        }
        line
    }
}

/// Closest rivals whose numbers the best's sentence gives.
pub const BEST_RIVALS_SHOWN: usize = 3;

/// "95%" at 0.05; "99.11%" at a look's smaller level.
fn confidence_text(level: f64) -> String {
    let c = 100.0 * (1.0 - level);
    if (c - c.round()).abs() < 1e-9 {
        format!("{c:.0}%")
    } else {
        format!("{c:.2}%")
    }
}

impl Rival {
    /// "b +0.0021 [0.0005, 0.0037], adjusted p = 0.012": its difference from the best with
    /// the 95% CI, and the Holm-adjusted one-sided p.
    pub fn numbers(&self) -> String {
        match &self.test {
            Ok(d) => format!(
                "{} {:+.4} [{:.4}, {:.4}], adjusted {}",
                self.name,
                d.diff,
                d.ci_low,
                d.ci_high,
                format_p(self.p_adjusted)
            ),
            Err(_) => format!("{} (untested)", self.name),
        }
    }
}

/// The metric the best is chosen on for `metric`: its validation twin where every analysed
/// variant monitored a holdout, else `metric` itself.
pub fn selection_metric(stats: &[VariantStats], metric: Metric) -> Metric {
    let analysed: Vec<&VariantStats> = stats
        .iter()
        .filter(|s| s.alias_of.is_none() && !s.values.is_empty())
        .collect();
    if !analysed.is_empty() && analysed.iter().all(|s| s.has_holdout()) {
        metric.on_validation()
    } else {
        metric
    }
}

/// The set of variants that could be best on `metric` (see `BestSet`); aliases are not
/// candidates of their own.
pub fn best_set(stats: &[VariantStats], metric: Metric) -> Option<BestSet> {
    best_set_at(stats, metric, ALPHA, DecisionTest::T)
}

/// The analysed variants ranked best first by their mean on the selection metric (see
/// `selection_metric`), which is returned with them.
pub fn ranked_on_selection(
    stats: &[VariantStats],
    metric: Metric,
) -> (Metric, Vec<(&VariantStats, f64)>) {
    let on = selection_metric(stats, metric);
    let sign = if on.lower_is_better() { 1.0 } else { -1.0 };
    let mut ranked: Vec<(&VariantStats, f64)> = stats
        .iter()
        .filter(|s| s.alias_of.is_none())
        .map(|s| (s, s.estimate(on).mean))
        .filter(|(_, m)| m.is_finite())
        .collect();
    ranked.sort_by(|a, b| (sign * a.1).total_cmp(&(sign * b.1)));
    (on, ranked)
}

/// The best set with its one-sided tests at `level` (an adaptive run's look spends less than
/// 0.05 at each look: see `sequential`).
pub fn best_set_at(
    stats: &[VariantStats],
    metric: Metric,
    level: f64,
    rule: DecisionTest,
) -> Option<BestSet> {
    let (on, ranked) = ranked_on_selection(stats, metric);
    let sign = if on.lower_is_better() { 1.0 } else { -1.0 };
    let (best, _) = *ranked.first()?;
    let best_sample = best.sample(on);
    let mut rivals: Vec<Rival> = ranked[1..]
        .iter()
        .map(|(s, _)| {
            let test = compare(&s.sample(on), &best_sample);
            // "Worse" is higher for a loss, lower for an accuracy.
            let p = test.as_ref().map_or(f64::NAN, |t| {
                if sign > 0.0 {
                    t.decision_p_greater(rule)
                } else {
                    1.0 - t.decision_p_greater(rule)
                }
            });
            // Seeds of this pair still queued or training (not failed, not done).
            let waiting = |v: &VariantStats| v.values.len() + v.failed.len() < v.units;
            Rival {
                name: s.name.clone(),
                test,
                p,
                p_adjusted: f64::NAN,
                in_set: true,
                pending: waiting(s) || waiting(best),
            }
        })
        .collect();
    let tested: Vec<usize> = (0..rivals.len())
        .filter(|&i| rivals[i].test.is_ok())
        .collect();
    let adjusted = holm(&tested.iter().map(|&i| rivals[i].p).collect::<Vec<_>>());
    for (&i, p) in tested.iter().zip(adjusted) {
        rivals[i].p_adjusted = p;
        rivals[i].in_set = p >= level;
    }
    Some(BestSet {
        level,
        rule,
        reported: metric,
        best_reported: best.estimate(metric).mean,
        chosen_on: on,
        best: best.name.clone(),
        family: tested.len(),
        rivals,
    })
}

/// How a run's varying factors are laid out over its finished, analysed units.
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
    /// Factors crossed with others only in part (some cells missing, every level still
    /// linked), each with those others: estimable, assuming no interaction.
    pub not_crossed: Vec<(Factor, Vec<Factor>)>,
    /// Seeds are shared by the variants: the ANOVA blocks on seed.
    pub blocked: bool,
    /// Aliases and nested factors, in words.
    pub aliases: Vec<String>,
    /// Units that failed or diverged, named.
    pub failed: Vec<String>,
    /// Finished units analysed (aliases' copies left out).
    pub units: usize,
}

impl Design {
    pub fn is_confounded(&self, f: Factor) -> bool {
        self.confounded.iter().any(|(c, _)| *c == f)
    }

    /// "optimizer is not crossed with BN+Dropout (cells missing): its main effect assumes no
    /// interaction"
    pub fn crossing_sentence(&self, f: Factor) -> Option<String> {
        let (_, with) = self.not_crossed.iter().find(|(c, _)| *c == f)?;
        let names: Vec<&str> = with.iter().map(|w| w.name()).collect();
        Some(format!(
            "{} is not crossed with {} (cells missing): its main effect assumes no interaction, \
             and its level means fill the missing cells by that assumption",
            f.name(),
            names.join(", ")
        ))
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

    /// One paragraph: what varies, how it is laid out, what is blocked, aliased and missing.
    pub fn sentence(&self) -> String {
        let mut parts = Vec::new();
        if self.factors.is_empty() {
            parts.push("no field varies between the analysed variants".to_string());
        } else {
            let names: Vec<&str> = self.factors.iter().map(|f| f.name()).collect();
            parts.push(format!(
                "{} factor{} ({})",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ));
            parts.push(if self.balanced {
                format!(
                    "a balanced full factorial, {} unit{} per cell",
                    self.replicates,
                    if self.replicates == 1 { "" } else { "s" }
                )
            } else {
                "not a balanced full factorial (type II tests)".into()
            });
        }
        if self.blocked {
            parts.push(
                "seeds shared between variants are blocks (common random numbers), not repeats"
                    .into(),
            );
        }
        parts.extend(self.aliases.iter().cloned());
        for (f, _) in &self.confounded {
            parts.extend(self.confounding_sentence(*f));
        }
        for (f, _) in &self.not_crossed {
            parts.extend(self.crossing_sentence(*f));
        }
        if !self.failed.is_empty() {
            parts.push(format!(
                "{} unit{} failed and {} left out: {}",
                self.failed.len(),
                if self.failed.len() == 1 { "" } else { "s" },
                if self.failed.len() == 1 { "is" } else { "are" },
                self.failed.join(", ")
            ));
        }
        parts.join("; ")
    }
}

/// The analysed units: finished units of variants that are not aliases of earlier ones, as
/// (variant index in the layout, seed, value of `metric`).
pub fn observations(record: &RunRecord, layout: &Layout, metric: Metric) -> Vec<(usize, u64, f64)> {
    record
        .units
        .iter()
        .filter(|v| finished(v))
        .filter_map(|v| {
            let k = layout.index(v.spec.variant_name())?;
            if layout.is_alias(k) {
                return None;
            }
            let y = metric.of(v.final_metrics()?)?;
            Some((k, v.spec.seed, y))
        })
        .collect()
}

/// Whether the units share seeds across variants: some seed occurs in more than one variant,
/// and there is more than one seed. A seed seen in one variant only (its partner failed, or
/// seeds partly overlap) keeps the block: its own block term costs one degree of freedom.
pub fn seeds_shared(obs: &[(usize, u64, f64)]) -> bool {
    let mut by_seed: HashMap<u64, Vec<usize>> = HashMap::new();
    for (v, s, _) in obs {
        let e = by_seed.entry(*s).or_default();
        if !e.contains(v) {
            e.push(*v);
        }
    }
    by_seed.len() > 1 && by_seed.values().any(|vs| vs.len() > 1)
}

/// Whether the bipartite graph of (A level, B level) pairs joins all `nodes` levels.
fn connected(pairs: &std::collections::HashSet<(usize, usize)>, nodes: usize) -> bool {
    // Levels of B are offset past A's; union-find over both.
    let a_levels: std::collections::BTreeSet<usize> = pairs.iter().map(|p| p.0).collect();
    let b_levels: std::collections::BTreeSet<usize> = pairs.iter().map(|p| p.1).collect();
    let ia = |x: usize| a_levels.iter().position(|l| *l == x).unwrap_or(0);
    let ib = |x: usize| a_levels.len() + b_levels.iter().position(|l| *l == x).unwrap_or(0);
    let mut parent: Vec<usize> = (0..nodes).collect();
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for &(a, b) in pairs {
        let (ra, rb) = (root(&mut parent, ia(a)), root(&mut parent, ib(b)));
        parent[ra] = rb;
    }
    let r0 = root(&mut parent, 0);
    (0..nodes).all(|x| root(&mut parent, x) == r0)
}

/// The design of the finished, analysed units.
pub fn design(record: &RunRecord) -> Design {
    let layout = Layout::new(record);
    design_of(record, &layout)
}

pub fn design_of(record: &RunRecord, layout: &Layout) -> Design {
    let obs = observations(record, layout, Metric::TestLoss);
    let used: Vec<usize> = {
        let mut v: Vec<usize> = obs.iter().map(|o| o.0).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    // Factors with more than one level among the analysed variants.
    let fs: Vec<usize> = (0..layout.factors.len())
        .filter(|&k| {
            let mut l: Vec<usize> = used.iter().map(|&v| layout.at[v][k]).collect();
            l.sort_unstable();
            l.dedup();
            l.len() > 1
        })
        .collect();
    let nlev = |k: usize| {
        let mut l: Vec<usize> = used.iter().map(|&v| layout.at[v][k]).collect();
        l.sort_unstable();
        l.dedup();
        l.len()
    };
    let mut cells: HashMap<Vec<usize>, usize> = HashMap::new();
    for (v, _, _) in &obs {
        *cells
            .entry(fs.iter().map(|&k| layout.at[*v][k]).collect())
            .or_default() += 1;
    }
    let combos: usize = fs.iter().map(|&k| nlev(k)).product();
    let counts: Vec<usize> = cells.values().copied().collect();
    let balanced =
        !fs.is_empty() && cells.len() == combos && counts.windows(2).all(|w| w[0] == w[1]);
    let replicates = if balanced { counts[0] } else { 0 };
    let mut confounded = Vec::new();
    let mut not_crossed = Vec::new();
    for (i, &a) in fs.iter().enumerate() {
        // A is confounded with B when their level pairs fall apart into separate groups:
        // then some of A's differences cannot be told from B's. Missing cells alone (the
        // pairs still connect every level) leave both estimable in the additive model: A is
        // then only not crossed with B.
        let (mut with, mut partly) = (Vec::new(), Vec::new());
        for (j, &b) in fs.iter().enumerate() {
            if j == i {
                continue;
            }
            let pairs: std::collections::HashSet<(usize, usize)> = used
                .iter()
                .filter(|&&v| !layout.inert[v][a] && !layout.inert[v][b])
                .map(|&v| (layout.at[v][a], layout.at[v][b]))
                .collect();
            let la: std::collections::HashSet<usize> = pairs.iter().map(|p| p.0).collect();
            let lb: std::collections::HashSet<usize> = pairs.iter().map(|p| p.1).collect();
            if !connected(&pairs, la.len() + lb.len()) {
                with.push(layout.factors[b]);
            } else if pairs.len() < la.len() * lb.len() {
                partly.push(layout.factors[b]);
            }
        }
        if !with.is_empty() {
            confounded.push((layout.factors[a], with));
        } else if !partly.is_empty() {
            not_crossed.push((layout.factors[a], partly));
        }
    }
    let failed = record
        .units
        .iter()
        .filter(|v| v.status == UnitStatus::Failed)
        .map(failure_text)
        .collect();
    Design {
        factors: fs.iter().map(|&k| layout.factors[k]).collect(),
        balanced,
        replicates,
        confounded,
        not_crossed,
        blocked: seeds_shared(&obs),
        aliases: layout.alias_sentences(),
        failed,
        units: obs.len(),
    }
}

/// Two variants that differ in exactly one field, and the test of their difference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    // Shared, not copied: a large grid has hundreds of thousands of comparisons of the same
    // few thousand names.
    pub a: std::sync::Arc<str>,
    pub b: std::sync::Arc<str>,
    /// The one field they differ in (None in a list of one variant against every other).
    pub factor: Option<Factor>,
    pub level_a: std::sync::Arc<str>,
    pub level_b: std::sync::Arc<str>,
    pub test: Difference,
    /// Adjusted p within the family (`adjustment`).
    pub p_adjusted: f64,
    pub adjustment: Adjustment,
    /// How many tests that family holds.
    pub family: usize,
    /// The smallest difference this comparison could see with 80% power at the family's
    /// first Holm level (α / family), from its paired sd; NaN for Welch.
    pub detectable: f64,
    /// The test the verdict rests on (the run's `test:`).
    pub rule: DecisionTest,
    /// The equivalence test against the run's `margin`: (margin, TOST p, Holm-adjusted over
    /// the family).
    pub equivalence: Option<(f64, f64, f64)>,
}

impl Comparison {
    /// The test the verdict rests on, in words (see `Difference::basis`); under `test: Exact`
    /// the exact sign-flip p decides, with the t-test's beside it.
    pub fn basis(&self) -> String {
        let t = &self.test;
        if t.exact_decides(self.rule) {
            format!("exact sign-flip test (t-test {})", format_p(t.p))
        } else if self.rule == DecisionTest::Exact {
            // Welch, or more pairs than the exact test is computed for.
            format!("t-test (the exact test needs shared seeds, at most {PERMUTATION_MAX} pairs)")
        } else {
            t.basis(ALPHA / self.family.max(1) as f64)
        }
    }

    /// Whether the adjusted p says a real difference.
    pub fn real(&self) -> bool {
        self.p_adjusted < ALPHA
    }

    /// "BN+Dropout Every vs None (2L adam every vs 2L adam none): -0.0210 test loss, 95% CI
    /// [-0.0270, -0.0150], 5 seeds, paired, p < 0.001 (Holm over 33: p < 0.001): a real
    /// difference"
    pub fn sentence(&self, metric: Metric) -> String {
        let t = &self.test;
        let level = ALPHA / self.family.max(1) as f64;
        let verdict = if self.real() {
            "a real difference".to_string()
        } else if t.exact_decides(self.rule) && exact_floor(t.pairs) >= level {
            // No difference, however large, can be seen by this test with these seeds.
            let reach = t.ci_low.abs().max(t.ci_high.abs());
            format!(
                "not distinguishable by the exact test with {} seeds: it cannot go below {} \
                 (it needs {} seeds at this level); the difference could be as large as \
                 {reach:.4} (95% CI)",
                t.pairs,
                exact_floor(t.pairs),
                exact_seeds(level)
            )
        } else {
            not_distinguishable(t, self.detectable)
        };
        let verdict = match self.equivalence {
            Some((m, p, adjusted)) if !self.real() && adjusted < ALPHA => format!(
                "{verdict}; equivalent within ±{m} (TOST {}, Holm: {})",
                format_p(p),
                format_p(adjusted).trim_start_matches("p ")
            ),
            Some((m, p, adjusted)) if !self.real() => format!(
                "{verdict}; not shown to be within ±{m} (TOST {}, Holm: {})",
                format_p(p),
                format_p(adjusted).trim_start_matches("p ")
            ),
            _ => verdict,
        };
        let what = match self.factor {
            Some(f) => format!("{} {} vs {} ", f.name(), self.level_a, self.level_b),
            None => String::new(),
        };
        format!(
            "{what}({} vs {}): {:+.4} {}, 95% CI [{:+.4}, {:+.4}], {} {}, {} ({} over {}: \
             {}): {verdict}",
            self.a,
            self.b,
            t.diff,
            metric.name(),
            t.ci_low,
            t.ci_high,
            t.sample_text(),
            self.basis(),
            format_p(t.decision_p(self.rule)),
            self.adjustment.name(),
            self.family,
            format_p(self.p_adjusted).trim_start_matches("p "),
        )
    }
}

/// "not distinguishable with 5 seeds: the difference could be as large as 0.0071 (95% CI);
/// these seeds see a difference of 0.0049 with 80% power, smaller ones less often" — the
/// words for a test that found nothing: what the data allow, and what the seeds could see.
pub fn not_distinguishable(t: &Difference, detectable: f64) -> String {
    // What the data allow: the difference could be anywhere in its 95% CI. (The seeds that
    // would "see the observed difference" are observed power, which only restates the p:
    // Hoenig & Heisey 2001.)
    let reach = t.ci_low.abs().max(t.ci_high.abs());
    let ci = if reach.is_finite() {
        format!(": the difference could be as large as {reach:.4} (95% CI)")
    } else {
        String::new()
    };
    match t.method {
        Method::Paired if detectable.is_finite() => {
            let unpaired = t.n_a.max(t.n_b).saturating_sub(t.pairs);
            format!(
                "not distinguishable with {} seeds{ci}; these seeds see a difference of \
                 {detectable:.4} with 80% power, smaller ones less often{}",
                t.pairs,
                if unpaired > 0 {
                    format!(
                        "; training each variant's missing seeds would add {unpaired} pair{}",
                        if unpaired == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                }
            )
        }
        _ => format!("not distinguishable from seed noise{ci}"),
    }
}

/// Every pair of analysed variants that differ in exactly one field, tested (pairs that cannot
/// be tested are left out), as one family adjusted by `adjustment`.
pub fn one_factor_comparisons(
    layout: &Layout,
    stats: &[VariantStats],
    metric: Metric,
    adjustment: Adjustment,
) -> Vec<Comparison> {
    // Stats and layout list variants in the same order (first unit's appearance).
    let analysed: Vec<usize> = (0..stats.len().min(layout.variants.len()))
        .filter(|&i| !layout.is_alias(i))
        .collect();
    let levels: Vec<Vec<std::sync::Arc<str>>> = (0..layout.variants.len())
        .map(|v| {
            (0..layout.factors.len())
                .map(|k| {
                    if layout.inert[v][k] {
                        "any".into()
                    } else {
                        layout.level(v, k).into()
                    }
                })
                .collect()
        })
        .collect();
    let names: Vec<std::sync::Arc<str>> = stats.iter().map(|v| v.name.as_str().into()).collect();
    let samples: Vec<Vec<(u64, f64)>> = stats.iter().map(|v| v.sample(metric)).collect();
    // Rows of pairs in parallel (each test is independent), gathered in order.
    use rayon::prelude::*;
    let mut out = (0..analysed.len())
        .into_par_iter()
        .flat_map_iter(|x| {
            let (levels, samples, names, analysed) = (&levels, &samples, &names, &analysed);
            let i = analysed[x];
            analysed[x + 1..].iter().filter_map(move |&j| {
                let mut differing = layout.differing(i, j);
                let (Some(k), None) = (differing.next(), differing.next()) else {
                    return None;
                };
                compare(&samples[i], &samples[j])
                    .ok()
                    .map(|test| Comparison {
                        a: names[i].clone(),
                        b: names[j].clone(),
                        factor: Some(layout.factors[k]),
                        level_a: levels[i][k].clone(),
                        level_b: levels[j][k].clone(),
                        test,
                        p_adjusted: f64::NAN,
                        adjustment,
                        family: 0,
                        detectable: f64::NAN,
                        rule: DecisionTest::T,
                        equivalence: None,
                    })
            })
        })
        .collect::<Vec<Comparison>>();
    adjust_family(&mut out, adjustment);
    out
}

/// Decides a family by `rule` (the run's `test:`): its p-values adjusted again from the test
/// the rule names.
pub fn decide_by(family: &mut [Comparison], rule: DecisionTest) {
    if family.is_empty() {
        return;
    }
    for c in family.iter_mut() {
        c.rule = rule;
    }
    let adjustment = family[0].adjustment;
    adjust_family(family, adjustment);
}

/// Adds an equivalence test (TOST) against ±`margin` to every comparison of the family, the
/// TOST p-values Holm-adjusted together (claiming many equivalences at once is a family of
/// claims too).
pub fn test_equivalence(family: &mut [Comparison], margin: f64) {
    let p: Vec<f64> = family.iter().map(|c| c.test.tost_p(margin)).collect();
    let adjusted = holm(&p);
    for ((c, p), a) in family.iter_mut().zip(p).zip(adjusted) {
        c.equivalence = Some((margin, p, a));
    }
}

/// Adjusts a family's p-values together and says what each could have seen.
fn adjust_family(family: &mut [Comparison], adjustment: Adjustment) {
    let adjusted = adjustment.apply(
        &family
            .iter()
            .map(|c| c.test.decision_p(c.rule))
            .collect::<Vec<_>>(),
    );
    let m = family.len();
    // The standardized detectable effect depends only on the number of pairs: computed once
    // per count, not per comparison.
    let mut effect: HashMap<usize, f64> = HashMap::new();
    for (c, p) in family.iter_mut().zip(adjusted) {
        c.p_adjusted = p;
        c.family = m;
        if c.test.method == Method::Paired {
            let e = *effect.entry(c.test.pairs).or_insert_with(|| {
                super::dist::detectable_effect(c.test.pairs as f64, ALPHA / m as f64, POWER)
            });
            c.detectable = e * c.test.sd_diff;
        }
    }
}

/// Variant `a` against every other analysed variant (the pairs view's list): one family.
pub fn against_every_other(
    stats: &[VariantStats],
    a: usize,
    metric: Metric,
    adjustment: Adjustment,
    rule: DecisionTest,
) -> Vec<(usize, Result<Comparison, Untestable>)> {
    let sample_a = stats[a].sample(metric);
    let mut tested: Vec<Comparison> = Vec::new();
    let mut out: Vec<(usize, Result<usize, Untestable>)> = Vec::new();
    for (j, s) in stats.iter().enumerate() {
        // Aliases are not compared, neither with A nor with each other: A's own copies train
        // A's networks.
        if j == a || s.alias_of.is_some() || s.name == stats[a].group() {
            continue;
        }
        match compare(&sample_a, &s.sample(metric)) {
            Ok(test) => {
                out.push((j, Ok(tested.len())));
                tested.push(Comparison {
                    a: stats[a].name.as_str().into(),
                    b: s.name.as_str().into(),
                    factor: None,
                    level_a: "".into(),
                    level_b: "".into(),
                    test,
                    p_adjusted: f64::NAN,
                    adjustment,
                    family: 0,
                    detectable: f64::NAN,
                    rule,
                    equivalence: None,
                });
            }
            Err(e) => out.push((j, Err(e))),
        }
    }
    adjust_family(&mut tested, adjustment);
    out.into_iter()
        .map(|(j, r)| (j, r.map(|k| tested[k].clone())))
        .collect()
}
