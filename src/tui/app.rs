//! The TUI's state and its one `update`. No terminal, no dfdx, no I/O here: side effects are
//! returned as `Effect`s for the runtime to carry out, so every transition is unit-testable.

use std::path::PathBuf;

use crossterm::event::KeyEvent;

use super::keys::{action_for, Action};
use crate::engine::{Command, Event};
use crate::preset::Preset;
use crate::runs::{RunRecord, UnitRecord, UnitStatus};
use crate::session::Fold;

/// Training throughput assumed for the picker's estimates, in dense-equivalent FLOP/s (the
/// FLOPs of a dense first layer per second). On the 2-core machine with AVX-512 the fused path
/// made 130–146 per net in `bench`, and a whole `run paper-2019` (two variants at once) 168.
pub const ASSUMED_FLOPS: f64 = 150e9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Picker,
    Run,
}

/// The views, in the header's order; each one's label is the key that opens it and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr)]
pub enum View {
    #[strum(serialize = "1 live")]
    Live,
    #[strum(serialize = "2 grid")]
    Grid,
    #[strum(serialize = "3 table")]
    Table,
    #[strum(serialize = "4 factors")]
    Factors,
    #[strum(serialize = "5 digits")]
    Digits,
    #[strum(serialize = "6 pairs")]
    Pairs,
    #[strum(serialize = "7 overlay")]
    Overlay,
}

impl View {
    /// Every view, in the header's order.
    pub fn all() -> impl Iterator<Item = View> + Clone {
        <View as strum::IntoEnumIterator>::iter()
    }

    /// The view tab switches to: the next in `all` that tab stops at, wrapping.
    pub fn next_tab(self) -> View {
        let mut v = crate::spec::cycle(self);
        while !v.tab_stop() {
            v = crate::spec::cycle(v);
        }
        v
    }

    /// Digits opens only for a finished variant with weights (its key loads them), so tab
    /// passes it by.
    fn tab_stop(self) -> bool {
        self != View::Digits
    }

    /// The header's label: the key that opens it, and its name.
    pub fn label(self) -> &'static str {
        self.into()
    }
}

/// The table's order: as trained, by a metric of each unit's kept epoch (better first), or
/// by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Order,
    By(crate::spec::Metric),
    Name,
}

impl SortKey {
    /// Order, then every result metric (the learning rate is a setting), then name.
    fn next(self) -> Self {
        use crate::spec::Metric;
        let results = || Metric::all().filter(|m| m.is_result());
        match self {
            SortKey::Order => results().next().map_or(SortKey::Name, SortKey::By),
            SortKey::By(m) => results()
                .skip_while(|x| *x != m)
                .nth(1)
                .map_or(SortKey::Name, SortKey::By),
            SortKey::Name => SortKey::Order,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Order => "preset order",
            SortKey::By(m) => m.name(),
            SortKey::Name => "name",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Quit,
    Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PickerEntry {
    pub label: String,
    pub preset: Result<Preset, String>,
}

impl PickerEntry {
    /// Estimated wall seconds to train the whole preset on a data set of `sizes` (train, test).
    pub fn estimate_seconds_for(&self, sizes: DataSizes) -> Option<f64> {
        let p = self.preset.as_ref().ok()?;
        Some(
            p.units
                .iter()
                .map(|v| {
                    let (train, test) = v.images(sizes.train, sizes.test);
                    v.epochs as f64 * v.arch.epoch_flops(train, test) / ASSUMED_FLOPS
                })
                .sum(),
        )
    }
}

/// How many training and test images the data set has: ETAs scale with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSizes {
    pub train: usize,
    pub test: usize,
}

impl Default for DataSizes {
    /// MNIST's, until the data set in use is loaded.
    fn default() -> Self {
        DataSizes {
            train: 60_000,
            test: 10_000,
        }
    }
}

/// How far unit `v` is (0..=1), from its finished epochs and the live progress of the next;
/// progress of an epoch already recorded (its evaluation just ended) is not counted twice.
pub fn unit_fraction(v: &UnitRecord, p: Option<Progress>) -> f64 {
    let done = v.history.len();
    let (batch, batches) = match p {
        Some(p) if p.epoch > done => (p.batch, p.batches),
        _ => (0, 0),
    };
    crate::spec::progress_fraction(done, batch, batches, v.spec.epochs)
}

/// A run found in the run store.
pub type PastEntry = crate::runs::history::PastRun;

/// A finished variant's predictions on the test set, for the digits view.
#[derive(Debug, Clone, PartialEq)]
pub struct Digits {
    pub variant: usize,
    pub name: String,
    /// The data set whose test split the predictions are for (shared, not copied).
    pub data: std::sync::Arc<crate::data::Dataset>,
    pub predictions: Vec<u8>,
    pub confidence: Vec<f32>,
    pub true_filter: Option<u8>,
    pub pred_filter: Option<u8>,
    pub page: usize,
}

impl Digits {
    pub fn mistakes(&self) -> Vec<usize> {
        let n = self.predictions.len();
        crate::insight::confusion::mistakes(
            &self.data.test.labels[..n],
            &self.predictions,
            self.true_filter,
            self.pred_filter,
        )
    }
}

fn cycle_class(c: Option<u8>) -> Option<u8> {
    match c {
        None => Some(0),
        Some(9) => None,
        Some(c) => Some(c + 1),
    }
}

/// Live progress of one variant inside an epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Progress {
    pub epoch: usize,
    pub batch: usize,
    pub batches: usize,
    pub running_loss: f32,
    pub samples_per_sec: f32,
}

/// Everything about the preset run on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub record: RunRecord,
    pub dir: Option<PathBuf>,
    pub running: Option<usize>,
    pub paused: bool,
    pub finished: bool,
    pub cancelled: bool,
    pub progress: Vec<Option<Progress>>,
    /// (epoch as a fraction, running mean loss) of the running variant, for the live chart.
    pub batch_losses: Vec<(f64, f64)>,
    /// The data set's sizes, for ETAs.
    pub sizes: DataSizes,
    /// Followed on disk while other processes write it: how many writers hold it now.
    pub watching: Option<usize>,
}

/// Most points kept for the batch-loss line; older ones are thinned out.
pub const MAX_BATCH_POINTS: usize = 1200;

impl RunView {
    pub fn new(record: RunRecord, dir: Option<PathBuf>) -> Self {
        let n = record.units.len();
        RunView {
            record,
            dir,
            running: None,
            paused: false,
            finished: false,
            cancelled: false,
            progress: vec![None; n],
            batch_losses: Vec::new(),
            sizes: DataSizes::default(),
            watching: None,
        }
    }

    /// Units another writer of the folder took further than this process has: one queued
    /// or interrupted here that has started or ended there. The unit training here, and
    /// those this process ended, are left as they are.
    pub fn take_others(&mut self, theirs: &RunRecord) {
        for (i, (ours, t)) in self.record.units.iter_mut().zip(&theirs.units).enumerate() {
            let idle_here = matches!(ours.status, UnitStatus::Queued | UnitStatus::Interrupted);
            if self.running != Some(i) && idle_here && t.status != UnitStatus::Queued {
                *ours = t.clone();
            }
        }
    }

    pub fn done_count(&self) -> usize {
        self.record
            .units
            .iter()
            .filter(|v| {
                matches!(
                    v.status,
                    UnitStatus::Finished | UnitStatus::Failed | UnitStatus::Skipped
                )
            })
            .count()
    }

    /// Seconds per epoch of variant `i`: from its history, else from live progress.
    fn epoch_seconds(&self, i: usize) -> Option<f64> {
        let v = &self.record.units[i];
        if !v.history.is_empty() {
            return Some(
                v.history.iter().map(|m| m.seconds as f64).sum::<f64>() / v.history.len() as f64,
            );
        }
        let p = self.progress[i]?;
        if p.samples_per_sec <= 0.0 {
            return None;
        }
        let (images, _) = v.spec.images(self.sizes.train, self.sizes.test);
        Some(images as f64 / p.samples_per_sec as f64)
    }

    /// Remaining seconds of the running variant.
    pub fn eta_variant(&self) -> Option<f64> {
        let i = self.running?;
        let v = &self.record.units[i];
        let per_epoch = self.epoch_seconds(i)?;
        let p = self.progress[i].unwrap_or_default();
        let done_in_epoch = if p.batches > 0 && p.epoch > v.history.len() {
            p.batch as f64 / p.batches as f64
        } else {
            0.0
        };
        let remaining = v.spec.epochs as f64 - v.history.len() as f64 - done_in_epoch;
        Some((remaining.max(0.0)) * per_epoch)
    }

    /// Remaining seconds of the whole preset: the running variant plus the queued ones, scaled
    /// from the throughput seen so far (seconds per weight-image).
    pub fn eta_total(&self) -> Option<f64> {
        let current = self.eta_variant().unwrap_or(0.0);
        let work = |i: usize| {
            let s = &self.record.units[i].spec;
            let (train, test) = s.images(self.sizes.train, self.sizes.test);
            s.arch.epoch_flops(train, test)
        };
        let rate = self
            .record
            .units
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, _)| self.epoch_seconds(i).map(|s| s / work(i).max(1.0)))?;
        let queued: f64 = self
            .record
            .units
            .iter()
            .enumerate()
            .filter(|(i, v)| v.status == UnitStatus::Queued && Some(*i) != self.running)
            .map(|(i, v)| rate * work(i) * v.spec.epochs as f64)
            .sum();
        Some(current + queued)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// The note a run starts with; the first epoch clears it.
pub const TRAINING_STARTED: &str = "training started";

/// Side effects asked of the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start training this preset (index into the picker).
    Start(usize),
    /// Finish this interrupted past run (index into `past`).
    Resume(usize),
    /// Re-read the run store (the picker lists past runs).
    RefreshRuns,
    Engine(Command),
    Export,
    /// The engine reported the end of the run: finish its record (save or rescue it).
    FinishRun,
    /// A round of `seeds: Until` ended: add the next (or say why none is needed).
    NextRound,
    Quit,
    /// Evaluate this variant's saved weights for the digits view.
    LoadDigits(usize),
    /// Turn the terminal's mouse capture on or off.
    Mouse(bool),
    /// Follow this run folder: send `Msg::Watched` whenever it changes.
    Watch(PathBuf),
}

/// A mouse action, in terminal cells (0-based), with the terminal's size when it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MouseInput {
    pub kind: MouseKind,
    pub column: u16,
    pub row: u16,
    pub width: u16,
    pub height: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    Click,
    WheelUp,
    WheelDown,
}

/// Inputs to `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseInput),
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
    pub picker: PickerState,
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
    pub message: Option<(Level, String)>,
    pub quitting: bool,
    /// Colourless drawing (NO_COLOR).
    pub no_color: bool,
    /// How the live view and the grid draw loss charts.
    pub charts: ChartOptions,
    pub table: TableViewState,
    pub factors: FactorsViewState,
    pub pairs: PairsViewState,
    pub overlay: OverlayViewState,
    /// The digits view's predictions, pages and filters.
    pub digits: Option<Digits>,
    /// The data set's sizes (MNIST's until it is loaded), for estimates.
    pub sizes: DataSizes,
}

/// The picker: presets, past runs, and one selection over both (presets first).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PickerState {
    pub entries: Vec<PickerEntry>,
    /// The past runs shown: `all_past` filtered and sorted.
    pub past: Vec<PastEntry>,
    pub selected: usize,
    /// Every run in the store.
    pub all_past: Vec<PastEntry>,
    /// Runs whose name, preset or data set contain this (case-insensitive) are shown.
    pub filter: String,
    /// Typing goes into the filter (after `/`, until enter or esc).
    pub filtering: bool,
    pub run_sort: RunSort,
}

/// How the picker orders past runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, strum::EnumIter, strum::IntoStaticStr)]
pub enum RunSort {
    #[default]
    #[strum(serialize = "newest")]
    Newest,
    #[strum(serialize = "best test loss")]
    BestLoss,
    #[strum(serialize = "best test accuracy")]
    BestAcc,
    #[strum(serialize = "preset")]
    Preset,
}

impl RunSort {
    pub fn next(self) -> Self {
        crate::spec::cycle(self)
    }

    pub fn label(self) -> &'static str {
        self.into()
    }
}

/// A past run's summary for the runs table: finished units, total, best final test loss and
/// accuracy over its finished units, and the seconds they trained.
pub fn run_summary(r: &RunRecord) -> (usize, usize, Option<f32>, Option<f32>, f32) {
    let finished: Vec<&crate::runs::UnitRecord> = r
        .units
        .iter()
        .filter(|v| v.status == crate::runs::UnitStatus::Finished)
        .collect();
    let last = |f: fn(&crate::spec::EpochMetrics) -> f32| {
        finished
            .iter()
            .filter_map(move |v| v.final_metrics().map(f))
    };
    let best_loss = last(|m| m.test_loss)
        .filter(|v| v.is_finite())
        .reduce(f32::min);
    let best_acc = last(|m| m.test_acc)
        .filter(|v| v.is_finite())
        .reduce(f32::max);
    let seconds = r.units.iter().filter_map(|v| v.seconds).sum();
    (finished.len(), r.units.len(), best_loss, best_acc, seconds)
}

/// Options of the loss charts (live view and grid cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartOptions {
    pub log_scale: bool,
    /// Early-stopping patience for the marker (epochs).
    pub patience: usize,
    /// EMA smoothing of the batch loss line.
    pub smooth: bool,
    /// Grid cells share one y-scale (else each fits its own curves).
    pub shared_y: bool,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            log_scale: false,
            patience: 3,
            smooth: true,
            shared_y: true,
        }
    }
}

/// The table view: its sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableViewState {
    pub sort: SortKey,
}

/// The overlay view: its metric, and the variants pinned (kept bright while the rest fade)
/// or hidden (off the chart and its y-range), by their legend labels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OverlayViewState {
    pub metric: crate::spec::Metric,
    /// Smoothed curves (over faint raw ones); raw by default, so a curve ends at its value.
    pub smooth: bool,
    pub pinned: std::collections::BTreeSet<String>,
    pub hidden: std::collections::BTreeSet<String>,
}

/// The pairwise view: the variant the selected one is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairsViewState {
    /// The variant (index among the run's variants, not units) compared with the selected one.
    pub other: usize,
}

/// The factor view: which of the run's varying factors are the rows and columns (indices
/// kept within the varying factors by `update`), and the colouring metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactorsViewState {
    pub row: usize,
    pub col: usize,
    pub metric: crate::spec::Metric,
}

impl Default for FactorsViewState {
    fn default() -> Self {
        FactorsViewState {
            row: 0,
            col: 1,
            metric: crate::spec::Metric::TestLoss,
        }
    }
}

/// EMA factor of the smoothed batch-loss line.
pub const SMOOTHING: f64 = 0.9;
/// Epochs of a widening train/test gap before the overfitting badge shows.
pub const OVERFIT_EPOCHS: usize = 3;

impl App {
    pub fn new(picker: Vec<PickerEntry>) -> Self {
        App {
            screen: Screen::Picker,
            view: View::Live,
            picker: PickerState {
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
            message: None,
            quitting: false,
            no_color: false,
            charts: ChartOptions::default(),
            table: TableViewState {
                sort: SortKey::Order,
            },
            factors: FactorsViewState::default(),
            pairs: PairsViewState::default(),
            overlay: OverlayViewState::default(),
            digits: None,
            sizes: DataSizes::default(),
        }
    }

    /// The next index among the run's varying factors (wrapping), so the factor view always
    /// gets a valid index.
    fn next_factor(&self, i: usize) -> usize {
        let n = self
            .run
            .as_ref()
            .map_or(0, |r| crate::insight::factors::varying(&r.record).len());
        if n == 0 {
            0
        } else {
            (i + 1) % n
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

    pub fn unit_count(&self) -> usize {
        self.run.as_ref().map_or(0, |r| r.record.units.len())
    }

    /// The one place state changes. Returns what the runtime must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) if self.screen == Screen::Picker && self.picker.filtering => {
                use crossterm::event::KeyCode;
                match key.code {
                    KeyCode::Char(c) => self.picker.filter.push(c),
                    KeyCode::Backspace => {
                        self.picker.filter.pop();
                    }
                    KeyCode::Enter => self.picker.filtering = false,
                    KeyCode::Esc => {
                        self.picker.filtering = false;
                        self.picker.filter.clear();
                    }
                    _ => {}
                }
                self.refresh_past();
                Vec::new()
            }
            Msg::Key(key) => match action_for(key) {
                Some(action) => self.on_action(action),
                None => Vec::new(),
            },
            Msg::Mouse(m) => {
                self.rows = m.height;
                self.on_mouse(m)
            }
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
                self.picker.all_past = past;
                self.refresh_past();
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
        let Some(run) = self.run.as_mut() else {
            return;
        };
        if run.dir.as_deref() != Some(snap.dir.as_path()) {
            return;
        }
        // Another writer added a round (`seeds: Until`): its units join the ones shown.
        if let Ok(record) = &snap.record {
            if grows(&run.record, record) {
                run.record.adopt_round(record);
                run.progress.resize(run.record.units.len(), None);
            }
        }
        if run.watching.is_none() {
            if let Ok(record) = &snap.record {
                if !run.finished && record.units.len() == run.record.units.len() {
                    run.take_others(record);
                }
            }
            return;
        }
        match snap.record {
            Ok(record) if record.units.len() == run.record.units.len() => {
                run.finished = record.complete;
                run.record = record;
                run.watching = Some(snap.writers.len());
            }
            Ok(_) => {
                self.message = Some((
                    Level::Error,
                    format!("{}: the run's unit list changed", snap.dir.display()),
                ))
            }
            // A half-visible state (e.g. a file being replaced on a network file system):
            // keep what is shown, say why, and take the next snapshot.
            Err(e) => self.message = Some((Level::Error, e)),
        }
    }

    /// The wheel scrolls as ↑/↓ do; a click closes a popup, picks a view from the header's
    /// tabs, or selects a variant (grid cell, overlay legend, live list, table row).
    fn on_mouse(&mut self, m: MouseInput) -> Vec<Effect> {
        // The digit gallery pages sideways; everything else scrolls as ↑/↓ do.
        let digits = self.screen == Screen::Run && self.view == View::Digits;
        match m.kind {
            MouseKind::WheelUp if digits => return self.on_action(Action::Left),
            MouseKind::WheelDown if digits => return self.on_action(Action::Right),
            MouseKind::WheelUp => return self.on_action(Action::Up),
            MouseKind::WheelDown => return self.on_action(Action::Down),
            MouseKind::Click => {}
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        if self.confirm.is_some() {
            return self.on_action(Action::No);
        }
        if self.screen != Screen::Run {
            return Vec::new();
        }
        if m.row == 0 {
            if let Some(view) = crate::tui::ui::tab_at(self, m.width, m.column) {
                return self.on_action(match view {
                    View::Live => Action::ViewLive,
                    View::Grid => Action::ViewGrid,
                    View::Table => Action::ViewTable,
                    View::Factors => Action::ViewFactors,
                    View::Digits => Action::ViewDigits,
                    View::Pairs => Action::ViewPairs,
                    View::Overlay => Action::ViewOverlay,
                });
            }
            return Vec::new();
        }
        if let Some(unit) = crate::tui::ui::unit_at(self, m) {
            self.selected = unit;
            self.follow = false;
        }
        Vec::new()
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::ForceQuit {
            self.quitting = true;
            return vec![Effect::Quit];
        }
        if let Some(confirm) = self.confirm {
            return match action {
                Action::Yes => {
                    self.confirm = None;
                    match confirm {
                        Confirm::Quit => {
                            self.quitting = true;
                            vec![Effect::Quit]
                        }
                        Confirm::Cancel => vec![Effect::Engine(Command::Cancel)],
                    }
                }
                Action::No | Action::Back | Action::Quit => {
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
                        crate::tui::ui::help::max_scroll(self.rows, self.scope())
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

    /// The runs shown in the picker: the store's, filtered and sorted; keeps the cursor in range.
    fn refresh_past(&mut self) {
        let needle = self.picker.filter.to_lowercase();
        let mut past: Vec<PastEntry> = self
            .picker
            .all_past
            .iter()
            .filter(|p| {
                let mut text = p.name();
                if let Ok(r) = &p.record {
                    text.push(' ');
                    text.push_str(&r.preset);
                    text.push(' ');
                    text.push_str(&r.environment.data_dir);
                }
                text.to_lowercase().contains(&needle)
            })
            .cloned()
            .collect();
        let key = |p: &PastEntry| p.record.as_ref().ok().map(run_summary);
        match self.picker.run_sort {
            // The store lists newest first.
            RunSort::Newest => {}
            RunSort::BestLoss => past.sort_by(|a, b| {
                let l = |p| key(p).and_then(|k| k.2).unwrap_or(f32::INFINITY);
                l(a).total_cmp(&l(b))
            }),
            RunSort::BestAcc => past.sort_by(|a, b| {
                let l = |p| key(p).and_then(|k| k.3).unwrap_or(f32::NEG_INFINITY);
                l(b).total_cmp(&l(a))
            }),
            RunSort::Preset => past.sort_by_key(|p| {
                p.record
                    .as_ref()
                    .map(|r| r.preset.clone())
                    .unwrap_or_default()
            }),
        }
        self.picker.past = past;
        let n = self.picker.entries.len() + self.picker.past.len();
        self.picker.selected = self.picker.selected.min(n.saturating_sub(1));
    }

    /// The past run under the picker's cursor, if the cursor is in that section.
    pub fn selected_past(&self) -> Option<usize> {
        self.picker
            .selected
            .checked_sub(self.picker.entries.len())
            .filter(|i| *i < self.picker.past.len())
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
        let n = self.picker.entries.len() + self.picker.past.len();
        if let Some(i) = self.selected_past() {
            match action {
                Action::Enter => return self.open_past(i),
                Action::Resume => {
                    if self.training() {
                        self.message = Some((
                            Level::Error,
                            "a preset is training: cancel it (c) first".into(),
                        ));
                    } else if self.picker.past[i].resumable() {
                        return vec![Effect::Resume(i)];
                    } else {
                        self.message = Some((
                            Level::Error,
                            format!("{} has nothing left to train", self.picker.past[i].name()),
                        ));
                    }
                    return Vec::new();
                }
                Action::Compare => {
                    // b adds the run to the comparison, or takes it out again.
                    let name = self.picker.past[i].name();
                    match &self.picker.past[i].record {
                        Ok(_) if self.compare.iter().any(|(n, _)| *n == name) => {
                            self.compare.retain(|(n, _)| *n != name);
                            self.message = Some((Level::Info, format!("{name} taken out")));
                        }
                        Ok(r) => {
                            self.compare.push((name, r.clone()));
                            self.message = Some((
                                Level::Info,
                                format!(
                                    "{} run(s) will show beside the grid (2) and in the overlay (7)",
                                    self.compare.len()
                                ),
                            ));
                        }
                        Err(e) => self.message = Some((Level::Error, e.clone())),
                    }
                    return Vec::new();
                }
                _ => {}
            }
        }
        match action {
            Action::Filter => {
                self.picker.filtering = true;
                self.message = Some((
                    Level::Info,
                    "type to filter past runs · enter keeps it · esc clears it".into(),
                ));
            }
            Action::Sort => {
                self.picker.run_sort = self.picker.run_sort.next();
                self.refresh_past();
            }
            Action::Up if n > 0 => self.picker.selected = (self.picker.selected + n - 1) % n,
            Action::Down if n > 0 => self.picker.selected = (self.picker.selected + 1) % n,
            Action::First | Action::Last | Action::PageUp | Action::PageDown if n > 0 => {
                self.picker.selected = jump(action, self.picker.selected, n)
            }
            Action::ToggleMouse => return self.toggle_mouse(),
            Action::Compare => self.compare.clear(),
            Action::Enter => match self.picker.entries.get(self.picker.selected) {
                Some(PickerEntry { preset: Ok(_), .. }) => {
                    return vec![Effect::Start(self.picker.selected)]
                }
                Some(PickerEntry {
                    preset: Err(e),
                    label,
                }) => {
                    self.message = Some((Level::Error, format!("cannot start {label}: {e}")));
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
        if self.training() {
            self.message = Some((
                Level::Error,
                "a preset is training: press b to compare this run beside it instead".into(),
            ));
            return Vec::new();
        }
        let entry = &self.picker.past[i];
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
        self.factors.row = 0;
        self.factors.col = 1;
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
        let switches_view = matches!(
            action,
            Action::NextView
                | Action::ViewLive
                | Action::ViewGrid
                | Action::ViewTable
                | Action::ViewFactors
                | Action::ViewDigits
                | Action::ViewPairs
                | Action::ViewOverlay
        );
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
            Action::NextView => self.view = self.view.next_tab(),
            Action::ViewLive => self.view = View::Live,
            Action::ViewGrid => self.view = View::Grid,
            Action::ViewTable => self.view = View::Table,
            Action::ViewFactors => self.view = View::Factors,
            Action::ViewPairs => self.view = View::Pairs,
            Action::ViewOverlay => self.view = View::Overlay,
            Action::Metric if self.view == View::Overlay => {
                self.overlay.metric = self.overlay.metric.next()
            }
            Action::Pin | Action::Hide if self.view == View::Overlay => {
                if let Some(name) = self.selected_variant_name() {
                    let set = if action == Action::Pin {
                        &mut self.overlay.pinned
                    } else {
                        &mut self.overlay.hidden
                    };
                    if !set.remove(&name) {
                        set.insert(name);
                    }
                }
            }
            Action::RowFactor | Action::ColFactor if self.view == View::Pairs => {
                let groups = self
                    .run
                    .as_ref()
                    .map(|r| crate::insight::stats::variant_groups(&r.record).len())
                    .unwrap_or(0);
                if groups > 0 {
                    let step = if action == Action::ColFactor {
                        1
                    } else {
                        groups - 1
                    };
                    self.pairs.other = (self.pairs.other.min(groups - 1) + step) % groups;
                }
            }
            Action::ViewDigits => return self.open_digits(),
            Action::RowFactor => self.factors.row = self.next_factor(self.factors.row),
            Action::ColFactor => self.factors.col = self.next_factor(self.factors.col),
            Action::Metric => {
                let mut next = self.factors.metric.next();
                while !next.is_result() {
                    next = next.next();
                }
                self.factors.metric = next;
            }
            Action::PatienceUp => self.charts.patience = (self.charts.patience + 1).min(99),
            Action::PatienceDown => {
                self.charts.patience = self.charts.patience.saturating_sub(1).max(1)
            }
            // The overlay's own smoothing there; the batch loss's elsewhere.
            Action::Smooth if self.view == View::Overlay => {
                self.overlay.smooth = !self.overlay.smooth
            }
            Action::Smooth => self.charts.smooth = !self.charts.smooth,
            Action::FilterTrue | Action::FilterPredicted if self.view == View::Digits => {
                if let Some(d) = self.digits.as_mut() {
                    if action == Action::FilterTrue {
                        d.true_filter = cycle_class(d.true_filter);
                    } else {
                        d.pred_filter = cycle_class(d.pred_filter);
                    }
                    d.page = 0;
                }
            }
            Action::Left | Action::Right if self.view == View::Digits && self.digits.is_some() => {
                if let Some(d) = self.digits.as_mut() {
                    d.page = if action == Action::Right {
                        d.page + 1
                    } else {
                        d.page.saturating_sub(1)
                    };
                }
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
            Action::SharedScale => self.charts.shared_y = !self.charts.shared_y,
            Action::ToggleMouse => return self.toggle_mouse(),
            Action::Sort => self.table.sort = self.table.sort.next(),
            Action::Compare if !self.compare.is_empty() => self.compare.clear(),
            Action::Compare => {
                self.message = Some((
                    Level::Info,
                    "to compare: esc to the picker, select a past run, press b".into(),
                ));
            }
            Action::Back if !training => {
                self.screen = Screen::Picker;
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
        // The Recorder saves the run (on the engine thread); this copy is what the views show.
        run.record.apply(&event);
        match event {
            Event::VariantStarted { index, .. } => {
                run.running = Some(index);
                run.batch_losses.clear();
                if self.follow {
                    self.selected = index;
                }
            }
            Event::Progress {
                index,
                epoch,
                batch,
                batches,
                running_loss,
                samples_per_sec,
                ..
            } => {
                if let Some(p) = run.progress.get_mut(index) {
                    *p = Some(Progress {
                        epoch,
                        batch,
                        batches,
                        running_loss,
                        samples_per_sec,
                    });
                }
                let x = (epoch - 1) as f64 + batch as f64 / batches.max(1) as f64;
                run.batch_losses.push((x, running_loss as f64));
                if run.batch_losses.len() > MAX_BATCH_POINTS {
                    // Keep every other point: bounded memory, the whole shape still visible.
                    let thinned = run.batch_losses.iter().step_by(2).copied().collect();
                    run.batch_losses = thinned;
                }
            }
            Event::VariantFinished { .. }
            | Event::VariantFailed { .. }
            | Event::VariantSkipped { .. } => {
                run.running = None;
            }
            Event::Paused => run.paused = true,
            Event::Resumed => run.paused = false,
            Event::RunFinished { cancelled } => {
                run.cancelled = cancelled;
                run.running = None;
                run.paused = false;
                let others_left = !cancelled
                    && run.dir.is_some()
                    && run.record.units.iter().any(|v| !v.status.is_done());
                if others_left {
                    // This process is done; other writers still have units: follow them to
                    // the end as `watch` does.
                    run.watching = Some(0);
                    self.message = Some((
                        Level::Info,
                        "This process is done; other writers still train this run (watching)."
                            .into(),
                    ));
                    return vec![Effect::FinishRun];
                }
                if !cancelled && run.record.until.is_some() {
                    // Seeds until decided: the runtime adds the next round, or says why not.
                    self.message = Some((Level::Info, "Round ended; deciding the next…".into()));
                    return vec![Effect::NextRound];
                }
                run.finished = true;
                self.message = Some((
                    Level::Info,
                    if cancelled {
                        "Run cancelled. Finished variants are saved; e exports, esc returns to the picker."
                    } else {
                        "Run complete. e exports, 2 shows the grid, esc returns to the picker."
                    }
                    .into(),
                ));
                // The Recorder writes the final state; the runtime says where the run is.
                return vec![Effect::FinishRun];
            }
            Event::Warning { message } => self.message = Some((Level::Error, message)),
            // Folded into the record (the unit's result is that epoch's); nothing to say.
            Event::KeptEpoch { .. } => {}
            Event::EarlyStopped {
                index,
                epoch,
                best_epoch,
                restored,
            } => {
                let name = run
                    .record
                    .units
                    .get(index)
                    .map_or("?", |v| v.spec.name.as_str());
                self.message = Some((
                    Level::Info,
                    format!(
                        "{name}: early stopping after epoch {epoch} (best {best_epoch}{})",
                        if restored { ", its weights kept" } else { "" }
                    ),
                ));
            }
            // The first epoch says more than "training started": that note goes.
            Event::EpochEnd { .. } => {
                if matches!(&self.message, Some((Level::Info, t)) if t == TRAINING_STARTED) {
                    self.message = None;
                }
            }
            Event::RunStarted { .. } => {}
        }
        Vec::new()
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

    /// The selected unit's name ("" without a run).
    pub fn unit_name_selected(&self) -> String {
        self.run
            .as_ref()
            .and_then(|r| r.record.units.get(self.selected))
            .map(|v| v.spec.name.clone())
            .unwrap_or_default()
    }

    /// The variant (group) name of the selected unit.
    fn selected_variant_name(&self) -> Option<String> {
        let run = self.run.as_ref()?;
        let v = run.record.units.get(self.selected)?;
        Some(v.spec.variant_name().to_string())
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

    /// Variant indices in the table's current sort order.
    pub fn sorted_indices(&self) -> Vec<usize> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let vs = &run.record.units;
        let mut idx: Vec<usize> = (0..vs.len()).collect();
        match self.table.sort {
            SortKey::Order => {}
            SortKey::By(metric) => {
                // Better first; units without the value (not finished, not recorded) last.
                let sign = if metric.lower_is_better() { 1.0 } else { -1.0 };
                let key = |i: &usize| {
                    vs[*i]
                        .final_metrics()
                        .and_then(|m| metric.of(m))
                        .filter(|x| x.is_finite())
                        .map_or(f64::INFINITY, |x| sign * x)
                };
                idx.sort_by(|a, b| key(a).total_cmp(&key(b)));
            }
            SortKey::Name => idx.sort_by(|a, b| vs[*a].spec.name.cmp(&vs[*b].spec.name)),
        }
        idx
    }

    /// The finished variant with the lowest final test loss.
    pub fn best_variant(&self) -> Option<usize> {
        let run = self.run.as_ref()?;
        run.record
            .units
            .iter()
            .enumerate()
            .filter(|(_, v)| v.status == UnitStatus::Finished)
            .filter_map(|(i, v)| v.final_metrics().map(|m| (i, m.test_loss)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }
}

/// `newer` is `shown` with rounds of `seeds: Until` appended (the same units first).
fn grows(shown: &RunRecord, newer: &RunRecord) -> bool {
    newer.units.len() > shown.units.len()
        && newer.rounds.len() > shown.rounds.len()
        && newer
            .units
            .iter()
            .zip(&shown.units)
            .all(|(a, b)| a.spec == b.spec)
}

/// Where Home, End, PgUp and PgDn take a selection at `at` of `n` (no wrapping: ten a page).
fn jump(action: Action, at: usize, n: usize) -> usize {
    const PAGE: usize = 10;
    match action {
        Action::First => 0,
        Action::Last => n.saturating_sub(1),
        Action::PageUp => at.saturating_sub(PAGE),
        Action::PageDown => (at + PAGE).min(n.saturating_sub(1)),
        _ => at,
    }
}
