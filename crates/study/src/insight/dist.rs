//! Distributions statrs does not have: the studentized range (Tukey's HSD) and the power of a
//! paired t-test (the noncentral t). Both are one integral over S = sqrt(χ²_ν / ν), done by
//! composite Gauss–Legendre quadrature; checked against SciPy and statsmodels in tests/stats.rs.

use statrs::function::{erf::erfc, gamma::ln_gamma};

/// Standard normal CDF.
fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Nodes and weights of n-point Gauss–Legendre quadrature on [-1, 1] (Newton on P_n).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let p2 = ((2 * k - 1) as f64 * x * p1 - (k - 1) as f64 * p0) / k as f64;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-15 {
                break;
            }
        }
        out.push((x, 2.0 / ((1.0 - x * x) * dp * dp)));
    }
    out
}

/// ∫ f over [lo, hi] in `panels` pieces of 10-point Gauss–Legendre.
fn integrate(lo: f64, hi: f64, panels: usize, f: impl Fn(f64) -> f64) -> f64 {
    thread_local! {
        static GL: Vec<(f64, f64)> = gauss_legendre(10);
    }
    GL.with(|gl| {
        let h = (hi - lo) / panels as f64;
        let mut sum = 0.0;
        for p in 0..panels {
            let mid = lo + (p as f64 + 0.5) * h;
            for &(x, w) in gl {
                sum += w * f(mid + 0.5 * h * x);
            }
        }
        sum * 0.5 * h
    })
}

/// E[g(S)] for S = sqrt(χ²_ν / ν); S ≡ 1 for very large ν.
fn expect_over_s(df: f64, g: impl Fn(f64) -> f64) -> f64 {
    if df > 1e6 {
        return g(1.0);
    }
    let spread = 1.0 / (2.0 * df).sqrt();
    let lo = (1.0 - 9.0 * spread).max(0.0);
    let hi = 1.0 + 10.0 * spread.max(0.35);
    let log_c = 0.5 * df * df.ln() - ln_gamma(0.5 * df) - (0.5 * df - 1.0) * 2f64.ln();
    integrate(lo, hi, 40, |s| {
        if s <= 0.0 {
            return 0.0;
        }
        let log_f = log_c + (df - 1.0) * s.ln() - 0.5 * df * s * s;
        log_f.exp() * g(s)
    })
}

/// P(range of k standard normals ≤ w).
fn normal_range_cdf(w: f64, k: usize) -> f64 {
    if w <= 0.0 {
        return 0.0;
    }
    let k = k as f64;
    let density = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let v = k * integrate(-8.5, 8.5 + w.min(30.0), 30, |z| {
        let d = phi(z) - phi(z - w);
        if d <= 0.0 {
            0.0
        } else {
            density(z) * d.powf(k - 1.0)
        }
    });
    v.clamp(0.0, 1.0)
}

/// CDF of the studentized range distribution with `k` means and `df` degrees of freedom
/// (SciPy's `studentized_range.cdf(q, k, df)`).
pub fn studentized_range_cdf(q: f64, k: usize, df: f64) -> f64 {
    if q.is_nan() || q <= 0.0 || k < 2 || df.is_nan() || df <= 0.0 {
        return if q > 0.0 { f64::NAN } else { 0.0 };
    }
    expect_over_s(df, |s| normal_range_cdf(q * s, k)).clamp(0.0, 1.0)
}

/// Upper-tail p of a studentized range statistic.
pub fn studentized_range_sf(q: f64, k: usize, df: f64) -> f64 {
    (1.0 - studentized_range_cdf(q, k, df)).clamp(0.0, 1.0)
}

/// The `p` quantile of the studentized range (SciPy's `studentized_range.ppf`), by bisection;
/// remembered, as a report asks for the same few (k, df) many times.
pub fn studentized_range_quantile(p: f64, k: usize, df: f64) -> f64 {
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Quantiles = HashMap<(u64, usize, u64), f64>;
    static CACHE: Mutex<Option<Quantiles>> = Mutex::new(None);
    let key = (p.to_bits(), k, df.to_bits());
    if let Some(q) = CACHE
        .lock()
        .ok()
        .and_then(|c| c.as_ref().and_then(|m| m.get(&key).copied()))
    {
        return q;
    }
    let q = quantile_uncached(p, k, df);
    if let Ok(mut c) = CACHE.lock() {
        c.get_or_insert_with(HashMap::new).insert(key, q);
    }
    q
}

fn quantile_uncached(p: f64, k: usize, df: f64) -> f64 {
    if !(0.0..1.0).contains(&p) || k < 2 || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    solve_increasing(|q| studentized_range_cdf(q, k, df), p, 0.0, 10.0, 1e6, 1e-8)
        .unwrap_or(f64::NAN)
}

/// The x in [lo, ∞) where the increasing `f` reaches `target`: the bracket's top doubles from
/// `hi` until it gets there (None past `limit`), then bisection to relative width `tol`.
fn solve_increasing(
    f: impl Fn(f64) -> f64,
    target: f64,
    mut lo: f64,
    mut hi: f64,
    limit: f64,
    tol: f64,
) -> Option<f64> {
    while f(hi) < target {
        lo = hi;
        hi *= 2.0;
        if hi > limit {
            return None;
        }
    }
    while hi - lo > tol * hi {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// Power of a two-sided one-sample (paired) t-test at level `alpha` with `n` pairs and
/// standardized effect `d` = difference / sd of the differences (statsmodels'
/// `TTestPower().power(d, n, alpha)`).
pub fn paired_t_power(d: f64, n: f64, alpha: f64) -> f64 {
    if n < 2.0 {
        return f64::NAN;
    }
    let df = n - 1.0;
    let Ok(t) = statrs::distribution::StudentsT::new(0.0, 1.0, df) else {
        return f64::NAN;
    };
    use statrs::distribution::ContinuousCDF;
    let crit = t.inverse_cdf(1.0 - alpha / 2.0);
    let nc = d * n.sqrt();
    expect_over_s(df, |s| phi(nc - crit * s) + phi(-nc - crit * s)).clamp(0.0, 1.0)
}

/// The standardized effect a paired t-test with `n` pairs detects with probability `power`.
pub fn detectable_effect(n: f64, alpha: f64, power: f64) -> f64 {
    if n < 2.0 {
        return f64::NAN;
    }
    solve_increasing(|d| paired_t_power(d, n, alpha), power, 0.0, 1.0, 1e6, 1e-10)
        .unwrap_or(f64::NAN)
}

/// The number of pairs (fractional, as statsmodels' `solve_power` gives it) a paired t-test
/// needs to detect standardized effect `d` with probability `power`.
pub fn pairs_needed(d: f64, alpha: f64, power: f64) -> f64 {
    if d == 0.0 || !d.is_finite() {
        return f64::INFINITY;
    }
    let d = d.abs();
    if paired_t_power(d, 2.0, alpha) >= power {
        return 2.0;
    }
    solve_increasing(|n| paired_t_power(d, n, alpha), power, 2.0, 4.0, 1e9, 1e-7)
        .unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_of_two_normals_is_a_scaled_half_normal() {
        // Range of 2 standard normals is |Z1 − Z2| = sqrt(2)|Z|.
        for w in [0.5, 1.0, 2.77, 4.0] {
            let exact = 2.0 * phi(w / std::f64::consts::SQRT_2) - 1.0;
            assert!((normal_range_cdf(w, 2) - exact).abs() < 1e-10, "{w}");
        }
    }

    #[test]
    fn s_density_integrates_to_one() {
        for df in [1.0, 2.0, 5.0, 30.0, 1000.0] {
            assert!((expect_over_s(df, |_| 1.0) - 1.0).abs() < 1e-9, "{df}");
        }
    }
}
