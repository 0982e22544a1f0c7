//! Exports of a run, in formats other tools read: epochs.csv (long format), summary.csv and
//! summary.md (the study's table), curves.png/.svg, confusion matrices, weights/, run.json.
//! It sits above the store (which only records, saves, lists and loads) and may evaluate.

pub mod analysis;
pub mod figure;
pub mod plot;
pub mod tensorboard;

pub use analysis::{anova_csv, comparisons, effects_csv, write_comparisons_csv, MD_COMPARISONS};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::report;
use crate::runs::{
    find_weights, sanitize, save, write_atomic, FolderKind, RunRecord, UnitRecord, UnitStatus,
    WEIGHTS_DIR,
};
use crate::spec::{EpochMetrics, Metric};

/// One column of a CSV table: its header and how a row fills its cell. A table is one list
/// of these, so a header can never drift from the cells under it.
pub struct Column<'a, T> {
    pub name: String,
    pub cell: Box<dyn Fn(&T) -> String + 'a>,
}

fn col<'a, T>(name: impl Into<String>, cell: impl Fn(&T) -> String + 'a) -> Column<'a, T> {
    Column {
        name: name.into(),
        cell: Box::new(cell),
    }
}

/// Rows streamed under `columns` into a writer, for tables too large to build in memory.
pub struct TableWriter<'c, T, W: std::io::Write> {
    columns: Vec<Column<'c, T>>,
    out: csv::Writer<W>,
}

impl<'c, T, W: std::io::Write> TableWriter<'c, T, W> {
    /// Starts the table: its header goes out at once.
    pub fn new(columns: Vec<Column<'c, T>>, w: W) -> std::io::Result<Self> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(w);
        out.write_record(columns.iter().map(|c| c.name.as_str()))?;
        Ok(TableWriter { columns, out })
    }

    pub fn row(&mut self, row: &T) -> std::io::Result<()> {
        self.out
            .write_record(self.columns.iter().map(|c| neutralise((c.cell)(row))))
            .map_err(std::io::Error::from)
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A text cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a
/// tab or a carriage return) gets a leading `'`, as the OWASP guidance on CSV injection says,
/// so it is shown as text; numbers (`-0.5`, `1e-3`) stay numbers.
pub fn neutralise(cell: String) -> String {
    let risky = cell
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if risky && cell.trim().parse::<f64>().map_or(true, |x| !x.is_finite()) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The CSV text of `rows` under `columns` (quoted where a cell needs it, RFC 4180).
pub fn table<T>(columns: Vec<Column<T>>, rows: impl IntoIterator<Item = T>) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    if let Ok(mut t) = TableWriter::new(columns, &mut out) {
        for row in rows {
            let _ = t.row(&row);
        }
        let _ = t.finish();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// One row per unit per epoch: `unit` is the unit's name, `variant` the variant it repeats
/// (files of older versions called them `variant` and `group`).
pub fn epochs_csv(record: &RunRecord) -> String {
    type Row<'r> = (&'r UnitRecord, &'r EpochMetrics);
    let opt = |x: Option<f32>| x.map(|x| x.to_string()).unwrap_or_default();
    let columns: Vec<Column<Row>> = vec![
        col("unit", |(v, _): &Row| v.spec.name.clone()),
        col("epoch", |(_, m): &Row| m.epoch.to_string()),
        col("train_loss", |(_, m): &Row| m.train_loss.to_string()),
        col("train_acc", |(_, m): &Row| m.train_acc.to_string()),
        col("test_loss", |(_, m): &Row| m.test_loss.to_string()),
        col("test_acc", |(_, m): &Row| m.test_acc.to_string()),
        col("seconds", |(_, m): &Row| m.seconds.to_string()),
        col("val_loss", move |(_, m): &Row| opt(m.val_loss)),
        col("val_acc", move |(_, m): &Row| opt(m.val_acc)),
        col("lr", move |(_, m): &Row| opt(m.lr)),
        col("variant", |(v, _): &Row| v.spec.variant_name().to_string()),
        col("seed", |(v, _): &Row| v.spec.seed.to_string()),
    ];
    let rows = record
        .units
        .iter()
        .flat_map(|v| v.history.iter().map(move |m| (v, m)));
    table(columns, rows)
}

/// A number for a CSV cell: empty when unknown (NaN: one seed has no spread).
pub(crate) fn num(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

/// One row per variant: over its finished seeds, the mean, sample sd and 95% CI (Student's t)
/// of every result metric at the kept epoch (one column group per `Metric`, empty where the
/// run did not record it), and of the test loss at the best validation epoch. Empty cells
/// where unknown (no finished unit; one seed has no sd or CI).
pub fn summary_csv(record: &RunRecord) -> String {
    use crate::insight::stats::{self, Estimate, VariantStats};
    let opt = |x: Option<f32>| x.map(|x| x.to_string()).unwrap_or_default();
    let mut columns: Vec<Column<VariantStats>> = vec![
        col("variant", |v: &VariantStats| v.name.clone()),
        col("layers", |v: &VariantStats| {
            v.spec.hidden_layers().to_string()
        }),
        col("arch", |v: &VariantStats| v.spec.arch.name()),
        col("n", |v: &VariantStats| v.loss.n.to_string()),
    ];
    /// A column suffix and the part of an estimate under it.
    type Part = (&'static str, fn(&Estimate) -> f64);
    let parts: [Part; 4] = [
        ("", |e| e.mean),
        ("_sd", |e| e.sd),
        ("_ci_low", |e| e.ci_low),
        ("_ci_high", |e| e.ci_high),
    ];
    for metric in Metric::all().filter(|m| m.is_result()) {
        for (suffix, part) in parts {
            columns.push(col(
                format!("{}{suffix}", metric.key()),
                move |v: &VariantStats| {
                    let e = v.estimate(metric);
                    if e.n == 0 {
                        String::new()
                    } else {
                        num(part(&e))
                    }
                },
            ));
        }
    }
    for (suffix, part) in [parts[0], parts[2], parts[3]] {
        columns.push(col(
            format!("best_epoch_test_loss{suffix}"),
            move |v: &VariantStats| num(part(&v.best_epoch_loss)),
        ));
    }
    columns.extend([
        col("epochs", |v: &VariantStats| v.spec.epochs.to_string()),
        col("drop_rate", |v: &VariantStats| {
            v.spec
                .effective_dropout()
                .map(|d| d.to_string())
                .unwrap_or_default()
        }),
        col("optimizer", |v: &VariantStats| v.spec.optimizer.label()),
        col("lr", |v: &VariantStats| v.spec.optimizer.lr().to_string()),
        col("activation", |v: &VariantStats| v.spec.activation.label()),
        col("placement", |v: &VariantStats| v.spec.placement.to_string()),
        col("validation", |v: &VariantStats| v.spec.validation.label()),
        col("study_test_loss", move |v: &VariantStats| {
            opt(v.reference.map(|r| r.test_loss))
        }),
        col("study_test_acc", move |v: &VariantStats| {
            opt(v.reference.map(|r| r.test_acc))
        }),
        col("units_finished", |v: &VariantStats| v.loss.n.to_string()),
        col("units", |v: &VariantStats| v.units.to_string()),
    ]);
    table(columns, stats::per_variant(record))
}

/// One row per (variant, seed) unit. `test_loss`/`test_acc` are of the model the unit ended
/// with (the best epoch's when early stopping restored it).
pub fn units_csv(record: &RunRecord) -> String {
    let some = |x: Option<String>| x.unwrap_or_default();
    let columns: Vec<Column<&UnitRecord>> = vec![
        col("unit", |v: &&UnitRecord| v.spec.name.clone()),
        col("variant", |v: &&UnitRecord| {
            v.spec.variant_name().to_string()
        }),
        col("seed", |v: &&UnitRecord| v.spec.seed.to_string()),
        col("status", |v: &&UnitRecord| v.status.label().to_string()),
        col("epochs_trained", |v: &&UnitRecord| {
            v.history.len().to_string()
        }),
        // The epoch test_loss and test_acc come from: the last, or the best one kept
        // (early stopping's restore, or `restore_best`).
        col("kept_epoch", move |v: &&UnitRecord| {
            some(v.final_metrics().map(|m| m.epoch.to_string()))
        }),
        col("test_loss", move |v: &&UnitRecord| {
            some(v.final_metrics().map(|m| m.test_loss.to_string()))
        }),
        col("test_acc", move |v: &&UnitRecord| {
            some(v.final_metrics().map(|m| m.test_acc.to_string()))
        }),
        col("last_epoch_test_loss", move |v: &&UnitRecord| {
            some(v.history.last().map(|m| m.test_loss.to_string()))
        }),
        col("last_epoch_test_acc", move |v: &&UnitRecord| {
            some(v.history.last().map(|m| m.test_acc.to_string()))
        }),
        col("best_epoch", move |v: &&UnitRecord| {
            some(v.best_validation_epoch().map(|m| m.epoch.to_string()))
        }),
        col("best_epoch_val_loss", move |v: &&UnitRecord| {
            some(
                v.best_validation_epoch()
                    .map(|m| m.monitored_loss().to_string()),
            )
        }),
        col("best_epoch_test_loss", move |v: &&UnitRecord| {
            some(v.best_validation_epoch().map(|m| m.test_loss.to_string()))
        }),
        col("early_stopped_at", move |v: &&UnitRecord| {
            some(v.early_stop.map(|e| e.epoch.to_string()))
        }),
        // Whether the numbers are of an earlier epoch than the last: an early stop's restore,
        // or a restore without a stop (it was empty then).
        col("restored", move |v: &&UnitRecord| {
            let last = v.history.last().map(|m| m.epoch);
            let kept = v.final_metrics().map(|m| m.epoch);
            some(match (v.early_stop, kept) {
                (Some(e), _) => Some(e.restored.to_string()),
                (None, Some(k)) => Some((Some(k) != last).to_string()),
                (None, None) => None,
            })
        }),
        col("seconds", move |v: &&UnitRecord| {
            some(v.seconds.map(|s| s.to_string()))
        }),
        // The whole run trains on one engine; a column lets tables of runs be joined.
        col("engine", |_: &&UnitRecord| {
            record.engine.label().to_string()
        }),
    ];
    table(columns, record.units.iter())
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
         are the 2019 study's reported numbers. Trained on the {} engine.\n",
        record.engine
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
    for v in &record.units {
        *count.entry(sanitize(&v.spec.name)).or_default() += 1;
    }
    record
        .units
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
    for v in record.units.iter().filter(|v| v.weights.is_some()) {
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
        // Streamed: a regular file within its network's bound, never through a link.
        let (mut from, _) =
            crate::runs::safe::open_bounded(&src, crate::runs::safe::limit::weights(&v.spec.arch))
                .map_err(|e| anyhow::anyhow!(crate::runs::safe::describe(&src, &e)))?;
        crate::runs::write_atomic_with(&dst, |f| std::io::copy(&mut from, f).map(|_| ()))?;
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
        .units
        .iter()
        .filter(|v| v.status == UnitStatus::Finished && v.weights.is_some())
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
            data.classes.count,
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

impl FileExport {
    /// Writes this file of `run` into `dir`, atomically; returns its path.
    fn write_into(&self, dir: &Path, run: &Run) -> Result<PathBuf> {
        let path = dir.join(self.file);
        match self.write {
            Content::Text(text) => write_atomic(&path, text(run).as_bytes())?,
            Content::Stream(stream) => crate::runs::write_atomic_with(&path, |f| {
                let mut w = std::io::BufWriter::new(f);
                stream(run, &mut w)?;
                std::io::Write::flush(&mut w)
            })?,
            Content::File(file) => file(&path, run)?,
        }
        Ok(path)
    }
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

/// The files of `FILES` that hold what a view shows, by the view's name: its numbers, and
/// its chart where it has one.
pub fn view_files(view: &str) -> &'static [&'static str] {
    match view {
        "live" | "overlay" => &["epochs.csv"],
        "grid" => &["summary.csv"],
        "table" => &["summary.csv", "curves.svg"],
        "factors" => &["effects.csv", "anova.csv"],
        "pairs" => &["comparisons.csv"],
        _ => &[],
    }
}

/// Writes the files of `FILES` named in `names` for `record` into `dir` (created when
/// missing, refused when it holds what no export wrote); returns the paths written.
pub fn export_files(dir: &Path, record: &RunRecord, names: &[&str]) -> Result<Vec<PathBuf>> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create", parent.display()))?;
    }
    // Inside a run folder: a link planted at the folder's name is refused, never followed.
    crate::runs::safe::real_dir(dir).context("the view's export folder")?;
    check_target(dir.parent().unwrap_or(dir), dir)?;
    if !dir.join(EXPORT_MARK).exists() {
        write_atomic(
            &dir.join(EXPORT_MARK),
            crate::runs::export_mark_text(&record.preset, b"").as_bytes(),
        )?;
    }
    let comparisons = comparisons(record);
    let run = Run {
        record,
        comparisons: &comparisons,
    };
    let mut out = Vec::new();
    for export in FILES.iter().filter(|f| names.contains(&f.file)) {
        out.push(export.write_into(dir, &run)?);
    }
    Ok(out)
}

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
pub use crate::runs::EXPORT_MARK;

/// Refuses an export target that is another run's folder or holds files no export wrote: an
/// export never overwrites what it did not write, and a folder that holds a run (unit files,
/// writers, a `run.json` the export did not write) is refused whatever marker it has.
fn check_target(source: &Path, dir: &Path) -> Result<()> {
    if dir == source || same_file(dir, source) {
        return Ok(());
    }
    match crate::runs::folder_kind(dir) {
        FolderKind::Empty | FolderKind::Export => Ok(()),
        FolderKind::Run(why) => anyhow::bail!(
            "{}: holds a run of its own ({why}); an export never writes over a run (give a new \
             folder)",
            dir.display()
        ),
        FolderKind::Foreign => anyhow::bail!(
            "{}: holds files an export did not write; give a new or empty folder",
            dir.display()
        ),
    }
}

/// Writes the export's copy of the run (`run.json`, one file) and the marker naming it.
fn write_run_copy(dir: &Path, record: &RunRecord) -> Result<()> {
    let mut copy = record.clone();
    copy.layout = None;
    let json = serde_json::to_vec_pretty(&copy).context("serialising run.json")?;
    // The marker first: a crash between the two leaves a marker whose digest the old
    // run.json does not match, which the next export refuses rather than overwrite.
    write_atomic(
        &dir.join(EXPORT_MARK),
        crate::runs::export_mark_text(&record.preset, &json).as_bytes(),
    )?;
    save(dir, &copy)
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
    // The run's own folder keeps its run.json; an export gets a copy of the whole run in
    // one file (not a shared folder's manifest).
    let own_run = !matches!(
        crate::runs::folder_kind(dir),
        FolderKind::Empty | FolderKind::Export
    );
    let mut files = Vec::new();
    if !own_run {
        write_run_copy(dir, record)?;
        files.push("run.json".to_string());
    }
    let comparisons = comparisons(record);
    let run = Run {
        record,
        comparisons: &comparisons,
    };
    for export in FILES {
        export.write_into(dir, &run)?;
        files.push(export.file.to_string());
    }
    let mut skipped = Vec::new();
    let weights = copy_weights(source, dir, record, &mut skipped)?;
    if weights > 0 {
        files.push(format!("weights/ ({weights})"));
    }
    // Confusion matrices only on the data set the run trained on: others would sit beside
    // the recorded accuracies as if they were the same test.
    let data = data.filter(|d| match &record.data {
        Some(theirs) if *theirs != d.identity() => {
            skipped.push(format!(
                "no confusion matrices: the run was trained on {theirs}, and the data given is {}",
                d.identity()
            ));
            false
        }
        _ => true,
    });
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
