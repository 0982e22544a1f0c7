//! The headless runner: another consumer of engine events, printing lines and the table.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::Overrides;
use crate::data::{self, Dataset};
use crate::engine::{self, EngineOptions, Event};
use crate::preset::{self, Preset};
use crate::report;
use crate::runs::{self, record::Environment, RunRecord, VariantStatus};

/// Applies command-line overrides to a loaded preset.
pub fn apply_overrides(mut preset: Preset, o: &Overrides) -> Result<Preset> {
    if !o.only.is_empty() {
        for name in &o.only {
            if !preset.variants.iter().any(|v| &v.name == name) {
                anyhow::bail!(
                    "{}: no variant named {name:?} (variants: {})",
                    preset.source,
                    preset
                        .variants
                        .iter()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        preset.variants.retain(|v| o.only.contains(&v.name));
    }
    for v in &mut preset.variants {
        if let Some(e) = o.epochs {
            anyhow::ensure!(e > 0, "--epochs must be at least 1");
            v.epochs = e;
        }
        if let Some(n) = o.train_subset {
            anyhow::ensure!(n > 0, "--train-subset must be at least 1");
            v.train_subset = Some(n);
        }
        if let Some(n) = o.test_subset {
            anyhow::ensure!(n > 0, "--test-subset must be at least 1");
            v.test_subset = Some(n);
        }
    }
    Ok(preset)
}

pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(data::default_dir)
}

pub fn load_data(flag: Option<&Path>) -> Result<Arc<Dataset>> {
    let dir = data_dir(flag);
    let data = data::load_dir(&dir).with_context(|| "loading the data set".to_string())?;
    Ok(Arc::new(data))
}

fn epoch_line(record: &RunRecord, event: &Event) -> Option<String> {
    match event {
        Event::VariantStarted {
            index, name, epochs, ..
        } => Some(format!(
            "[{}/{}] {name}: {} ({epochs} epochs)",
            index + 1,
            record.variants.len(),
            record.variants[*index].spec.arch
        )),
        Event::EpochEnd { index, metrics: m } => Some(format!(
            "  {:<24} epoch {:>3}/{:<3} train loss {:.4} acc {:.4} | test loss {:.4} acc {:.4} | {:.1}s {:.0} img/s",
            record.variants[*index].spec.name,
            m.epoch,
            record.variants[*index].spec.epochs,
            m.train_loss,
            m.train_acc,
            m.test_loss,
            m.test_acc,
            m.seconds,
            m.samples_per_sec
        )),
        Event::VariantFailed {
            index, message, ..
        } => Some(format!(
            "  {} FAILED: {message}",
            record.variants[*index].spec.name
        )),
        Event::VariantSkipped { index } => {
            Some(format!("  {} skipped", record.variants[*index].spec.name))
        }
        Event::Warning { message } => Some(format!("  warning: {message}")),
        Event::VariantFinished { index, seconds, .. } => Some(format!(
            "  {} done in {seconds:.1}s",
            record.variants[*index].spec.name
        )),
        _ => None,
    }
}

/// What a headless run trains and where it writes.
pub struct RunSetup {
    pub preset: Preset,
    pub dir: PathBuf,
    pub record: RunRecord,
    /// Variants already done (resume).
    pub skip: Vec<usize>,
}

/// A fresh run folder under `root` for `preset`.
pub fn new_run(preset: Preset, data: &Dataset, root: &Path) -> Result<RunSetup> {
    let dir = runs::create_run_dir(root, &preset.name)?;
    let record = RunRecord::new(
        &preset,
        Environment::detect(&data.dir.display().to_string()),
    );
    runs::save(&dir, &record)?;
    Ok(RunSetup {
        preset,
        dir,
        record,
        skip: Vec::new(),
    })
}

/// An interrupted run, ready to finish into the same folder.
pub fn resume_run(dir: &Path) -> Result<RunSetup> {
    let mut record = runs::load(dir)?;
    let skip = runs::history::prepare_resume(&mut record);
    anyhow::ensure!(
        skip.len() < record.variants.len(),
        "{}: every variant is already finished; nothing to resume",
        dir.display()
    );
    runs::save(dir, &record)?;
    Ok(RunSetup {
        preset: runs::history::preset_of(&record),
        dir: dir.to_path_buf(),
        record,
        skip,
    })
}

/// Runs to the end, printing progress; returns the run folder and the final record.
pub fn run(
    setup: RunSetup,
    data: Arc<Dataset>,
    jsonl: bool,
    export: bool,
    out: &mut dyn Write,
) -> Result<(PathBuf, RunRecord)> {
    let RunSetup {
        preset,
        dir,
        mut record,
        skip,
    } = setup;
    let started = std::time::Instant::now();
    if !jsonl {
        writeln!(
            out,
            "preset {} ({} variants{}) -> {}",
            preset.name,
            preset.variants.len(),
            if skip.is_empty() {
                String::new()
            } else {
                format!(", {} already done", skip.len())
            },
            dir.display()
        )?;
    }
    let options = EngineOptions {
        skip,
        weights_dir: Some(dir.join("weights")),
        ..Default::default()
    };
    let data_for_export = data.clone();
    let handle = engine::spawn(preset, data, options);
    let signals = crate::signals::listen().context("listening for signals")?;
    let mut save_failed = false;
    let mut interrupted_by = None;
    loop {
        let event = crossbeam_channel::select! {
            recv(handle.events) -> ev => match ev {
                Ok(ev) => ev,
                Err(_) => break,
            },
            recv(signals) -> sig => {
                interrupted_by = sig.ok();
                break;
            }
        };
        if jsonl {
            if !matches!(event, Event::Progress { .. }) {
                writeln!(out, "{}", serde_json::to_string(&event)?)?;
            }
        } else if let Some(line) = epoch_line(&record, &event) {
            writeln!(out, "{line}")?;
        }
        if record.apply(&event) {
            if let Err(e) = runs::save(&dir, &record) {
                // Training goes on; results stay in memory and are rescued at the end.
                if !save_failed {
                    eprintln!("warning: cannot save the run ({e:#}); training continues, results kept in memory");
                    save_failed = true;
                }
            } else {
                save_failed = false;
            }
        }
        if matches!(event, Event::RunFinished { .. }) {
            break;
        }
    }
    if let Some(sig) = interrupted_by {
        // The running variant is recorded as interrupted; finished ones are already on disk.
        handle.send(engine::Command::Cancel);
        record.mark_interrupted();
        save_or_rescue(&dir, &record);
        eprintln!(
            "{}: stopped; finished variants are in {} (resume with --resume)",
            crate::signals::name(sig),
            dir.display()
        );
        return Err(Interrupted(sig).into());
    }
    if save_failed {
        save_or_rescue(&dir, &record);
    }
    handle.join();
    if !jsonl {
        writeln!(out)?;
        write!(out, "{}", report::text_table(&record))?;
        writeln!(
            out,
            "\n{} of {} variants finished in {:.1}s; run saved in {}",
            record.count(VariantStatus::Finished),
            record.variants.len(),
            started.elapsed().as_secs_f32(),
            dir.join(runs::RUN_FILE).display()
        )?;
    }
    if export {
        let written = runs::export::export_all(&dir, &record, Some(data_for_export.as_ref()))?;
        if !jsonl {
            writeln!(out, "exported {} to {}", written.join(", "), dir.display())?;
        }
    }
    Ok((dir, record))
}

/// A run stopped by a signal: `main` exits with 128 + the signal number.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by signal {0}")]
pub struct Interrupted(pub i32);

/// Saves the record; if its folder cannot be written, saves it to a rescue folder instead and
/// says where, so nothing trained is lost.
pub fn save_or_rescue(dir: &Path, record: &RunRecord) {
    if runs::save(dir, record).is_ok() {
        return;
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "run".into());
    let rescue = std::env::temp_dir().join(format!("mnist-lab-rescue-{name}"));
    match runs::export::export_all(&rescue, record, None) {
        Ok(_) => eprintln!(
            "warning: {} is not writable; the run was saved to {} instead",
            dir.display(),
            rescue.display()
        ),
        Err(e) => eprintln!(
            "error: cannot save the run anywhere ({e:#}); its table follows\n{}",
            report::text_table(record)
        ),
    }
}

/// `mnist-lab runs`: past runs, newest first.
pub fn list_runs(root: &Path, out: &mut dyn Write) -> Result<()> {
    let past = runs::history::list(root);
    if past.is_empty() {
        writeln!(out, "no runs in {}", root.display())?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<40} {:<16} {:<19} {:>9} {:>9}",
        "run", "preset", "date (UTC)", "done", "best acc"
    )?;
    for p in past {
        match &p.record {
            Ok(r) => {
                let ts = runs::timestamp(r.created);
                let date = format!(
                    "{}-{}-{} {}:{}:{}",
                    &ts[0..4],
                    &ts[4..6],
                    &ts[6..8],
                    &ts[9..11],
                    &ts[11..13],
                    &ts[13..15]
                );
                writeln!(
                    out,
                    "{:<40} {:<16} {:<19} {:>9} {:>9}{}",
                    p.name(),
                    r.preset,
                    date,
                    format!("{}/{}", r.count(VariantStatus::Finished), r.variants.len()),
                    r.best_accuracy()
                        .map(|a| format!("{a:.4}"))
                        .unwrap_or_else(|| "-".into()),
                    if p.resumable() { "  (resumable)" } else { "" }
                )?;
            }
            Err(e) => writeln!(out, "{:<40} ERROR {e}", p.name())?,
        }
    }
    Ok(())
}

/// `mnist-lab eval RUN_DIR VARIANT`: recomputes test accuracy from the saved weights.
pub fn eval(dir: &Path, variant: &str, data: &Dataset, out: &mut dyn Write) -> Result<f32> {
    let record = runs::load(dir)?;
    let v = record
        .variants
        .iter()
        .find(|v| v.spec.name == variant)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no variant named {variant:?} (variants: {})",
                dir.display(),
                record
                    .variants
                    .iter()
                    .map(|v| v.spec.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let in_run = dir
        .join("weights")
        .join(format!("{}.safetensors", runs::sanitize(variant)));
    let weights = if in_run.is_file() {
        in_run
    } else {
        v.weights
            .as_ref()
            .map(PathBuf::from)
            .ok_or_else(|| anyhow::anyhow!("{}: no saved weights for {variant:?}", dir.display()))?
    };
    let e =
        engine::train::evaluate_saved(&v.spec, &weights, data).map_err(|e| anyhow::anyhow!(e))?;
    writeln!(
        out,
        "{variant}: test accuracy {:.4}, test loss {:.4} on {} images (recorded: {})",
        e.accuracy,
        e.loss,
        e.predictions.len(),
        v.last()
            .map(|m| format!("accuracy {:.4}, loss {:.4}", m.test_acc, m.test_loss))
            .unwrap_or_else(|| "none".into())
    )?;
    Ok(e.accuracy)
}

/// `mnist-lab list`: presets and architectures.
pub fn list(out: &mut dyn Write) -> Result<()> {
    writeln!(out, "Presets:")?;
    for (label, result) in preset::discover(Path::new("presets")) {
        match result {
            Ok(p) => writeln!(
                out,
                "  {:<22} {:>3} variants  {}  ({label})",
                p.name,
                p.variants.len(),
                p.description
            )?,
            Err(e) => writeln!(out, "  {label}: ERROR {e}")?,
        }
    }
    writeln!(
        out,
        "\nArchitectures (hidden widths; input 784, output 10):"
    )?;
    for a in crate::model::ARCHITECTURES {
        writeln!(
            out,
            "  {a:<20} {} weights",
            crate::model::weight_count(a).unwrap_or(0)
        )?;
    }
    Ok(())
}
