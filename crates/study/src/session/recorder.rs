//! The Recorder: folds engine events into the run record and keeps it on disk, for both
//! front-ends. It is the engine's sink, so it runs on the engine thread and a finished unit's
//! record is durable before the next unit starts. When the run folder refuses a write, what
//! could not be written stays in memory and goes to one rescue folder at the end, and the
//! final message says exactly where the run is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::engine::sink::NotKept;
use crate::engine::{Event, Sink};
use crate::runs::record::Failure;
use crate::runs::units::{UnitLock, WriterLock};
use crate::runs::{self, RunRecord, UnitStatus};

/// Folding engine events into a run record: the one definition both front-ends use (the
/// Recorder for what is saved, the TUI for what it shows).
pub trait Fold {
    /// Folds one event in; returns true when the record should be written to disk now.
    fn apply(&mut self, event: &Event) -> bool;
}

impl Fold for RunRecord {
    fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::UnitStarted { index, .. } => {
                if let Some(v) = self.units.get_mut(*index) {
                    v.status = UnitStatus::Running;
                    v.history.clear();
                    v.failure = None;
                    v.early_stop = None;
                    v.kept_epoch = None;
                    // A unit trained again (resumed, retried) starts a new batch curve.
                    v.batches = Default::default();
                }
                false
            }
            Event::KeptEpoch { index, epoch } => {
                if let Some(v) = self.units.get_mut(*index) {
                    v.kept_epoch = Some(*epoch);
                }
                false
            }
            Event::EarlyStopped {
                index,
                epoch,
                best_epoch,
                restored,
            } => {
                if let Some(v) = self.units.get_mut(*index) {
                    v.early_stop = Some(crate::runs::record::EarlyStop {
                        epoch: *epoch,
                        best_epoch: *best_epoch,
                        restored: *restored,
                    });
                }
                false
            }
            Event::EpochEnd { index, metrics } => {
                if let Some(v) = self.units.get_mut(*index) {
                    v.history.push(*metrics);
                }
                false
            }
            Event::UnitFinished {
                index,
                seconds,
                weights,
            } => {
                if let Some(v) = self.units.get_mut(*index) {
                    v.status = UnitStatus::Finished;
                    v.seconds = Some(*seconds);
                    v.weights = weights.clone();
                }
                true
            }
            Event::UnitFailed {
                index,
                kind,
                epoch,
                message,
            } => {
                if let Some(v) = self.units.get_mut(*index) {
                    v.status = UnitStatus::Failed;
                    v.failure = Some(Failure {
                        kind: *kind,
                        epoch: *epoch,
                        message: message.clone(),
                    });
                }
                true
            }
            Event::UnitSkipped { index } => {
                if let Some(v) = self.units.get_mut(*index) {
                    v.status = UnitStatus::Skipped;
                }
                true
            }
            Event::RunFinished { .. } => {
                self.mark_interrupted();
                self.complete = true;
                true
            }
            // Kept in the unit's record; saved with its next epoch (no write per report).
            Event::Progress {
                index,
                epoch,
                batch,
                batches,
                batch_loss,
                batch_losses,
                ..
            } => {
                if let Some(v) = self.units.get_mut(*index) {
                    let losses = if batch_losses.is_empty() {
                        std::slice::from_ref(batch_loss)
                    } else {
                        batch_losses.as_slice()
                    };
                    v.batches.add(*epoch, *batch, *batches, losses);
                }
                false
            }
            Event::RunStarted { .. } | Event::Paused | Event::Resumed | Event::Warning { .. } => {
                false
            }
        }
    }
}

/// Where a run ended up: the last line either front-end shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Everything is in the run folder.
    InPlace(PathBuf),
    /// The run folder refused a write; the whole run (record and weights) is here instead.
    Rescued { dir: PathBuf, reason: String },
    /// The unit records are in the run folder, but some weights could be written neither
    /// there nor in a rescue folder.
    RecordsOnly { dir: PathBuf, reason: String },
    /// Nothing could be written anywhere.
    Lost { reason: String },
}

impl Saved {
    /// The run file to open (`run.json` of the folder that has the run).
    pub fn run_file(&self) -> Option<PathBuf> {
        match self {
            Saved::InPlace(d)
            | Saved::Rescued { dir: d, .. }
            | Saved::RecordsOnly { dir: d, .. } => Some(d.join(runs::RUN_FILE)),
            Saved::Lost { .. } => None,
        }
    }
}

impl std::fmt::Display for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The folder, not its run.json: in a shared folder that is only the manifest, and
            // the results are in units/.
            Saved::InPlace(d) => write!(f, "run saved in {}", d.display()),
            // Where the run is comes first: a status line may cut the rest.
            Saved::Rescued { dir, reason } => write!(
                f,
                "run saved in {}, not in its folder, which could not be written ({reason})",
                dir.display()
            ),
            Saved::RecordsOnly { dir, reason } => write!(
                f,
                "records saved in {}; weights could not be written: {reason}",
                dir.display()
            ),
            Saved::Lost { reason } => write!(f, "the run could not be saved anywhere: {reason}"),
        }
    }
}

pub struct Recorder {
    record: RunRecord,
    /// The run folder; None when it could not even be created.
    dir: Option<PathBuf>,
    /// The folder's name, for a rescue folder's name.
    name: String,
    /// Held while this process writes the folder (watchers count writers by it).
    _writer: Option<WriterLock>,
    /// The units this process trains now, each locked against other writers (None: the
    /// lock could not even be taken; trained anyway, and saved or rescued like the rest).
    claimed: BTreeMap<usize, Option<UnitLock>>,
    /// Claimed units whose file is behind the record.
    dirty: BTreeSet<usize>,
    /// Every unit this process has trained (what its share of a rescue holds).
    trained: BTreeSet<usize>,
    /// Set when the run went to the rescue folder its writers share: how to put it together.
    rescue_note: Option<String>,
    /// Weights the run folder refused, by path relative to the run folder.
    unsaved_weights: BTreeMap<String, Vec<u8>>,
    /// Why the last write of a unit file failed; None when the folder is up to date.
    save_error: Option<String>,
    /// Why the last weights file could not be written in the run folder.
    weights_error: Option<String>,
    /// Set once the front-end has taken the final state: later events change nothing.
    closed: bool,
}

impl Recorder {
    /// Records into the shared run folder `dir` (its manifest already written) as one of
    /// its writers.
    pub fn new(record: RunRecord, dir: PathBuf, writer: WriterLock) -> Recorder {
        let name = folder_name(&dir);
        Recorder {
            record,
            dir: Some(dir),
            name,
            _writer: Some(writer),
            claimed: BTreeMap::new(),
            dirty: BTreeSet::new(),
            trained: BTreeSet::new(),
            rescue_note: None,
            unsaved_weights: BTreeMap::new(),
            save_error: None,
            weights_error: None,
            closed: false,
        }
    }

    /// Records in memory only: the run folder could not be created (`reason`); the run goes
    /// to a rescue folder at the end.
    pub fn without_folder(record: RunRecord, reason: String) -> Recorder {
        Recorder {
            name: runs::sanitize(&record.preset),
            record,
            dir: None,
            _writer: None,
            claimed: BTreeMap::new(),
            dirty: BTreeSet::new(),
            trained: BTreeSet::new(),
            rescue_note: None,
            unsaved_weights: BTreeMap::new(),
            save_error: Some(reason),
            weights_error: None,
            closed: false,
        }
    }

    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// Takes in the units a new round appended (`seeds: Until`), queued, and the rounds; the
    /// units already recorded keep what this process knows of them.
    pub fn adopt(&mut self, grown: &RunRecord) {
        self.record.adopt_round(grown);
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Why the run folder is behind, if it is.
    pub fn save_error(&self) -> Option<&str> {
        self.save_error.as_deref()
    }

    /// Writes the file of every claimed unit that is behind; remembers (and returns) why not.
    fn save(&mut self) -> Option<String> {
        let Some(dir) = &self.dir else {
            return None;
        };
        let mut failed = None;
        for &i in &self.dirty {
            match self.claimed.get_mut(&i) {
                None => continue,
                Some(Some(lock)) => lock.refresh(),
                Some(None) => {}
            }
            if let Err(e) = runs::units::save_unit(dir, i, &self.record.units[i]) {
                failed = Some(format!("{e:#}"));
                break;
            }
        }
        match failed {
            None => {
                self.dirty.clear();
                self.save_error = None;
                None
            }
            Some(text) => {
                let first = self.save_error.is_none();
                self.save_error = Some(text.clone());
                // Said once per failure streak, not once per unit.
                first.then(|| {
                    format!(
                        "cannot save the run ({text}); training continues, results kept in \
                         memory and saved elsewhere at the end if need be"
                    )
                })
            }
        }
    }

    /// Ends the recording: a unit still running is marked interrupted (`interrupted`: the
    /// run was stopped from outside and is not complete), then the record is saved in place,
    /// or with every weights file in a rescue folder. Returns where the run is.
    pub fn finish(&mut self, interrupted: bool) -> Saved {
        self.record.mark_interrupted();
        if interrupted {
            self.record.complete = false;
        }
        self.closed = true;
        if self.dir.is_some() {
            // A running unit is now interrupted: its file says so.
            self.dirty.extend(self.claimed.keys().copied());
            self.save();
        }
        self.claimed.clear();
        match (&self.dir, &self.save_error, self.unsaved_weights.is_empty()) {
            (Some(dir), None, true) => Saved::InPlace(dir.clone()),
            // The records are in place; only weights are missing: a rescue that fails too
            // leaves the records where they are and says what was lost.
            (Some(dir), None, false) => {
                let dir = dir.clone();
                let why = self
                    .weights_error
                    .clone()
                    .unwrap_or_else(|| "the run folder refused them".into());
                match self.try_rescue() {
                    Ok(rescued) => Saved::Rescued {
                        dir: rescued,
                        reason: self
                            .with_rescue_note(format!("weights could not be written: {why}")),
                    },
                    Err(e) => Saved::RecordsOnly {
                        dir,
                        reason: format!("{why}; nor in a rescue folder: {e}"),
                    },
                }
            }
            (_, error, _) => {
                let reason = error
                    .clone()
                    .unwrap_or_else(|| "some weights could not be written".into());
                self.rescue(reason)
            }
        }
    }

    /// Writes the record and all weights (those in memory, and copies of those on disk) into
    /// a new rescue folder.
    fn rescue(&mut self, reason: String) -> Saved {
        match self.try_rescue() {
            Ok(dir) => Saved::Rescued {
                dir,
                reason: self.with_rescue_note(reason),
            },
            Err(e) => Saved::Lost {
                reason: format!("{reason}; and the rescue folder failed too: {e}"),
            },
        }
    }

    /// The rescue of a run that has a folder: one rescue folder shared by every writer of
    /// that run (found by the run folder's path), laid out like a run folder, into which each
    /// writer puts the units it trained with their weights. A merge of the run folder and its
    /// rescue then restores everything. Falls back to a rescue of its own when the shared one
    /// cannot be used.
    fn try_rescue(&mut self) -> Result<PathBuf, String> {
        if let Some(run_dir) = self.dir.clone() {
            match self.rescue_shared(&run_dir) {
                Ok(dir) => return Ok(dir),
                Err(shared) => {
                    self.rescue_note = None;
                    return self
                        .rescue_alone()
                        .map_err(|e| format!("{shared:#}; and alone: {e}"));
                }
            }
        }
        self.rescue_alone()
    }

    fn rescue_shared(&mut self, run_dir: &Path) -> anyhow::Result<PathBuf> {
        let dir = runs::shared_rescue_dir(run_dir, &self.record)?;
        let created_here = runs::units::create_manifest(&dir, &self.record);
        let result = (|| -> anyhow::Result<()> {
            if !*created_here
                .as_ref()
                .map_err(|e| anyhow::anyhow!("{e:#}"))?
            {
                runs::units::check_same_run(&dir, &runs::load_run_file(&dir)?, &self.record)?;
            }
            for &i in &self.trained {
                let mut v = self.record.units[i].clone();
                let bytes = v.weights.as_ref().and_then(|rel| {
                    self.unsaved_weights.get(rel).cloned().or_else(|| {
                        runs::safe::read_inside(run_dir, rel, runs::safe::limit::WEIGHTS).ok()
                    })
                });
                v.weights = match bytes {
                    Some(b) => {
                        runs::write_weights(&dir.join(runs::WEIGHTS_DIR), &v.spec.name, &b)?;
                        Some(runs::weights_record_path(&v.spec.name))
                    }
                    // Never a path to a file this folder does not hold.
                    None => None,
                };
                runs::units::save_unit(&dir, i, &v)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            // Made by us and unusable: not left behind half-made (another writer's is kept).
            if matches!(created_here, Ok(true)) {
                let _ = std::fs::remove_dir_all(&dir);
            }
            return Err(e);
        }
        self.rescue_note = Some(format!(
            "every writer of this run rescues into this folder; `mnist-lab merge {} {} --to NEW` \
             puts the whole run together",
            run_dir.display(),
            dir.display()
        ));
        Ok(dir)
    }

    fn with_rescue_note(&self, reason: String) -> String {
        match &self.rescue_note {
            Some(note) => format!("{reason}; {note}"),
            None => reason,
        }
    }

    /// A new rescue folder of this process's own holding the record and every weights file,
    /// or why not (a half-made rescue folder is removed).
    fn rescue_alone(&mut self) -> Result<PathBuf, String> {
        let mut made = None;
        let mut attempt = || -> anyhow::Result<PathBuf> {
            let dir = runs::create_rescue_dir(&self.name)?;
            made = Some(dir.clone());
            let weights = dir.join(runs::WEIGHTS_DIR);
            for v in &self.record.units {
                let Some(rel) = &v.weights else { continue };
                let file = Path::new(rel)
                    .file_name()
                    .map(|f| weights.join(f))
                    .ok_or_else(|| anyhow::anyhow!("bad weights path {rel:?}"))?;
                let bytes = match self.unsaved_weights.get(rel) {
                    Some(b) => b.clone(),
                    None => match &self.dir {
                        Some(d) => {
                            match runs::safe::read_inside(d, rel, runs::safe::limit::WEIGHTS) {
                                Ok(b) => b,
                                Err(_) => continue,
                            }
                        }
                        None => continue,
                    },
                };
                std::fs::create_dir_all(&weights)
                    .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", weights.display()))?;
                runs::write_atomic(&file, &bytes)?;
            }
            runs::save(&dir, &self.record)?;
            Ok(dir)
        };
        let result = attempt();
        result.map_err(|e| {
            if let Some(d) = made {
                let _ = std::fs::remove_dir_all(d);
            }
            format!("{e:#}")
        })
    }
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "run".into())
}

impl Sink for Recorder {
    fn claim(&mut self, index: usize) -> bool {
        let Some(dir) = &self.dir else {
            return true;
        };
        let name = self
            .record
            .units
            .get(index)
            .map(|v| v.spec.name.clone())
            .unwrap_or_default();
        match runs::units::claim_unit(dir, index, &name) {
            Ok(Some(lock)) => {
                self.claimed.insert(index, Some(lock));
                self.trained.insert(index);
                true
            }
            Ok(None) => false,
            // The folder cannot even be locked: train anyway; the results go to a rescue
            // folder if the folder refuses them too.
            Err(_) => {
                self.claimed.insert(index, None);
                self.trained.insert(index);
                true
            }
        }
    }

    fn observe(&mut self, event: &Event) -> Vec<String> {
        if self.closed {
            return Vec::new();
        }
        // The end of one engine is not the end of the run: with several engines (--jobs),
        // or other writers, the others go on. Whether the run is complete is read from the
        // unit files.
        if matches!(event, Event::RunFinished { .. }) {
            return Vec::new();
        }
        self.record.apply(event);
        let Some(index) = event.unit() else {
            return Vec::new();
        };
        // A unit whose weights stayed in memory still has them recorded (the engine reported
        // none on disk); they go to the rescue folder with the record at the end.
        if let Event::UnitFinished {
            index,
            weights: None,
            ..
        } = event
        {
            if let Some(v) = self.record.units.get_mut(*index) {
                let rel = runs::weights_record_path(&v.spec.name);
                if self.unsaved_weights.contains_key(&rel) {
                    v.weights = Some(rel);
                }
            }
        }
        self.dirty.insert(index);
        let warning = self.save();
        let ended = matches!(
            event,
            Event::UnitFinished { .. } | Event::UnitFailed { .. } | Event::UnitSkipped { .. }
        );
        if ended && !self.dirty.contains(&index) {
            // On disk: another writer may have the lock now. One that could not be written
            // keeps its lock until the run ends (and is rescued).
            self.claimed.remove(&index);
        }
        warning.into_iter().collect()
    }

    fn keep_weights(&mut self, name: &str, bytes: Vec<u8>) -> Result<String, NotKept> {
        let rel = runs::weights_record_path(name);
        let Some(dir) = &self.dir else {
            self.unsaved_weights.insert(rel, bytes);
            return Err(NotKept("the run has no folder; kept in memory".into()));
        };
        let written = runs::write_weights(&dir.join(runs::WEIGHTS_DIR), name, &bytes);
        match written {
            Ok(_) => {
                self.unsaved_weights.remove(&rel);
                Ok(rel)
            }
            Err(e) => {
                self.unsaved_weights.insert(rel, bytes);
                self.weights_error = Some(format!("{e:#}"));
                Err(NotKept(format!(
                    "{e:#}; kept in memory, saved with the run at the end"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::engine::control::Control;
    use crate::engine::SharedSink;

    fn recorder_in(dir: &Path) -> Recorder {
        let p = crate::preset::parse(
            "t.ron",
            "(name: \"t\", variants: [(name: \"a\", arch: \"256\"), (name: \"b\", arch: \"256\")])",
        )
        .unwrap();
        let record = RunRecord::new(&p, runs::record::Environment::detect("t"));
        runs::units::create_manifest(dir, &record).unwrap();
        Recorder::new(record, dir.to_path_buf(), WriterLock::take(dir).unwrap())
    }

    fn finished(index: usize) -> Event {
        Event::UnitFinished {
            index,
            seconds: 1.0,
            weights: None,
        }
    }

    #[test]
    fn a_failed_save_becomes_one_warning_event_then_a_rescue() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        std::fs::create_dir(&dir).unwrap();
        let recorder = Arc::new(Mutex::new(recorder_in(&dir)));
        assert!(dir.join(runs::RUN_FILE).is_file(), "saved at once");
        // The run folder goes away under the run: every save now fails.
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::write(&dir, b"now a file").unwrap();
        let (event_tx, event_rx) = crossbeam_channel::unbounded();
        let (_command_tx, command_rx) = crossbeam_channel::unbounded();
        let sink: SharedSink = recorder.clone();
        let control = Control::new(command_rx, event_tx, Some(sink));
        for i in [0, 1] {
            assert!(
                control.claim(i),
                "a unit is trained even when it cannot be locked"
            );
            control.emit(finished(i));
        }
        let events: Vec<Event> = event_rx.try_iter().collect();
        // What both front-ends receive: the event, then one warning (not one per unit).
        assert_eq!(events.len(), 3, "{events:?}");
        assert!(
            matches!(&events[1], Event::Warning { message } if message.contains("cannot save the run")),
            "{events:?}"
        );
        let mut r = recorder.lock().unwrap();
        assert!(r.save_error().is_some());
        assert_eq!(r.record().count(UnitStatus::Finished), 2);
        let rescue = tmp.path().join("rescue");
        std::fs::create_dir(&rescue).unwrap();
        // Rescue folders go under MNIST_LAB_RESCUE_DIR (no other unit test sets it).
        std::env::set_var(runs::RESCUE_ENV, &rescue);
        let saved = r.finish(false);
        let Saved::Rescued { dir: at, .. } = &saved else {
            panic!("{saved:?}")
        };
        assert!(at.starts_with(&rescue));
        assert_eq!(runs::load(at).unwrap().count(UnitStatus::Finished), 2);
        assert!(saved.to_string().contains("could not be written"));
    }

    #[test]
    fn a_saved_run_says_where_and_ignores_events_after_it_is_finished() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = recorder_in(tmp.path());
        assert!(r.claim(0));
        assert!(r.observe(&finished(0)).is_empty());
        let saved = r.finish(false);
        assert_eq!(saved, Saved::InPlace(tmp.path().to_path_buf()));
        assert_eq!(
            saved.to_string(),
            format!("run saved in {}", tmp.path().display())
        );
        assert!(r.claim(1));
        r.observe(&finished(1));
        let on_disk = runs::load(tmp.path()).unwrap();
        assert_eq!(on_disk.count(UnitStatus::Finished), 1);
    }
}
