//! Exports of a run, in formats other tools read: epochs.csv (long format), summary.csv and
//! summary.md (the study's table), curves.png/.svg, confusion matrices, weights/, run.json.
//! It sits above the store (which only records, saves, lists and loads) and may evaluate.

pub mod plot;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::report;
use crate::runs::{
    find_weights, sanitize, save, write_atomic, RunRecord, VariantStatus, WEIGHTS_DIR,
};

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub const EPOCHS_HEADER: &str = "variant,epoch,train_loss,train_acc,test_loss,test_acc,seconds";

/// One row per variant per epoch.
pub fn epochs_csv(record: &RunRecord) -> String {
    let mut out = String::from(EPOCHS_HEADER);
    out.push('\n');
    for v in &record.variants {
        for m in &v.history {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{}",
                csv_field(&v.spec.name),
                m.epoch,
                m.train_loss,
                m.train_acc,
                m.test_loss,
                m.test_acc,
                m.seconds
            );
        }
    }
    out
}

pub const SUMMARY_HEADER: &str =
    "variant,layers,arch,test_loss,test_acc,epochs,drop_rate,optimizer,\
lr,activation,bn_dropout,study_test_loss,study_test_acc,status";

/// The study's table, one row per variant, numbers unrounded, empty cells when unknown.
pub fn summary_csv(record: &RunRecord) -> String {
    let mut out = String::from(SUMMARY_HEADER);
    out.push('\n');
    let opt = |x: Option<f32>| x.map(|x| x.to_string()).unwrap_or_default();
    for v in &record.variants {
        let s = &v.spec;
        let last = v.last();
        let row = [
            csv_field(&s.name),
            s.hidden_layers().to_string(),
            s.arch.name(),
            opt(last.map(|m| m.test_loss)),
            opt(last.map(|m| m.test_acc)),
            last.map(|m| m.epoch).unwrap_or(0).to_string(),
            s.effective_dropout()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            s.optimizer.label(),
            s.optimizer.lr().to_string(),
            csv_field(&s.activation.label()),
            format!("{:?}", s.placement),
            opt(s.reference.map(|r| r.test_loss)),
            opt(s.reference.map(|r| r.test_acc)),
            format!("{:?}", v.status).to_lowercase(),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

pub const EFFECTS_HEADER: &str =
    "factor,level,n,mean_test_loss,sd_test_loss,mean_test_acc,sd_test_acc";

/// Main effects of every varying factor, one row per level.
pub fn effects_csv(record: &RunRecord) -> String {
    use crate::insight::factors;
    let mut out = String::from(EFFECTS_HEADER);
    out.push('\n');
    let res = factors::results(record);
    for f in factors::varying(record) {
        for e in factors::main_effects(&res, f) {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{}",
                csv_field(f.name()),
                csv_field(&e.level),
                e.n,
                e.mean_loss,
                e.sd_loss,
                e.mean_acc,
                e.sd_acc
            );
        }
    }
    out
}

/// Markdown: factors ranked by the spread of their level means, then each factor's levels.
fn effects_md(record: &RunRecord) -> String {
    use crate::insight::factors::{self, Metric};
    let res = factors::results(record);
    if res.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n## Factors\n\nEach factor's main effect: the mean (± standard deviation) of the final \
        test loss and accuracy at each level, across the other factors. Ranked by the range of \
        the level means of test loss.\n\n| factor | level | n | test loss | test acc |\n|---|---|---|---|---|\n");
    for (f, size) in factors::ranking(record, Metric::TestLoss) {
        for (k, e) in factors::main_effects(&res, f).iter().enumerate() {
            let name = if k == 0 {
                format!("**{}** (range {size:.4})", f.name())
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {:.4} ± {:.4} | {:.4} ± {:.4} |",
                e.level, e.n, e.mean_loss, e.sd_loss, e.mean_acc, e.sd_acc
            );
        }
    }
    out
}

pub fn summary_md(record: &RunRecord) -> String {
    let mut out = format!("# {}\n\n", record.preset);
    if !record.description.is_empty() {
        let _ = writeln!(out, "{}\n", record.description);
    }
    let _ = writeln!(
        out,
        "Test loss and accuracy after the last epoch (full test set, eval mode); `study` columns \
         are the 2019 study's reported numbers.\n"
    );
    out.push_str(&report::markdown_table(record));
    out.push_str(&effects_md(record));
    out
}

/// Copies each finished variant's weights from the run in `source` into `dir/weights/`
/// (same file names, so the exported run.json finds them); returns how many.
fn copy_weights(source: &Path, dir: &Path, record: &RunRecord) -> Result<usize> {
    let target = dir.join(WEIGHTS_DIR);
    let mut n = 0;
    for v in record.variants.iter().filter(|v| v.weights.is_some()) {
        let (_, src) = find_weights(source, record, &v.spec.name)?;
        let Some(file) = src.file_name() else {
            continue;
        };
        let dst = target.join(file);
        if src == dst || (dst.exists() && same_file(&src, &dst)) {
            n += 1;
            continue;
        }
        std::fs::create_dir_all(&target)
            .with_context(|| format!("{}: cannot create", target.display()))?;
        std::fs::copy(&src, &dst)
            .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
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
/// how many were written. Weights that belong to another variant are an error.
fn export_confusions(
    source: &Path,
    dir: &Path,
    record: &RunRecord,
    data: &crate::data::Dataset,
) -> Result<usize> {
    let mut n = 0;
    for v in record
        .variants
        .iter()
        .filter(|v| v.status == VariantStatus::Finished && v.weights.is_some())
    {
        let Ok((_, path)) = find_weights(source, record, &v.spec.name) else {
            continue;
        };
        let e = match crate::engine::train::evaluate_saved(&v.spec, &path, data) {
            Ok(e) => e,
            // Weights written before files were labelled cannot be checked: no matrix for
            // them, rather than one that may be another variant's.
            Err(crate::engine::EngineError::Weights(
                crate::model::weights::WeightsError::Unlabelled { .. },
            )) => continue,
            Err(e) => return Err(e.into()),
        };
        let m = crate::insight::confusion::confusion(
            &data.test.labels[..e.predictions.len()],
            &e.predictions,
        );
        let base = format!("confusion-{}", sanitize(&v.spec.name));
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
) -> Result<Vec<String>> {
    export_run(dir, dir, record, data)
}

/// Exports the run kept in `source` (where its weights are) into `dir`.
pub fn export_run(
    source: &Path,
    dir: &Path,
    record: &RunRecord,
    data: Option<&crate::data::Dataset>,
) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the export folder", dir.display()))?;
    save(dir, record)?;
    write_atomic(&dir.join("epochs.csv"), epochs_csv(record).as_bytes())?;
    write_atomic(&dir.join("summary.csv"), summary_csv(record).as_bytes())?;
    write_atomic(&dir.join("summary.md"), summary_md(record).as_bytes())?;
    write_atomic(&dir.join("effects.csv"), effects_csv(record).as_bytes())?;
    plot::write_png(dir, record)?;
    plot::write_svg(dir, record)?;
    let mut written: Vec<String> = [
        "run.json",
        "epochs.csv",
        "summary.csv",
        "summary.md",
        "effects.csv",
        "curves.png",
        "curves.svg",
    ]
    .map(String::from)
    .to_vec();
    let weights = copy_weights(source, dir, record)?;
    if weights > 0 {
        written.push(format!("weights/ ({weights})"));
    }
    if let Some(data) = data {
        let n = export_confusions(source, dir, record, data)?;
        if n > 0 {
            written.push(format!("confusion-*.csv/.png ({n})"));
        }
    }
    Ok(written)
}

/// Where an export went.
#[derive(Debug)]
pub struct Exported {
    pub dir: PathBuf,
    pub written: Vec<String>,
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
