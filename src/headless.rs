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
        Event::VariantFinished { index, seconds } => Some(format!(
            "  {} done in {seconds:.1}s",
            record.variants[*index].spec.name
        )),
        _ => None,
    }
}

/// Runs a preset to the end, printing progress; returns the run folder.
pub fn run(
    preset: Preset,
    data: Arc<Dataset>,
    runs_root: &Path,
    jsonl: bool,
    out: &mut dyn Write,
) -> Result<(PathBuf, RunRecord)> {
    let dir = runs::create_run_dir(runs_root, &preset.name)?;
    let mut record = RunRecord::new(
        &preset,
        Environment::detect(&data.dir.display().to_string()),
    );
    runs::save(&dir, &record)?;
    let started = std::time::Instant::now();
    if !jsonl {
        writeln!(
            out,
            "preset {} ({} variants) -> {}",
            preset.name,
            preset.variants.len(),
            dir.display()
        )?;
    }
    let handle = engine::spawn(preset, data, EngineOptions::default());
    let mut save_error_shown = false;
    for event in handle.events.iter() {
        if jsonl {
            if !matches!(event, Event::Progress { .. }) {
                writeln!(out, "{}", serde_json::to_string(&event)?)?;
            }
        } else if let Some(line) = epoch_line(&record, &event) {
            writeln!(out, "{line}")?;
        }
        if record.apply(&event) {
            if let Err(e) = runs::save(&dir, &record) {
                // Training goes on; results stay in memory and the message says where.
                if !save_error_shown {
                    eprintln!("warning: cannot save the run ({e:#}); training continues");
                    save_error_shown = true;
                }
            }
        }
        if matches!(event, Event::RunFinished { .. }) {
            break;
        }
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
    Ok((dir, record))
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
