//! A linear mixed model fitted by REML: y = Xβ + Σₖ Zₖuₖ + e, with uₖ ~ N(0, θₖI) (seed, and
//! seed × each factor) and e ~ N(0, θₑI). It is what a design that is no complete grid (a
//! factor nested in another, seeds that missed cells, partly shared seeds) needs so that each
//! effect is still tested against the seed-to-seed spread of its own kind and every unit counts;
//! on a complete grid it reduces to the repeated-measures strata (checked in `tests/stats.rs`,
//! as are its variance components against statsmodels' `MixedLM`).
//!
//! The fit is Fisher scoring on the REML log-likelihood (Harville 1977), variance components
//! kept ≥ 0 by an active set. Fixed-effect tests are Wald F tests with Satterthwaite's
//! denominator df (Fai & Cornelius 1996, as R's lmerTest), which on a balanced design are the
//! strata's exact df.

use nalgebra::{Cholesky, DMatrix, DVector, SymmetricEigen};

/// Largest number of units fitted: each scoring step factors and inverts an n × n covariance
/// (cubic in n: about 0.015 s a step at 300 units and 0.1 s at 600 on the 2-core AMD EPYC; a
/// fit takes 2 to 20 steps), an export fits the model several times, and the factor view
/// refits it on the UI thread each epoch while it is shown. Beyond it, the pooled table, said
/// so.
pub const MAX_UNITS: usize = 300;

/// Scoring steps at most (converged fits here took 2 to 19).
const MAX_STEPS: usize = 50;

/// A fitted REML model.
#[derive(Debug, Clone)]
pub struct Reml {
    /// Variance components: one per random term, then the residual.
    pub theta: Vec<f64>,
    /// REML log-likelihood (with the −(n−p)/2·log 2π constant, as statsmodels reports it).
    pub loglik: f64,
    /// Scoring iterations taken.
    pub iterations: usize,
    x: DMatrix<f64>,
    y: DVector<f64>,
    zs: Vec<DMatrix<f64>>,
    /// V⁻¹ at θ.
    vinv: DMatrix<f64>,
    /// GLS estimate of the full model and its covariance (XᵀV⁻¹X)⁻¹.
    beta: DVector<f64>,
    cov: DMatrix<f64>,
    /// Asymptotic covariance of θ̂ (inverse expected information) over the components off
    /// the boundary; zero rows and columns for those at 0.
    theta_cov: DMatrix<f64>,
}

/// A Wald test of a set of fixed effects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wald {
    pub f: f64,
    /// Numerator df (rank of the hypothesis).
    pub df: usize,
    /// Satterthwaite's denominator df.
    pub den_df: f64,
}

struct State {
    vinv: DMatrix<f64>,
    /// P = V⁻¹ − V⁻¹X(XᵀV⁻¹X)⁻¹XᵀV⁻¹.
    p: DMatrix<f64>,
    loglik: f64,
}

/// Indicator matrix of a grouping: column g is 1 on the units in group g.
pub fn indicator(groups: &[usize]) -> DMatrix<f64> {
    let m = groups.iter().max().map_or(0, |g| g + 1);
    let mut z = DMatrix::zeros(groups.len(), m);
    for (i, &g) in groups.iter().enumerate() {
        z[(i, g)] = 1.0;
    }
    z
}

/// `[a | b]`: the columns of `a`, then those of `b`.
pub fn hstack(a: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(a.nrows(), a.ncols() + b.ncols(), |i, j| {
        if j < a.ncols() {
            a[(i, j)]
        } else {
            b[(i, j - a.ncols())]
        }
    })
}

/// Columns of `x` (in order) that add rank: a basis of its column space.
pub fn independent_columns(x: &DMatrix<f64>) -> Vec<usize> {
    let mut basis: Vec<DVector<f64>> = Vec::new();
    let mut kept = Vec::new();
    for j in 0..x.ncols() {
        let mut v = x.column(j).into_owned();
        let norm = v.norm();
        if norm == 0.0 {
            continue;
        }
        // Two passes of Gram–Schmidt keep the test stable.
        for _ in 0..2 {
            for b in &basis {
                let c = b.dot(&v);
                v.axpy(-c, b, 1.0);
            }
        }
        let r = v.norm();
        if r > 1e-9 * norm {
            basis.push(v / r);
            kept.push(j);
        }
    }
    kept
}

fn state(x: &DMatrix<f64>, y: &DVector<f64>, zs: &[DMatrix<f64>], theta: &[f64]) -> Option<State> {
    let n = y.len();
    let k = zs.len();
    let mut v = DMatrix::from_diagonal_element(n, n, theta[k]);
    for (z, &t) in zs.iter().zip(theta) {
        if t > 0.0 {
            v += t * z * z.transpose();
        }
    }
    let chol = Cholesky::new(v)?;
    let log_det_v: f64 = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    let vinv = chol.inverse();
    let vx = &vinv * x;
    let xvx = x.transpose() * &vx;
    let cx = Cholesky::new(xvx)?;
    let log_det_xvx: f64 = 2.0 * cx.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    let c = cx.inverse();
    let p = &vinv - &vx * c * vx.transpose();
    let ypy = y.dot(&(&p * y));
    let dof = (n - x.ncols()) as f64;
    let loglik = -0.5 * (log_det_v + log_det_xvx + ypy + dof * (2.0 * std::f64::consts::PI).ln());
    Some(State { vinv, p, loglik })
}

/// P·Z of a component (P itself for the residual, whose Z is the identity).
fn pz(p: &DMatrix<f64>, z: Option<&DMatrix<f64>>) -> DMatrix<f64> {
    match z {
        Some(z) => p * z,
        None => p.clone(),
    }
}

/// Score and expected information of the REML log-likelihood over every component.
fn score_info(st: &State, y: &DVector<f64>, zs: &[DMatrix<f64>]) -> (DVector<f64>, DMatrix<f64>) {
    let k = zs.len() + 1;
    let py = &st.p * y;
    let comps: Vec<Option<&DMatrix<f64>>> =
        zs.iter().map(Some).chain(std::iter::once(None)).collect();
    let pzs: Vec<DMatrix<f64>> = comps.iter().map(|z| pz(&st.p, *z)).collect();
    let mut score = DVector::zeros(k);
    let mut info = DMatrix::zeros(k, k);
    for a in 0..k {
        let (tr, q) = match comps[a] {
            Some(z) => (
                (z.transpose() * &pzs[a]).trace(),
                (z.transpose() * &py).norm_squared(),
            ),
            None => (st.p.trace(), py.norm_squared()),
        };
        score[a] = -0.5 * tr + 0.5 * q;
        for b in a..k {
            // ½ tr(P Gₐ P G_b) = ½ ‖Zₐᵀ P Z_b‖²_F.
            let m = match comps[a] {
                Some(z) => z.transpose() * &pzs[b],
                None => pzs[b].clone(),
            };
            let v = 0.5 * m.norm_squared();
            info[(a, b)] = v;
            info[(b, a)] = v;
        }
    }
    (score, info)
}

/// Inverse of the information over the `free` components (zeros elsewhere).
fn free_inverse(info: &DMatrix<f64>, free: &[bool]) -> Option<DMatrix<f64>> {
    let idx: Vec<usize> = (0..free.len()).filter(|&i| free[i]).collect();
    let sub = DMatrix::from_fn(idx.len(), idx.len(), |a, b| info[(idx[a], idx[b])]);
    let inv = sub.try_inverse()?;
    let mut out = DMatrix::zeros(free.len(), free.len());
    for (a, &i) in idx.iter().enumerate() {
        for (b, &j) in idx.iter().enumerate() {
            out[(i, j)] = inv[(a, b)];
        }
    }
    Some(out)
}

impl Reml {
    /// Fits the model; `x` must have full column rank (see [`independent_columns`]), and the
    /// `zs` are the random terms' design matrices. None where no positive-definite fit exists
    /// (too few units for the components).
    pub fn fit(x: DMatrix<f64>, y: DVector<f64>, zs: Vec<DMatrix<f64>>) -> Option<Reml> {
        let n = y.len();
        if n > MAX_UNITS || n <= x.ncols() {
            return None;
        }
        let k = zs.len() + 1;
        // Start: the OLS residual variance shared evenly between the components.
        let xtx = x.transpose() * &x;
        let beta = Cholesky::new(xtx)?.solve(&(x.transpose() * &y));
        let s2 = (&y - &x * beta).norm_squared() / (n - x.ncols()) as f64;
        if s2 <= 0.0 || !s2.is_finite() {
            return None;
        }
        let mut theta = vec![s2 / k as f64; k];
        let mut free = vec![true; k];
        let mut st = state(&x, &y, &zs, &theta)?;
        let mut iterations = 0;
        for _ in 0..MAX_STEPS {
            iterations += 1;
            let (score, info) = score_info(&st, &y, &zs);
            // Components held at 0 are released when the likelihood would rise off the bound.
            for i in 0..k - 1 {
                if !free[i] && score[i] > 0.0 {
                    free[i] = true;
                }
            }
            let inv = free_inverse(&info, &free)?;
            let step = &inv * &score;
            let mut t = 1.0;
            let mut moved = false;
            for _ in 0..30 {
                let mut next = theta.clone();
                let mut hit = vec![false; k];
                for i in 0..k {
                    if free[i] {
                        next[i] = theta[i] + t * step[i];
                        if next[i] <= 0.0 {
                            // The residual stays positive; a random component stops at 0.
                            if i == k - 1 {
                                next[i] = theta[i] * 0.5;
                            } else {
                                next[i] = 0.0;
                                hit[i] = true;
                            }
                        }
                    }
                }
                if let Some(ns) = state(&x, &y, &zs, &next) {
                    if ns.loglik >= st.loglik - 1e-12 * st.loglik.abs().max(1.0) {
                        let change = ns.loglik - st.loglik;
                        let big = (0..k)
                            .map(|i| (next[i] - theta[i]).abs())
                            .fold(0.0, f64::max);
                        for i in 0..k {
                            if hit[i] {
                                free[i] = false;
                            }
                        }
                        theta = next;
                        st = ns;
                        moved = change.abs() > 1e-13 * st.loglik.abs().max(1.0)
                            || big > 1e-10 * theta[k - 1];
                        break;
                    }
                }
                t *= 0.5;
            }
            if !moved {
                break;
            }
        }
        let (_, info) = score_info(&st, &y, &zs);
        let free: Vec<bool> = theta.iter().map(|t| *t > 0.0).collect();
        let theta_cov = free_inverse(&info, &free)?;
        let mut out = Reml {
            theta,
            loglik: st.loglik,
            iterations,
            vinv: st.vinv,
            beta: DVector::zeros(0),
            cov: DMatrix::zeros(0, 0),
            x,
            y,
            zs,
            theta_cov,
        };
        let (beta, cov) = out.gls(&out.x)?;
        out.beta = beta;
        out.cov = cov;
        Some(out)
    }

    /// Generalised least squares on columns `cols` of `x2` (full column rank) at the fitted
    /// covariance: β̂ and its covariance (XᵀV⁻¹X)⁻¹.
    fn gls(&self, x2: &DMatrix<f64>) -> Option<(DVector<f64>, DMatrix<f64>)> {
        let vx = &self.vinv * x2;
        let c = Cholesky::new(x2.transpose() * &vx)?.inverse();
        let beta = &c * (vx.transpose() * &self.y);
        Some((beta, c))
    }

    /// Gradient of lᵀC(θ)l over the components, C = (XᵀV⁻¹X)⁻¹ for design `x2`:
    /// ∂C/∂θₖ = −C XᵀV⁻¹ Gₖ V⁻¹X C, so the gradient is −‖Zₖᵀ V⁻¹X C l‖².
    fn var_gradient(&self, x2: &DMatrix<f64>, c: &DMatrix<f64>, l: &DVector<f64>) -> DVector<f64> {
        let w = &self.vinv * x2 * (c * l);
        let k = self.zs.len() + 1;
        DVector::from_fn(k, |i, _| {
            -if i < k - 1 {
                (self.zs[i].transpose() * &w).norm_squared()
            } else {
                w.norm_squared()
            }
        })
    }

    /// Satterthwaite's df of lᵀβ̂ with variance `var` in design `x2`.
    fn satterthwaite(
        &self,
        x2: &DMatrix<f64>,
        c: &DMatrix<f64>,
        l: &DVector<f64>,
        var: f64,
    ) -> f64 {
        let g = self.var_gradient(x2, c, l);
        let v = (g.transpose() * &self.theta_cov * &g)[(0, 0)];
        if v <= 0.0 {
            f64::INFINITY
        } else {
            2.0 * var * var / v
        }
    }

    /// The Wald F test that the coefficients of `test`'s columns are zero in the model with
    /// the columns of `reduced` and `test` (aliased columns dropped, `reduced`'s first), at the
    /// covariance fitted on the full model. Satterthwaite's df as lmerTest: per
    /// eigen-direction of the hypothesis, combined by Fai & Cornelius' rule. None where `test`
    /// adds nothing to `reduced`.
    pub fn wald(&self, reduced: &DMatrix<f64>, test: &DMatrix<f64>) -> Option<Wald> {
        let r = reduced.ncols();
        let both = hstack(reduced, test);
        let cols = independent_columns(&both);
        let idx: Vec<usize> = (0..cols.len()).filter(|&a| cols[a] >= r).collect();
        let q = idx.len();
        if q == 0 {
            return None;
        }
        let x2 = both.select_columns(&cols);
        let (beta, c) = self.gls(&x2)?;
        let m = DMatrix::from_fn(q, q, |a, b| c[(idx[a], idx[b])]);
        let eig = SymmetricEigen::new(m);
        let bt = DVector::from_fn(q, |a, _| beta[idx[a]]);
        let mut f = 0.0;
        let mut nus = Vec::with_capacity(q);
        for j in 0..q {
            let d = eig.eigenvalues[j];
            let u = eig.eigenvectors.column(j);
            f += u.dot(&bt).powi(2) / d;
            let mut l = DVector::zeros(cols.len());
            for (a, &i) in idx.iter().enumerate() {
                l[i] = u[a];
            }
            nus.push(self.satterthwaite(&x2, &c, &l, d));
        }
        Some(Wald {
            f: f / q as f64,
            df: q,
            den_df: combine_df(&nus),
        })
    }

    /// lᵀβ̂ of the full model (its columns as given to `fit`), its standard error and
    /// Satterthwaite df.
    pub fn contrast(&self, l: &DVector<f64>) -> Option<(f64, f64, f64)> {
        if l.len() != self.beta.len() {
            return None;
        }
        let var = (l.transpose() * &self.cov * l)[(0, 0)].max(0.0);
        let df = self.satterthwaite(&self.x, &self.cov, l, var);
        Some((l.dot(&self.beta), var.sqrt(), df))
    }
}

/// Fai & Cornelius' combination of the per-direction df, as lmerTest's `get_Fstat_ddf`.
fn combine_df(nus: &[f64]) -> f64 {
    match nus {
        [] => f64::NAN,
        [one] => *one,
        _ if nus
            .iter()
            .all(|n| (n - nus[0]).abs() < 1e-8 * nus[0].abs().max(1.0)) =>
        {
            nus.iter().sum::<f64>() / nus.len() as f64
        }
        _ if nus.iter().any(|n| *n <= 2.0) => 2.0,
        _ => {
            let e: f64 = nus.iter().map(|n| n / (n - 2.0)).sum();
            2.0 * e / (e - nus.len() as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One-way random intercept, balanced: REML equals the ANOVA estimators
    /// σ²ₑ = MS_within, σ²ₛ = (MS_between − MS_within)/m.
    #[test]
    fn balanced_random_intercept_matches_the_anova_estimators() {
        let data = [
            [1.0, 1.3, 0.9],
            [2.1, 2.5, 1.9],
            [0.2, 0.1, 0.6],
            [1.5, 1.1, 1.6],
        ];
        let (g, m) = (4usize, 3usize);
        let y = DVector::from_iterator(12, data.iter().flatten().copied());
        let groups: Vec<usize> = (0..12).map(|i| i / m).collect();
        let x = DMatrix::from_element(12, 1, 1.0);
        let fit = Reml::fit(x, y.clone(), vec![indicator(&groups)]).expect("fit");
        let grand = y.mean();
        let means: Vec<f64> = data
            .iter()
            .map(|r| r.iter().sum::<f64>() / m as f64)
            .collect();
        let msb =
            means.iter().map(|a| (a - grand).powi(2)).sum::<f64>() * m as f64 / (g - 1) as f64;
        let msw = data
            .iter()
            .zip(&means)
            .map(|(r, a)| r.iter().map(|v| (v - a).powi(2)).sum::<f64>())
            .sum::<f64>()
            / (g * (m - 1)) as f64;
        assert!(
            (fit.theta[1] - msw).abs() < 1e-9 * msw,
            "{:?} {msw}",
            fit.theta
        );
        let sb = (msb - msw) / m as f64;
        assert!(
            (fit.theta[0] - sb).abs() < 1e-9 * sb,
            "{:?} {sb}",
            fit.theta
        );
    }

    /// A component whose ANOVA estimate would be negative stays at 0, and the fit is then
    /// ordinary least squares.
    #[test]
    fn a_negative_component_stops_at_zero() {
        // Group means almost equal, large within-group spread.
        let y = DVector::from_vec(vec![1.0, 3.0, 2.0, 2.9, 1.1, 2.0, 2.0, 1.0, 3.0]);
        let groups = [0, 0, 0, 1, 1, 1, 2, 2, 2];
        let x = DMatrix::from_element(9, 1, 1.0);
        let fit = Reml::fit(x, y.clone(), vec![indicator(&groups)]).expect("fit");
        assert_eq!(fit.theta[0], 0.0, "{:?}", fit.theta);
        let s2 = y.iter().map(|v| (v - y.mean()).powi(2)).sum::<f64>() / 8.0;
        assert!((fit.theta[1] - s2).abs() < 1e-9, "{:?} {s2}", fit.theta);
    }

    #[test]
    fn independent_columns_skip_aliases() {
        let x = DMatrix::from_row_slice(
            4,
            4,
            &[
                1.0, 1.0, 0.0, 1.0, //
                1.0, 1.0, 0.0, 1.0, //
                1.0, 0.0, 1.0, 0.0, //
                1.0, 0.0, 0.0, 0.0,
            ],
        );
        assert_eq!(independent_columns(&x), vec![0, 1, 2]);
    }

    #[test]
    fn fai_cornelius_as_lmertest() {
        assert_eq!(combine_df(&[7.5]), 7.5);
        assert_eq!(combine_df(&[6.0, 6.0]), 6.0);
        assert_eq!(combine_df(&[1.5, 9.0]), 2.0);
        let e: f64 = 4.0 / 2.0 + 10.0 / 8.0;
        assert!((combine_df(&[4.0, 10.0]) - 2.0 * e / (e - 2.0)).abs() < 1e-12);
    }
}
