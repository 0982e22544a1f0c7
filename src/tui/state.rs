//! What the views share: the run on screen and its progress, the views' names, the effects
//! asked of the runtime, chart options. No drawing and no key handling here.

use std::path::PathBuf;

use crate::engine::{Command, Event};
use crate::preset::Preset;
use crate::runs::{RunRecord, UnitRecord, UnitStatus};
use crate::session::Fold;

pub use crate::estimate::{DataSizes, Rate, ASSUMED_FLOPS};

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

    /// Its name alone ("live", "grid", …).
    pub fn name(self) -> &'static str {
        let label = self.label();
        label.split_once(' ').map_or(label, |(_, name)| name)
    }
}

/// A question the user answers with y or n before it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Quit,
    Cancel,
    /// Delete this past run's folder (its name, as the question says it).
    Delete(PathBuf, String),
}

/// A variant name being searched for in a run's views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub text: String,
    /// The unit selected before the search (esc returns to it).
    pub before: usize,
}

/// A line of text being typed (`n` names a past run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The run folder being named.
    pub dir: PathBuf,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PickerEntry {
    pub label: String,
    pub preset: Result<Preset, String>,
}

impl PickerEntry {
    /// Estimated wall seconds to train the whole preset on a data set of `sizes` at `rate`.
    pub fn estimate_seconds_for(&self, sizes: DataSizes, rate: &Rate) -> Option<f64> {
        Some(rate.preset_seconds(self.preset.as_ref().ok()?, sizes))
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
    /// The data set's sizes, for ETAs.
    pub sizes: DataSizes,
    /// Followed on disk while other processes write it: how many writers hold it now.
    pub watching: Option<usize>,
    /// The run's statistics over seeds (per variant, and the set that could be best), as of
    /// the record's `fingerprint`: made in `update` when the record changes, read by drawing.
    pub stats: Option<RunStats>,
}

/// Statistics of one state of a run, made once per change.
#[derive(Debug, Clone)]
pub struct RunStats {
    pub key: u64,
    pub per_variant: Vec<crate::insight::stats::VariantStats>,
    /// On the final test loss (the table's ★).
    pub best: Option<crate::insight::stats::BestSet>,
}

/// The same key, the same statistics: they are made from the record with that fingerprint
/// (comparing the numbers would make two equal states unequal wherever a mean is NaN).
impl PartialEq for RunStats {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

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
            sizes: DataSizes::default(),
            watching: None,
            stats: None,
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

    /// Brings the statistics up to date with the record (cheap when nothing changed).
    pub fn refresh_stats(&mut self) {
        let key = self.record.fingerprint();
        if self.stats.as_ref().is_some_and(|s| s.key == key) {
            return;
        }
        let per_variant = crate::insight::stats::per_variant(&self.record);
        let best = crate::insight::sequential::best_set(
            &self.record,
            &per_variant,
            crate::spec::Metric::TestLoss,
        );
        self.stats = Some(RunStats {
            key,
            per_variant,
            best,
        });
    }

    /// The statistics, if they are of the record as it is now.
    pub fn fresh_stats(&self) -> Option<&RunStats> {
        let key = self.record.fingerprint();
        self.stats.as_ref().filter(|s| s.key == key)
    }

    /// The finished unit with the lowest final test loss.
    pub fn best_unit(&self) -> Option<usize> {
        self.record
            .units
            .iter()
            .enumerate()
            .filter(|(_, v)| v.status == UnitStatus::Finished)
            .filter_map(|(i, v)| v.final_metrics().map(|m| (i, m.test_loss)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    /// Finished units: what the header's "done" and the picker's runs table both count.
    pub fn done_count(&self) -> usize {
        self.record.count(UnitStatus::Finished)
    }

    /// Units that ended without a result (skipped or failed), said beside the count.
    pub fn ended_without_result(&self) -> usize {
        self.record.count(UnitStatus::Skipped) + self.record.count(UnitStatus::Failed)
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
            s.arch.epoch_flops(self.sizes.io, train, test)
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

/// What an engine event changed beyond the run itself: the unit that started (the selection
/// follows it), a first epoch ended (the start note goes), what to say, what to do.
#[derive(Debug, Default)]
pub struct EventOutcome {
    pub started: Option<usize>,
    pub first_epoch: bool,
    pub say: Option<(Level, String)>,
    pub effects: Vec<Effect>,
}

impl RunView {
    /// Folds an engine event into the run shown (the Recorder saves the run on the engine
    /// thread; this copy is what the views show).
    pub fn on_event(&mut self, event: Event) -> EventOutcome {
        let mut out = EventOutcome::default();
        self.record.apply(&event);
        match event {
            Event::UnitStarted { index, .. } => {
                self.running = Some(index);
                out.started = Some(index);
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
                if let Some(p) = self.progress.get_mut(index) {
                    *p = Some(Progress {
                        epoch,
                        batch,
                        batches,
                        running_loss,
                        samples_per_sec,
                    });
                }
                // Every batch's own loss is kept in the unit's record (`record.apply` above).
            }
            Event::UnitFinished { .. } | Event::UnitFailed { .. } | Event::UnitSkipped { .. } => {
                self.running = None
            }
            Event::Paused => self.paused = true,
            Event::Resumed => self.paused = false,
            Event::RunFinished { cancelled } => return self.on_run_finished(cancelled),
            Event::Warning { message } => out.say = Some((Level::Error, message)),
            // Folded into the record (the unit's result is that epoch's); nothing to say.
            Event::KeptEpoch { .. } => {}
            Event::EarlyStopped {
                index,
                epoch,
                best_epoch,
                restored,
            } => {
                let name = self
                    .record
                    .units
                    .get(index)
                    .map_or("?", |v| v.spec.name.as_str());
                out.say = Some((
                    Level::Info,
                    format!(
                        "{name}: early stopping after epoch {epoch} (best {best_epoch}{})",
                        if restored { ", its weights kept" } else { "" }
                    ),
                ));
            }
            // The first epoch says more than "training started".
            Event::EpochEnd { .. } => out.first_epoch = true,
            Event::RunStarted { .. } => {}
        }
        out
    }

    /// The engine ended: the run is done, or others still train it (follow them), or a round
    /// of `seeds: Until` ended (the runtime decides the next).
    fn on_run_finished(&mut self, cancelled: bool) -> EventOutcome {
        self.cancelled = cancelled;
        self.running = None;
        self.paused = false;
        let info = |text: &str| Some((Level::Info, text.to_string()));
        let others_left = !cancelled
            && self.dir.is_some()
            && self.record.units.iter().any(|v| !v.status.is_done());
        let (say, effect) = if others_left {
            // This process is done; other writers still have units: follow them to the end
            // as `watch` does.
            self.watching = Some(0);
            (
                info("This process is done; other writers still train this run (watching)."),
                Effect::FinishRun,
            )
        } else if !cancelled && self.record.until.is_some() {
            // Seeds until decided: the runtime adds the next round, or says why not.
            (info("Round ended; deciding the next…"), Effect::NextRound)
        } else {
            self.finished = true;
            // The Recorder writes the final state; the runtime says where the run is.
            (
                info(if cancelled {
                    "Run cancelled. Finished variants are saved; e exports, esc returns to the picker."
                } else {
                    "Run complete. e exports, 2 shows the grid, esc returns to the picker."
                }),
                Effect::FinishRun,
            )
        };
        EventOutcome {
            say,
            effects: vec![effect],
            ..Default::default()
        }
    }

    /// A followed folder changed: its record replaces the one shown. While this process
    /// trains into the folder, only the units others have taken further are taken from it
    /// (what the engine here reports stays the truth for its own units). Returns what to say
    /// when the snapshot cannot be shown.
    pub fn on_snapshot(&mut self, snap: crate::runs::watch::Snapshot) -> Option<String> {
        if self.dir.as_deref() != Some(snap.dir.as_path()) {
            return None;
        }
        // Another writer added a round (`seeds: Until`): its units join the ones shown.
        if let Ok(record) = &snap.record {
            if grows(&self.record, record) {
                self.record.adopt_round(record);
                self.progress.resize(self.record.units.len(), None);
            }
        }
        if self.watching.is_none() {
            if let Ok(record) = &snap.record {
                if !self.finished && record.units.len() == self.record.units.len() {
                    self.take_others(record);
                }
            }
            return None;
        }
        match snap.record {
            Ok(record) if record.units.len() == self.record.units.len() => {
                self.finished = record.complete;
                self.record = record;
                self.watching = Some(snap.writers.len());
                None
            }
            Ok(_) => Some(format!(
                "{}: the run's unit list changed",
                snap.dir.display()
            )),
            // A half-visible state (e.g. a file being replaced on a network file system):
            // keep what is shown, say why, and take the next snapshot.
            Err(e) => Some(e),
        }
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
    /// Open past run `i` of the picker (the app shows it; never reaches the runtime).
    OpenPast(usize),
    /// Give the run in this folder a name (empty: remove it).
    Rename(PathBuf, String),
    /// Delete this run folder (asked and confirmed).
    Delete(PathBuf),
    /// Write what the current view shows (its numbers as CSV, its chart as SVG).
    ExportView(View),
}

/// Options of the loss charts (live view and grid cells).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartOptions {
    pub log_scale: bool,
    /// Early-stopping patience for the marker (epochs).
    pub patience: usize,
    /// EMA smoothing of the batch loss line.
    pub smooth: bool,
    /// Grid cells share one y-scale (else each fits its own curves).
    pub shared_y: bool,
    /// Weight of the batch loss's EMA, per batch (TensorBoard's smoothing; `[`/`]`).
    pub batch_weight: f64,
    /// The epoch cursor of the live and overlay charts (`←`/`→`): every curve's value at
    /// that epoch is read out. None: off.
    pub cursor: Option<usize>,
    /// The live view's per-epoch log in place of its lower charts (`a`): lines scrolled up
    /// from the latest (PgUp/PgDn). None: hidden.
    pub epoch_log: Option<usize>,
}

impl ChartOptions {
    /// `←`/`→`: the cursor one epoch back or on, within 1..=`last`; it starts at the last
    /// epoch, and → past the last turns it off.
    pub fn move_cursor(&mut self, back: bool, last: usize) {
        if last == 0 {
            self.cursor = None;
            return;
        }
        self.cursor = match (self.cursor, back) {
            (None, _) => Some(last),
            (Some(e), true) => Some(e.saturating_sub(1).max(1)),
            (Some(e), false) if e >= last => None,
            (Some(e), false) => Some(e + 1),
        };
    }
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            log_scale: false,
            patience: 3,
            smooth: true,
            shared_y: true,
            batch_weight: SMOOTHING,
            cursor: None,
            epoch_log: None,
        }
    }
}

/// EMA weight of the smoothed batch-loss line, per batch (its default).
pub const SMOOTHING: f64 = 0.9;
