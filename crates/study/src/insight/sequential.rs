//! Adaptive seeds that keep their error rate: a group-sequential boundary for `seeds: Until`.
//!
//! `Until(min, max, step)` looks at the results after `min`, `min + step`, …, `max` seeds: up
//! to K looks. Testing each look at 0.05 would let a tied rival be declared "not best" far
//! more often than 5% (0.10 over 4 looks, 0.19 over 18, by simulation). Instead the error is
//! spent over the looks with the Lan–DeMets O'Brien–Fleming spending function
//! α(t) = 2 − 2Φ(z₁₋α/₂ / √t), t = seeds / max: look k is tested at the increment
//! α(t_k) − α(t_{k−1}). By Bonferroni over the looks the increments sum to α, so the chance of
//! any false verdict over the whole run is at most α (exact boundaries, by recursive
//! integration, would be a little less strict). Early looks get almost nothing: a rival is
//! stopped early only on a very clear difference.

use statrs::distribution::{ContinuousCDF, Normal};

use super::stats::{self, VariantStats, ALPHA};
use crate::preset::Until;
use crate::runs::RunRecord;
use crate::spec::Metric;

/// Where a run stands among its planned looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// 1-based.
    pub index: usize,
    pub looks: usize,
    /// Seeds of the best at this look.
    pub seeds: usize,
    /// The level this look's tests use.
    pub level: f64,
}

impl Look {
    /// "look 2 of 4 (6 seeds), tested at 0.0089: O'Brien–Fleming spending, Lan–DeMets"
    pub fn text(&self) -> String {
        format!(
            "look {} of {} ({} seeds), tested at {}: Lan–DeMets O'Brien–Fleming spending of \
             {ALPHA} over the looks, so the run as a whole keeps its error at most {ALPHA}",
            self.index,
            self.looks,
            self.seeds,
            level_text(self.level)
        )
    }
}

/// A level to the digits that show it ("0.0089", "0.00012").
pub fn level_text(level: f64) -> String {
    if level >= 0.01 {
        format!("{level:.3}")
    } else {
        format!("{level:.2e}")
    }
}

/// The seeds at each planned look of `until`: min, min + step, …, max.
pub fn planned(until: &Until) -> Vec<usize> {
    let mut n = vec![until.min];
    while *n.last().unwrap_or(&until.max) < until.max {
        let next = n.last().copied().unwrap_or(until.min) + until.step();
        n.push(next.min(until.max));
    }
    n
}

/// The O'Brien–Fleming-type spending function at information fraction `t`.
pub fn spent(t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    // All of it at the last look, exactly (the normal quantile's round trip is not).
    if t >= 1.0 {
        return ALPHA;
    }
    let n = Normal::standard();
    let z = n.inverse_cdf(1.0 - ALPHA / 2.0);
    2.0 - 2.0 * n.cdf(z / t.sqrt())
}

/// The look a run with `seeds` seeds of its best is at, and its level.
pub fn look(until: &Until, seeds: usize) -> Look {
    let plan = planned(until);
    let k = plan
        .iter()
        .position(|&n| n >= seeds)
        .unwrap_or(plan.len() - 1);
    let t = |i: usize| plan[i] as f64 / until.max as f64;
    let level = spent(t(k)) - if k == 0 { 0.0 } else { spent(t(k - 1)) };
    Look {
        index: k + 1,
        looks: plan.len(),
        seeds: plan[k],
        level,
    }
}

/// The look of `record`, where it adds seeds until decided; None for a fixed design.
pub fn look_of(record: &RunRecord, stats: &[VariantStats], metric: Metric) -> Option<Look> {
    let until = record.until.as_ref()?;
    // The best is the variant with the best mean: no test needed to find it.
    let (_, ranked) = stats::ranked_on_selection(stats, metric);
    let seeds = ranked.first()?.0.values.len();
    Some(look(until, seeds))
}

/// The best set as the run's design allows: at the look's level for an adaptive run, at
/// 0.05 for a fixed one, by the run's test (`test:`).
pub fn best_set(
    record: &RunRecord,
    stats: &[VariantStats],
    metric: Metric,
) -> Option<stats::BestSet> {
    let level = look_of(record, stats, metric).map_or(ALPHA, |l| l.level);
    stats::best_set_at(stats, metric, level, record.test)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn until(min: usize, max: usize, step: Option<usize>) -> Until {
        Until {
            min,
            max,
            half_width: 0.0,
            step,
        }
    }

    #[test]
    fn the_levels_of_every_look_sum_to_alpha() {
        for u in [
            until(3, 6, Some(1)),
            until(3, 10, None),
            until(3, 20, Some(1)),
            until(4, 4, None),
        ] {
            let plan = planned(&u);
            assert_eq!(*plan.last().unwrap(), u.max);
            let total: f64 = plan.iter().map(|&n| look(&u, n).level).sum();
            assert!((total - ALPHA).abs() < 1e-12, "{u:?}: {total}");
            // Later looks get more than early ones.
            assert!(look(&u, u.min).level <= look(&u, u.max).level);
        }
        // One look: the fixed test.
        assert!((look(&until(5, 5, None), 5).level - ALPHA).abs() < 1e-12);
    }

    #[test]
    fn the_spending_function_matches_scipy() {
        // 2 - 2 * norm.cdf(norm.ppf(0.975) / sqrt(0.5)) = 0.005574596680784305
        assert!((spent(0.5) - 0.005574596680784305).abs() < 1e-9);
        assert!((spent(1.0) - 0.05).abs() < 1e-12);
    }
}
