//! `mnist-lab merge`: run folders of one run (e.g. trained on machines without a shared file
//! system) combined into one. A unit that ended in several folders with the same numbers is
//! taken once; with different numbers it is a conflict, reported and left out, never chosen.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::units::{self, WriterLock};
use super::{RunRecord, UnitRecord};
use crate::spec::Metric;

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
    /// One line per unit taken whose weights no source holds.
    pub no_weights: Vec<String>,
}

/// What a unit learned, epoch by epoch: each epoch's number and values, timings aside (they
/// differ between machines and runs of the same training).
fn learned(v: &UnitRecord) -> Vec<(usize, Vec<Option<f64>>)> {
    v.history
        .iter()
        .map(|m| (m.epoch, Metric::all().map(|k| k.of(m)).collect()))
        .collect()
}

/// Two copies of a unit are the same result when they ended the same way and learned the
/// same numbers, bit for bit.
fn same_result(a: &UnitRecord, b: &UnitRecord) -> bool {
    let bits = |v: &UnitRecord| -> Vec<(usize, Vec<Option<u64>>)> {
        learned(v)
            .into_iter()
            .map(|(e, xs)| (e, xs.iter().map(|x| x.map(f64::to_bits)).collect()))
            .collect()
    };
    a.status == b.status && a.failure == b.failure && bits(a) == bits(b)
}

/// Where two copies first differ, for the conflict's line.
fn difference(a: &UnitRecord, b: &UnitRecord) -> String {
    if a.status != b.status {
        return format!("{:?} vs {:?}", a.status, b.status).to_lowercase();
    }
    let (la, lb) = (learned(a), learned(b));
    if la.len() != lb.len() {
        return format!("{} vs {} epochs", la.len(), lb.len());
    }
    // Every value was an f32: shown as one.
    let show = |v: Option<f64>| v.map_or("none".into(), |v| format!("{}", v as f32));
    for ((ea, xa), (eb, xb)) in la.iter().zip(&lb) {
        if ea != eb {
            return format!("epoch {ea} vs {eb}");
        }
        for (k, metric) in Metric::all().enumerate() {
            if xa[k].map(f64::to_bits) != xb[k].map(f64::to_bits) {
                return format!(
                    "epoch {ea}: {} {} vs {}",
                    metric.name(),
                    show(xa[k]),
                    show(xb[k])
                );
            }
        }
    }
    "failure messages differ".into()
}

/// One unit's outcome, decided before anything is written.
struct Take {
    index: usize,
    record: UnitRecord,
    /// The weights file, in whichever source has it (None: no source has them). Only its
    /// path and digest are held: a merge of thousands of units streams each file when it
    /// writes it, instead of holding them all.
    weights: Option<WeightsCopy>,
}

/// A source's weights file, checked (a regular file within its bound) and digested before
/// anything is written.
struct WeightsCopy {
    path: PathBuf,
    sha256: [u8; 32],
}

/// Streams `from` through SHA-256 into `out` (when given); returns the digest.
fn stream_digest(
    from: &mut impl std::io::Read,
    mut out: Option<&mut dyn std::io::Write>,
) -> std::io::Result<[u8; 32]> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        if let Some(w) = out.as_mut() {
            w.write_all(&buf[..n])?;
        }
    }
    Ok(h.finalize().into())
}

/// Writes the checked weights `copy` of unit `name` into `folder`, streamed; refused (and
/// nothing left) when the source changed since it was checked.
fn write_copy(folder: &Path, name: &str, copy: &WeightsCopy) -> Result<()> {
    super::safe::real_dir(folder)?;
    let (mut from, _) = super::safe::open_bounded(&copy.path, super::safe::limit::WEIGHTS)
        .map_err(|e| anyhow::anyhow!(super::safe::describe(&copy.path, &e)))?;
    let mut digest = None;
    super::write_atomic_with(&folder.join(super::weights_file_name(name)), |f| {
        digest = Some(stream_digest(&mut from, Some(f))?);
        Ok(())
    })?;
    anyhow::ensure!(
        digest == Some(copy.sha256),
        "{}: changed while the merge was copying it; nothing of it was kept",
        copy.path.display()
    );
    Ok(())
}

/// Merges `sources` into `to`: created, or joined when it holds the same run. All or
/// nothing: every source is read and checked (numbers, paths, the same run and data) and
/// every weights file read before anything is written; a new target is built in a temporary
/// folder beside it and renamed into place. Each unit's weights come from any source that has
/// them, so the order of the sources does not matter.
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
    super::refuse_export(to)?;
    let existing = if to.join(super::RUN_FILE).exists() {
        let theirs = super::load_run_file(to)?;
        units::check_same_run(to, &theirs, first)?;
        Some(super::load(to)?)
    } else {
        let foreign = std::fs::read_dir(to)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        anyhow::ensure!(
            !foreign,
            "{}: the merge target holds files but no run; give a new folder or a run folder \
             of the same run",
            to.display()
        );
        None
    };
    let mut report = MergeReport::default();
    let mut takes = Vec::new();
    for (i, manifest_unit) in first.units.iter().enumerate() {
        let mut copies: Vec<(&Path, &UnitRecord)> = runs
            .iter()
            .map(|(d, r)| (d.as_path(), &r.units[i]))
            .filter(|(_, v)| v.status.is_done())
            .collect();
        let target_done = existing
            .as_ref()
            .map(|t| &t.units[i])
            .filter(|v| v.status.is_done());
        if let Some(v) = target_done {
            copies.insert(0, (to, v));
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
        if target_done.is_some() {
            report.already += 1;
            continue;
        }
        let (weights, passed) = weights_from_any(
            &copies,
            &manifest_unit.spec.name,
            super::safe::limit::weights(&manifest_unit.spec.arch),
        )?;
        if weights.is_none() && chosen.weights.is_some() {
            report.no_weights.push(format!(
                "unit {i} ({}): no source holds its weights{}; its results are merged without \
                 them",
                manifest_unit.spec.name,
                if passed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", passed.join("; "))
                }
            ));
        }
        takes.push(Take {
            index: i,
            record: chosen.clone(),
            weights,
        });
    }
    match existing {
        Some(_) => write_into_run(to, &takes, &mut report)?,
        None => build_then_rename(to, first, &takes, &mut report)?,
    }
    Ok(report)
}

/// The weights of a unit from the first copy (in any source) whose file is there: a path
/// that leaves its folder is an error; a missing file, or what is no regular file within its
/// bound (a pipe, a folder, a giant: never opened to wait on, never read), sends us on to
/// the next copy, and the reasons are returned for the report.
fn weights_from_any(
    copies: &[(&Path, &UnitRecord)],
    name: &str,
    limit: u64,
) -> Result<(Option<WeightsCopy>, Vec<String>)> {
    let mut passed = Vec::new();
    for (dir, v) in copies {
        let Some(rel) = &v.weights else { continue };
        let path = super::safe::inside(dir, rel)
            .with_context(|| format!("{}: the weights of {name:?}", dir.display()))?;
        let mut f = match super::safe::open_bounded(&path, limit) {
            Ok((f, _)) => f,
            Err(e) => {
                passed.push(super::safe::describe(&path, &e));
                continue;
            }
        };
        let sha256 = stream_digest(&mut f, None)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        return Ok((Some(WeightsCopy { path, sha256 }), passed));
    }
    Ok((None, passed))
}

/// The unit's record as the target keeps it: its weights under the target's own name for
/// them, or none.
fn as_taken(take: &Take) -> UnitRecord {
    let mut v = take.record.clone();
    v.weights = take
        .weights
        .as_ref()
        .map(|_| super::weights_record_path(&v.spec.name));
    v
}

/// A new target: everything is written into a temporary folder beside it, then renamed.
fn build_then_rename(
    to: &Path,
    first: &RunRecord,
    takes: &[Take],
    report: &mut MergeReport,
) -> Result<()> {
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("{}: cannot create", parent.display()))?;
    let name = to
        .file_name()
        .map(|n| super::sanitize(&n.to_string_lossy()))
        .unwrap_or_else(|| "merged".into());
    let tmp = super::create_unique_dir(
        &parent,
        &format!(".{name}{}merge-{}", super::TMP_MARK, std::process::id()),
    )?;
    let result = (|| -> Result<()> {
        units::create_manifest(&tmp, first)?;
        for t in takes {
            if let Some(copy) = &t.weights {
                write_copy(&tmp.join(super::WEIGHTS_DIR), &t.record.spec.name, copy)?;
            }
            units::save_unit(&tmp, t.index, &as_taken(t))?;
        }
        // An empty folder the user made for the target is replaced; anything else is not.
        std::fs::rename(&tmp, to).with_context(|| {
            format!(
                "{}: cannot move the merged run into place (did something appear there?)",
                to.display()
            )
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result?;
    report.taken = takes.len();
    Ok(())
}

/// A target that holds the run already: each unit taken under its lock (a writer training
/// into the target cannot race us), weights before the unit file, so the target is a
/// readable run after every unit.
fn write_into_run(to: &Path, takes: &[Take], report: &mut MergeReport) -> Result<()> {
    let theirs = super::load_run_file(to)?;
    if theirs.layout.is_none() {
        units::migrate(to, &theirs)?;
    }
    let _writer = WriterLock::take(to)?;
    for t in takes {
        let Some(_lock) = units::claim_unit(to, t.index, &t.record.spec.name)? else {
            report.already += 1;
            continue;
        };
        if let Some(copy) = &t.weights {
            write_copy(&to.join(super::WEIGHTS_DIR), &t.record.spec.name, copy)?;
        }
        units::save_unit(to, t.index, &as_taken(t))?;
        report.taken += 1;
    }
    Ok(())
}
