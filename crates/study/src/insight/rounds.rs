//! Seeds until decided (`seeds: Until(…)`): after each round, which variants get more seeds.
//!
//! The rule reads the finished units only, so every process that reads the same unit files
//! reaches the same decision: that is what lets the writers of a shared folder agree on the
//! next round without talking to each other (see `runs::units::grow_manifest`).

use crate::insight::stats::{self, Untestable};
use crate::preset::Until;
use crate::runs::{RunRecord, UnitStatus};
use crate::spec::Metric;
use crate::spec::UnitSpec;

/// What the last round's results ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No variant needs more seeds; why, in words.
    Decided(String),
    /// Take `variants` to `seeds` seeds each.
    More {
        seeds: usize,
        variants: Vec<String>,
        why: String,
    },
}

/// One comparison with the best that is still open, and why.
struct Open {
    name: String,
    reason: String,
}

/// The decision after the units of `record` (every one ended) under `until`.
pub fn decide(record: &RunRecord, until: &Until) -> Decision {
    let all = stats::per_variant(record);
    // Each look spends its share of the error (group-sequential), so stopping at the first
    // significant look does not inflate the chance of a false "not best".
    let Some(best) = super::sequential::best_set(record, &all, Metric::TestLoss) else {
        return Decision::Decided("no variant finished, so no round can help".into());
    };
    let on = best.chosen_on;
    let seeds_of = |name: &str| all.iter().find(|s| s.name == name).map_or(0, |s| s.units);
    let mut open = Vec::new();
    let mut narrow = 0;
    let mut decided = 0;
    let mut at_max = 0;
    for r in &best.rivals {
        let reason = match &r.test {
            // Told apart from the best: decided.
            Ok(_) if !r.in_set => {
                decided += 1;
                continue;
            }
            Ok(d) => {
                let half = (d.ci_high - d.ci_low) / 2.0;
                if half.is_finite() && half <= until.half_width {
                    narrow += 1;
                    continue;
                }
                format!(
                    "{} − {} = {:+.4}, 95% CI ±{:.4}, p adj. {:.3}",
                    r.name, best.best, d.diff, half, r.p_adjusted
                )
            }
            // Every seed gave the same difference: more seeds will not narrow it.
            Err(Untestable::NoSpread { .. }) => {
                narrow += 1;
                continue;
            }
            Err(Untestable::TooFewSeeds { .. }) => {
                format!("{} has too few finished seeds to test", r.name)
            }
        };
        if seeds_of(&r.name) >= until.max {
            at_max += 1;
            continue;
        }
        open.push(Open {
            name: r.name.clone(),
            reason,
        });
    }
    let n = seeds_of(&best.best);
    if open.is_empty() {
        let mut parts = Vec::new();
        if decided > 0 {
            parts.push(format!("{decided} told apart from the best"));
        }
        if narrow > 0 {
            parts.push(format!(
                "{narrow} within ±{} of it (95% CI half-width)",
                until.half_width
            ));
        }
        if at_max > 0 {
            parts.push(format!(
                "{at_max} still undecided at max {} seeds",
                until.max
            ));
        }
        let rivals = if parts.is_empty() {
            "it has no rival".to_string()
        } else {
            parts.join(", ")
        };
        return Decision::Decided(format!(
            "no more rounds after round {} on {}: best {} ({rivals})",
            record.round(),
            on.name(),
            best.best
        ));
    }
    let most = open
        .iter()
        .map(|o| seeds_of(&o.name))
        .chain(std::iter::once(n))
        .max()
        .unwrap_or(n);
    let seeds = most.saturating_add(until.step()).min(until.max);
    let mut variants = vec![best.best.clone()];
    variants.extend(open.iter().map(|o| o.name.clone()));
    let why = format!(
        "undecided against the best ({}) on {}: {}",
        best.best,
        on.name(),
        open.iter()
            .map(|o| o.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    Decision::More {
        seeds,
        variants,
        why,
    }
}

/// The units that take `variants` to `seeds` seeds each: each variant's seeds go on from its
/// first (the first unit's seed, then +1, +2, …, skipping any it has), so variants that
/// started from one seed stay paired. Interleaved like a preset's units.
pub fn new_units(record: &RunRecord, seeds: usize, variants: &[String]) -> Vec<UnitSpec> {
    let mut per_variant = Vec::new();
    for name in variants {
        let units: Vec<&UnitSpec> = record
            .units
            .iter()
            .map(|v| &v.spec)
            .filter(|s| s.variant_name() == name)
            .collect();
        let Some(first) = units.first() else {
            continue;
        };
        let have: Vec<u64> = units.iter().map(|s| s.seed).collect();
        let mut more = Vec::new();
        let mut k = 0u64;
        while have.len() + more.len() < seeds {
            let seed = first.seed.wrapping_add(k);
            if !have.contains(&seed) {
                more.push(seed);
            }
            k += 1;
        }
        let variant = first.variant_name().to_string();
        per_variant.push(
            more.iter()
                .map(|&seed| UnitSpec {
                    name: format!("{variant} · s{seed}"),
                    variant: variant.clone(),
                    seed,
                    ..(*first).clone()
                })
                .collect(),
        );
    }
    crate::preset::interleave(per_variant)
}

/// `record` with the round `decision` asks for appended (a queued unit per new seed), or
/// None when it asks for none.
pub fn grow(record: &RunRecord, decision: &Decision) -> Option<RunRecord> {
    let Decision::More {
        seeds,
        variants,
        why,
    } = decision
    else {
        return None;
    };
    let units = new_units(record, *seeds, variants);
    if units.is_empty() {
        return None;
    }
    let mut grown = record.clone();
    grown.rounds.push(crate::runs::record::Round {
        first_unit: grown.units.len(),
        seeds: *seeds,
        variants: variants.clone(),
        why: why.clone(),
    });
    grown
        .units
        .extend(units.into_iter().map(crate::runs::UnitRecord::queued));
    grown.complete = false;
    Some(grown)
}

/// Every unit has ended: the round's results can be read.
pub fn round_ended(record: &RunRecord) -> bool {
    record.units.iter().all(|v| v.status.is_done())
}

/// Units still queued or interrupted (not running anywhere, not ended).
pub fn claimable(record: &RunRecord) -> Vec<usize> {
    record
        .units
        .iter()
        .enumerate()
        .filter(|(_, v)| matches!(v.status, UnitStatus::Queued | UnitStatus::Interrupted))
        .map(|(i, _)| i)
        .collect()
}
