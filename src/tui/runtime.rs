//! The TUI's runtime: terminal set-up and restore, one event loop joining key input and
//! engine events, redraw on change at most ~30 frames/s, and the effects `update` asks for.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossbeam_channel::{select, Receiver};
use crossterm::event::{self as term_event, Event as TermEvent, KeyEventKind};

use super::app::{App, DataSizes, Effect, Msg, PickerEntry};
use super::hits::Hits;
use super::ui;
use crate::data::Dataset;
use crate::engine::{Command, EngineHandle};
use crate::runs;
use crate::session::{self, Interrupted, Overrides, Saved, Session};

const FRAME: Duration = Duration::from_millis(33);

pub struct TuiOptions {
    pub picker: Vec<PickerEntry>,
    /// Start this picker entry at once (`mnist-lab tui PRESET`).
    pub start: Option<usize>,
    pub data: Option<PathBuf>,
    pub runs_dir: PathBuf,
    pub overrides: Overrides,
    /// Capture the mouse (clicks, wheel) from the start; `M` toggles it.
    pub mouse: bool,
    /// Open this run folder at once and follow it (`mnist-lab watch DIR`).
    pub watch: Option<PathBuf>,
    /// Colours for a light terminal background.
    pub light: bool,
}

/// Builds picker entries from `presets/` and the embedded presets, plus an extra path.
pub fn picker_entries(extra: Option<&str>) -> (Vec<PickerEntry>, Option<usize>) {
    let mut entries: Vec<PickerEntry> = crate::preset::discover(std::path::Path::new("presets"))
        .into_iter()
        .map(|(label, result)| PickerEntry {
            label,
            preset: result.map_err(|e| e.to_string()),
        })
        .collect();
    let Some(name) = extra else {
        return (entries, None);
    };
    let preset = crate::preset::load(name).map_err(|e| e.to_string());
    // A preset the picker lists already is started from its own line, not listed twice.
    if let Ok(p) = &preset {
        if let Some(i) = entries
            .iter()
            .position(|e| e.preset.as_ref().is_ok_and(|q| q == p))
        {
            return (entries, Some(i));
        }
    }
    entries.insert(
        0,
        PickerEntry {
            label: name.to_string(),
            preset,
        },
    );
    (entries, Some(0))
}

/// The run store's runs, for the picker.
pub fn past_entries(root: &std::path::Path) -> Vec<super::app::PastEntry> {
    runs::history::list(root)
}

/// Turns the terminal's mouse reports (clicks, wheel; SGR encoding) on or off.
fn set_mouse_capture(on: bool) {
    use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    let mut out = std::io::stdout();
    let _ = if on {
        crossterm::execute!(out, EnableMouseCapture)
    } else {
        crossterm::execute!(out, DisableMouseCapture)
    };
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
    /// The run being trained (or last trained), and its Recorder.
    session: Option<Session>,
    /// Where the last run ended up, told again after the terminal is restored.
    last_saved: Option<Saved>,
    /// Messages for `update` that effects produced, handled in order by `dispatch`.
    outbox: std::collections::VecDeque<Msg>,
    /// Snapshots of the run folder being followed, if one is.
    watch: Option<Receiver<crate::runs::watch::Snapshot>>,
    /// File work done off the UI thread (export, evaluation) reports here when it ends.
    jobs: (crossbeam_channel::Sender<JobDone>, Receiver<JobDone>),
    /// Background jobs still running, for the footer ("exporting…").
    busy: usize,
}

/// What a background job ends with: the message for `update`, and the data set if it loaded
/// it (kept for the next job).
struct JobDone {
    msg: Msg,
    data: Option<Arc<Dataset>>,
}

impl Runtime {
    /// The only way state changes: `msg`, then every message the effects it asks for
    /// produce, in order, go through `App::update`.
    fn dispatch(&mut self, msg: Msg) -> bool {
        self.outbox.push_back(msg);
        while let Some(msg) = self.outbox.pop_front() {
            for effect in self.app.update(msg) {
                match self.perform(effect) {
                    Ok(Some(next)) => self.outbox.push_back(next),
                    Ok(None) => {}
                    Err(e) => self.outbox.push_back(Msg::Error(format!("{e:#}"))),
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
            Effect::Mouse(on) => {
                set_mouse_capture(on);
                Ok(None)
            }
            Effect::Watch(dir) => {
                // Replacing the receiver ends the previous follower at its next change.
                self.watch = Some(crate::runs::watch::follow(&dir));
                Ok(None)
            }
            Effect::Engine(c) => {
                if let Some(h) = &self.engine {
                    h.send(c);
                }
                Ok(None)
            }
            Effect::Export => self.export().map(Some),
            Effect::LoadDigits(i) => self.load_digits(i).map(Some),
            Effect::FinishRun => {
                self.finish_run(false);
                Ok(None)
            }
            Effect::NextRound => self.next_round().map(Some),
            Effect::Quit => {
                self.stop_engine();
                Ok(None)
            }
            // The app opens past runs itself; nothing to do here.
            Effect::OpenPast(_) => Ok(None),
            Effect::Rename(dir, text) => {
                let said = match runs::history::write_title(&dir, &text)? {
                    Some(t) => format!("named the run {t:?} (in {})", dir.display()),
                    None => format!("{}: its name is removed", dir.display()),
                };
                self.outbox
                    .push_back(Msg::PastRuns(past_entries(&self.options.runs_dir)));
                Ok(Some(Msg::Info(said)))
            }
            Effect::Delete(dir) => {
                runs::history::delete_run(&self.options.runs_dir, &dir)?;
                self.outbox
                    .push_back(Msg::PastRuns(past_entries(&self.options.runs_dir)));
                Ok(Some(Msg::Info(format!("deleted {}", dir.display()))))
            }
            Effect::ExportView(view) => self.export_view(view).map(Some),
        }
    }

    /// Writes what `view` shows into a folder of its own beside the run's files.
    fn export_view(&self, view: super::state::View) -> Result<Msg> {
        let Some(run) = &self.app.run else {
            anyhow::bail!("nothing to export yet");
        };
        let name = view.name();
        let base = run.dir.clone().unwrap_or_else(|| {
            std::path::PathBuf::from(format!(
                "mnist-lab-export-{}",
                runs::sanitize(&run.record.preset)
            ))
        });
        let dir = base.join(format!("view-{name}"));
        let mut record = run.record.clone();
        if view == super::state::View::Live {
            // The live view shows one unit.
            let unit = record.units.get(self.app.selected).cloned();
            record.units = unit.into_iter().collect();
        }
        let mut written =
            crate::export::export_files(&dir, &record, crate::export::view_files(name))?;
        // The view as drawn: its curves, scale, smoothing, hidden curves and compared runs.
        if let Some(figure) = super::ui::figure(&self.app, view) {
            written.extend(figure.write(&dir, &format!("view-{name}"))?);
        }
        if let (super::state::View::Digits, Some(d)) = (view, &self.app.digits) {
            let n = d.predictions.len();
            let m = crate::insight::confusion::confusion(
                &d.data.test.labels[..n],
                &d.predictions,
                d.data.classes.count,
            );
            let path = dir.join(format!("confusion-{}.csv", runs::sanitize(&d.name)));
            std::fs::create_dir_all(&dir)
                .map_err(|e| anyhow::anyhow!("{}: cannot create ({e})", dir.display()))?;
            runs::write_atomic(&path, crate::insight::confusion::to_csv(&m).as_bytes())?;
            written.push(path);
        }
        anyhow::ensure!(!written.is_empty(), "the {name} view has nothing to export");
        let files: Vec<String> = written
            .iter()
            .filter_map(|p| p.file_name().map(|f| f.to_string_lossy().to_string()))
            .collect();
        Ok(Msg::Info(format!(
            "exported the {name} view to {}: {}",
            dir.display(),
            files.join(", ")
        )))
    }

    fn start(&mut self, i: usize) -> Result<Msg> {
        if self.app.training() {
            anyhow::bail!("a preset is already training: cancel it (c) first");
        }
        self.stop_engine();
        self.watch = None;
        let entry = self
            .app
            .picker
            .entries
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("no preset #{i}"))?;
        let preset = entry.preset.clone().map_err(|e| anyhow::anyhow!(e))?;
        let mut overrides = self.options.overrides.clone();
        overrides.engine = self.app.picker.engine.or(overrides.engine);
        let preset = session::apply_overrides(preset, &overrides)?;
        let data = self.dataset()?;
        // A unit dfdx cannot train (or a holdout that leaves nothing) is refused before a run
        // folder is made.
        session::check_fits(&preset, &data)?;
        // Subsets larger than the data set are said (the record keeps the preset's number).
        let clamped = session::subset_notes(&preset, &data);
        let (session, note) = Session::create_or_in_memory(preset, &data, &self.options.runs_dir);
        let started = self.launch(session, data);
        self.outbox.push_back(started);
        Ok(match note {
            Some(n) => Msg::Error(format!(
                "cannot save runs ({n}); training anyway, kept in memory and saved to a rescue \
                 folder at the end"
            )),
            None if !clamped.is_empty() => Msg::Info(clamped.join("; ")),
            None => Msg::Info(super::app::TRAINING_STARTED.into()),
        })
    }

    /// Starts the engine on `session` and shows its run.
    fn launch(&mut self, session: Session, data: Arc<Dataset>) -> Msg {
        self.engine = Some(session.spawn(data, session.kernel()));
        let (record, dir) = (session.record(), session.dir());
        // Other processes may write the same folder (a resumed shared run): follow it, so
        // their units show as they end here too.
        self.watch = dir.as_deref().map(crate::runs::watch::follow);
        self.session = Some(session);
        Msg::Started(record, dir)
    }

    /// A round of `seeds: Until` ended: the session adds the next one (or finds units nobody
    /// trains) and the engine starts on them; or no round follows.
    fn next_round(&mut self) -> Result<Msg> {
        let (Some(session), Some(data)) = (self.session.as_mut(), self.data.clone()) else {
            return Ok(Msg::RoundsEnded(Some("no run to go on with".into())));
        };
        match session.next_round()? {
            session::Next::Train(text) => {
                if let Some(h) = self.engine.take() {
                    h.join();
                }
                self.engine = Some(session.spawn(data, session.kernel()));
                let text = text.unwrap_or_else(|| {
                    "Training units of this round that no other writer is training".into()
                });
                Ok(Msg::RoundStarted(session.record(), text))
            }
            session::Next::Wait(_) => Ok(Msg::RoundsEnded(None)),
            session::Next::Done(why) => Ok(Msg::RoundsEnded(Some(
                why.unwrap_or_else(|| "no round follows".into()),
            ))),
        }
    }

    fn dataset(&mut self) -> Result<Arc<Dataset>> {
        match &self.data {
            Some(d) => Ok(d.clone()),
            None => {
                let d = session::load_data(self.options.data.as_deref())?;
                self.data = Some(d.clone());
                self.outbox.push_back(Msg::DataLoaded(DataSizes::of(&d)));
                Ok(d)
            }
        }
    }

    fn resume(&mut self, i: usize) -> Result<Msg> {
        if self.app.training() {
            anyhow::bail!("a preset is already training: cancel it (c) first");
        }
        self.stop_engine();
        let dir = self
            .app
            .picker
            .past
            .get(i)
            .map(|p| p.dir.clone())
            .ok_or_else(|| anyhow::anyhow!("no past run #{i}"))?;
        let data = self.dataset()?;
        let session = Session::resume(&dir, &data)?;
        let started = self.launch(session, data);
        self.outbox.push_back(started);
        Ok(Msg::Info(format!("resuming {}", dir.display())))
    }

    /// Evaluates variant `i`'s saved weights on the test set for the digits view, off the UI
    /// thread.
    fn load_digits(&mut self, i: usize) -> Result<Msg> {
        let run = self
            .app
            .run
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no run open"))?;
        let v = run
            .record
            .units
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("no variant #{i}"))?;
        anyhow::ensure!(v.weights.is_some(), "{}: no saved weights", v.spec.name);
        let dir = run
            .dir
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("{}: the run has no folder", v.spec.name))?;
        let (_, weights) = runs::find_weights(dir, &run.record, &v.spec.name)?;
        let spec = v.spec.clone();
        let data_flag = self.options.data.clone();
        self.in_background("evaluating", true, move |data| {
            test_hook_delay();
            let data = match data {
                Some(d) => d,
                None => session::load_data(data_flag.as_deref())?,
            };
            let e = crate::engine::train::evaluate_saved(&spec, &weights, &data)?;
            Ok(Msg::DigitsLoaded(super::views::digits::Digits {
                variant: i,
                name: spec.name.clone(),
                data,
                predictions: e.predictions,
                confidence: e.confidence,
                true_filter: None,
                pred_filter: None,
                page: 0,
            }))
        })
    }

    /// Runs `job` on its own thread, so the screen, keys and signals never wait on files;
    /// the data set is loaded there when the job needs it and is not loaded yet.
    fn in_background(
        &mut self,
        what: &str,
        needs_data: bool,
        job: impl FnOnce(Option<Arc<Dataset>>) -> Result<Msg> + Send + 'static,
    ) -> Result<Msg> {
        let cached = self.data.clone();
        let data_flag = self.options.data.clone();
        let tx = self.jobs.0.clone();
        self.busy += 1;
        std::thread::Builder::new()
            .name(format!("mnist-lab-{what}"))
            .spawn(move || {
                let data = match (cached, needs_data) {
                    (Some(d), _) => Some(d),
                    (None, true) => session::load_data(data_flag.as_deref()).ok(),
                    (None, false) => None,
                };
                let msg = job(data.clone()).unwrap_or_else(|e| Msg::Error(format!("{e:#}")));
                let _ = tx.send(JobDone { msg, data });
            })
            .map_err(|e| anyhow::anyhow!("cannot start the {what}: {e}"))?;
        Ok(Msg::Info(format!("{what}…")))
    }

    /// Exports into the run folder; if that cannot be written, into `./mnist-lab-export-<run>`
    /// so the results in memory still reach the disk. Off the UI thread.
    fn export(&mut self) -> Result<Msg> {
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
        let record = run.record.clone();
        let needs_data = record.units.iter().any(|v| v.weights.is_some());
        self.in_background("exporting", needs_data, move |data| {
            test_hook_delay();
            let done = crate::export::export_or_fallback_from(
                &first,
                &first,
                &fallback,
                &record,
                data.as_deref(),
            )?;
            // Where first: a status line cut at 80 columns still says it.
            let text = format!(
                "exported to {}: {}",
                done.dir.display(),
                done.written.summary()
            );
            Ok(match done.first_error {
                None => Msg::Info(text),
                Some(e) => Msg::Error(format!(
                    "{} is not writable ({e}); {text} instead",
                    first.display()
                )),
            })
        })
    }

    /// Cancels and joins the engine; a running variant is recorded as interrupted, and the
    /// run is saved (or rescued) by its Recorder.
    fn stop_engine(&mut self) {
        if let Some(h) = self.engine.take() {
            h.send(Command::Cancel);
            h.join();
        }
        self.finish_run(true);
    }

    /// The engine ended (or was stopped): the Recorder writes the final state; the user is
    /// told where the run is, and warned if that is not its folder.
    fn finish_run(&mut self, interrupted: bool) {
        // Once per run: a second finish would rescue the run a second time.
        let Some(session) = self.session.take() else {
            return;
        };
        let saved = session.finish(interrupted);
        let msg = match (&saved, &self.app.message) {
            // Where the run is first (it must fit at 80 columns), then what the view said
            // ("Run complete. e exports ...").
            (Saved::InPlace(_), Some((super::app::Level::Info, said))) => {
                Msg::Info(format!("{}. {said}", capitalise(&saved.to_string())))
            }
            (Saved::InPlace(_), _) => Msg::Info(capitalise(&saved.to_string())),
            _ => Msg::Error(capitalise(&saved.to_string())),
        };
        self.last_saved = Some(saved);
        self.outbox.push_back(msg);
    }
}

/// Test hook: background jobs wait this many milliseconds first (`MNIST_LAB_INJECT_JOB_DELAY_MS`),
/// so a test can see that the UI does not wait for them.
pub const JOB_DELAY_ENV: &str = "MNIST_LAB_INJECT_JOB_DELAY_MS";

fn test_hook_delay() {
    if let Some(ms) = std::env::var(JOB_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms.min(60_000)));
    }
}

/// A terminal mouse event as the app's input, resolved against what the last frame drew:
/// left clicks (on press) and the wheel.
fn mouse_msg(m: crossterm::event::MouseEvent, hits: &Hits) -> Option<Msg> {
    use crossterm::event::{MouseButton, MouseEventKind};
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Msg::Click(hits.at(m.column, m.row))),
        MouseEventKind::ScrollUp => Some(Msg::Wheel(true)),
        MouseEventKind::ScrollDown => Some(Msg::Wheel(false)),
        _ => None,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Runs the TUI until the user quits. The terminal is restored on every exit path
/// (`ratatui::init` installs a panic hook that restores it too).
pub fn run(options: TuiOptions) -> Result<()> {
    // Before any thread is spawned, so input and signal threads inherit it. Without the hint
    // the UI merely preempts training a little more: a failure changes nothing visible.
    let _ = crate::thread_policy::yield_to_training();
    let mut terminal = ratatui::init();
    // ratatui's panic hook restores raw mode and the screen; the mouse capture is ours to
    // end, on a panic too, or the shell would receive mouse reports as typed text.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        set_mouse_capture(false);
        previous(info);
    }));
    set_mouse_capture(options.mouse);
    let mut saved = None;
    let result = event_loop(&mut terminal, options, &mut saved);
    set_mouse_capture(false);
    ratatui::restore();
    if let Some(saved) = saved {
        // After the screen is gone, the user still learns where the last run is.
        crate::text::say(&saved.to_string());
    }
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    options: TuiOptions,
    saved: &mut Option<Saved>,
) -> Result<()> {
    let start = options.start;
    let past = past_entries(&options.runs_dir);
    let mut rt = Runtime {
        app: App::new(options.picker.clone()),
        options,
        data: None,
        engine: None,
        session: None,
        last_saved: None,
        outbox: Default::default(),
        watch: None,
        jobs: crossbeam_channel::unbounded(),
        busy: 0,
    };
    // Estimates use the speed past runs measured on this CPU.
    rt.app.picker.cpu = crate::runs::record::Environment::detect("").cpu_model;
    // `tui --engine dfdx`: the picker shows, and starts with, that engine.
    rt.app.picker.engine = rt.options.overrides.engine;
    rt.app.light = rt.options.light;
    rt.dispatch(Msg::Init {
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        past,
    });
    if let Ok(size) = terminal.size() {
        rt.dispatch(Msg::Resize(size.height));
    }
    if let Some(i) = start {
        rt.dispatch(Msg::StartPreset(i));
    }
    if let Some(dir) = &rt.options.watch {
        let snapshot = crate::runs::watch::snapshot(dir);
        rt.dispatch(Msg::OpenWatched(snapshot));
    }
    let result = rt.run_loop(terminal);
    // Whatever ended the loop, a run still training is stopped and saved.
    rt.stop_engine();
    *saved = rt.last_saved.take();
    result
}

impl Runtime {
    fn run_loop(&mut self, terminal: &mut ratatui::DefaultTerminal) -> Result<()> {
        let input = spawn_input();
        let signals = crate::signals::listen()?;
        let never = crossbeam_channel::never();
        let mut dirty = true;
        let mut last_draw = Instant::now() - FRAME;
        // Where the last frame drew what a click selects.
        let mut hits = Hits::default();
        loop {
            if dirty && last_draw.elapsed() >= FRAME {
                terminal.draw(|f| hits = ui::render(&self.app, f))?;
                last_draw = Instant::now();
                dirty = false;
            }
            let wait = if dirty {
                FRAME.saturating_sub(last_draw.elapsed())
            } else {
                Duration::from_secs(1)
            };
            let events = self
                .engine
                .as_ref()
                .map(|h| h.events.clone())
                .unwrap_or_else(|| never.clone());
            let watched = self.watch.clone().unwrap_or_else(crossbeam_channel::never);
            let jobs = self.jobs.1.clone();
            let mut msgs = Vec::new();
            let mut engine_gone = false;
            select! {
                recv(input) -> ev => match ev {
                    Ok(TermEvent::Key(k)) if k.kind == KeyEventKind::Press => msgs.push(Msg::Key(k)),
                    Ok(TermEvent::Mouse(m)) => {
                        if dirty {
                            // A click acts on what is on screen now, not a frame ago.
                            terminal.draw(|f| hits = ui::render(&self.app, f))?;
                            last_draw = Instant::now();
                            dirty = false;
                        }
                        msgs.extend(mouse_msg(m, &hits));
                    }
                    Ok(TermEvent::Resize(_, rows)) => {
                        dirty = true;
                        msgs.push(Msg::Resize(rows));
                    }
                    Ok(_) => {}
                    Err(_) => return Ok(()),
                },
                recv(events) -> ev => match ev {
                    Ok(ev) => msgs.push(Msg::Engine(ev)),
                    // The engine thread ended: its channel is disconnected and would be
                    // "ready" forever, spinning this loop on a core. Stop selecting on it.
                    Err(_) => engine_gone = true,
                },
                recv(jobs) -> done => {
                    if let Ok(done) = done {
                        self.busy = self.busy.saturating_sub(1);
                        if self.data.is_none() {
                            if let Some(d) = &done.data {
                                self.data = Some(d.clone());
                                msgs.push(Msg::DataLoaded(DataSizes::of(d)));
                            }
                        }
                        msgs.push(done.msg);
                    }
                },
                recv(watched) -> snap => match snap {
                    Ok(snap) => msgs.push(Msg::Watched(snap)),
                    Err(_) => self.watch = None,
                },
                recv(signals) -> sig => {
                    // Save what is done (the running variant as interrupted), then leave;
                    // the caller restores the terminal and exits with 128 + the signal.
                    self.stop_engine();
                    return Err(Interrupted(sig.unwrap_or(15)).into());
                },
                default(wait) => {}
            }
            // Drain whatever else is pending, then draw once.
            while let Ok(ev) = events.try_recv() {
                msgs.push(Msg::Engine(ev));
            }
            if engine_gone {
                if let Some(h) = self.engine.take() {
                    h.join();
                }
            }
            for msg in msgs {
                dirty = true;
                if self.dispatch(msg) {
                    return Ok(());
                }
            }
        }
    }
}
