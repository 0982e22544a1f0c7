//! Exports of a run, in formats other tools read: epochs.csv (long format), summary.csv and
//! summary.md (the study's table), curves.png/.svg, confusion matrices, weights/, run.json.
//! It sits above the store (which only records, saves, lists and loads) and may evaluate.

pub mod analysis;
pub mod plot;
pub mod tensorboard;

pub use analysis::{
    anova_csv, comparisons, effects_csv, write_comparisons_csv, ANOVA_HEADER, COMPARISONS_HEADER,
    EFFECTS_HEADER, MD_COMPARISONS,
};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::report;
use crate::runs::{
    find_weights, sanitize, save, write_atomic, RunRecord, VariantStatus, WEIGHTS_DIR,
};

/// Quotes a CSV field when it needs it (RFC 4180).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub const EPOCHS_HEADER: &str = "variant,epoch,train_loss,train_acc,test_loss,test_acc,seconds,\
val_loss,val_acc,lr,group,seed";

/// One row per unit per epoch (`variant` is the unit's name; `group` the variant it repeats).
pub fn epochs_csv(record: &RunRecord) -> String {
    let mut out = String::from(EPOCHS_HEADER);
    out.push('\n');
    let opt = |x: Option<f32>| x.map(|x| x.to_string()).unwrap_or_default();
    for v in &record.variants {
        for m in &v.history {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&v.spec.name),
                m.epoch,
                m.train_loss,
                m.train_acc,
                m.test_loss,
                m.test_acc,
                m.seconds,
                opt(m.val_loss),
                opt(m.val_acc),
                opt(m.lr),
                csv_field(v.spec.variant_name()),
                v.spec.seed
            );
        }
    }
    out
}

/// A number for a CSV cell: empty when unknown (NaN: one seed has no spread).
pub(crate) fn num(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

pub const SUMMARY_HEADER: &str = "variant,layers,arch,n,test_loss,test_loss_sd,test_loss_ci_low,\
test_loss_ci_high,test_acc,test_acc_sd,test_acc_ci_low,test_acc_ci_high,best_epoch_test_loss,\
best_epoch_test_loss_ci_low,best_epoch_test_loss_ci_high,epochs,drop_rate,optimizer,lr,\
activation,bn_dropout,validation,study_test_loss,study_test_acc,units_finished,units";

/// One row per variant: over its finished seeds, the mean, sample sd and 95% CI (Student's t)
/// of the final test loss and accuracy, and of the test loss at the best validation epoch.
/// Empty cells where unknown (no finished unit; one seed has no sd or CI).
pub fn summary_csv(record: &RunRecord) -> String {
    use crate::insight::stats;
    let mut out = String::from(SUMMARY_HEADER);
    out.push('\n');
    let opt = |x: Option<f32>| x.map(|x| x.to_string()).unwrap_or_default();
    for v in stats::per_variant(record) {
        let s = &v.spec;
        let e = |e: &stats::Estimate| [num(e.mean), num(e.sd), num(e.ci_low), num(e.ci_high)];
        let [lm, lsd, llo, lhi] = e(&v.loss);
        let [am, asd, alo, ahi] = e(&v.acc);
        let [bm, _, blo, bhi] = e(&v.best_epoch_loss);
        let row = [
            csv_field(&v.name),
            s.hidden_layers().to_string(),
            s.arch.name(),
            v.loss.n.to_string(),
            lm,
            lsd,
            llo,
            lhi,
            am,
            asd,
            alo,
            ahi,
            bm,
            blo,
            bhi,
            s.epochs.to_string(),
            s.effective_dropout()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            s.optimizer.label(),
            s.optimizer.lr().to_string(),
            csv_field(&s.activation.label()),
            s.placement.to_string(),
            csv_field(&s.validation.label()),
            opt(s.reference.map(|r| r.test_loss)),
            opt(s.reference.map(|r| r.test_acc)),
            v.loss.n.to_string(),
            v.units.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

pub const UNITS_HEADER: &str = "unit,variant,seed,status,epochs_trained,test_loss,test_acc,\
best_epoch,best_epoch_val_loss,best_epoch_test_loss,early_stopped_at,restored,seconds";

/// One row per (variant, seed) unit. `test_loss`/`test_acc` are of the model the unit ended
/// with (the best epoch's when early stopping restored it).
pub fn units_csv(record: &RunRecord) -> String {
    let mut out = String::from(UNITS_HEADER);
    out.push('\n');
    for v in &record.variants {
        let fin = v.final_metrics();
        let best = v.best_validation_epoch();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&v.spec.name),
            csv_field(v.spec.variant_name()),
            v.spec.seed,
            v.status.label(),
            v.history.len(),
            fin.map(|m| m.test_loss.to_string()).unwrap_or_default(),
            fin.map(|m| m.test_acc.to_string()).unwrap_or_default(),
            best.map(|m| m.epoch.to_string()).unwrap_or_default(),
            best.map(|m| m.monitored_loss().to_string())
                .unwrap_or_default(),
            best.map(|m| m.test_loss.to_string()).unwrap_or_default(),
            v.early_stop
                .map(|e| e.epoch.to_string())
                .unwrap_or_default(),
            v.early_stop
                .map(|e| e.restored.to_string())
                .unwrap_or_default(),
            v.seconds.map(|s| s.to_string()).unwrap_or_default(),
        );
    }
    out
}

pub fn summary_md(record: &RunRecord) -> String {
    summary_md_with(record, &comparisons(record))
}

fn summary_md_with(
    record: &RunRecord,
    comparisons: &[crate::insight::stats::Comparison],
) -> String {
    let mut out = format!("# {}\n\n", record.preset);
    if !record.description.is_empty() {
        let _ = writeln!(out, "{}\n", record.description);
    }
    let _ = writeln!(
        out,
        "Test loss and accuracy at the epoch whose weights each unit keeps (the restored best \
         epoch with `restore_best`, else the last; eval mode); `study` columns \
         are the 2019 study's reported numbers.\n"
    );
    out.push_str(&report::markdown_table(record));
    out.push_str(&analysis::stats_md(record, comparisons));
    out.push_str(&analysis::effects_md(record));
    out
}

/// What an export wrote, and what it could not (one line per unit, naming it and why).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Written {
    pub files: Vec<String>,
    pub skipped: Vec<String>,
}

impl Written {
    /// One line: what was written, and how many units were skipped (each said on its own).
    pub fn summary(&self) -> String {
        let mut s = self.files.join(", ");
        if !self.skipped.is_empty() {
            s.push_str(&format!(" ({} skipped)", self.skipped.len()));
        }
        s
    }
}

/// The file stem of each unit's per-unit exports: the sanitised name, with a short hash of
/// the exact name where two names sanitise alike (`a/b` and `a_b`), so no file is shared.
fn unit_stems(record: &RunRecord) -> std::collections::HashMap<&str, String> {
    let mut count = std::collections::HashMap::<String, usize>::new();
    for v in &record.variants {
        *count.entry(sanitize(&v.spec.name)).or_default() += 1;
    }
    record
        .variants
        .iter()
        .map(|v| {
            let plain = sanitize(&v.spec.name);
            let stem = if count[&plain] > 1 {
                crate::runs::weights_file_name(&v.spec.name)
                    .trim_end_matches(".safetensors")
                    .to_string()
            } else {
                plain
            };
            (v.spec.name.as_str(), stem)
        })
        .collect()
}

/// Copies each variant's weights from the run in `source` into `dir/weights/` (same file
/// names, so the exported run.json finds them); returns how many. A unit whose weights are
/// missing or refused gets a line in `skipped`, and the others go on.
fn copy_weights(
    source: &Path,
    dir: &Path,
    record: &RunRecord,
    skipped: &mut Vec<String>,
) -> Result<usize> {
    let target = dir.join(WEIGHTS_DIR);
    let mut n = 0;
    for v in record.variants.iter().filter(|v| v.weights.is_some()) {
        let src = match find_weights(source, record, &v.spec.name) {
            Ok((_, src)) => src,
            Err(e) => {
                skipped.push(format!("{:?}: no weights copied: {e:#}", v.spec.name));
                continue;
            }
        };
        let Some(file) = src.file_name() else {
            continue;
        };
        let dst = target.join(file);
        if src == dst || (dst.exists() && same_file(&src, &dst)) {
            n += 1;
            continue;
        }
        crate::runs::safe::real_dir(&target)?;
        let bytes =
            std::fs::read(&src).with_context(|| format!("{}: cannot read", src.display()))?;
        write_atomic(&dst, &bytes)?;
        n += 1;
    }
    Ok(n)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Confusion matrices (CSV and PNG) of every finished variant with saved weights; returns
/// how many were written. A unit whose weights are missing, or belong to another variant, is
/// skipped with a line saying so.
fn export_confusions(
    source: &Path,
    dir: &Path,
    record: &RunRecord,
    data: &crate::data::Dataset,
    skipped: &mut Vec<String>,
) -> Result<usize> {
    let stems = unit_stems(record);
    let mut n = 0;
    for v in record
        .variants
        .iter()
        .filter(|v| v.status == VariantStatus::Finished && v.weights.is_some())
    {
        let Ok((_, path)) = find_weights(source, record, &v.spec.name) else {
            skipped.push(format!(
                "{:?}: no confusion matrix (no weights)",
                v.spec.name
            ));
            continue;
        };
        let e = match crate::engine::train::evaluate_saved(&v.spec, &path, data) {
            Ok(e) => e,
            Err(e) => {
                skipped.push(format!("{:?}: no confusion matrix: {e}", v.spec.name));
                continue;
            }
        };
        let m = crate::insight::confusion::confusion(
            &data.test.labels[..e.predictions.len()],
            &e.predictions,
        );
        let base = format!("confusion-{}", stems[v.spec.name.as_str()]);
        write_atomic(
            &dir.join(format!("{base}.csv")),
            crate::insight::confusion::to_csv(&m).as_bytes(),
        )?;
        plot::write_confusion_png(&dir.join(format!("{base}.png")), &v.spec.name, &m)?;
        n += 1;
    }
    Ok(n)
}

/// Writes every export into `dir`; returns the names written. Nothing is lost on failure:
/// each file is written atomically and the record stays in memory. With the data set,
/// confusion matrices of variants with saved weights are written too.
pub fn export_all(
    dir: &Path,
    record: &RunRecord,
    data: Option<&crate::data::Dataset>,
) -> Result<Written> {
    export_run(dir, dir, record, data)
}

/// What every file export reads: the run, and its tests (computed once for all of them).
pub struct Run<'a> {
    pub record: &'a RunRecord,
    pub comparisons: &'a [crate::insight::stats::Comparison],
}

/// How an export's file is made.
pub enum Content {
    /// Text, written atomically.
    Text(fn(&Run) -> String),
    /// Rows streamed to the file (too large to build in memory at 1,000 variants).
    Stream(fn(&Run, &mut dyn std::io::Write) -> std::io::Result<()>),
    /// A file its writer makes itself at the path (a plot), atomically.
    File(fn(&Path, &Run) -> Result<()>),
}

/// One file of an export: its name and how it is made. Adding an export is one line in
/// `FILES` (and its writer).
pub struct FileExport {
    pub file: &'static str,
    pub write: Content,
}

/// Every file an export writes for a run, in order (weights and confusion matrices, one per
/// unit, come after them).
pub const FILES: &[FileExport] = &[
    FileExport {
        file: "epochs.csv",
        write: Content::Text(|r| epochs_csv(r.record)),
    },
    FileExport {
        file: "summary.csv",
        write: Content::Text(|r| summary_csv(r.record)),
    },
    FileExport {
        file: "summary.md",
        write: Content::Text(|r| summary_md_with(r.record, r.comparisons)),
    },
    FileExport {
        file: "comparisons.csv",
        write: Content::Stream(|r, w| write_comparisons_csv(w, r.record, r.comparisons)),
    },
    FileExport {
        file: "effects.csv",
        write: Content::Text(|r| effects_csv(r.record)),
    },
    FileExport {
        file: "anova.csv",
        write: Content::Text(|r| anova_csv(r.record)),
    },
    FileExport {
        file: "units.csv",
        write: Content::Text(|r| units_csv(r.record)),
    },
    FileExport {
        file: "curves.png",
        write: Content::File(|path, r| plot::write_png_to(path, r.record)),
    },
    FileExport {
        file: "curves.svg",
        write: Content::File(|path, r| plot::write_svg_to(path, r.record)),
    },
];

/// What to export a run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The files of `FILES`, the weights and (with the data set) confusion matrices.
    Files,
    /// TensorBoard event files, one folder per unit.
    TensorBoard,
}

/// The one entry point of every export: the run kept in `source` (where its weights are),
/// as `format`, into `dir`.
pub fn export(
    format: Format,
    source: &Path,
    dir: &Path,
    record: &RunRecord,
    data: Option<&crate::data::Dataset>,
) -> Result<Written> {
    match format {
        Format::Files => export_run(source, dir, record, data),
        Format::TensorBoard => {
            let dirs = tensorboard::export(dir, record)?;
            Ok(Written {
                files: vec![format!("TensorBoard events of {} units", dirs.len())],
                skipped: Vec::new(),
            })
        }
    }
}

/// The file that marks a folder as an export's, so a later export may write it again.
pub const EXPORT_MARK: &str = "EXPORTED-BY-MNIST-LAB";

/// Refuses an export target that is another run's folder or holds files no export wrote: an
/// export never overwrites what it did not write.
fn check_target(source: &Path, dir: &Path) -> Result<()> {
    if dir == source || same_file(dir, source) {
        return Ok(());
    }
    if dir.join(crate::runs::RUN_FILE).exists() && !dir.join(EXPORT_MARK).exists() {
        anyhow::bail!(
            "{}: holds a run of its own; an export never writes over a run (give a new folder)",
            dir.display()
        );
    }
    let foreign = std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if foreign && !dir.join(EXPORT_MARK).exists() {
        anyhow::bail!(
            "{}: holds files an export did not write; give a new or empty folder",
            dir.display()
        );
    }
    Ok(())
}

/// Exports the run kept in `source` (where its weights are) into `dir`: the run's own folder,
/// a new or empty folder, or an earlier export's.
pub fn export_run(
    source: &Path,
    dir: &Path,
    record: &RunRecord,
    data: Option<&crate::data::Dataset>,
) -> Result<Written> {
    if dir.is_dir() {
        check_target(source, dir)?;
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the export folder", dir.display()))?;
    let own_run = dir.join(crate::runs::RUN_FILE).exists() && !dir.join(EXPORT_MARK).exists();
    let mut files = Vec::new();
    if !own_run {
        write_atomic(
            &dir.join(EXPORT_MARK),
            format!("This folder is an export of {}.\n", record.preset).as_bytes(),
        )?;
        // A copy of the whole run in one file (not a shared folder's manifest).
        let mut copy = record.clone();
        copy.layout = None;
        save(dir, &copy)?;
        files.push("run.json".to_string());
    }
    let comparisons = comparisons(record);
    let run = Run {
        record,
        comparisons: &comparisons,
    };
    for export in FILES {
        let path = dir.join(export.file);
        match export.write {
            Content::Text(text) => write_atomic(&path, text(&run).as_bytes())?,
            Content::Stream(stream) => crate::runs::write_atomic_with(&path, |f| {
                let mut w = std::io::BufWriter::new(f);
                stream(&run, &mut w)?;
                std::io::Write::flush(&mut w)
            })?,
            Content::File(file) => file(&path, &run)?,
        }
        files.push(export.file.to_string());
    }
    let mut skipped = Vec::new();
    let weights = copy_weights(source, dir, record, &mut skipped)?;
    if weights > 0 {
        files.push(format!("weights/ ({weights})"));
    }
    if let Some(data) = data {
        let n = export_confusions(source, dir, record, data, &mut skipped)?;
        if n > 0 {
            files.push(format!("confusion-*.csv/.png ({n})"));
        }
    }
    Ok(Written { files, skipped })
}

/// Where an export went.
#[derive(Debug)]
pub struct Exported {
    pub dir: PathBuf,
    pub written: Written,
    /// Why `first` could not be used, when the fallback was.
    pub first_error: Option<String>,
}

/// Exports into `first`; if that fails, into `fallback`, so results held in memory still
/// reach the disk. Fails only when both fail.
pub fn export_or_fallback(
    first: &Path,
    fallback: &Path,
    record: &RunRecord,
    data: Option<&crate::data::Dataset>,
) -> Result<Exported> {
    export_or_fallback_from(first, first, fallback, record, data)
}

/// `export_or_fallback` of the run kept in `source`.
pub fn export_or_fallback_from(
    source: &Path,
    first: &Path,
    fallback: &Path,
    record: &RunRecord,
    data: Option<&crate::data::Dataset>,
) -> Result<Exported> {
    match export_run(source, first, record, data) {
        Ok(written) => Ok(Exported {
            dir: first.to_path_buf(),
            written,
            first_error: None,
        }),
        Err(e) if first != fallback => {
            let written = export_run(source, fallback, record, data)
                .map_err(|e2| anyhow::anyhow!("{e:#}; and {e2:#}"))?;
            Ok(Exported {
                dir: fallback.to_path_buf(),
                written,
                first_error: Some(format!("{e:#}")),
            })
        }
        Err(e) => Err(e),
    }
}
