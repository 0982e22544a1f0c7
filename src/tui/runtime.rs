//! The TUI's runtime: terminal set-up and restore, one event loop joining key input and
//! engine events, redraw on change at most ~30 frames/s, and the effects `update` asks for.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossbeam_channel::{select, Receiver};
use crossterm::event::{self as term_event, Event as TermEvent, KeyEventKind};

use super::app::{App, Effect, Msg, PickerEntry};
use super::ui;
use crate::cli::Overrides;
use crate::data::Dataset;
use crate::engine::{self, Command, EngineHandle, EngineOptions};
use crate::headless;
use crate::runs::{self, record::Environment, RunRecord};

const FRAME: Duration = Duration::from_millis(33);

pub struct TuiOptions {
    pub picker: Vec<PickerEntry>,
    /// Start this picker entry at once (`mnist-lab tui PRESET`).
    pub start: Option<usize>,
    pub data: Option<PathBuf>,
    pub runs_dir: PathBuf,
    pub overrides: Overrides,
}

/// Builds picker entries from `presets/` and the embedded presets, plus an extra path.
pub fn picker_entries(extra: Option<&str>) -> (Vec<PickerEntry>, Option<usize>) {
    let mut entries = Vec::new();
    let mut start = None;
    if let Some(name) = extra {
        entries.push(PickerEntry {
            label: name.to_string(),
            preset: crate::preset::load(name).map_err(|e| e.to_string()),
        });
        start = Some(0);
    }
    for (label, result) in crate::preset::discover(std::path::Path::new("presets")) {
        entries.push(PickerEntry {
            label,
            preset: result.map_err(|e| e.to_string()),
        });
    }
    (entries, start)
}

/// The run store's runs, for the picker.
pub fn past_entries(root: &std::path::Path) -> Vec<super::app::PastEntry> {
    runs::history::list(root)
}

/// Reads terminal input on its own thread so the loop can `select` over it.
fn spawn_input() -> Receiver<TermEvent> {
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("mnist-lab-input".into())
        .spawn(move || {
            while let Ok(ev) = term_event::read() {
                if tx.send(ev).is_err() {
                    break;
                }
            }
        })
        .ok();
    rx
}

struct Runtime {
    app: App,
    options: TuiOptions,
    data: Option<Arc<Dataset>>,
    engine: Option<EngineHandle>,
}

impl Runtime {
    fn dispatch(&mut self, msg: Msg) -> bool {
        let mut queue = vec![msg];
        while let Some(msg) = queue.pop() {
            for effect in self.app.update(msg) {
                match self.perform(effect) {
                    Ok(Some(next)) => queue.push(next),
                    Ok(None) => {}
                    Err(e) => queue.push(Msg::Error(format!("{e:#}"))),
                }
            }
        }
        self.app.quitting
    }

    fn perform(&mut self, effect: Effect) -> Result<Option<Msg>> {
        match effect {
            Effect::Start(i) => self.start(i).map(Some),
            Effect::Resume(i) => self.resume(i).map(Some),
            Effect::RefreshRuns => Ok(Some(Msg::PastRuns(past_entries(&self.options.runs_dir)))),
            Effect::Engine(c) => {
                if let Some(h) = &self.engine {
                    h.send(c);
                }
                Ok(None)
            }
            Effect::Save => {
                let run = self.app.run.as_ref();
                if let Some((dir, record)) =
                    run.and_then(|r| r.dir.as_ref().map(|d| (d, &r.record)))
                {
                    if let Err(e) = runs::save(dir, record) {
                        return Ok(Some(Msg::Error(format!(
                            "cannot save the run ({e:#}); training continues, results kept in memory"
                        ))));
                    }
                }
                Ok(None)
            }
            Effect::Export => self.export().map(Some),
            Effect::LoadDigits(i) => self.load_digits(i).map(Some),
            Effect::Quit => {
                self.stop_engine();
                Ok(None)
            }
        }
    }

    fn start(&mut self, i: usize) -> Result<Msg> {
        if self.app.training() {
            anyhow::bail!("a preset is already training: cancel it (c) first");
        }
        self.stop_engine();
        let entry = self
            .app
            .picker
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("no preset #{i}"))?;
        let preset = entry.preset.clone().map_err(|e| anyhow::anyhow!(e))?;
        let preset = headless::apply_overrides(preset, &self.options.overrides)?;
        let data = self.dataset()?;
        let record = RunRecord::new(
            &preset,
            Environment::detect(&data.dir.display().to_string()),
        );
        let dir = runs::create_run_dir(&self.options.runs_dir, &preset.name)
            .and_then(|dir| runs::save(&dir, &record).map(|_| dir));
        let (dir, note) = match dir {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        };
        let options = EngineOptions {
            weights_dir: dir.as_ref().map(|d| d.join("weights")),
            ..Default::default()
        };
        self.engine = Some(engine::spawn(preset, data, options));
        self.app.update(Msg::Started(record, dir));
        Ok(match note {
            Some(n) => Msg::Error(format!(
                "cannot save runs ({n}); training anyway, export with e"
            )),
            None => Msg::Info("training started".into()),
        })
    }

    fn dataset(&mut self) -> Result<Arc<Dataset>> {
        match &self.data {
            Some(d) => Ok(d.clone()),
            None => {
                let d = headless::load_data(self.options.data.as_deref())?;
                self.data = Some(d.clone());
                Ok(d)
            }
        }
    }

    fn resume(&mut self, i: usize) -> Result<Msg> {
        self.stop_engine();
        let dir = self
            .app
            .past
            .get(i)
            .map(|p| p.dir.clone())
            .ok_or_else(|| anyhow::anyhow!("no past run #{i}"))?;
        let data = self.dataset()?;
        let setup = headless::resume_run(&dir)?;
        let options = EngineOptions {
            skip: setup.skip.clone(),
            weights_dir: Some(dir.join("weights")),
            ..Default::default()
        };
        self.engine = Some(engine::spawn(setup.preset, data, options));
        self.app
            .update(Msg::Started(setup.record, Some(dir.clone())));
        Ok(Msg::Info(format!("resuming {}", dir.display())))
    }

    fn load_digits(&mut self, i: usize) -> Result<Msg> {
        let data = self.dataset()?;
        let run = self
            .app
            .run
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no run open"))?;
        let v = run
            .record
            .variants
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("no variant #{i}"))?;
        let weights = v
            .weights
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("{}: no saved weights", v.spec.name))?;
        let e = engine::train::evaluate_saved(&v.spec, std::path::Path::new(weights), &data)
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(Msg::DigitsLoaded(super::app::Digits {
            variant: i,
            name: v.spec.name.clone(),
            data,
            predictions: e.predictions,
            confidence: e.confidence,
            true_filter: None,
            pred_filter: None,
            page: 0,
        }))
    }

    /// Exports into the run folder; if that cannot be written, into `./mnist-lab-export-<run>`
    /// so the results in memory still reach the disk.
    fn export(&mut self) -> Result<Msg> {
        let data = self.dataset().ok();
        let Some(run) = &self.app.run else {
            anyhow::bail!("nothing to export yet");
        };
        let name = run
            .dir
            .as_ref()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| runs::sanitize(&run.record.preset));
        let fallback = std::path::PathBuf::from(format!("mnist-lab-export-{name}"));
        let first = run.dir.clone().unwrap_or_else(|| fallback.clone());
        let done = crate::runs::export::export_or_fallback(
            &first,
            &fallback,
            &run.record,
            data.as_deref(),
        )?;
        let text = format!(
            "exported {} to {}",
            done.written.join(", "),
            done.dir.display()
        );
        Ok(match done.first_error {
            None => Msg::Info(text),
            Some(e) => Msg::Error(format!(
                "{} is not writable ({e}); {text} instead",
                first.display()
            )),
        })
    }

    /// Cancels and joins the engine; a running variant is recorded as interrupted.
    fn stop_engine(&mut self) {
        if let Some(h) = self.engine.take() {
            h.send(Command::Cancel);
            h.join();
        }
        if let Some(run) = self.app.run.as_mut() {
            if !run.finished {
                run.record.mark_interrupted();
                if let Some(dir) = &run.dir {
                    let _ = runs::save(dir, &run.record);
                }
            }
        }
    }
}

/// Runs the TUI until the user quits. The terminal is restored on every exit path
/// (`ratatui::init` installs a panic hook that restores it too).
pub fn run(options: TuiOptions) -> Result<()> {
    // Before any thread is spawned, so input and signal threads inherit it. Without the hint
    // the UI merely preempts training a little more: a failure changes nothing visible.
    let _ = crate::sched::yield_to_training();
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, options);
    ratatui::restore();
    result
}

fn event_loop(terminal: &mut ratatui::DefaultTerminal, options: TuiOptions) -> Result<()> {
    let mut app = App::new(options.picker.clone());
    app.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let start = options.start;
    app.past = past_entries(&options.runs_dir);
    let mut rt = Runtime {
        app,
        options,
        data: None,
        engine: None,
    };
    // Open on the quick preset: a first run that finishes in seconds.
    if let Some(i) = rt
        .app
        .picker
        .iter()
        .position(|e| e.preset.as_ref().is_ok_and(|p| p.name == "quick"))
    {
        rt.app.picker_selected = i;
    }
    if let Some(i) = start {
        rt.app.picker_selected = i;
        rt.dispatch(Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Enter,
        )));
    }
    let input = spawn_input();
    let signals = crate::signals::listen()?;
    let never = crossbeam_channel::never();
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|f| ui::render(&rt.app, f))?;
            last_draw = Instant::now();
            dirty = false;
        }
        let wait = if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(1)
        };
        let events = rt
            .engine
            .as_ref()
            .map(|h| h.events.clone())
            .unwrap_or_else(|| never.clone());
        let mut msgs = Vec::new();
        select! {
            recv(input) -> ev => match ev {
                Ok(TermEvent::Key(k)) if k.kind == KeyEventKind::Press => msgs.push(Msg::Key(k)),
                Ok(TermEvent::Resize(..)) => dirty = true,
                Ok(_) => {}
                Err(_) => return Ok(()),
            },
            recv(events) -> ev => if let Ok(ev) = ev { msgs.push(Msg::Engine(ev)) },
            recv(signals) -> sig => {
                // Save what is done (the running variant as interrupted), then leave; the
                // caller restores the terminal and exits with 128 + the signal.
                rt.stop_engine();
                return Err(headless::Interrupted(sig.unwrap_or(15)).into());
            },
            default(wait) => {}
        }
        // Drain whatever else is pending, then draw once.
        while let Ok(ev) = events.try_recv() {
            msgs.push(Msg::Engine(ev));
        }
        for msg in msgs {
            dirty = true;
            if rt.dispatch(msg) {
                return Ok(());
            }
        }
    }
}
