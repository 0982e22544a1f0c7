//! The TUI's one `update`: it routes each message to the view it is for and keeps what the
//! views share (the run, the selection, the comparison, options). No terminal, no dfdx, no
//! I/O here: side effects are returned as `Effect`s for the runtime to carry out, so every
//! transition is unit-testable. Each view's own keys, state and drawing live in `views`.

use std::path::PathBuf;

use crossterm::event::KeyEvent;

use super::hits::Target;
use super::keys::{action_for, Action};
pub use super::state::*;
use super::views::digits::Digits;
use super::views::factors::FactorsView;
use super::views::overlay::OverlayView;
use super::views::pairs::PairsView;
use super::views::picker::{jump, Picker};
pub use super::views::table::SortKey;
use super::views::table::TableView;
use super::views::{Ctx, Shared};
use crate::engine::{Command, Event};
use crate::runs::{RunRecord, UnitStatus};

/// Inputs to `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    /// A click on what the last frame drew there (None: on nothing selectable).
    Click(Option<Target>),
    /// The mouse wheel: up (true) or down.
    Wheel(bool),
    /// The terminal's size changed (or is first known): its rows.
    Resize(u16),
    Engine(Event),
    /// A run was started by the runtime: its record and folder.
    Started(RunRecord, Option<PathBuf>),
    /// `seeds: Until`: the run (with the units of its new round queued) trains on; what the
    /// round is, in words.
    RoundStarted(RunRecord, String),
    /// `seeds: Until`: no round follows; why (None: other writers go on with the run).
    RoundsEnded(Option<String>),
    /// The runtime reports the outcome of an effect (export, save, start).
    Info(String),
    Error(String),
    /// The run store's contents.
    PastRuns(Vec<PastEntry>),
    /// Predictions of a variant, for the digits view.
    DigitsLoaded(Digits),
    /// The data set was loaded: its sizes, for estimates and ETAs.
    DataLoaded(DataSizes),
    /// The runtime starts: colours on or off, and the run store's contents. The picker
    /// opens on the quick preset (a first run that finishes in seconds).
    Init {
        no_color: bool,
        past: Vec<PastEntry>,
    },
    /// Start picker entry `i` at once (`mnist-lab tui PRESET`).
    StartPreset(usize),
    /// A followed run folder as it is on disk now (after each change).
    Watched(crate::runs::watch::Snapshot),
    /// Open a run folder and follow it (`mnist-lab watch DIR`).
    OpenWatched(crate::runs::watch::Snapshot),
}

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub screen: Screen,
    pub view: View,
    pub picker: Picker,
    pub run: Option<RunView>,
    /// Past runs shown beside the current grid and in the overlay: (name, record) each.
    pub compare: Vec<(String, RunRecord)>,
    /// The variant selected in the live, grid and table views (always a valid index).
    pub selected: usize,
    /// Selection follows the running variant until the user moves it.
    pub follow: bool,
    pub help: bool,
    /// First key line shown by a help overlay too tall for the terminal.
    pub help_scroll: usize,
    /// The terminal's rows, as last reported (0: not known yet).
    pub rows: u16,
    /// Whether the terminal reports the mouse (off: the terminal selects text as usual).
    pub mouse: bool,
    pub confirm: Option<Confirm>,
    /// A name being typed for a past run (`n`).
    pub prompt: Option<Prompt>,
    /// A variant name being searched for (`/` in a run's views).
    pub search: Option<Search>,
    pub message: Option<(Level, String)>,
    pub quitting: bool,
    /// Colourless drawing (NO_COLOR).
    pub no_color: bool,
    /// Colours for a light terminal background (`--theme light`).
    pub light: bool,
    /// How the live view and the grid draw loss charts.
    pub charts: ChartOptions,
    pub table: TableView,
    pub factors: FactorsView,
    pub pairs: PairsView,
    pub overlay: OverlayView,
    /// The digits view's predictions, pages and filters.
    pub digits: Option<Digits>,
    /// The data set's sizes (MNIST's until it is loaded), for estimates.
    pub sizes: DataSizes,
}

impl App {
    pub fn new(picker: Vec<PickerEntry>) -> Self {
        App {
            screen: Screen::Picker,
            view: View::Live,
            picker: Picker {
                entries: picker,
                ..Default::default()
            },
            run: None,
            compare: Vec::new(),
            selected: 0,
            follow: true,
            help: false,
            help_scroll: 0,
            rows: 0,
            mouse: true,
            confirm: None,
            prompt: None,
            search: None,
            message: None,
            quitting: false,
            no_color: false,
            light: false,
            charts: ChartOptions::default(),
            table: TableView::default(),
            factors: FactorsView::default(),
            pairs: PairsView::default(),
            overlay: OverlayView::default(),
            digits: None,
            sizes: DataSizes::default(),
        }
    }

    /// A run trains in this process (a watched run is trained by others).
    pub fn training(&self) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| !r.finished && r.watching.is_none())
    }

    /// Which keys work now: the picker's, a run's, or a run's while this process trains it.
    pub fn scope(&self) -> crate::tui::keys::Scope {
        use crate::tui::keys::Scope;
        match self.screen {
            Screen::Picker => Scope::Picker,
            Screen::Run if self.training() => Scope::Training,
            Screen::Run => Scope::Run,
        }
    }

    /// The view on screen (None in the picker): help and the footer list its keys.
    pub fn shown_view(&self) -> Option<View> {
        (self.screen == Screen::Run && self.run.is_some()).then_some(self.view)
    }

    /// Colours, or none (NO_COLOR).
    pub fn theme(&self) -> crate::tui::theme::Theme {
        crate::tui::theme::Theme {
            color: !self.no_color,
            light: self.light,
        }
    }

    /// The selected unit's name ("" without a run).
    pub fn unit_name_selected(&self) -> String {
        self.run
            .as_ref()
            .and_then(|r| r.record.units.get(self.selected))
            .map(|v| v.spec.name.clone())
            .unwrap_or_default()
    }

    pub fn unit_count(&self) -> usize {
        self.run.as_ref().map_or(0, |r| r.record.units.len())
    }

    /// The one place state changes. Returns what the runtime must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = self.route(msg);
        // Derived numbers follow the record here, once per change, never per frame.
        if let Some(run) = self.run.as_mut() {
            run.refresh_stats();
        }
        if let (View::Factors, Some(run)) = (self.view, &self.run) {
            self.factors.refresh(run);
        }
        effects
    }

    fn route(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) if self.prompt.is_some() => self.on_prompt_key(key.code),
            Msg::Key(key) if self.search.is_some() => self.on_search_key(key.code),
            Msg::Key(key) if self.screen == Screen::Picker && self.picker.filtering => {
                self.picker.on_filter_key(key.code);
                // The typing hint goes with the typing.
                if !self.picker.filtering {
                    self.message = None;
                }
                Vec::new()
            }
            Msg::Key(key) => match action_for(key) {
                Some(action) => self.on_action(action),
                None => Vec::new(),
            },
            Msg::Wheel(up) => self.on_wheel(up),
            Msg::Click(target) => self.on_click(target),
            Msg::Resize(rows) => {
                self.rows = rows;
                Vec::new()
            }
            Msg::Engine(event) => self.on_engine(event),
            Msg::DataLoaded(sizes) => {
                self.sizes = sizes;
                if let Some(run) = self.run.as_mut() {
                    run.sizes = sizes;
                }
                Vec::new()
            }
            Msg::Started(record, dir) => {
                // A run training here: the live view, following the running unit.
                self.show_run(RunView::new(record, dir), View::Live, true);
                self.message = None;
                Vec::new()
            }
            Msg::RoundStarted(grown, text) => {
                if let Some(run) = self.run.as_mut() {
                    run.record.adopt_round(&grown);
                    run.progress.resize(run.record.units.len(), None);
                    run.finished = false;
                    run.cancelled = false;
                }
                self.message = Some((Level::Info, text));
                Vec::new()
            }
            Msg::RoundsEnded(why) => {
                let Some(run) = self.run.as_mut() else {
                    return Vec::new();
                };
                match why {
                    Some(why) => {
                        run.finished = true;
                        self.message = Some((
                            Level::Info,
                            format!("Run complete: {why}. e exports, esc returns to the picker."),
                        ));
                    }
                    None => {
                        run.watching = Some(0);
                        self.message = Some((
                            Level::Info,
                            "This process is done; other writers still train this round \
                             (watching)."
                                .into(),
                        ));
                    }
                }
                vec![Effect::FinishRun]
            }
            Msg::Info(text) => {
                self.message = Some((Level::Info, text));
                Vec::new()
            }
            Msg::Error(text) => {
                self.message = Some((Level::Error, text));
                Vec::new()
            }
            Msg::DigitsLoaded(d) => {
                self.digits = Some(d);
                self.view = View::Digits;
                // The view itself says it is done: "evaluating…" goes.
                if matches!(&self.message, Some((Level::Info, t)) if t.ends_with('…')) {
                    self.message = None;
                }
                Vec::new()
            }
            Msg::Init { no_color, past } => {
                self.no_color = no_color;
                if let Some(i) = self
                    .picker
                    .entries
                    .iter()
                    .position(|e| e.preset.as_ref().is_ok_and(|p| p.name == "quick"))
                {
                    self.picker.selected = i;
                }
                self.update(Msg::PastRuns(past))
            }
            Msg::StartPreset(i) if i < self.picker.entries.len() => {
                self.picker.selected = i;
                vec![Effect::Start(i)]
            }
            Msg::StartPreset(_) => Vec::new(),
            Msg::PastRuns(past) => {
                self.picker.set_past(past);
                Vec::new()
            }
            Msg::OpenWatched(snap) => match snap.record {
                Ok(record) => {
                    let name = snap
                        .dir
                        .file_name()
                        .map(|f| f.to_string_lossy().to_string())
                        .unwrap_or_default();
                    self.show_past(record, snap.dir, &name)
                }
                Err(e) => {
                    self.message = Some((Level::Error, e));
                    Vec::new()
                }
            },
            Msg::Watched(snap) => {
                self.on_watched(snap);
                Vec::new()
            }
        }
    }

    /// A followed folder changed: its record replaces the one shown, the selection kept.
    /// While this process trains into the folder, only the units others have taken further
    /// are taken from it (what the engine here reports stays the truth for its own units).
    fn on_watched(&mut self, snap: crate::runs::watch::Snapshot) {
        if let Some(error) = self.run.as_mut().and_then(|run| run.on_snapshot(snap)) {
            self.message = Some((Level::Error, error));
        }
    }

    /// The wheel scrolls as ↑/↓ do (the digit gallery pages sideways).
    fn on_wheel(&mut self, up: bool) -> Vec<Effect> {
        let digits = self.screen == Screen::Run && self.view == View::Digits;
        self.on_action(match (digits, up) {
            (true, true) => Action::Left,
            (true, false) => Action::Right,
            (false, true) => Action::Up,
            (false, false) => Action::Down,
        })
    }

    /// A click closes a popup, or acts on what was drawn under it: a view's tab, a unit, a
    /// picker line, a cell of the digits' matrix.
    fn on_click(&mut self, target: Option<Target>) -> Vec<Effect> {
        if self.help {
            self.help = false;
            return Vec::new();
        }
        if self.confirm.is_some() {
            return self.on_action(Action::No);
        }
        match (target, self.screen) {
            (Some(Target::Tab(view)), Screen::Run) => self.on_action(view_action(view)),
            (Some(Target::Unit(i)), Screen::Run) if i < self.unit_count() => {
                self.selected = i;
                self.follow = false;
                Vec::new()
            }
            (Some(Target::Entry(i)), Screen::Picker) => {
                let effects = {
                    let (picker, mut shared) = self.split();
                    picker.on_click(i, &mut shared)
                };
                self.carry_out(effects)
            }
            (Some(Target::Curve(k)), Screen::Run) => {
                self.with_overlay(|overlay, ctx, selected| {
                    let all = crate::tui::views::overlay::curves(overlay, ctx);
                    overlay.focus_on(k, &all, ctx, selected);
                });
                Vec::new()
            }
            (Some(Target::Epoch(e)), Screen::Run) => {
                self.charts.cursor = Some(e);
                Vec::new()
            }
            (Some(Target::Pair(truth, pred)), Screen::Run) => {
                if let Some(d) = self.digits.as_mut() {
                    d.pick_pair(truth, pred);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Runs `f` on the overlay with the run it draws from; a selection it makes is the
    /// user's (it stops following the running unit). None without a run.
    fn with_overlay<R>(
        &mut self,
        f: impl FnOnce(&mut OverlayView, &Ctx, &mut usize) -> R,
    ) -> Option<R> {
        let run = self.run.as_ref()?;
        let ctx = Ctx {
            run,
            selected: self.selected,
            compare: &self.compare,
            charts: self.charts,
            theme: self.theme(),
        };
        let before = self.selected;
        let out = f(&mut self.overlay, &ctx, &mut self.selected);
        if self.selected != before {
            self.follow = false;
        }
        Some(out)
    }

    /// The picker, and what it may change of the rest.
    fn split(&mut self) -> (&mut Picker, Shared<'_>) {
        let training = self.training();
        (
            &mut self.picker,
            Shared {
                message: &mut self.message,
                compare: &mut self.compare,
                training,
            },
        )
    }

    /// What the app itself does of a view's effects (open a past run); the rest go out.
    fn carry_out(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                Effect::OpenPast(i) => out.extend(self.open_past(i)),
                e => out.push(e),
            }
        }
        out
    }

    /// A key while searching: the selection moves to the first unit whose name holds the
    /// text; enter keeps it, esc goes back to where it was.
    fn on_search_key(&mut self, code: crossterm::event::KeyCode) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        let Some(search) = self.search.as_mut() else {
            return Vec::new();
        };
        match code {
            KeyCode::Char(c) => search.text.push(c),
            KeyCode::Backspace => {
                search.text.pop();
            }
            KeyCode::Enter => {
                self.search = None;
                self.message = None;
                return Vec::new();
            }
            KeyCode::Esc => {
                self.selected = search.before;
                self.search = None;
                self.message = None;
                return Vec::new();
            }
            _ => return Vec::new(),
        }
        let needle = search.text.to_lowercase();
        let found = self.run.as_ref().and_then(|r| {
            r.record
                .units
                .iter()
                .position(|u| u.spec.name.to_lowercase().contains(&needle))
        });
        let text = search.text.clone();
        match found {
            Some(i) => {
                self.selected = i;
                self.follow = false;
                self.message = Some((
                    Level::Info,
                    format!("find: {text}█ · enter keeps · esc returns"),
                ));
            }
            None => {
                self.message = Some((Level::Error, format!("find: {text}█ · no variant holds it")));
            }
        }
        Vec::new()
    }

    /// A key while a run's name is typed: enter keeps it, esc drops it.
    fn on_prompt_key(&mut self, code: crossterm::event::KeyCode) -> Vec<Effect> {
        use crossterm::event::KeyCode;
        let Some(prompt) = self.prompt.as_mut() else {
            return Vec::new();
        };
        match code {
            KeyCode::Char(c) if prompt.text.chars().count() < crate::runs::history::MAX_TITLE => {
                prompt.text.push(c)
            }
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Enter => {
                if let Some(p) = self.prompt.take() {
                    return vec![Effect::Rename(p.dir, p.text)];
                }
            }
            KeyCode::Esc => self.prompt = None,
            _ => {}
        }
        Vec::new()
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::ForceQuit {
            self.quitting = true;
            return vec![Effect::Quit];
        }
        if let Some(confirm) = self.confirm.clone() {
            return match action {
                Action::Yes => {
                    self.confirm = None;
                    match confirm {
                        Confirm::Quit => {
                            self.quitting = true;
                            vec![Effect::Quit]
                        }
                        Confirm::Cancel => vec![Effect::Engine(Command::Cancel)],
                        Confirm::Delete(dir, _) => vec![Effect::Delete(dir)],
                    }
                }
                // n answers no (it names a run elsewhere).
                Action::No | Action::Rename | Action::Back | Action::Quit => {
                    self.confirm = None;
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        if self.help {
            match action {
                Action::Help | Action::Back | Action::Quit => self.help = false,
                // A help that does not fit the terminal scrolls (the overlay clamps it).
                // Never past the last page, so ↑ moves at once after many ↓.
                Action::Down => {
                    let last = if self.rows > 0 {
                        crate::tui::widgets::help::max_scroll(
                            self.rows,
                            self.scope(),
                            self.shown_view(),
                        )
                    } else {
                        crate::tui::keys::BINDINGS.len()
                    };
                    self.help_scroll = (self.help_scroll + 1).min(last);
                }
                Action::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
                Action::First => self.help_scroll = 0,
                _ => {}
            }
            return Vec::new();
        }
        match action {
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
                Vec::new()
            }
            Action::Quit => {
                if self.training() {
                    self.confirm = Some(Confirm::Quit);
                    Vec::new()
                } else {
                    self.quitting = true;
                    vec![Effect::Quit]
                }
            }
            _ => match self.screen {
                Screen::Picker => self.on_picker(action),
                Screen::Run => self.on_run(action),
            },
        }
    }

    fn toggle_mouse(&mut self) -> Vec<Effect> {
        self.mouse = !self.mouse;
        self.message = Some((
            Level::Info,
            if self.mouse {
                "mouse on: click views and variants, wheel scrolls (M turns it off)"
            } else {
                "mouse off: the terminal selects text (M turns it on)"
            }
            .into(),
        ));
        vec![Effect::Mouse(self.mouse)]
    }

    fn on_picker(&mut self, action: Action) -> Vec<Effect> {
        let reply = {
            let (picker, mut shared) = self.split();
            picker.on_action(action, &mut shared)
        };
        if let Some(effects) = reply {
            return self.carry_out(effects);
        }
        match action {
            Action::ToggleMouse => return self.toggle_mouse(),
            Action::SwitchEngine => self.picker.switch_engine(),
            Action::Rename => {
                if let Some(i) = self.picker.selected_past() {
                    let p = &self.picker.past[i];
                    self.prompt = Some(Prompt {
                        dir: p.dir.clone(),
                        text: p.title.clone().unwrap_or_default(),
                    });
                }
            }
            Action::Delete => match self.picker.selected_past() {
                Some(i)
                    if self.run.as_ref().and_then(|r| r.dir.as_ref())
                        == Some(&self.picker.past[i].dir) =>
                {
                    self.message = Some((
                        Level::Error,
                        "this run is open: it cannot be deleted while shown".into(),
                    ));
                }
                Some(i) if self.picker.past[i].link => {
                    self.message = Some((
                        Level::Error,
                        format!(
                            "{} is a symbolic link to a run elsewhere; it will not be deleted \
                             (remove the link itself outside mnist-lab)",
                            self.picker.past[i].dir.display()
                        ),
                    ));
                }
                Some(i) => {
                    let p = &self.picker.past[i];
                    let name = p.title.clone().unwrap_or_else(|| p.name());
                    self.confirm = Some(Confirm::Delete(p.dir.clone(), name));
                }
                None => {}
            },
            Action::Back if self.run.is_some() => self.screen = Screen::Run,
            _ => {}
        }
        Vec::new()
    }

    /// The digits view for the selected variant: needs its saved weights evaluated.
    fn open_digits(&mut self) -> Vec<Effect> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let Some(v) = run.record.units.get(self.selected) else {
            return Vec::new();
        };
        if self
            .digits
            .as_ref()
            .is_some_and(|d| d.variant == self.selected)
        {
            self.view = View::Digits;
            return Vec::new();
        }
        if v.status != UnitStatus::Finished || v.weights.is_none() {
            self.message = Some((
                Level::Error,
                format!(
                    "{}: digits need a finished variant with saved weights",
                    v.spec.name
                ),
            ));
            return Vec::new();
        }
        vec![Effect::LoadDigits(self.selected)]
    }

    /// Opens a past run read-only in the grid view.
    fn open_past(&mut self, i: usize) -> Vec<Effect> {
        let Some(entry) = self.picker.past.get(i) else {
            return Vec::new();
        };
        match &entry.record {
            Ok(r) => {
                let (r, dir, name) = (r.clone(), entry.dir.clone(), entry.name());
                self.show_past(r, dir, &name)
            }
            Err(e) => {
                self.message = Some((Level::Error, e.clone()));
                Vec::new()
            }
        }
    }

    /// Makes `run` the run shown, on `view`, with the selection reset to its first unit.
    fn show_run(&mut self, mut run: RunView, view: View, follow: bool) {
        run.sizes = self.sizes;
        self.run = Some(run);
        self.digits = None;
        self.screen = Screen::Run;
        self.view = view;
        self.selected = 0;
        self.factors.reset();
        self.follow = follow;
    }

    /// Shows a run read from disk in the grid view; a shared folder (other processes may be
    /// writing it) is followed live.
    fn show_past(&mut self, r: RunRecord, dir: PathBuf, name: &str) -> Vec<Effect> {
        let shared = r.layout.is_some();
        let mut view = RunView::new(r, Some(dir.clone()));
        view.finished = !shared || view.record.complete;
        view.watching = shared.then_some(0);
        self.show_run(view, View::Grid, false);
        self.message = Some((Level::Info, format!("opened {name}")));
        if shared {
            vec![Effect::Watch(dir)]
        } else {
            Vec::new()
        }
    }

    fn on_run(&mut self, action: Action) -> Vec<Effect> {
        // A refusal belongs to the view it was said in.
        let switches_view = matches!(action, Action::NextView | Action::Show(_));
        if switches_view && matches!(self.message, Some((Level::Error, _))) {
            self.message = None;
        }
        let n = self.unit_count();
        let training = self.training();
        let watching = self.run.as_ref().and_then(|r| r.watching);
        let finished = self.run.as_ref().is_some_and(|r| r.finished);
        if let (Some(writers), Action::TogglePause | Action::Skip | Action::Cancel) =
            (watching, action)
        {
            self.message = Some((
                Level::Info,
                if finished || writers == 0 {
                    "this run is not training: there is nothing to pause, skip or cancel".into()
                } else {
                    format!(
                        "watching: other processes train this run ({writers} writing now); \
                         pause, skip and cancel are theirs"
                    )
                },
            ));
            return Vec::new();
        }
        // The view on screen answers its own keys first.
        let run = self.run.as_ref();
        let reply = match self.view {
            View::Overlay => self
                .with_overlay(|overlay, ctx, selected| overlay.on_action(action, ctx, selected))
                .flatten(),
            View::Pairs => self.pairs.on_action(action, run),
            View::Factors => self.factors.on_action(action, run),
            View::Table => self.table.on_action(action),
            View::Grid => {
                crate::tui::views::grid::on_action(action, &mut self.charts, &mut self.table)
            }
            View::Digits => self.digits.as_mut().and_then(|d| d.on_action(action)),
            View::Live => {
                let epochs = run
                    .and_then(|r| r.record.units.get(self.selected))
                    .map_or(0, |u| u.history.len());
                crate::tui::views::live::on_action(action, &mut self.charts, epochs)
            }
        };
        if let Some(effects) = reply {
            return effects;
        }
        match action {
            Action::TogglePause if training => {
                let paused = self.run.as_ref().is_some_and(|r| r.paused);
                return vec![Effect::Engine(if paused {
                    Command::Resume
                } else {
                    Command::Pause
                })];
            }
            Action::Skip if training => return vec![Effect::Engine(Command::Skip)],
            Action::Cancel if training => self.confirm = Some(Confirm::Cancel),
            Action::Export => return vec![Effect::Export],
            Action::Filter if !matches!(self.view, View::Digits | View::Factors) => {
                self.search = Some(Search {
                    text: String::new(),
                    before: self.selected,
                });
                self.message = Some((
                    Level::Info,
                    "find: type part of a variant's name · enter keeps · esc returns".into(),
                ));
            }
            Action::ExportView => return vec![Effect::ExportView(self.view)],
            Action::NextView => self.view = self.view.next_tab(),
            Action::Show(View::Digits) => return self.open_digits(),
            Action::Show(view) => self.view = view,
            // The overlay's epoch cursor, over its longest curve.
            Action::Left | Action::Right if self.view == View::Overlay => {
                let last = self.run.as_ref().map_or(0, |r| {
                    std::iter::once(&r.record)
                        .chain(self.compare.iter().map(|(_, c)| c))
                        .flat_map(|rec| rec.units.iter().map(|u| u.history.len()))
                        .max()
                        .unwrap_or(0)
                });
                self.charts.move_cursor(action == Action::Left, last);
            }
            // Views that show one row or cell per variant step over whole variants.
            Action::Up | Action::Left | Action::Down | Action::Right
                if n > 0 && self.per_variant_view() =>
            {
                self.follow = false;
                let forward = matches!(action, Action::Down | Action::Right);
                self.step_variant(forward);
            }
            Action::First | Action::Last | Action::PageUp | Action::PageDown if n > 0 => {
                self.follow = false;
                self.selected = jump(action, self.selected, n);
            }
            // The digits view shows the selected unit's digits: ↑/↓ select another and load
            // its (the footer says "select").
            Action::Up | Action::Down if n > 0 && self.view == View::Digits => {
                self.follow = false;
                self.selected = if action == Action::Up {
                    (self.selected + n - 1) % n
                } else {
                    (self.selected + 1) % n
                };
                return self.open_digits();
            }
            Action::Up | Action::Left if n > 0 => {
                self.follow = false;
                self.selected = (self.selected + n - 1) % n;
            }
            Action::Down | Action::Right if n > 0 => {
                self.follow = false;
                self.selected = (self.selected + 1) % n;
            }
            Action::Enter => self.view = View::Live,
            Action::Follow => {
                self.follow = true;
                if let Some(i) = self.run.as_ref().and_then(|r| r.running) {
                    self.selected = i;
                }
            }
            Action::ToggleLog => self.charts.log_scale = !self.charts.log_scale,
            Action::ToggleMouse => return self.toggle_mouse(),
            Action::Compare if !self.compare.is_empty() => {
                let n = self.compare.len();
                self.compare.clear();
                self.message = Some((
                    Level::Info,
                    format!("comparison cleared ({n} run(s) taken out); b in the picker adds runs"),
                ));
            }
            Action::Compare => {
                self.message = Some((
                    Level::Info,
                    "to compare: esc to the picker, select a past run, press b".into(),
                ));
            }
            Action::Back if !training => {
                self.screen = Screen::Picker;
                // What was said of the run ("… e exports, esc returns to the picker") is no
                // longer true in the picker.
                self.message = None;
                return vec![Effect::RefreshRuns];
            }
            Action::Back => self.message = None,
            _ => {}
        }
        Vec::new()
    }

    fn on_engine(&mut self, event: Event) -> Vec<Effect> {
        let Some(run) = self.run.as_mut() else {
            return Vec::new();
        };
        let outcome = run.on_event(event);
        if let (Some(i), true) = (outcome.started, self.follow) {
            self.selected = i;
        }
        if outcome.first_epoch
            && matches!(&self.message, Some((Level::Info, t)) if t == TRAINING_STARTED)
        {
            self.message = None;
        }
        if let Some(said) = outcome.say {
            self.message = Some(said);
        }
        outcome.effects
    }

    /// Whether the current view shows variants (mean over seeds) rather than units.
    fn per_variant_view(&self) -> bool {
        let repeats = self
            .run
            .as_ref()
            .is_some_and(|r| crate::report::has_repeats(&r.record));
        repeats
            && matches!(
                self.view,
                View::Grid | View::Table | View::Pairs | View::Overlay
            )
    }

    /// Selects the first unit of the next (or previous) variant.
    fn step_variant(&mut self, forward: bool) {
        let Some(run) = &self.run else { return };
        let groups = crate::insight::stats::variant_groups(&run.record);
        if groups.is_empty() {
            return;
        }
        let at = groups
            .iter()
            .position(|g| g.contains(&self.selected))
            .unwrap_or(0);
        let k = if forward {
            (at + 1) % groups.len()
        } else {
            (at + groups.len() - 1) % groups.len()
        };
        self.selected = groups[k][0];
    }
}

/// The key that opens `view`.
fn view_action(view: View) -> Action {
    Action::Show(view)
}
