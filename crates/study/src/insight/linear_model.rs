//! The linear model of a run: y ~ seed (block, where seeds are shared), every varying factor
//! and their two-way interactions, fitted by least squares on the analysed units. From it: a
//! type II ANOVA (statsmodels' `anova_lm(typ=2)`), which needs no balance and no complete
//! cells; least-squares means of each factor's levels with CIs from the model's pooled
//! residual error; and Tukey's HSD between a factor's levels.
//!
//! Sub-models are fitted from one matrix of normal equations (XᵀX), each by a symmetric
//! eigen-decomposition of its block: its pseudo-inverse handles confounded and missing cells
//! (their terms lose degrees of freedom instead of breaking the fit).

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor, StudentsT};

use super::factors::{Factor, Layout};
use super::mixed::{self, Reml};
use super::stats::{self, ALPHA};
use super::strata::Cells;
use crate::runs::RunRecord;
use crate::spec::Metric;

/// A row of an ANOVA table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnovaRow {
    /// "depth", "depth × BN+Dropout", or "seed (block)".
    pub term: String,
    /// Empty for the seed block.
    pub factors: Vec<Factor>,
    pub df: usize,
    pub ss: f64,
    pub f: f64,
    pub p: f64,
    /// SS / SS_total.
    pub eta2: f64,
    /// SS / (SS + SS of its error).
    pub partial_eta2: f64,
    /// The error the term is tested against: its own seed × term stratum, or the pooled
    /// residual (then the table's `residual_df`, `residual_ss`).
    pub error_df: usize,
    pub error_ss: f64,
    /// Greenhouse–Geisser ε applied to both df of the F test (1: none needed or pooled).
    pub epsilon: f64,
    /// The F test's denominator df as used: the error's df (times ε), or Satterthwaite's
    /// under the mixed model.
    pub den_df: f64,
}

impl AnovaRow {
    /// F to two decimals; "—" where the term's error has no spread (seeds answered it alike).
    pub fn f_text(&self) -> String {
        if self.f.is_finite() {
            format!("{:.2}", self.f)
        } else {
            "—".into()
        }
    }

    /// "p = 0.012", or why there is no p.
    pub fn p_text(&self) -> String {
        if self.p.is_nan() {
            "no seed spread".into()
        } else {
            stats::format_p(self.p)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anova {
    pub metric: Metric,
    pub rows: Vec<AnovaRow>,
    pub residual_df: usize,
    pub residual_ss: f64,
    pub total_ss: f64,
    /// Seed is a block term of the model.
    pub blocked: bool,
    /// Terms with no degrees of freedom left (confounded with others), by name.
    pub inestimable: Vec<String>,
    /// Interactions left out of the model because the design has no cell to estimate them
    /// (missing cells): LS-means and Tukey come from the model without them.
    pub dropped: Vec<String>,
    /// Each term is tested against its own seed × term error (every seed trained every
    /// cell once); false: against the pooled residual.
    pub strata: bool,
    /// Seeds the strata leave out because a cell is missing for them (a failed unit).
    pub incomplete_seeds: Vec<u64>,
    /// Each term is a Wald F test of the REML mixed model (seed and seed × factor random
    /// effects), with Satterthwaite's df: seeds are shared but the cells are no complete grid.
    pub mixed: bool,
    /// The mixed model's variance components by name (the residual last); empty otherwise.
    pub components: Vec<(String, f64)>,
    /// The design called for the mixed model but has more units than it fits
    /// (`mixed::MAX_UNITS`): the pooled table stands in.
    pub too_many_for_mixed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnovaError {
    #[error("no factor varies among the finished units")]
    NoFactors,
    #[error("no residual degrees of freedom: repeat the units over more seeds")]
    NoResidual,
    #[error(
        "no spread left over the model: the repeats of every cell gave the same value, so F \
         is undefined"
    )]
    NoSpread,
    #[error("the model would have {0} columns (more than {MAX_COLUMNS}): too many levels")]
    TooLarge(usize),
}

/// Largest model fitted (columns of the design matrix): each sub-model is an eigen-decomposition
/// of a block of XᵀX (cubic in the columns), and a type II table solves two per term.
pub const MAX_COLUMNS: usize = 400;

/// Tukey's HSD is given for factors with at most this many levels (66 pairs): beyond, the
/// pairwise table is not one a reader uses, and each pair costs a studentized-range integral.
pub const MAX_TUKEY_LEVELS: usize = 12;

/// Whether term `u` contains factor term `t` (is a higher-order term over its factors): type
/// II tests `t` given every term that does not.
fn contains(u: &Term, t: &Term) -> bool {
    !t.factors.is_empty()
        && u.factors.len() > t.factors.len()
        && t.factors.iter().all(|f| u.factors.contains(f))
}

#[derive(Debug, Clone)]
struct Term {
    /// Indices into `Fitted::factors` (empty: the seed block).
    factors: Vec<usize>,
    cols: std::ops::Range<usize>,
}

/// A least-squares mean of one level, with its 95% CI from the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelMean {
    pub level: String,
    /// Analysed units at this level.
    pub n: usize,
    /// NaN where the level's mean is not estimable (cells missing).
    pub mean: f64,
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// A least-squares mean of the model; false: the raw mean of the units at the level, with
    /// a t-interval over them (no model could be fitted, e.g. no residual degrees of freedom).
    pub model: bool,
}

/// Tukey's HSD between two levels of a factor: difference of least-squares means with its
/// simultaneous 95% CI and the family-adjusted p.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TukeyPair {
    pub a: String,
    pub b: String,
    pub diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_adjusted: f64,
}

/// A fitted model of one metric.
pub struct Fitted {
    pub metric: Metric,
    /// The factors in the model: (layout factor index, level indices present, in order).
    factors: Vec<(usize, Vec<usize>)>,
    names: Vec<Factor>,
    level_names: Vec<Vec<String>>,
    /// Per factor and local level: analysed units.
    counts: Vec<Vec<usize>>,
    blocks: usize,
    blocked: bool,
    terms: Vec<Term>,
    xtx: DMatrix<f64>,
    xty: DVector<f64>,
    yty: f64,
    n: usize,
    rss: f64,
    rank: usize,
    beta: DVector<f64>,
    /// Pseudo-inverse of XᵀX and the basis of its row space.
    pinv: DMatrix<f64>,
    basis: DMatrix<f64>,
    /// Dropout's local level to use under placement None (where it has no effect), when both
    /// are factors of the model: (dropout's factor index, placement's, None's local level,
    /// the level None's units carry).
    inert: Option<(usize, usize, usize, usize)>,
    /// Interactions dropped for want of cells, by name.
    dropped: Vec<String>,
    /// Every seed's value in every cell, where the design is complete: each term then has its
    /// own error stratum. None: the pooled residual is the error of every term.
    cells: Option<Cells>,
    /// Seeds left out of the strata for missing a cell.
    incomplete_seeds: Vec<u64>,
    /// Where seeds are shared but the cells are no complete grid: the REML mixed model.
    mixed: Option<MixedFit>,
    /// It would have been, but the run has more units than `mixed::MAX_UNITS`.
    too_many_for_mixed: bool,
}

/// The REML model of a design that is no complete grid, with what maps the least-squares
/// model's columns onto it.
struct MixedFit {
    reml: Reml,
    /// The fixed-effect design without the seed block's columns (n × p).
    x: DMatrix<f64>,
    /// Its independent columns (those `reml` was fitted on).
    kept: Vec<usize>,
    /// A basis of its row space: Lβ is estimable where L lies in it.
    basis: DMatrix<f64>,
    /// Random terms by name, in the order of `reml.theta` (the residual last).
    names: Vec<String>,
}

/// Fits the mixed model: `rows` are (the design row without block columns, seed, local
/// levels, centred y). Random terms are the seed and seed × each factor, each kept only where
/// it adds to what the fixed effects and the terms before it span and leaves the residual
/// identifiable. None where no random term is left (ordinary least squares is then the model)
/// or the fit fails.
fn fit_mixed(
    rows: &[(Vec<f64>, usize, Vec<usize>, f64)],
    factor_names: &[Factor],
    sizes: &[usize],
) -> Option<MixedFit> {
    let n = rows.len();
    if n == 0 || n > mixed::MAX_UNITS {
        return None;
    }
    let p = rows[0].0.len();
    let x = DMatrix::from_fn(n, p, |i, j| rows[i].0[j]);
    let y = DVector::from_fn(n, |i, _| rows[i].3);
    let kept = mixed::independent_columns(&x);
    let xk = x.select_columns(&kept);
    let mut candidates: Vec<(String, Vec<usize>)> =
        vec![("seed".into(), rows.iter().map(|r| r.1).collect())];
    for (i, f) in factor_names.iter().enumerate() {
        candidates.push((
            format!("seed × {}", f.name()),
            rows.iter().map(|r| r.1 * sizes[i] + r.2[i]).collect(),
        ));
    }
    let mut acc = xk.clone();
    let mut rank = kept.len();
    let mut zs = Vec::new();
    let mut names = Vec::new();
    for (name, groups) in candidates {
        let z = mixed::indicator(&groups);
        let both = mixed::hstack(&acc, &z);
        let r = mixed::independent_columns(&both).len();
        if r > rank && r < n {
            acc = both;
            rank = r;
            zs.push(z);
            names.push(name);
        }
    }
    if zs.is_empty() {
        return None;
    }
    names.push("residual".into());
    let xtx = x.transpose() * &x;
    let basis = solve(&xtx, &DVector::zeros(p), 0.0, &(0..p).collect::<Vec<_>>()).basis;
    let reml = Reml::fit(xk, y, zs)?;
    Some(MixedFit {
        reml,
        x,
        kept,
        basis,
        names,
    })
}

impl MixedFit {
    /// Lβ of the least-squares model's columns (block columns ignored): estimate, standard
    /// error and Satterthwaite df; NaN where not estimable.
    fn contrast(
        &self,
        l: &DVector<f64>,
        block: Option<&std::ops::Range<usize>>,
    ) -> (f64, f64, f64) {
        let mut l = l.clone();
        if let Some(b) = block {
            for c in b.clone() {
                l[c] = 0.0;
            }
        }
        let proj = &self.basis * (self.basis.transpose() * &l);
        if (&l - proj).norm() > 1e-7 * l.norm().max(1.0) {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        // An estimable function takes the same value at every solution, and the one with
        // the aliased columns at zero is the kept columns' fit.
        let lk = DVector::from_fn(self.kept.len(), |a, _| l[self.kept[a]]);
        self.reml
            .contrast(&lk)
            .unwrap_or((f64::NAN, f64::NAN, f64::NAN))
    }
}

struct Solved {
    rss: f64,
    rank: usize,
    beta: DVector<f64>,
    pinv: DMatrix<f64>,
    basis: DMatrix<f64>,
}

fn solve(xtx: &DMatrix<f64>, xty: &DVector<f64>, yty: f64, cols: &[usize]) -> Solved {
    let p = cols.len();
    let a = DMatrix::from_fn(p, p, |i, j| xtx[(cols[i], cols[j])]);
    let b = DVector::from_fn(p, |i, _| xty[cols[i]]);
    let eig = SymmetricEigen::new(a);
    let max = eig.eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let keep: Vec<usize> = (0..p)
        .filter(|&i| eig.eigenvalues[i] > 1e-9 * max.max(1e-300))
        .collect();
    let basis = DMatrix::from_fn(p, keep.len(), |i, j| eig.eigenvectors[(i, keep[j])]);
    let inv = DMatrix::from_diagonal(&DVector::from_fn(keep.len(), |j, _| {
        1.0 / eig.eigenvalues[keep[j]]
    }));
    let pinv = &basis * inv * basis.transpose();
    let beta = &pinv * &b;
    let rss = (yty - b.dot(&beta)).max(0.0);
    Solved {
        rss,
        rank: keep.len(),
        beta,
        pinv,
        basis,
    }
}

impl Fitted {
    /// Fits `metric` over the analysed units of `record`.
    pub fn new(record: &RunRecord, layout: &Layout, metric: Metric) -> Result<Fitted, AnovaError> {
        Self::build(record, layout, metric, false)
    }

    /// The same with the REML mixed model wherever seeds are shared, complete grid or not
    /// (on a complete grid it gives the strata's F and df: a check of the model).
    pub fn new_mixed(
        record: &RunRecord,
        layout: &Layout,
        metric: Metric,
    ) -> Result<Fitted, AnovaError> {
        Self::build(record, layout, metric, true)
    }

    fn build(
        record: &RunRecord,
        layout: &Layout,
        metric: Metric,
        force_mixed: bool,
    ) -> Result<Fitted, AnovaError> {
        let obs = stats::observations(record, layout, metric);
        let mut used: Vec<usize> = obs.iter().map(|o| o.0).collect();
        used.sort_unstable();
        used.dedup();
        // Factors with two or more levels among the analysed variants, levels in layout order.
        let factors: Vec<(usize, Vec<usize>)> = (0..layout.factors.len())
            .filter_map(|k| {
                let mut l: Vec<usize> = used.iter().map(|&v| layout.at[v][k]).collect();
                l.sort_unstable();
                l.dedup();
                (l.len() > 1).then_some((k, l))
            })
            .collect();
        if factors.is_empty() {
            return Err(AnovaError::NoFactors);
        }
        let blocked = stats::seeds_shared(&obs);
        let mut seeds: Vec<u64> = Vec::new();
        for o in &obs {
            if !seeds.contains(&o.1) {
                seeds.push(o.1);
            }
        }
        let blocks = if blocked { seeds.len() } else { 1 };
        // Columns: intercept, block dummies, main-effect dummies, interaction dummies
        // (treatment coding: the first level is the reference).
        let mut terms = Vec::new();
        let mut next = 1;
        if blocked {
            terms.push(Term {
                factors: vec![],
                cols: next..next + blocks - 1,
            });
            next += blocks - 1;
        }
        for (i, (_, l)) in factors.iter().enumerate() {
            terms.push(Term {
                factors: vec![i],
                cols: next..next + l.len() - 1,
            });
            next += l.len() - 1;
        }
        for i in 0..factors.len() {
            for j in i + 1..factors.len() {
                let w = (factors[i].1.len() - 1) * (factors[j].1.len() - 1);
                terms.push(Term {
                    factors: vec![i, j],
                    cols: next..next + w,
                });
                next += w;
            }
        }
        let p = next;
        if p > MAX_COLUMNS {
            return Err(AnovaError::TooLarge(p));
        }
        let local = |v: usize, i: usize| -> usize {
            let (k, l) = &factors[i];
            l.iter().position(|x| *x == layout.at[v][*k]).unwrap_or(0)
        };
        let n = obs.len();
        let mean = obs.iter().map(|o| o.2).sum::<f64>() / n.max(1) as f64;
        let mut xtx = DMatrix::<f64>::zeros(p, p);
        let mut xty = DVector::<f64>::zeros(p);
        let mut yty = 0.0;
        let mut counts: Vec<Vec<usize>> = factors.iter().map(|(_, l)| vec![0; l.len()]).collect();
        for &(v, seed, y) in &obs {
            let lv: Vec<usize> = (0..factors.len()).map(|i| local(v, i)).collect();
            for (i, &l) in lv.iter().enumerate() {
                counts[i][l] += 1;
            }
            let s = if blocked {
                seeds.iter().position(|x| *x == seed)
            } else {
                None
            };
            let row = Self::row_of(&terms, &factors, &lv, s.map(|s| (s, blocks)), p);
            // Centred y: the intercept absorbs the mean, and the sums stay small.
            let yc = y - mean;
            let nz: Vec<(usize, f64)> = row
                .iter()
                .enumerate()
                .filter(|(_, x)| **x != 0.0)
                .map(|(i, x)| (i, *x))
                .collect();
            for &(a, xa) in &nz {
                xty[a] += xa * yc;
                for &(b, xb) in &nz {
                    xtx[(a, b)] += xa * xb;
                }
            }
            yty += yc * yc;
        }
        // An interaction the cells cannot estimate (a missing cell leaves it 0 df) is left
        // out: kept, it would make the LS-means that average over it inestimable.
        let mut dropped = Vec::new();
        let all: Vec<usize> = (0..p).collect();
        let rank_all = solve(&xtx, &xty, yty, &all).rank;
        let mut ti = 0;
        while ti < terms.len() {
            let t = terms[ti].clone();
            if t.factors.len() < 2 {
                ti += 1;
                continue;
            }
            let without: Vec<usize> = all
                .iter()
                .copied()
                .filter(|c| !t.cols.contains(c))
                .collect();
            if solve(&xtx, &xty, yty, &without).rank == rank_all {
                for c in t.cols.clone() {
                    xty[c] = 0.0;
                    for r in 0..p {
                        xtx[(c, r)] = 0.0;
                        xtx[(r, c)] = 0.0;
                    }
                }
                dropped.push(
                    t.factors
                        .iter()
                        .map(|&i| layout.factors[factors[i].0].name())
                        .collect::<Vec<_>>()
                        .join(" × "),
                );
                terms.remove(ti);
            } else {
                ti += 1;
            }
        }
        let cells = if blocked {
            let rows: Vec<(Vec<usize>, usize, f64)> = obs
                .iter()
                .filter_map(|&(v, seed, y)| {
                    let s = seeds.iter().position(|x| *x == seed)?;
                    Some(((0..factors.len()).map(|i| local(v, i)).collect(), s, y))
                })
                .collect();
            let sizes: Vec<usize> = factors.iter().map(|(_, l)| l.len()).collect();
            // Seeds that missed a cell (a failed unit) are left out of the strata, as
            // complete cases; they still count in the pooled fit.
            Cells::complete_seeds(&sizes, seeds.len(), &rows)
                .map(|(c, left)| (c, left.iter().map(|&s| seeds[s]).collect()))
        } else {
            None
        };
        let (cells, incomplete_seeds) = match cells {
            Some((c, left)) if !force_mixed => (Some(c), left),
            _ => (None, Vec::new()),
        };
        let full = solve(&xtx, &xty, yty, &all);
        let names: Vec<Factor> = factors.iter().map(|(k, _)| layout.factors[*k]).collect();
        // Seeds shared but no complete grid: the mixed model gives each effect its own kind
        // of seed-to-seed error and uses every unit.
        let mixed = if blocked && cells.is_none() {
            let sizes: Vec<usize> = factors.iter().map(|(_, l)| l.len()).collect();
            let rows: Vec<(Vec<f64>, usize, Vec<usize>, f64)> = obs
                .iter()
                .filter_map(|&(v, seed, y)| {
                    let s = seeds.iter().position(|x| *x == seed)?;
                    let lv: Vec<usize> = (0..factors.len()).map(|i| local(v, i)).collect();
                    let row = Self::row_of(&terms, &factors, &lv, None, p);
                    Some((row, s, lv, y - mean))
                })
                .collect();
            fit_mixed(&rows, &names, &sizes)
        } else {
            None
        };
        let too_many_for_mixed = blocked && cells.is_none() && obs.len() > mixed::MAX_UNITS;
        let level_names = factors
            .iter()
            .map(|(k, l)| l.iter().map(|&x| layout.levels[*k][x].clone()).collect())
            .collect();
        // Under placement None the dropout rate does nothing: a least-squares mean averaging
        // over dropout uses None's own (only) cell for every rate.
        let inert = {
            let d = names.iter().position(|f| *f == Factor::Dropout);
            let pl = names.iter().position(|f| *f == Factor::Placement);
            match (d, pl) {
                (Some(d), Some(pl)) => used
                    .iter()
                    .find(|&&v| layout.inert[v][factors[d].0])
                    .map(|&v| (d, pl, local(v, pl), local(v, d))),
                _ => None,
            }
        };
        Ok(Fitted {
            metric,
            factors,
            names,
            level_names,
            counts,
            blocks,
            blocked,
            terms,
            xtx,
            xty,
            yty,
            n,
            rss: full.rss,
            rank: full.rank,
            beta: full.beta,
            pinv: full.pinv,
            basis: full.basis,
            inert,
            dropped,
            cells,
            incomplete_seeds,
            mixed,
            too_many_for_mixed,
        })
    }

    /// The same fit with every term tested against the pooled residual (the least-squares
    /// type II table, as statsmodels' `anova_lm`), even where each could have its own error.
    pub fn pooled(mut self) -> Fitted {
        self.cells = None;
        self.mixed = None;
        self.too_many_for_mixed = false;
        self.incomplete_seeds.clear();
        self
    }

    /// Whether each term has its own seed × term error.
    pub fn has_strata(&self) -> bool {
        self.cells.is_some()
    }

    /// Whether the effects are tested by the REML mixed model.
    pub fn has_mixed(&self) -> bool {
        self.mixed.is_some()
    }

    /// The design row of one cell; `block` = (seed's local index, blocks), or None to leave
    /// the block columns at zero.
    fn row_of(
        terms: &[Term],
        factors: &[(usize, Vec<usize>)],
        levels: &[usize],
        block: Option<(usize, usize)>,
        p: usize,
    ) -> Vec<f64> {
        let mut row = vec![0.0; p];
        row[0] = 1.0;
        for t in terms {
            match t.factors.as_slice() {
                [] => {
                    if let Some((s, _)) = block {
                        if s > 0 {
                            row[t.cols.start + s - 1] = 1.0;
                        }
                    }
                }
                [i] if levels[*i] > 0 => {
                    row[t.cols.start + levels[*i] - 1] = 1.0;
                }
                [i, j] => {
                    let lj = factors[*j].1.len() - 1;
                    if levels[*i] > 0 && levels[*j] > 0 {
                        row[t.cols.start + (levels[*i] - 1) * lj + levels[*j] - 1] = 1.0;
                    }
                }
                _ => {}
            }
        }
        row
    }

    pub fn residual_df(&self) -> usize {
        self.n.saturating_sub(self.rank)
    }

    /// The model's residual mean square (the pooled seed-to-seed variance).
    pub fn mse(&self) -> f64 {
        self.rss / self.residual_df() as f64
    }

    fn term_name(&self, t: &Term) -> String {
        if t.factors.is_empty() {
            "seed (block)".into()
        } else {
            t.factors
                .iter()
                .map(|&i| self.names[i].name())
                .collect::<Vec<_>>()
                .join(" × ")
        }
    }

    /// Type II ANOVA: each term's sum of squares given every term that does not contain it.
    pub fn anova(&self) -> Result<Anova, AnovaError> {
        let residual_df = self.residual_df();
        if residual_df == 0 {
            return Err(AnovaError::NoResidual);
        }
        if self.rss <= self.yty.abs() * 1e-12 {
            return Err(AnovaError::NoSpread);
        }
        let ms_resid = self.rss / residual_df as f64;
        let mut rows = Vec::new();
        let mut inestimable = Vec::new();
        // With strata each term has its own error, and a complete grid leaves no term
        // inestimable: the pooled table's two solves per term are not needed.
        let pooled_terms = if self.cells.is_some() || self.mixed.is_some() {
            &[][..]
        } else {
            &self.terms[..]
        };
        for (ti, t) in pooled_terms.iter().enumerate() {
            let reduced: Vec<usize> = std::iter::once(0)
                .chain(
                    self.terms
                        .iter()
                        .enumerate()
                        .filter(|(ui, u)| *ui != ti && !contains(u, t))
                        .flat_map(|(_, u)| u.cols.clone()),
                )
                .collect();
            let mut with = reduced.clone();
            with.extend(t.cols.clone());
            let r0 = solve(&self.xtx, &self.xty, self.yty, &reduced);
            let r1 = solve(&self.xtx, &self.xty, self.yty, &with);
            let df = r1.rank.saturating_sub(r0.rank);
            if df == 0 {
                inestimable.push(self.term_name(t));
                continue;
            }
            let ss = (r0.rss - r1.rss).max(0.0);
            let f = (ss / df as f64) / ms_resid;
            let p =
                FisherSnedecor::new(df as f64, residual_df as f64).map_or(f64::NAN, |d| d.sf(f));
            rows.push(AnovaRow {
                term: self.term_name(t),
                factors: t.factors.iter().map(|&i| self.names[i]).collect(),
                df,
                ss,
                f,
                p,
                eta2: ss / self.yty,
                partial_eta2: ss / (ss + self.rss),
                error_df: residual_df,
                error_ss: self.rss,
                epsilon: 1.0,
                den_df: residual_df as f64,
            });
        }
        if let Some(cells) = &self.cells {
            rows = self.strata_rows(cells);
        }
        if let Some(m) = &self.mixed {
            (rows, inestimable) = self.mixed_rows(m);
        }
        Ok(Anova {
            metric: self.metric,
            rows,
            residual_df,
            residual_ss: self.rss,
            total_ss: self.yty,
            blocked: self.blocked,
            inestimable,
            dropped: self.dropped.clone(),
            strata: self.cells.is_some(),
            incomplete_seeds: self.incomplete_seeds.clone(),
            mixed: self.mixed.is_some(),
            components: self
                .mixed
                .as_ref()
                .map(|m| {
                    m.names
                        .iter()
                        .cloned()
                        .zip(m.reml.theta.iter().copied())
                        .collect()
                })
                .unwrap_or_default(),
            too_many_for_mixed: self.too_many_for_mixed,
        })
    }

    /// The mixed model's table: each term's Wald F given every term that does not contain it
    /// (type II, as the pooled table), with Satterthwaite's df. SS and η² have no meaning
    /// there and are NaN.
    fn mixed_rows(&self, m: &MixedFit) -> (Vec<AnovaRow>, Vec<String>) {
        let mut rows = Vec::new();
        let mut inestimable = Vec::new();
        for t in self.terms.iter().filter(|t| !t.factors.is_empty()) {
            let reduced: Vec<usize> = std::iter::once(0)
                .chain(
                    self.terms
                        .iter()
                        .filter(|u| {
                            !u.factors.is_empty() && u.factors != t.factors && !contains(u, t)
                        })
                        .flat_map(|u| u.cols.clone()),
                )
                .collect();
            let cols: Vec<usize> = t.cols.clone().collect();
            let Some(w) = m
                .reml
                .wald(&m.x.select_columns(&reduced), &m.x.select_columns(&cols))
            else {
                inestimable.push(self.term_name(t));
                continue;
            };
            let p = FisherSnedecor::new(w.df as f64, w.den_df).map_or(f64::NAN, |d| d.sf(w.f));
            rows.push(AnovaRow {
                term: self.term_name(t),
                factors: t.factors.iter().map(|&i| self.names[i]).collect(),
                df: w.df,
                ss: f64::NAN,
                f: w.f,
                p,
                eta2: f64::NAN,
                partial_eta2: f64::NAN,
                error_df: 0,
                error_ss: f64::NAN,
                epsilon: 1.0,
                den_df: w.den_df,
            });
        }
        (rows, inestimable)
    }

    /// The repeated-measures table: every factor term against its own seed × term error, with
    /// the Greenhouse–Geisser correction (the seed stratum itself has no test).
    fn strata_rows(&self, cells: &Cells) -> Vec<AnovaRow> {
        self.terms
            .iter()
            .filter(|t| !t.factors.is_empty())
            .map(|t| {
                let st = cells.stratum(&t.factors);
                // Seeds that answered the term identically leave no error to test it by.
                let f = if st.error_ss <= self.yty.abs() * 1e-12 {
                    f64::NAN
                } else {
                    (st.ss / st.df as f64) / (st.error_ss / st.error_df as f64)
                };
                let e = st.epsilon;
                let p = if f.is_finite() {
                    FisherSnedecor::new(e * st.df as f64, e * st.error_df as f64)
                        .map_or(f64::NAN, |d| d.sf(f))
                } else {
                    f64::NAN
                };
                AnovaRow {
                    term: self.term_name(t),
                    factors: t.factors.iter().map(|&i| self.names[i]).collect(),
                    df: st.df,
                    ss: st.ss,
                    f: if f.is_finite() { f } else { f64::NAN },
                    p,
                    eta2: st.ss / self.yty,
                    partial_eta2: st.ss / (st.ss + st.error_ss),
                    error_df: st.error_df,
                    error_ss: st.error_ss,
                    epsilon: e,
                    den_df: e * st.error_df as f64,
                }
            })
            .collect()
    }

    fn position(&self, f: Factor) -> Option<usize> {
        self.names.iter().position(|x| *x == f)
    }

    /// The averaging vector of level `level` of factor `i`: the mean of the design rows over
    /// every combination of the other factors' levels (and every block), so each level is
    /// compared on equal terms whatever the balance.
    fn lsmean_vector(&self, i: usize, level: usize) -> Vec<f64> {
        let p = self.xty.len();
        let sizes: Vec<usize> = self.factors.iter().map(|(_, l)| l.len()).collect();
        let combos: usize = sizes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, s)| *s)
            .product();
        let mut acc = vec![0.0; p];
        let mut levels = vec![0usize; sizes.len()];
        levels[i] = level;
        for c in 0..combos {
            let mut rest = c;
            for (j, s) in sizes.iter().enumerate() {
                if j != i {
                    levels[j] = rest % s;
                    rest /= s;
                }
            }
            let mut cell = levels.clone();
            if let Some((d, pl, none, carried)) = self.inert {
                if cell[pl] == none {
                    cell[d] = carried;
                }
            }
            let row = Self::row_of(&self.terms, &self.factors, &cell, None, p);
            for (a, x) in acc.iter_mut().zip(row) {
                *a += x;
            }
        }
        for a in &mut acc {
            *a /= combos as f64;
        }
        // Every block counts equally: 1/B on each non-reference block's column.
        if let Some(t) = self.terms.iter().find(|t| t.factors.is_empty()) {
            for c in t.cols.clone() {
                acc[c] = 1.0 / self.blocks as f64;
            }
        }
        acc
    }

    /// Whether Lβ is estimable: L lies in the row space of X.
    fn estimable(&self, l: &DVector<f64>) -> bool {
        let proj = &self.basis * (self.basis.transpose() * l);
        (l - proj).norm() <= 1e-7 * l.norm().max(1.0)
    }

    /// The centred model's estimate of Lβ, with its standard error.
    fn estimate(&self, l: &DVector<f64>) -> (f64, f64) {
        if !self.estimable(l) {
            return (f64::NAN, f64::NAN);
        }
        let est = l.dot(&self.beta);
        let var = self.mse() * (l.transpose() * &self.pinv * l)[(0, 0)];
        (est, var.max(0.0).sqrt())
    }

    fn t_crit(&self) -> f64 {
        StudentsT::new(0.0, 1.0, self.residual_df() as f64)
            .map_or(f64::NAN, |t| t.inverse_cdf(1.0 - ALPHA / 2.0))
    }

    /// Least-squares means of factor `f`'s levels with 95% CIs from the pooled residual error
    /// (cut at the metric's bounds). None when `f` is not in the model.
    pub fn ls_means(&self, f: Factor, y_mean: f64) -> Option<Vec<LevelMean>> {
        let i = self.position(f)?;
        if let Some(cells) = &self.cells {
            return Some(self.strata_means(cells, i));
        }
        if let Some(m) = &self.mixed {
            return Some(self.mixed_means(m, i, y_mean));
        }
        let crit = self.t_crit();
        Some(
            (0..self.factors[i].1.len())
                .map(|l| {
                    let v = DVector::from_vec(self.lsmean_vector(i, l));
                    let (est, se) = self.estimate(&v);
                    self.level_mean(i, l, est + y_mean, se, crit)
                })
                .collect(),
        )
    }

    /// With strata: each level's mean of its per-seed means, with a t-interval over the
    /// seeds (the level's own seed-to-seed spread).
    fn strata_means(&self, cells: &Cells, i: usize) -> Vec<LevelMean> {
        (0..self.factors[i].1.len())
            .map(|l| {
                let e = stats::estimate_within(&cells.seed_means(i, l), self.metric.bounds());
                LevelMean {
                    level: self.level_names[i][l].clone(),
                    n: self.counts[i][l],
                    mean: e.mean,
                    se: e.sd / (e.n as f64).sqrt(),
                    ci_low: e.ci_low,
                    ci_high: e.ci_high,
                    model: true,
                }
            })
            .collect()
    }

    /// Tukey's HSD between every two levels of `f`, from the model's least-squares means
    /// (with strata: against the seed × factor error, as in a repeated-measures design).
    pub fn tukey(&self, f: Factor) -> Option<Vec<TukeyPair>> {
        let i = self.position(f)?;
        let k = self.factors[i].1.len();
        if let Some(cells) = &self.cells {
            return (k <= MAX_TUKEY_LEVELS).then(|| self.strata_tukey(cells, i));
        }
        if let Some(m) = &self.mixed {
            return (k <= MAX_TUKEY_LEVELS).then(|| self.mixed_tukey(m, i));
        }
        let df = self.residual_df() as f64;
        if df < 1.0 || k > MAX_TUKEY_LEVELS {
            return None;
        }
        Some(self.model_tukey(i, |l| {
            let (diff, se) = self.estimate(l);
            (diff, se, df)
        }))
    }

    /// Tukey's HSD between the LS-means of factor `i`'s levels, each difference's estimate,
    /// standard error and df from `contrast` (the pooled model's, or the mixed model's with
    /// each difference's own Satterthwaite df).
    fn model_tukey(
        &self,
        i: usize,
        contrast: impl Fn(&DVector<f64>) -> (f64, f64, f64),
    ) -> Vec<TukeyPair> {
        let k = self.factors[i].1.len();
        let vectors: Vec<DVector<f64>> = (0..k)
            .map(|l| DVector::from_vec(self.lsmean_vector(i, l)))
            .collect();
        // The studentized range quantile is an integral: computed once per distinct df.
        let mut crit: Option<(f64, f64)> = None;
        let mut out = Vec::new();
        for a in 0..k {
            for b in a + 1..k {
                let (diff, se, df) = contrast(&(&vectors[a] - &vectors[b]));
                let q_crit = match crit {
                    Some((d, q)) if d == df => q,
                    _ if !df.is_finite() => f64::NAN,
                    _ => {
                        let q = super::dist::studentized_range_quantile(1.0 - ALPHA, k, df);
                        crit = Some((df, q));
                        q
                    }
                };
                out.push(self.tukey_pair(i, (a, b), diff, se, q_crit, df));
            }
        }
        out
    }
}

impl Fitted {
    /// Levels `a` and `b` of factor `i`: their difference with the simultaneous interval of
    /// Tukey's HSD at `q_crit`, from the difference's standard error `se` on `df`.
    fn tukey_pair(
        &self,
        i: usize,
        (a, b): (usize, usize),
        diff: f64,
        se: f64,
        q_crit: f64,
        df: f64,
    ) -> TukeyPair {
        let k = self.factors[i].1.len();
        let q = diff.abs() / se * std::f64::consts::SQRT_2;
        let half = q_crit / std::f64::consts::SQRT_2 * se;
        TukeyPair {
            a: self.level_names[i][a].clone(),
            b: self.level_names[i][b].clone(),
            diff,
            ci_low: diff - half,
            ci_high: diff + half,
            p_adjusted: if q.is_finite() {
                super::dist::studentized_range_sf(q, k, df)
            } else {
                f64::NAN
            },
        }
    }

    fn block_cols(&self) -> Option<&std::ops::Range<usize>> {
        self.terms
            .iter()
            .find(|t| t.factors.is_empty())
            .map(|t| &t.cols)
    }

    /// Under the mixed model: each level's GLS least-squares mean with a t-interval on
    /// Satterthwaite's df.
    fn mixed_means(&self, m: &MixedFit, i: usize, y_mean: f64) -> Vec<LevelMean> {
        (0..self.factors[i].1.len())
            .map(|l| {
                let v = DVector::from_vec(self.lsmean_vector(i, l));
                let (est, se, df) = m.contrast(&v, self.block_cols());
                let crit = StudentsT::new(0.0, 1.0, df.min(1e6))
                    .map_or(f64::NAN, |t| t.inverse_cdf(1.0 - ALPHA / 2.0));
                self.level_mean(i, l, est + y_mean, se, crit)
            })
            .collect()
    }

    /// Level `l` of factor `i` as a model's LS-mean: `mean ± crit·se`, cut at the metric's
    /// bounds; NaN (not estimable) stays NaN rather than becoming a bound.
    fn level_mean(&self, i: usize, l: usize, mean: f64, se: f64, crit: f64) -> LevelMean {
        let (lo, hi) = self.metric.bounds();
        LevelMean {
            level: self.level_names[i][l].clone(),
            n: self.counts[i][l],
            mean,
            se,
            ci_low: if se.is_nan() {
                se
            } else {
                (mean - crit * se).max(lo)
            },
            ci_high: if se.is_nan() {
                se
            } else {
                (mean + crit * se).min(hi)
            },
            model: true,
        }
    }

    /// Under the mixed model: Tukey's HSD with each difference's own Satterthwaite df.
    fn mixed_tukey(&self, m: &MixedFit, i: usize) -> Vec<TukeyPair> {
        self.model_tukey(i, |l| {
            let (diff, se, df) = m.contrast(l, self.block_cols());
            (diff, se, df.min(1e4))
        })
    }

    fn strata_tukey(&self, cells: &Cells, i: usize) -> Vec<TukeyPair> {
        let k = self.factors[i].1.len();
        let st = cells.stratum(&[i]);
        let df = st.error_df as f64;
        let ms = st.error_ss / df;
        let seeds = cells.y.len() as f64;
        let se = (2.0 * ms / (seeds * cells.cells_per_level(i) as f64)).sqrt();
        let q_crit = super::dist::studentized_range_quantile(1.0 - ALPHA, k, df);
        let means: Vec<f64> = (0..k)
            .map(|l| {
                let m = cells.seed_means(i, l);
                m.iter().sum::<f64>() / m.len() as f64
            })
            .collect();
        let mut out = Vec::new();
        for a in 0..k {
            for b in a + 1..k {
                let diff = means[a] - means[b];
                out.push(self.tukey_pair(i, (a, b), diff, se, q_crit, df));
            }
        }
        out
    }
}

/// The mean of the analysed units (the model is fitted centred on it).
pub fn analysed_mean(record: &RunRecord, layout: &Layout, metric: Metric) -> f64 {
    let obs = stats::observations(record, layout, metric);
    obs.iter().map(|o| o.2).sum::<f64>() / obs.len().max(1) as f64
}

/// The ANOVA of `metric` over the run's analysed units: each term against its own seed ×
/// term error where every seed trained every cell, else the type II table with the pooled
/// residual.
pub fn anova(record: &RunRecord, metric: Metric) -> Result<Anova, AnovaError> {
    let layout = Layout::new(record);
    Fitted::new(record, &layout, metric)?.anova()
}

/// The type II table against the pooled residual, whatever the design.
pub fn anova_pooled(record: &RunRecord, metric: Metric) -> Result<Anova, AnovaError> {
    let layout = Layout::new(record);
    Fitted::new(record, &layout, metric)?.pooled().anova()
}

/// Each varying factor's level means: least-squares means of the model with CIs from its
/// pooled error, or, where no model can give intervals (no residual degrees of freedom, too
/// many levels), the raw means of the units at each level with their own t-intervals, marked
/// `model: false`. Factors in the layout's order.
pub fn main_effects(record: &RunRecord, metric: Metric) -> Vec<(Factor, Vec<LevelMean>)> {
    let layout = Layout::new(record);
    let fit = Fitted::new(record, &layout, metric);
    effects_of(record, &layout, metric, fit.as_ref().ok())
}

/// A factor with its levels' means.
pub type FactorMeans = (Factor, Vec<LevelMean>);

/// The main effects and the ANOVA of `metric` from one fit (a view that shows both fits the
/// model, the mixed one included, once).
pub fn effects_and_anova(
    record: &RunRecord,
    metric: Metric,
) -> (Vec<FactorMeans>, Result<Anova, AnovaError>) {
    let layout = Layout::new(record);
    let fit = Fitted::new(record, &layout, metric);
    let effects = effects_of(record, &layout, metric, fit.as_ref().ok());
    (effects, fit.and_then(|f| f.anova()))
}

/// `main_effects` given the run's fit (None: it could not be fitted).
fn effects_of(
    record: &RunRecord,
    layout: &Layout,
    metric: Metric,
    fit: Option<&Fitted>,
) -> Vec<(Factor, Vec<LevelMean>)> {
    if let Some(fit) = fit.filter(|f| f.residual_df() > 0 || f.has_strata()) {
        let mean = analysed_mean(record, layout, metric);
        return fit
            .names
            .iter()
            .filter_map(|&f| fit.ls_means(f, mean).map(|m| (f, m)))
            .collect();
    }
    let obs = stats::observations(record, layout, metric);
    (0..layout.factors.len())
        .filter_map(|k| {
            let mut by_level: Vec<Vec<f64>> = vec![Vec::new(); layout.levels[k].len()];
            for (v, _, y) in &obs {
                by_level[layout.at[*v][k]].push(*y);
            }
            let means: Vec<LevelMean> = by_level
                .iter()
                .enumerate()
                .filter(|(_, ys)| !ys.is_empty())
                .map(|(l, ys)| {
                    let e = stats::estimate_within(ys, metric.bounds());
                    LevelMean {
                        level: layout.levels[k][l].clone(),
                        n: e.n,
                        mean: e.mean,
                        se: e.sd / (e.n as f64).sqrt(),
                        ci_low: e.ci_low,
                        ci_high: e.ci_high,
                        model: false,
                    }
                })
                .collect();
            (means.len() > 1).then_some((layout.factors[k], means))
        })
        .collect()
}
