//! The headless runner: another consumer of engine events, printing lines and the table.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::data::Dataset;
use crate::engine::{self, Event};
use crate::preset::{self, Preset};
use crate::report;
use crate::runs::{self, RunRecord, UnitStatus};
use crate::session::{Interrupted, Next, Saved, Session};
use crate::text::escape;

fn epoch_line(preset: &Preset, event: &Event) -> Option<String> {
    let spec = |i: &usize| preset.units.get(*i);
    let name = |i: &usize| {
        spec(i)
            .map(|s| escape(&s.name).into_owned())
            .unwrap_or_default()
    };
    match event {
        Event::UnitStarted { index, epochs, .. } => Some(format!(
            "[{}/{}] {}: {} ({epochs} epochs)",
            index + 1,
            preset.units.len(),
            name(index),
            spec(index)?.arch
        )),
        Event::EpochEnd { index, metrics: m } => Some(format!(
            "  {:<24} {}",
            name(index),
            report::epoch_text(spec(index)?, m)
        )),
        Event::EarlyStopped {
            index,
            epoch,
            best_epoch,
            restored,
        } => Some(format!(
            "  {} early stopping after epoch {epoch}: best validation loss at epoch {best_epoch}{}",
            name(index),
            if *restored { ", its weights kept" } else { "" }
        )),
        Event::UnitFailed { index, message, .. } => {
            Some(format!("  {} FAILED: {}", name(index), escape(message)))
        }
        Event::UnitSkipped { index } => Some(format!("  {} skipped", name(index))),
        Event::Warning { message } => Some(format!("  warning: {}", escape(message))),
        Event::UnitFinished { index, seconds, .. } => {
            Some(format!("  {} done in {seconds:.1}s", name(index)))
        }
        _ => None,
    }
}

/// Standard output refused a write (a closed pipe, a full disk): the run stops and is saved.
/// After a closed pipe `main` exits with 141, as a program killed by SIGPIPE would; after any
/// other failure, with 2 and this message.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct OutputClosed(pub std::io::Error);

impl OutputClosed {
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == std::io::ErrorKind::BrokenPipe
    }
}

pub use crate::text::say;

/// How `run` prints and trains.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// JSON lines (one event per line) instead of text.
    pub jsonl: bool,
    /// Export CSV, Markdown, plots and weights at the end.
    pub export: bool,
    /// Units trained at once (engines sharing the cores).
    pub jobs: usize,
    /// Units that share their batches train in lockstep (`engine::lockstep`).
    pub lockstep: bool,
}

/// Trains a session to the end, printing progress; returns where the run ended up and its
/// final record (every writer's units, as the folder has them).
pub fn run(
    session: Session,
    data: Arc<Dataset>,
    options: Options,
    out: &mut dyn Write,
) -> Result<(Saved, RunRecord)> {
    let Options { jsonl, export, .. } = options;
    // More engines than units would only take cores from the ones with work.
    let jobs = options.jobs.clamp(1, session.units_left().max(1));
    let started = std::time::Instant::now();
    let preset = session.preset.clone();
    let dir = session.dir();
    let shown_dir = dir
        .as_ref()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| "(memory)".into());
    let mut closed: Option<std::io::Error> = None;
    if !jsonl {
        let total = preset.units.len();
        let done = session.record().done_indices().len();
        let left = session.units_left();
        let mut progress = String::new();
        if done > 0 {
            progress.push_str(&format!(", {done} already done"));
        }
        if left != total - done {
            progress.push_str(&format!(", {left} for this process"));
        }
        if let Err(e) = writeln!(
            out,
            "preset {} ({}{}{}) on the {} engine -> {shown_dir}",
            escape(&preset.name),
            preset.size_label(),
            progress,
            if jobs > 1 {
                format!(", {jobs} at once")
            } else {
                String::new()
            },
            session.engine(),
        ) {
            closed = Some(e);
        }
        // Lockstep packs units into one batch of the fused path; dfdx trains each alone.
        if session.engine() == crate::spec::Engine::Dfdx && options.lockstep {
            if let Err(e) = writeln!(out, "lockstep is off on dfdx: each unit trains on its own") {
                closed = Some(e);
            }
        }
        // Subsets the data set is too small for: said, since the record keeps the number.
        for note in crate::session::subset_notes(&preset, &data) {
            if let Err(e) = writeln!(out, "note: {}", escape(&note)) {
                closed = Some(e);
            }
        }
        // Another data set than the study's: say which, and how its labels were read.
        let id = data.identity();
        if !id.is_mnist() {
            let note = data
                .classes
                .note()
                .map(|n| format!("; {n}"))
                .unwrap_or_default();
            let line = format!("data {id}{note} (the study's numbers are MNIST's: not shown)");
            let shown = escape(&line);
            if let Err(e) = writeln!(out, "{shown}") {
                closed = Some(e);
            }
        }
    }
    let mut session = session;
    let signals = crate::signals::listen().context("listening for signals")?;
    let mut interrupted_by = None;
    // `seeds: Until` trains in rounds: a pass over this process's units, then the next
    // round (or units nobody is training, or a wait for other writers), until decided.
    let mut said_waiting = false;
    // False while other writers finish the round: nothing to train, so no engines are started.
    let mut train = true;
    while closed.is_none() {
        let pass = if train {
            train_pass(
                &session,
                &data,
                (jobs, options.lockstep),
                jsonl,
                &signals,
                out,
            )
        } else {
            Pass::Ended { trained: false }
        };
        let trained_any = match pass {
            Pass::Ended { trained } => trained,
            Pass::Interrupted(sig) => {
                interrupted_by = Some(sig);
                break;
            }
            Pass::Closed(e) => {
                closed = Some(e);
                break;
            }
        };
        match session.next_round()? {
            Next::Done(why) => {
                if let (Some(why), false) = (why, jsonl) {
                    if let Err(e) = writeln!(out, "{}", escape(&why)) {
                        closed = Some(e);
                    }
                }
                break;
            }
            Next::Train(round) => {
                said_waiting = false;
                train = true;
                if let (Some(text), false) = (round, jsonl) {
                    if let Err(e) = writeln!(out, "{}", escape(&text)) {
                        closed = Some(e);
                        break;
                    }
                }
                if !trained_any {
                    // The units looked free but another writer had just claimed them.
                    if let Some(sig) = pause(&signals) {
                        interrupted_by = Some(sig);
                        break;
                    }
                }
            }
            Next::Wait(units) => {
                if !said_waiting && !jsonl {
                    said_waiting = true;
                    if let Err(e) = writeln!(
                        out,
                        "waiting for {units} unit{} other writers are training before the next round",
                        if units == 1 { "" } else { "s" }
                    ) {
                        closed = Some(e);
                        break;
                    }
                }
                if let Some(sig) = pause(&signals) {
                    interrupted_by = Some(sig);
                    break;
                }
                train = false;
            }
        }
    }
    if interrupted_by.is_some() || closed.is_some() {
        // The running units are recorded as interrupted; finished ones are already on disk.
        let saved = session.finish(true);
        if let Some(sig) = interrupted_by {
            say(&format!(
                "{}: stopped; {saved} (finish it with --resume)",
                crate::signals::name(sig)
            ));
            return Err(Interrupted(sig).into());
        }
        let e = closed.unwrap_or_else(|| std::io::Error::other("closed"));
        say(&format!(
            "cannot write to standard output ({e}); stopped; {saved}"
        ));
        return Err(OutputClosed(e).into());
    }
    let saved = session.finish(false);
    // The folder's view: this process's units and every other writer's.
    let record = match &saved {
        Saved::InPlace(d) => runs::load(d).unwrap_or_else(|_| session.record()),
        _ => session.record(),
    };
    // Said once: a rescue or a partial save as a warning here, a loss as the error at the end.
    if matches!(saved, Saved::Rescued { .. } | Saved::RecordsOnly { .. }) {
        say(&format!("warning: {}", escape(&saved.to_string())));
    }
    let last_words = match &saved {
        Saved::InPlace(_) => saved.to_string(),
        Saved::Rescued { dir, .. } => format!("run saved in {}", dir.display()),
        Saved::RecordsOnly { dir, .. } => {
            format!("records saved in {}, without some weights", dir.display())
        }
        Saved::Lost { .. } => "the run could not be saved (see below)".into(),
    };
    let report = |out: &mut dyn Write| -> std::io::Result<()> {
        if !jsonl {
            writeln!(out)?;
            write!(out, "{}", report::text_table(&record))?;
            if report::has_repeats(&record) {
                writeln!(out)?;
                write!(out, "{}", report::variant_table(&record))?;
            }
            writeln!(
                out,
                "\n{} of {} units finished ({}) after {:.1}s; {last_words}",
                record.count(UnitStatus::Finished),
                record.units.len(),
                if record.complete {
                    "the run is complete".to_string()
                } else {
                    let left = record.units.len() - record.done_indices().len();
                    format!("{left} left to other writers or a --resume")
                },
                started.elapsed().as_secs_f32(),
            )?;
        }
        Ok(())
    };
    report(out).map_err(OutputClosed)?;
    if export {
        if let Some(target) = saved
            .run_file()
            .and_then(|f| f.parent().map(Path::to_path_buf))
        {
            let written = crate::export::export_all(&target, &record, Some(data.as_ref()))?;
            if !jsonl {
                writeln!(
                    out,
                    "exported {} to {}",
                    written.summary(),
                    target.display()
                )
                .map_err(OutputClosed)?;
                for line in &written.skipped {
                    writeln!(out, "skipped: {}", crate::text::escape(line))
                        .map_err(OutputClosed)?;
                }
            }
        }
    }
    if let Saved::Lost { reason } = &saved {
        // The table is above on standard output (with --jsonl, in the events).
        anyhow::bail!("the run could not be saved anywhere: {reason}");
    }
    Ok((saved, record))
}

/// How a pass over the session's units ended.
enum Pass {
    /// Every engine finished; `trained`: some unit was started.
    Ended {
        trained: bool,
    },
    Interrupted(i32),
    Closed(std::io::Error),
}

/// Waits a moment for other writers, unless a signal comes first.
fn pause(signals: &crossbeam_channel::Receiver<i32>) -> Option<i32> {
    signals
        .recv_timeout(std::time::Duration::from_millis(300))
        .ok()
}

/// Trains the session's units not skipped with `jobs` engines, printing progress, until
/// every engine has finished; on a signal or a closed output, the engines are cancelled and
/// joined (their running units are recorded as interrupted when the session finishes).
fn train_pass(
    session: &Session,
    data: &Arc<Dataset>,
    (jobs, lockstep): (usize, bool),
    jsonl: bool,
    signals: &crossbeam_channel::Receiver<i32>,
    out: &mut dyn Write,
) -> Pass {
    let kernel = session.kernel();
    let handles = session.spawn_jobs(data.clone(), kernel, jobs, lockstep);
    // One stream of events from every engine.
    let (events_tx, events) = crossbeam_channel::unbounded();
    for h in &handles {
        let (rx, tx) = (h.events.clone(), events_tx.clone());
        std::thread::spawn(move || {
            for ev in rx {
                if tx.send(ev).is_err() {
                    break;
                }
            }
        });
    }
    drop(events_tx);
    let mut running = handles.len();
    let mut trained = false;
    let mut end = None;
    loop {
        let event = crossbeam_channel::select! {
            recv(events) -> ev => match ev {
                Ok(ev) => ev,
                Err(_) => break,
            },
            recv(signals) -> sig => {
                end = Some(Pass::Interrupted(sig.unwrap_or(15)));
                break;
            }
        };
        trained |= matches!(event, Event::UnitStarted { .. });
        let written = if jsonl {
            if matches!(event, Event::Progress { .. }) {
                Ok(())
            } else {
                serde_json::to_string(&event)
                    .map_err(std::io::Error::other)
                    .and_then(|line| writeln!(out, "{line}"))
            }
        } else {
            match epoch_line(&session.preset, &event) {
                Some(line) => writeln!(out, "{line}"),
                None => Ok(()),
            }
        };
        if let Err(e) = written {
            end = Some(Pass::Closed(e));
            break;
        }
        if let Event::Warning { message } = &event {
            if jsonl {
                say(&format!("warning: {}", escape(message)));
            }
        }
        if matches!(event, Event::RunFinished { .. }) {
            running -= 1;
            if running == 0 {
                break;
            }
        }
    }
    if end.is_some() {
        for h in &handles {
            h.send(engine::Command::Cancel);
        }
    }
    handles.into_iter().for_each(engine::EngineHandle::join);
    end.unwrap_or(Pass::Ended { trained })
}

/// `mnist-lab runs`: past runs, newest first.
pub fn list_runs(root: &Path, out: &mut dyn Write) -> Result<()> {
    runs::check_folder(root, "runs folder")?;
    let past = runs::history::list(root);
    if past.is_empty() {
        writeln!(out, "no runs in {}", root.display())?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<40} {:<16} {:<6} {:<19} {:>9} {:>9}",
        "run", "preset", "engine", "date (UTC)", "done", "best acc"
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
                    "{:<40} {:<16} {:<6} {:<19} {:>9} {:>9}{}",
                    escape(&p.name()),
                    escape(&r.preset),
                    r.engine.label(),
                    date,
                    format!("{}/{}", r.count(UnitStatus::Finished), r.units.len()),
                    r.best_accuracy()
                        .map(|a| format!("{a:.4}"))
                        .unwrap_or_else(|| "-".into()),
                    if p.resumable() { "  (resumable)" } else { "" },
                )?;
                // The overrides it was started with, on a line of their own below it.
                if !r.overrides.is_empty() {
                    writeln!(
                        out,
                        "{:<40} started with {}",
                        "",
                        escape(&r.overrides.join(" "))
                    )?;
                }
            }
            Err(e) => writeln!(out, "{:<40} ERROR {}", escape(&p.name()), escape(e))?,
        }
    }
    Ok(())
}

/// `mnist-lab eval RUN_DIR VARIANT`: recomputes test accuracy from the saved weights.
pub fn eval(dir: &Path, variant: &str, data: &Dataset, out: &mut dyn Write) -> Result<f32> {
    let record = runs::load(dir)?;
    if let Some(theirs) = &record.data {
        let ours = data.identity();
        anyhow::ensure!(
            *theirs == ours,
            "{}: this run was trained on {theirs}, and the data given is {ours}; evaluate it \
             with the data set it was trained on (--data)",
            dir.display()
        );
    }
    let (v, weights) = runs::find_weights(dir, &record, variant)?;
    let e = engine::train::evaluate_saved(&v.spec, &weights, data)?;
    let variant = escape(variant);
    writeln!(
        out,
        "{variant}: test accuracy {:.4}, test loss {:.4} on {} images (recorded: {})",
        e.accuracy,
        e.loss,
        e.predictions.len(),
        v.final_metrics()
            .map(|m| format!("accuracy {:.4}, loss {:.4}", m.test_acc, m.test_loss))
            .unwrap_or_else(|| "none".into())
    )?;
    Ok(e.accuracy)
}

/// `mnist-lab list`: presets and architectures.
pub fn list(runs_dir: &Path, out: &mut dyn Write) -> Result<()> {
    // Estimates at the speed this CPU's past runs measured (MNIST's sizes).
    let past = runs::history::list(runs_dir);
    let cpu = runs::record::Environment::detect("").cpu_model;
    let rate = crate::estimate::Rate::measured(
        past.iter().filter_map(|p| p.record.as_ref().ok()),
        cpu.as_deref(),
    );
    writeln!(out, "Presets (time on MNIST {}):", rate.source())?;
    let sizes = crate::estimate::DataSizes::default();
    for (label, result) in preset::discover(Path::new("presets")) {
        match result {
            Ok(p) => writeln!(
                out,
                "  {:<22} {:<38} ≈{:<14} {}  ({label})",
                escape(&p.name),
                p.size_label(),
                crate::estimate::range_text(rate.preset_range(&p, sizes)),
                escape(&p.description)
            )?,
            Err(e) => writeln!(
                out,
                "  {}: ERROR {}",
                escape(&label),
                escape(&e.to_string())
            )?,
        }
    }
    writeln!(
        out,
        "\nArchitectures: any hidden widths, as \"1024-512-256\" or [1024, 512, 256] in a \
         preset or --arch: 1 to {} layers of 1 to {} units, on the fast path. These also have \
         a compile-time dfdx type (--kernel dfdx, the reference the fast path is checked \
         against); weights on MNIST's 784 inputs and 10 classes:",
        crate::spec::MAX_DEPTH,
        crate::spec::MAX_WIDTH
    )?;
    for a in crate::spec::Arch::menu() {
        writeln!(
            out,
            "  {:<20} {} weights",
            a.name(),
            a.weight_count(crate::spec::Io::MNIST)
        )?;
    }
    Ok(())
}
