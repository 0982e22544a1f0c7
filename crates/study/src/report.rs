//! The study's table (layers, test loss, accuracy, epochs, drop rate, optimiser, activation,
//! placement) with the study's numbers beside ours, as plain text or Markdown.

use crate::runs::{RunRecord, UnitRecord, UnitStatus};

pub const HEADERS: [&str; 12] = [
    "variant",
    "layers",
    "test loss",
    "test acc",
    "epochs",
    "drop rate",
    "optimizer",
    "activation",
    "BN+Dropout",
    "study loss",
    "study acc",
    "status",
];

fn status_label(v: &UnitRecord) -> String {
    match (v.status, &v.failure) {
        (UnitStatus::Failed, Some(f)) => match f.epoch {
            Some(e) => format!("failed ({:?}, epoch {e})", f.kind).to_lowercase(),
            None => format!("failed ({:?})", f.kind).to_lowercase(),
        },
        (status, _) => status.label().into(),
    }
}

/// One row of cells per variant, in `HEADERS` order.
pub fn rows(record: &RunRecord) -> Vec<[String; 12]> {
    record
        .units
        .iter()
        .map(|v| {
            let s = &v.spec;
            let result = v.final_metrics();
            let fmt = |x: Option<f32>, digits: usize| {
                x.map(|x| format!("{x:.digits$}"))
                    .unwrap_or_else(|| "-".into())
            };
            [
                s.name.clone(),
                s.hidden_layers().to_string(),
                fmt(result.map(|m| m.test_loss), 4),
                fmt(result.map(|m| m.test_acc), 4),
                // Epochs trained (the result above may be an earlier, kept epoch's).
                v.last().map(|m| m.epoch).unwrap_or(0).to_string() + &format!("/{}", s.epochs),
                s.effective_dropout()
                    .map(|d| format!("{d}"))
                    .unwrap_or_else(|| "-".into()),
                s.optimizer.label(),
                s.activation.label(),
                s.placement.to_string(),
                fmt(s.reference.map(|r| r.test_loss), 3),
                fmt(s.reference.map(|r| r.test_acc), 2),
                status_label(v),
            ]
        })
        .collect()
}

/// A fixed-width text table for the terminal (control characters in names escaped).
pub fn text_table(record: &RunRecord) -> String {
    let rows: Vec<[String; 12]> = rows(record)
        .into_iter()
        .map(|r| r.map(|c| crate::text::escape(&c).into_owned()))
        .collect();
    fixed_width(&HEADERS.map(String::from), &rows)
}

/// Columns padded to their widest cell, two spaces apart, a rule under the header.
fn fixed_width<const N: usize>(headers: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(headers);
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

/// The same table in Markdown (for `summary.md` and notes).
pub fn markdown_table(record: &RunRecord) -> String {
    let mut out = format!("| {} |\n", HEADERS.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADERS.len())));
    for r in rows(record) {
        let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Text for one Markdown table cell: a `|` would end the cell and a newline the row, so both
/// are escaped (control characters as `\n`, `\u{1b}`).
pub fn md_cell(s: &str) -> String {
    crate::text::escape(s).replace('|', "\\|")
}

/// "0.0512 ± 0.0021 [0.0486, 0.0538]" (mean ± sd [95% CI]), or the value and n = 1 for one
/// seed (whose spread is unknown, not zero).
pub fn estimate_text(e: &crate::insight::stats::Estimate, digits: usize) -> String {
    if e.n == 0 {
        "-".into()
    } else if e.n == 1 {
        format!("{:.digits$} (n = 1)", e.mean)
    } else if e.sd == 0.0 {
        format!("{:.digits$} (no spread over {} seeds)", e.mean, e.n)
    } else {
        format!(
            "{:.digits$} ± {:.digits$} [{:.digits$}, {:.digits$}]",
            e.mean, e.sd, e.ci_low, e.ci_high
        )
    }
}

/// A least-squares mean: "0.0812 [0.0790, 0.0834]", or "not estimable".
pub fn level_mean_text(e: &crate::insight::linear_model::LevelMean, digits: usize) -> String {
    let raw = if e.model { "" } else { " (raw mean)" };
    if e.mean.is_finite() && e.se.is_finite() {
        format!(
            "{:.digits$} [{:.digits$}, {:.digits$}]{raw}",
            e.mean, e.ci_low, e.ci_high
        )
    } else if !e.model && e.mean.is_finite() {
        format!("{:.digits$} (raw mean, n = {})", e.mean, e.n)
    } else {
        "not estimable (cells missing)".into()
    }
}

/// Whether any variant of the run is repeated over several seeds.
pub fn has_repeats(record: &RunRecord) -> bool {
    record.units.iter().any(|v| !v.spec.variant.is_empty())
}

/// Per variant over its seeds: n, test loss and accuracy as mean ± sd [95% CI], the study's
/// numbers; then whether the best variant is significantly the best.
pub fn variant_table(record: &RunRecord) -> String {
    use crate::insight::stats;
    let vs = stats::per_variant(record);
    let headers = [
        "variant",
        "n",
        "test loss",
        "test acc",
        "study loss",
        "study acc",
    ];
    let rows: Vec<[String; 6]> = vs
        .iter()
        .map(|v| {
            let [study_loss, study_acc] = reference_cells(v.reference);
            [
                crate::text::escape(&v.name).into_owned(),
                format!("{}/{}", v.loss.n, v.units),
                estimate_text(&v.loss, 4),
                estimate_text(&v.acc, 4),
                study_loss,
                study_acc,
            ]
        })
        .collect();
    let mut out = fixed_width(&headers.map(String::from), &rows);
    out.push_str(
        "(n finished/units; mean ± sd [95% CI: Student's t over seeds, cut at the metric's \
         bounds])\n",
    );
    for line in findings(record, &vs) {
        out.push_str(&crate::text::escape(&line));
        out.push('\n');
    }
    out
}

/// What a table of variants says in words: aliases, failed units, and the set that could be
/// best on loss and on accuracy.
pub fn findings(record: &RunRecord, vs: &[crate::insight::stats::VariantStats]) -> Vec<String> {
    use crate::spec::Metric;
    let mut out = Vec::new();
    for v in vs {
        if let Some(a) = &v.alias_of {
            out.push(format!(
                "{} trains the same networks as {a} (counted once)",
                v.name
            ));
        }
        if !v.failed.is_empty() {
            out.push(format!(
                "{}: {} of {} units failed ({}), left out of its mean",
                v.name,
                v.failed.len(),
                v.units,
                v.failed.join(", ")
            ));
        }
    }
    for m in [Metric::TestLoss, Metric::TestAcc] {
        if let Some(b) = crate::insight::sequential::best_set(record, vs, m) {
            out.push(b.sentence());
        }
        if m == Metric::TestLoss {
            if let Some(l) = crate::insight::sequential::look_of(record, vs, m) {
                out.push(format!("seeds added until decided: {}", l.text()));
            }
        }
    }
    out
}

/// The study's loss and accuracy as table cells ("-" where the preset gives none).
pub fn reference_cells(r: Option<crate::spec::Reference>) -> [String; 2] {
    match r {
        Some(r) => [format!("{:.3}", r.test_loss), format!("{:.2}", r.test_acc)],
        None => ["-".into(), "-".into()],
    }
}

/// The settings two runs differ in, each as (field, `a`'s, `b`'s): what a comparison of them
/// must be read with. Fields they share are left out.
pub fn settings_diff(a: &RunRecord, b: &RunRecord) -> Vec<(&'static str, String, String)> {
    let set = |r: &RunRecord, f: &dyn Fn(&crate::spec::UnitSpec) -> String| {
        let mut v: Vec<String> = r.units.iter().map(|u| f(&u.spec)).collect();
        v.sort();
        v.dedup();
        v.join(", ")
    };
    let seeds = |r: &RunRecord| {
        crate::insight::stats::variant_groups(r)
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .to_string()
    };
    let data = |r: &RunRecord| {
        r.data
            .as_ref()
            .map_or_else(|| r.environment.data_dir.clone(), |d| d.name.clone())
    };
    let fields: [(&'static str, String, String); 9] = [
        ("preset", a.preset.clone(), b.preset.clone()),
        ("engine", a.engine.label().into(), b.engine.label().into()),
        ("data", data(a), data(b)),
        (
            "epochs",
            set(a, &|s| s.epochs.to_string()),
            set(b, &|s| s.epochs.to_string()),
        ),
        ("seeds", seeds(a), seeds(b)),
        (
            "arch",
            set(a, &|s| s.arch.to_string()),
            set(b, &|s| s.arch.to_string()),
        ),
        (
            "train images",
            set(a, &|s| {
                s.train_subset.map_or("all".into(), |n| n.to_string())
            }),
            set(b, &|s| {
                s.train_subset.map_or("all".into(), |n| n.to_string())
            }),
        ),
        (
            "optimizer",
            set(a, &|s| s.optimizer.label()),
            set(b, &|s| s.optimizer.label()),
        ),
        ("overrides", a.overrides.join(" "), b.overrides.join(" ")),
    ];
    fields.into_iter().filter(|(_, x, y)| x != y).collect()
}

/// One epoch as `run` prints it, after the unit's name: "epoch   3/20  train loss … | val
/// loss … | test loss … | lr … | 1.2s 50000 img/s" (the lr where a schedule sets it).
pub fn epoch_text(spec: &crate::spec::UnitSpec, m: &crate::spec::EpochMetrics) -> String {
    let val = match (m.val_loss, m.val_acc) {
        (Some(l), Some(a)) => format!(" | val loss {l:.4} acc {a:.4}"),
        _ => String::new(),
    };
    let lr = match (spec.schedule, m.lr) {
        (Some(_), Some(lr)) => format!(" | lr {lr:.3e}"),
        _ => String::new(),
    };
    format!(
        "epoch {:>3}/{:<3} train loss {:.4} acc {:.4}{val} | test loss {:.4} acc {:.4}{lr} | {:.1}s {:.0} img/s",
        m.epoch,
        spec.epochs,
        m.train_loss,
        m.train_acc,
        m.test_loss,
        m.test_acc,
        m.seconds,
        m.samples_per_sec
    )
}

/// A unit's epochs as `run` printed them, and how it ended: the TUI's per-epoch log.
pub fn epoch_log(u: &UnitRecord) -> Vec<String> {
    let mut lines: Vec<String> = u.history.iter().map(|m| epoch_text(&u.spec, m)).collect();
    if let Some(e) = u.early_stop {
        lines.push(format!(
            "early stopping after epoch {}: best validation loss at epoch {}{}",
            e.epoch,
            e.best_epoch,
            if e.restored { ", its weights kept" } else { "" }
        ));
    }
    match (u.status, &u.failure, u.seconds) {
        (_, Some(f), _) => lines.push(format!("FAILED: {}", f.message)),
        (UnitStatus::Finished, _, Some(s)) => lines.push(format!("done in {s:.1}s")),
        (UnitStatus::Skipped, ..) => lines.push("skipped".into()),
        (UnitStatus::Interrupted, ..) => lines.push("interrupted".into()),
        _ => {}
    }
    lines
}
