//! Each effect against its own error: the repeated-measures decomposition of a seed-blocked
//! design where every seed trained every cell once. Seeds are subjects; a term's error is the
//! seed × term interaction (its stratum), so an effect that seeds answer differently is judged
//! by that spread, not by a residual pooled over every effect (statsmodels' `AnovaRM`).
//!
//! Each term is a set of orthonormal contrasts over the cells; per seed, the contrasts of its
//! cell values give a vector z_s. The effect's SS is S·|z̄|², its error SS Σ|z_s − z̄|², with
//! (S−1)·df degrees of freedom. A 1-df effect's F is the square of the paired t of its per-seed
//! contrast; more df get the Greenhouse–Geisser ε from the covariance of the z_s.

use nalgebra::{DMatrix, DVector};

/// One term's stratum.
#[derive(Debug, Clone, PartialEq)]
pub struct Stratum {
    /// Indices of the model factors in the term.
    pub factors: Vec<usize>,
    pub df: usize,
    pub ss: f64,
    pub error_df: usize,
    pub error_ss: f64,
    /// Greenhouse–Geisser ε in [1/df, 1] (1 for a 1-df term).
    pub epsilon: f64,
}

/// The cell values of every seed: `y[s][c]`, cells in mixed radix over the factors' levels
/// (the first factor varies slowest).
pub struct Cells {
    pub sizes: Vec<usize>,
    pub y: Vec<Vec<f64>>,
}

impl Cells {
    /// `obs`: (levels per factor, seed index, value). None unless every seed has exactly one
    /// value in every cell.
    pub fn complete(
        sizes: &[usize],
        seeds: usize,
        obs: &[(Vec<usize>, usize, f64)],
    ) -> Option<Cells> {
        let cells: usize = sizes.iter().product();
        if seeds < 2 || cells < 2 {
            return None;
        }
        let mut y = vec![vec![f64::NAN; cells]; seeds];
        for (levels, s, v) in obs {
            let c = levels.iter().zip(sizes).fold(0, |acc, (l, n)| acc * n + l);
            if !y[*s][c].is_nan() {
                return None;
            }
            y[*s][c] = *v;
        }
        y.iter().flatten().all(|v| v.is_finite()).then(|| Cells {
            sizes: sizes.to_vec(),
            y,
        })
    }

    /// The complete cases: the seeds that have exactly one value in every cell (others left
    /// out, as `AnovaRM` requires), with the indices of those left out. None unless two or
    /// more seeds are complete and every cell is present.
    pub fn complete_seeds(
        sizes: &[usize],
        seeds: usize,
        obs: &[(Vec<usize>, usize, f64)],
    ) -> Option<(Cells, Vec<usize>)> {
        let cells: usize = sizes.iter().product();
        let mut count = vec![vec![0usize; cells]; seeds];
        for (levels, s, _) in obs {
            let c = levels.iter().zip(sizes).fold(0, |acc, (l, n)| acc * n + l);
            count[*s][c] += 1;
        }
        let kept: Vec<usize> = (0..seeds)
            .filter(|&s| count[s].iter().all(|&n| n == 1))
            .collect();
        if kept.len() < 2 {
            return None;
        }
        let left: Vec<usize> = (0..seeds).filter(|s| !kept.contains(s)).collect();
        let rows: Vec<(Vec<usize>, usize, f64)> = obs
            .iter()
            .filter_map(|(l, s, v)| {
                let k = kept.iter().position(|x| x == s)?;
                Some((l.clone(), k, *v))
            })
            .collect();
        Cells::complete(sizes, kept.len(), &rows).map(|c| (c, left))
    }

    fn seeds(&self) -> usize {
        self.y.len()
    }

    /// The orthonormal contrasts of the term `factors`: a Kronecker product of Helmert
    /// contrasts (factors in the term) and normalised ones (the others). Cells × df.
    fn contrasts(&self, factors: &[usize]) -> DMatrix<f64> {
        let mut k = DMatrix::<f64>::from_element(1, 1, 1.0);
        for (i, &n) in self.sizes.iter().enumerate() {
            let m = if factors.contains(&i) {
                helmert(n)
            } else {
                DMatrix::from_element(n, 1, 1.0 / (n as f64).sqrt())
            };
            k = k.kronecker(&m);
        }
        k
    }

    /// Per-seed contrast vectors of a term: seeds × df.
    fn z(&self, factors: &[usize]) -> DMatrix<f64> {
        let k = self.contrasts(factors);
        let y = DMatrix::from_fn(self.seeds(), k.nrows(), |s, c| self.y[s][c]);
        y * k
    }

    pub fn stratum(&self, factors: &[usize]) -> Stratum {
        let z = self.z(factors);
        let (s, df) = (z.nrows(), z.ncols());
        let mean = DVector::from_fn(df, |j, _| z.column(j).mean());
        let d = DMatrix::from_fn(s, df, |i, j| z[(i, j)] - mean[j]);
        let error_ss = d.norm_squared();
        let cov = d.transpose() * &d / (s as f64 - 1.0);
        let tr = cov.trace();
        let tr2 = (&cov * &cov).trace();
        let epsilon = if df <= 1 || tr2 <= 0.0 {
            1.0
        } else {
            (tr * tr / (df as f64 * tr2)).clamp(1.0 / df as f64, 1.0)
        };
        Stratum {
            factors: factors.to_vec(),
            df,
            ss: s as f64 * mean.norm_squared(),
            error_df: (s - 1) * df,
            error_ss,
            epsilon,
        }
    }

    /// Each seed's mean over the cells at `level` of factor `f`: seeds values.
    pub fn seed_means(&self, f: usize, level: usize) -> Vec<f64> {
        let stride: usize = self.sizes[f + 1..].iter().product();
        let n = self.sizes[f];
        self.y
            .iter()
            .map(|row| {
                let at: Vec<f64> = row
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| (c / stride) % n == level)
                    .map(|(_, v)| *v)
                    .collect();
                at.iter().sum::<f64>() / at.len() as f64
            })
            .collect()
    }

    /// Cells at each level of factor `f`.
    pub fn cells_per_level(&self, f: usize) -> usize {
        self.sizes.iter().product::<usize>() / self.sizes[f]
    }
}

/// n × (n−1) orthonormal contrasts, each orthogonal to the ones vector.
fn helmert(n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(n, n - 1, |i, j| {
        let k = j + 1; // contrast k: the first k levels against level k
        let norm = ((k * (k + 1)) as f64).sqrt();
        if i < k {
            1.0 / norm
        } else if i == k {
            -(k as f64) / norm
        } else {
            0.0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmert_contrasts_are_orthonormal_and_sum_to_zero() {
        for n in 2..6 {
            let h = helmert(n);
            let g = h.transpose() * &h;
            assert!((g - DMatrix::identity(n - 1, n - 1)).norm() < 1e-12);
            for j in 0..n - 1 {
                assert!(h.column(j).sum().abs() < 1e-12);
            }
        }
    }

    #[test]
    fn a_one_df_stratum_is_the_paired_t_squared() {
        // Two cells, four seeds: F = t² of the paired differences.
        let y = vec![
            vec![1.0, 1.5],
            vec![2.0, 2.2],
            vec![0.5, 1.4],
            vec![1.0, 1.2],
        ];
        let c = Cells {
            sizes: vec![2],
            y: y.clone(),
        };
        let st = c.stratum(&[0]);
        let d: Vec<f64> = y.iter().map(|r| r[1] - r[0]).collect();
        let m = d.iter().sum::<f64>() / 4.0;
        let var = d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 3.0;
        let t2 = m * m / (var / 4.0);
        let f = (st.ss / st.df as f64) / (st.error_ss / st.error_df as f64);
        assert!((f - t2).abs() < 1e-9 * t2, "{f} vs {t2}");
        assert_eq!(st.error_df, 3);
    }

    #[test]
    fn an_incomplete_layout_has_no_strata() {
        let obs = vec![(vec![0], 0, 1.0), (vec![1], 0, 2.0), (vec![0], 1, 1.0)];
        assert!(Cells::complete(&[2], 2, &obs).is_none());
    }
}
