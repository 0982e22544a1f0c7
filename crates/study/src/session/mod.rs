//! What both front-ends share: loading the data set, applying command-line overrides, opening
//! a new or interrupted run for writing, and the Recorder that keeps it on disk.

pub mod recorder;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use crate::data::{self, Dataset};
use crate::engine::{self, EngineHandle, EngineOptions, SharedSink};
use crate::preset::{Preset, MAX_EPOCHS};
use crate::runs::{self, record::Environment, RunRecord};
pub use recorder::{Fold, Recorder, Saved};

/// Settings given on the command line that change a preset for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub epochs: Option<usize>,
    pub train_subset: Option<usize>,
    pub test_subset: Option<usize>,
    pub only: Vec<String>,
    /// Train every variant with this many seeds (from its first seed on).
    pub seeds: Option<usize>,
    /// Train every variant with this architecture (hidden widths joined by '-').
    pub arch: Option<String>,
    /// Train on this engine instead of the preset's.
    pub engine: Option<crate::spec::Engine>,
}

impl Overrides {
    /// The overrides as they were given, one flag each (`--arch 1000-300`), for the run's
    /// record: its detail and the runs table show them.
    pub fn said(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                out.push(format!("--{name} {v}"));
            }
        };
        flag("arch", self.arch.clone());
        flag("epochs", self.epochs.map(|n| n.to_string()));
        flag("seeds", self.seeds.map(|n| n.to_string()));
        flag("train-subset", self.train_subset.map(|n| n.to_string()));
        flag("test-subset", self.test_subset.map(|n| n.to_string()));
        flag("only", (!self.only.is_empty()).then(|| self.only.join(",")));
        flag("engine", self.engine.map(|e| e.label().to_string()));
        out
    }
}

/// Names that follow the network `--arch` put in: a variant named by its architecture
/// ("128-64 every") has it replaced ("1000-300 every"); any other gets it appended
/// ("2L adam every · 1000-300"), and so do all when replacing would make two names one.
fn rename_for_arch(units: &mut [crate::spec::UnitSpec], arch: &crate::spec::Arch) {
    let new = arch.name();
    let replaced = |name: &str, old: &str| -> String {
        name.split(' ')
            .map(|w| if w == old { new.as_str() } else { w })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let variants: Vec<(String, String)> = units
        .iter()
        .filter(|u| u.arch.name() != new)
        .map(|u| {
            let v = u.variant_name().to_string();
            let r = replaced(&v, &u.arch.name());
            (v, r)
        })
        .collect();
    let mut renamed: Vec<&String> = variants.iter().map(|(_, r)| r).collect();
    renamed.sort();
    renamed.dedup();
    let distinct: std::collections::BTreeSet<&String> = variants.iter().map(|(v, _)| v).collect();
    let collide = renamed.len() != distinct.len();
    for u in units.iter_mut().filter(|u| u.arch.name() != new) {
        let old_variant = u.variant_name().to_string();
        let replaced_name = replaced(&old_variant, &u.arch.name());
        let new_variant = if collide || replaced_name == old_variant {
            format!("{old_variant} · {new}")
        } else {
            replaced_name
        };
        u.name = u.name.replacen(&old_variant, &new_variant, 1);
        if !u.variant.is_empty() {
            u.variant = new_variant;
        }
    }
}

/// Applies command-line overrides to a loaded preset, with the preset's own limits.
pub fn apply_overrides(mut preset: Preset, o: &Overrides) -> Result<Preset> {
    if !o.only.is_empty() {
        for name in &o.only {
            if !preset
                .units
                .iter()
                .any(|v| &v.name == name || v.variant_name() == name)
            {
                anyhow::bail!(
                    "{}: no variant named {name:?} (variants: {})",
                    preset.source,
                    preset.variant_names().join(", ")
                );
            }
        }
        preset
            .units
            .retain(|v| o.only.contains(&v.name) || o.only.iter().any(|n| n == v.variant_name()));
    }
    if let Some(n) = o.seeds {
        anyhow::ensure!(
            (1..=crate::preset::MAX_UNITS).contains(&n),
            "--seeds must be 1..={}, got {n}",
            crate::preset::MAX_UNITS
        );
        let firsts: Vec<crate::spec::UnitSpec> = preset
            .variant_names()
            .into_iter()
            .filter_map(|name| preset.units.iter().find(|u| u.variant_name() == name))
            .cloned()
            .collect();
        anyhow::ensure!(
            firsts.len().saturating_mul(n) <= crate::preset::MAX_UNITS,
            "--seeds {n} makes {} units; at most {} are supported",
            firsts.len().saturating_mul(n),
            crate::preset::MAX_UNITS
        );
        let seeds = |base: u64| {
            (0..n as u64)
                .map(|k| base.wrapping_add(k))
                .collect::<Vec<_>>()
        };
        preset.units = crate::preset::interleave(
            firsts
                .iter()
                .map(|u| crate::preset::repeat_over_seeds(u, &seeds(u.seed)))
                .collect(),
        );
        // A fixed number of seeds replaces any rounds the preset asked for.
        preset.until = None;
    }
    if let Some(e) = o.epochs {
        anyhow::ensure!(
            (1..=MAX_EPOCHS).contains(&e),
            "--epochs must be 1..={MAX_EPOCHS}, got {e}"
        );
    }
    anyhow::ensure!(
        o.train_subset != Some(0),
        "--train-subset must be at least 1"
    );
    anyhow::ensure!(o.test_subset != Some(0), "--test-subset must be at least 1");
    let arch = o
        .arch
        .as_deref()
        .map(crate::spec::Arch::parse)
        .transpose()
        .context("--arch")?;
    if let Some(engine) = o.engine {
        preset.engine = engine;
    }
    if let Some(a) = &arch {
        rename_for_arch(&mut preset.units, a);
    }
    preset.overrides = o.said();
    for v in &mut preset.units {
        if let Some(a) = &arch {
            // The study's numbers are of the study's network, not of this one.
            v.reference = None;
            v.arch = a.clone();
        }
        if let Some(e) = o.epochs {
            v.epochs = e;
        }
        if let Some(n) = o.train_subset {
            v.train_subset = Some(n);
        }
        if let Some(n) = o.test_subset {
            v.test_subset = Some(n);
        }
    }
    Ok(preset)
}

/// Refuses a preset some of whose units cannot train on `data` (a holdout that leaves no
/// training images), naming the first, before a run folder is made for it.
pub fn check_fits(preset: &Preset, data: &Dataset) -> Result<()> {
    for u in &preset.units {
        u.train_plan(data.train.len())
            .map_err(|m| anyhow::anyhow!("{}: variant {:?}: {m}", preset.source, u.name))?;
    }
    check_engine(preset, data)
}

/// What the data set clamps: a `train_subset` or `test_subset` larger than its split trains
/// (or tests) on the whole split, which the record cannot say (it keeps the preset's number):
/// one sentence per distinct clamp, for the run's first lines.
pub fn subset_notes(preset: &Preset, data: &Dataset) -> Vec<String> {
    let (train, test) = (data.train.len(), data.test.len());
    let mut notes = std::collections::BTreeSet::new();
    for u in &preset.units {
        if let Some(n) = u.train_subset.filter(|n| *n > train) {
            notes.insert(format!(
                "train_subset {n} is more than the {train} training images: all {train} are used"
            ));
        }
        if let Some(n) = u.test_subset.filter(|n| *n > test) {
            notes.insert(format!(
                "test_subset {n} is more than the {test} test images: all {test} are used"
            ));
        }
    }
    notes.into_iter().collect()
}

/// Refuses, before anything trains, a dfdx run with a unit dfdx cannot train (an architecture
/// outside its menu, data that is not 784 × 10), naming the first and the reason.
pub fn check_engine(preset: &Preset, data: &Dataset) -> Result<()> {
    if preset.engine != crate::spec::Engine::Dfdx {
        return Ok(());
    }
    for u in &preset.units {
        if let Some(why) = engine::train::dfdx_refusal(&u.arch, data.io()) {
            anyhow::bail!(
                "{}: variant {:?} cannot train on dfdx: {why}",
                preset.source,
                u.name
            );
        }
    }
    Ok(())
}

pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .unwrap_or_else(data::default_dir)
}

pub fn load_data(flag: Option<&Path>) -> Result<Arc<Dataset>> {
    let dir = data_dir(flag);
    let data = data::load_dir(&dir).context("loading the data set")?;
    Ok(Arc::new(data))
}

/// The preset as it trains on the data set `id`: the study's reference numbers are of
/// MNIST, so on any other data set they are dropped (not shown beside other numbers).
pub fn for_data(preset: &mut Preset, id: &data::DataIdentity) {
    if !id.is_mnist() {
        for u in &mut preset.units {
            u.reference = None;
        }
    }
}

/// A run stopped by a signal: `main` exits with 128 + the signal number.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by signal {0}")]
pub struct Interrupted(pub i32);

/// A run opened for writing: what to train, what to skip, and the Recorder that keeps it.
pub struct Session {
    pub preset: Preset,
    /// Units already done (a resumed run).
    pub skip: Vec<usize>,
    pub recorder: Arc<Mutex<Recorder>>,
    /// `(k, n)`: this process trains shard k of n of each round.
    shard: Option<(usize, usize)>,
}

/// What follows when this process has trained its units of a round (`seeds: Until`).
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Units to train: a new round (what it is, in words), or units of this round that no
    /// writer is training (None).
    Train(Option<String>),
    /// Other writers are still training this many units of the round.
    Wait(usize),
    /// No more rounds; why, when seeds are added until decided.
    Done(Option<String>),
}

impl Session {
    /// A fresh run folder under `root`.
    pub fn create(preset: Preset, data: &Dataset, root: &Path) -> Result<Session> {
        let dir = runs::create_run_dir(root, &preset.name)?;
        Session::join(preset, data, &dir)
    }

    /// Joins the run folder `dir` as one more writer, creating it (and its manifest) when it
    /// does not exist yet. Refused when the folder holds a different run. Units other writers
    /// finished are skipped, and so are those they are training (each unit is claimed under
    /// its lock just before it starts).
    pub fn join(mut preset: Preset, data: &Dataset, dir: &Path) -> Result<Session> {
        runs::check_folder(dir, "run folder")?;
        let identity = data.identity();
        for_data(&mut preset, &identity);
        let mut ours = RunRecord::new(
            &preset,
            Environment::detect(&data.dir.display().to_string())
                .with_kernels(crate::fast::wide::kernels_in_use()),
        );
        ours.set_data(identity);
        runs::refuse_export(dir)?;
        if dir.join(runs::RUN_FILE).exists() {
            let theirs = runs::load_run_file(dir)?;
            runs::units::check_same_run(dir, &theirs, &ours)?;
            if theirs.layout.is_none() {
                runs::units::migrate(dir, &theirs)?;
            }
        } else if !runs::units::create_manifest(dir, &ours)? {
            // Another writer created it a moment ago.
            runs::units::check_same_run(dir, &runs::load_run_file(dir)?, &ours)?;
        }
        Session::open_shared(dir, preset)
    }

    fn open_shared(dir: &Path, mut preset: Preset) -> Result<Session> {
        let writer = runs::units::WriterLock::take(dir)?;
        let record = runs::load(dir)?;
        // Rounds of `seeds: Until` other writers added: train from the grown manifest.
        if record.units.len() > preset.units.len() {
            preset.units = record.units.iter().map(|v| v.spec.clone()).collect();
        }
        let skip = record.done_indices();
        let recorder = Recorder::new(record, dir.to_path_buf(), writer);
        Ok(Session::with(preset, skip, recorder))
    }

    /// Trains only shard `k` of `n`: units k, k+n, k+2n, ... (the others are left to other
    /// processes, e.g. the other tasks of a Slurm job array).
    pub fn restrict_to_shard(&mut self, k: usize, n: usize) {
        let units = self.preset.units.len();
        self.skip.extend((0..units).filter(|i| i % n != k));
        self.skip.sort_unstable();
        self.skip.dedup();
        self.shard = Some((k, n));
    }

    /// After this process's units of a round: with `seeds: Until`, the next round is added
    /// once every unit has ended (by whichever writer gets there first; see
    /// `runs::units::grow_manifest`), and this session takes its share of it; units of the
    /// round nobody is training (a writer died, or has not reached them) are taken too.
    pub fn next_round(&mut self) -> Result<Next> {
        use crate::insight::rounds;
        use runs::units::Growth;
        let Some(until) = self.preset.until else {
            return Ok(Next::Done(None));
        };
        // Why no round follows, kept from the one decision the round was made from.
        let mut decided = None;
        let mut round = |r: &RunRecord| {
            let decision = rounds::decide(r, &until);
            let grown = rounds::grow(r, &decision);
            if let rounds::Decision::Decided(why) = decision {
                decided = Some(why);
            }
            grown
        };
        let growth = match self.dir() {
            Some(dir) => runs::units::grow_manifest(&dir, round)?,
            None => {
                let record = self.record();
                if !rounds::round_ended(&record) {
                    Growth::Pending(record)
                } else {
                    match round(&record) {
                        Some(grown) => Growth::Grown(grown),
                        None => Growth::Unchanged(record),
                    }
                }
            }
        };
        match growth {
            Growth::Pending(record) => {
                let open = rounds::claimable(&record);
                if open.is_empty() {
                    let running = record.units.iter().filter(|v| !v.status.is_done()).count();
                    return Ok(Next::Wait(running));
                }
                self.take_units(&record, &open);
                Ok(Next::Train(None))
            }
            Growth::Grown(record) => {
                let first = record.rounds.last().map_or(0, |r| r.first_unit);
                let ours: Vec<usize> = (first..record.units.len())
                    .filter(|i| self.shard.is_none_or(|(k, n)| i % n == k))
                    .collect();
                self.take_units(&record, &ours);
                let text = record.rounds.last().map(|r| round_text(&record, r));
                Ok(Next::Train(text))
            }
            Growth::Unchanged(_) => Ok(Next::Done(decided)),
        }
    }

    /// Trains `units` of `record` next (every other unit is skipped).
    fn take_units(&mut self, record: &RunRecord, units: &[usize]) {
        self.preset.units = record.units.iter().map(|v| v.spec.clone()).collect();
        self.skip = (0..record.units.len())
            .filter(|i| !units.contains(i))
            .collect();
        self.lock().adopt(record);
    }

    /// How many units this session may still train (not done, not another shard's).
    pub fn units_left(&self) -> usize {
        self.preset.units.len() - self.skip.len()
    }

    /// Like `create`, but when the runs folder cannot be written the run still trains, kept
    /// in memory and rescued at the end; the second value says why (the TUI's choice).
    pub fn create_or_in_memory(
        mut preset: Preset,
        data: &Dataset,
        root: &Path,
    ) -> (Session, Option<String>) {
        for_data(&mut preset, &data.identity());
        match Session::create(preset.clone(), data, root) {
            Ok(s) => (s, None),
            Err(e) => {
                let reason = format!("{e:#}");
                let mut record = RunRecord::new(
                    &preset,
                    Environment::detect(&data.dir.display().to_string())
                        .with_kernels(crate::fast::wide::kernels_in_use()),
                );
                record.set_data(data.identity());
                let recorder = Recorder::without_folder(record, reason.clone());
                (Session::with(preset, Vec::new(), recorder), Some(reason))
            }
        }
    }

    /// An interrupted run, to finish into the same folder: the same as joining it with the
    /// preset it was made from. A single-file run of an older mnist-lab is rewritten as a
    /// shared folder first.
    pub fn resume(dir: &Path, data: &Dataset) -> Result<Session> {
        runs::refuse_export(dir)?;
        let record = runs::load_run_file(dir)?;
        if let Some(theirs) = &record.data {
            let ours = data.identity();
            anyhow::ensure!(
                *theirs == ours,
                "{}: this run was trained on other data ({theirs}; {} is {ours}); resume it \
                 with the same --data",
                dir.display(),
                data.dir.display()
            );
        }
        if record.layout.is_none() {
            runs::units::migrate(dir, &record)?;
        }
        let preset = runs::history::preset_of(&record);
        Session::open_shared(dir, preset)
    }

    fn with(preset: Preset, skip: Vec<usize>, recorder: Recorder) -> Session {
        Session {
            preset,
            skip,
            recorder: Arc::new(Mutex::new(recorder)),
            shard: None,
        }
    }

    pub fn dir(&self) -> Option<PathBuf> {
        self.lock().dir().map(Path::to_path_buf)
    }

    pub fn record(&self) -> RunRecord {
        self.lock().record().clone()
    }

    /// The Recorder, even if a panic poisoned its lock (its record is still the best we have).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts training on the engine thread, with the Recorder as its sink.
    /// The engine this run trains on (the preset's, or the run's on resume).
    pub fn engine(&self) -> crate::spec::Engine {
        self.preset.engine
    }

    /// The kernel the engines run: the run's engine.
    pub fn kernel(&self) -> engine::Kernel {
        self.preset.engine.into()
    }

    pub fn spawn(&self, data: Arc<Dataset>, kernel: engine::Kernel) -> EngineHandle {
        self.spawn_jobs(data, kernel, 1, false)
            .pop()
            .expect("one engine was asked for")
    }

    /// Starts `jobs` engines that share the Recorder, each with its share of the cores; they
    /// take the units in turn (each claims a unit before training it); with `lockstep`, units
    /// that share their batches train together (`engine::lockstep`).
    pub fn spawn_jobs(
        &self,
        data: Arc<Dataset>,
        kernel: engine::Kernel,
        jobs: usize,
        lockstep: bool,
    ) -> Vec<EngineHandle> {
        let jobs = jobs.max(1);
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let threads = (jobs > 1).then(|| (cores / jobs).max(1));
        (0..jobs)
            .map(|_| {
                let sink: SharedSink = self.recorder.clone();
                engine::spawn(
                    self.preset.clone(),
                    data.clone(),
                    EngineOptions {
                        skip: self.skip.clone(),
                        sink: Some(sink),
                        kernel,
                        threads,
                        lockstep,
                        engines: jobs,
                        ..Default::default()
                    },
                )
            })
            .collect()
    }

    /// Ends the run: see `Recorder::finish`.
    pub fn finish(&self, interrupted: bool) -> Saved {
        self.lock().finish(interrupted)
    }
}

/// "round 2: 3 variants to 6 seeds (undecided against the best …)"
pub fn round_text(record: &RunRecord, round: &runs::record::Round) -> String {
    format!(
        "round {}: {} variant{} to {} seeds ({})",
        record.rounds.len() + 1,
        round.variants.len(),
        if round.variants.len() == 1 { "" } else { "s" },
        round.seeds,
        round.why
    )
}
