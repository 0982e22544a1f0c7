//! `mnist-lab merge`: run folders of one run (e.g. trained on machines without a shared file
//! system) combined into one. A unit that ended in several folders with the same numbers is
//! taken once; with different numbers it is a conflict, reported and left out, never chosen.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::units::{self, WriterLock};
use super::{RunRecord, VariantRecord};

/// What a merge did.
#[derive(Debug, Default, PartialEq)]
pub struct MergeReport {
    /// Units written into the target.
    pub taken: usize,
    /// Units the target already had, the same in every source.
    pub already: usize,
    /// Units no folder has finished.
    pub missing: usize,
    /// One line per unit that ended differently in two folders.
    pub conflicts: Vec<String>,
}

/// What a unit learned, epoch by epoch: each epoch's number and values, timings aside (they
/// differ between machines and runs of the same training).
fn learned(v: &VariantRecord) -> Vec<(usize, [Option<f32>; 7])> {
    v.history.iter().map(|m| (m.epoch, m.values())).collect()
}

/// Two copies of a unit are the same result when they ended the same way and learned the
/// same numbers, bit for bit.
fn same_result(a: &VariantRecord, b: &VariantRecord) -> bool {
    let bits = |v: &VariantRecord| -> Vec<(usize, Vec<Option<u32>>)> {
        learned(v)
            .into_iter()
            .map(|(e, xs)| (e, xs.iter().map(|x| x.map(f32::to_bits)).collect()))
            .collect()
    };
    a.status == b.status && a.failure == b.failure && bits(a) == bits(b)
}

/// Where two copies first differ, for the conflict's line.
fn difference(a: &VariantRecord, b: &VariantRecord) -> String {
    if a.status != b.status {
        return format!("{:?} vs {:?}", a.status, b.status).to_lowercase();
    }
    let (la, lb) = (learned(a), learned(b));
    if la.len() != lb.len() {
        return format!("{} vs {} epochs", la.len(), lb.len());
    }
    let show = |v: Option<f32>| v.map_or("none".into(), |v| format!("{v}"));
    for ((ea, xa), (eb, xb)) in la.iter().zip(&lb) {
        if ea != eb {
            return format!("epoch {ea} vs {eb}");
        }
        for (k, name) in crate::spec::EpochMetrics::VALUE_NAMES.iter().enumerate() {
            if xa[k].map(f32::to_bits) != xb[k].map(f32::to_bits) {
                return format!("epoch {ea}: {name} {} vs {}", show(xa[k]), show(xb[k]));
            }
        }
    }
    "failure messages differ".into()
}

/// Merges `sources` into `to` (created, or joined when it holds the same run).
pub fn merge(sources: &[PathBuf], to: &Path) -> Result<MergeReport> {
    anyhow::ensure!(!sources.is_empty(), "give at least one run folder to merge");
    let runs: Vec<(PathBuf, RunRecord)> = sources
        .iter()
        .map(|d| super::load(d).map(|r| (d.clone(), r)))
        .collect::<Result<_>>()?;
    let (first_dir, first) = &runs[0];
    for (d, r) in &runs[1..] {
        units::check_same_run(d, r, first)
            .with_context(|| format!("cannot merge it with {}", first_dir.display()))?;
    }
    super::check_folder(to, "merge target")?;
    if to.join(super::RUN_FILE).exists() {
        let theirs = super::load_run_file(to)?;
        units::check_same_run(to, &theirs, first)?;
        if theirs.layout.is_none() {
            units::migrate(to, &theirs)?;
        }
    } else {
        units::create_manifest(to, first)?;
    }
    let _writer = WriterLock::take(to)?;
    let target = super::load(to)?;
    let mut report = MergeReport::default();
    for (i, manifest_unit) in first.variants.iter().enumerate() {
        let mut copies: Vec<(&Path, &VariantRecord)> = runs
            .iter()
            .map(|(d, r)| (d.as_path(), &r.variants[i]))
            .filter(|(_, v)| v.status.is_done())
            .collect();
        let existing = &target.variants[i];
        if existing.status.is_done() {
            copies.insert(0, (to, existing));
        }
        let Some(&(from, chosen)) = copies.first() else {
            report.missing += 1;
            continue;
        };
        if let Some((other, v)) = copies.iter().find(|(_, v)| !same_result(chosen, v)) {
            report.conflicts.push(format!(
                "unit {i} ({}) ended differently in {} and {}: {}",
                manifest_unit.spec.name,
                from.display(),
                other.display(),
                difference(chosen, v)
            ));
            continue;
        }
        if existing.status.is_done() {
            report.already += 1;
            continue;
        }
        // Under the unit's lock, so a writer training into the target cannot race us.
        let Some(_lock) = units::claim_unit(to, i, &manifest_unit.spec.name)? else {
            report.already += 1;
            continue;
        };
        if let Some(rel) = &chosen.weights {
            copy_weights(from, to, rel)?;
        }
        units::save_unit(to, i, chosen)?;
        report.taken += 1;
    }
    Ok(report)
}

/// Copies a unit's weights file (`rel` to its run folder) into the same place under `to`.
fn copy_weights(from: &Path, to: &Path, rel: &str) -> Result<()> {
    let src = from.join(rel);
    let bytes = match std::fs::read(&src) {
        Ok(b) => b,
        // Results without weights still merge; `eval` will say the weights are missing.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", src.display())),
    };
    let dst = to.join(rel);
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create", parent.display()))?;
    }
    super::write_atomic(&dst, &bytes)
}
