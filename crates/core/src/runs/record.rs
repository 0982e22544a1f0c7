//! What `run.json` holds, and how engine events fold into it.

use serde::{Deserialize, Serialize};

use crate::preset::Preset;
pub use crate::spec::UnitStatus;
use crate::spec::{EpochMetrics, FailKind, UnitSpec};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailKind,
    pub epoch: Option<usize>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub spec: UnitSpec,
    pub status: UnitStatus,
    pub history: Vec<EpochMetrics>,
    #[serde(default)]
    pub failure: Option<Failure>,
    #[serde(default)]
    pub seconds: Option<f32>,
    /// Where the trained weights (safetensors) are, relative to the run folder, when saved.
    #[serde(default)]
    pub weights: Option<String>,
    /// Set when early stopping ended the unit before its last epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<EarlyStop>,
    /// The epoch whose weights `restore_best` kept when the unit trained to its last epoch
    /// (an early stop records its own in `early_stop`); None: the last epoch's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_epoch: Option<usize>,
    /// Its per-batch training losses, downsampled to at most 1,000 points.
    #[serde(default, skip_serializing_if = "super::batches::BatchCurve::is_empty")]
    pub batches: super::batches::BatchCurve,
}

/// Where early stopping ended a unit, and which epoch's weights were kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyStop {
    /// The last epoch trained.
    pub epoch: usize,
    /// The epoch with the lowest validation loss.
    pub best_epoch: usize,
    /// The weights kept are the best epoch's.
    pub restored: bool,
}

impl UnitRecord {
    /// A unit not started yet.
    pub fn queued(spec: UnitSpec) -> Self {
        UnitRecord {
            spec,
            status: UnitStatus::Queued,
            history: Vec::new(),
            failure: None,
            seconds: None,
            weights: None,
            early_stop: None,
            kept_epoch: None,
            batches: Default::default(),
        }
    }

    pub fn last(&self) -> Option<&EpochMetrics> {
        self.history.last()
    }

    /// The unit's result: the metrics of the epoch whose weights it keeps (the restored best
    /// epoch with `restore_best`, stopped early or not; else the last). Every table, test,
    /// export and view reads a unit's result here; `last` is only for "where training is".
    pub fn final_metrics(&self) -> Option<&EpochMetrics> {
        if let Some(e) = self.kept_epoch {
            return self
                .history
                .iter()
                .find(|m| m.epoch == e)
                .or(self.history.last());
        }
        match self.early_stop {
            Some(EarlyStop {
                restored: true,
                best_epoch,
                ..
            }) => self
                .history
                .iter()
                .find(|m| m.epoch == best_epoch)
                .or(self.history.last()),
            _ => self.history.last(),
        }
    }

    /// Checks what a run folder says of this unit before anything uses it (a run folder is
    /// input like any other): the spec obeys a preset's rules, every number is finite and in
    /// range (a number beyond f32 reads as infinity), epochs count up from 1 within the
    /// spec's, and the weights path is a plain name inside the folder.
    pub fn check(&self) -> Result<(), String> {
        crate::preset::validate(&self.spec).map_err(|m| format!("{:?}: {m}", self.spec.name))?;
        let unit = &self.spec.name;
        let loss = |what: &str, x: f32, epoch: usize| {
            if x.is_finite() && x >= 0.0 {
                Ok(())
            } else if x.is_infinite() {
                // A number past f32's range (3.5e38) reads as infinity: say both.
                Err(format!(
                    "{unit:?} epoch {epoch}: {what} is infinite or beyond ±3.4e38, the largest \
                     number a 32-bit float holds"
                ))
            } else {
                Err(format!(
                    "{unit:?} epoch {epoch}: {what} {x} is not a finite number >= 0"
                ))
            }
        };
        let share = |what: &str, x: f32, epoch: usize| {
            if x.is_finite() && (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(format!(
                    "{unit:?} epoch {epoch}: {what} {x} is not in [0, 1]"
                ))
            }
        };
        self.batches.check().map_err(|m| format!("{unit:?}: {m}"))?;
        for (k, m) in self.history.iter().enumerate() {
            let e = m.epoch;
            if e != k + 1 || e > self.spec.epochs {
                return Err(format!(
                    "{unit:?}: epoch {e} is recorded {}; epochs count 1..={} in order",
                    k + 1,
                    self.spec.epochs
                ));
            }
            loss("train loss", m.train_loss, e)?;
            loss("test loss", m.test_loss, e)?;
            share("train accuracy", m.train_acc, e)?;
            share("test accuracy", m.test_acc, e)?;
            loss("seconds", m.seconds, e)?;
            loss("images per second", m.samples_per_sec, e)?;
            if let Some(x) = m.val_loss {
                loss("validation loss", x, e)?;
            }
            if let Some(x) = m.val_acc {
                share("validation accuracy", x, e)?;
            }
            if let Some(x) = m.lr {
                loss("learning rate", x, e)?;
            }
        }
        if let Some(x) = self.seconds {
            loss("seconds", x, self.history.len())?;
        }
        if let Some(w) = &self.weights {
            crate::runs::safe::check_relative(w)
                .map_err(|e| format!("{unit:?}: weights: {e:#}"))?;
        }
        if let Some(e) = self.kept_epoch {
            if e == 0 || e > self.history.len() {
                return Err(format!("{unit:?}: kept epoch {e} was not trained"));
            }
        }
        if let Some(es) = self.early_stop {
            if es.best_epoch == 0 || es.best_epoch > es.epoch || es.epoch > self.spec.epochs {
                return Err(format!(
                    "{unit:?}: early stop at epoch {} keeping epoch {} is not possible",
                    es.epoch, es.best_epoch
                ));
            }
        }
        Ok(())
    }

    /// The epoch with the lowest validation loss (the test loss where the test set is
    /// monitored): what the best-epoch marker and best-epoch statistics use.
    pub fn best_validation_epoch(&self) -> Option<&EpochMetrics> {
        self.history
            .iter()
            .filter(|m| m.monitored_loss().is_finite())
            .min_by(|a, b| a.monitored_loss().total_cmp(&b.monitored_loss()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub crate_version: String,
    pub git_revision: Option<String>,
    pub cpu_model: Option<String>,
    pub threads: usize,
    pub data_dir: String,
    /// The widest vector kernels the run trained with ("AVX-512", "AVX2+FMA"); empty in runs
    /// recorded before it was kept. They give the same bits (`.ci/isa-bits`).
    #[serde(default)]
    pub kernels: String,
}

impl Environment {
    pub fn detect(data_dir: &str) -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        });
        let git_revision = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        Environment {
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            git_revision,
            cpu_model,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            data_dir: data_dir.to_string(),
            kernels: String::new(),
        }
    }

    /// The same, naming the vector kernels the run trains with (`fast::wide::kernels_in_use`,
    /// which the trainer, not the store, knows).
    pub fn with_kernels(mut self, kernels: &str) -> Self {
        self.kernels = kernels.to_string();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub preset: String,
    pub description: String,
    pub source: String,
    /// Unix seconds when the run began.
    pub created: u64,
    pub environment: Environment,
    /// Every unit (a variant trained with one seed), in training order. Runs recorded before
    /// this name called them `variants`.
    #[serde(alias = "variants")]
    pub units: Vec<UnitRecord>,
    /// True once the engine reported the end of the run (finished or cancelled); in a
    /// shared folder, derived on loading: every unit has ended.
    pub complete: bool,
    /// `Some(2)` for the manifest of a folder many writers share (`units/`); None for a
    /// single-file run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<u32>,
    /// What the run trained on (a hash of the IDX contents); None in runs recorded before it
    /// was kept, which cannot be compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<crate::data::DataIdentity>,
    /// `seeds: Until(…)`: seeds are added in rounds until decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<crate::preset::Until>,
    /// What trained the run; runs recorded before the choice existed read as the fast path.
    #[serde(default)]
    pub engine: crate::spec::Engine,
    /// The test its verdicts rest on (`test:` in the preset); older runs: the t-test.
    #[serde(default, skip_serializing_if = "is_t")]
    pub test: crate::spec::DecisionTest,
    /// The equivalence margin (`margin:` in the preset); None: no equivalence tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// The command-line overrides the run was started with, as given (`--arch 1000-300`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// The record's format (`RECORD_FORMAT`); None in runs recorded before it was kept. From
    /// format 3 on, a manifest must name its data set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<u32>,
    /// The rounds added after the first (each appended its units to `units`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<Round>,
}

/// A variant: the units that differ only by seed (one unit when it has one seed), by their
/// indices in `RunRecord::units`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant<'r> {
    pub name: &'r str,
    pub units: Vec<usize>,
}

/// The format of run records this mnist-lab writes: 3 records it (and requires a manifest's
/// data identity); records without it are older and read as before.
pub const RECORD_FORMAT: u32 = 3;

/// The longest reason a round may record, in characters.
pub const MAX_ROUND_WHY: usize = 500_000;

/// A round of seeds added by `seeds: Until(…)`: its units are `units[first_unit..]` up
/// to the next round's first unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Index of the round's first unit in `units`.
    pub first_unit: usize,
    /// Seeds each variant it extends has after it.
    pub seeds: usize,
    /// The variants it extends.
    pub variants: Vec<String>,
    /// Why, in words (the comparisons still undecided).
    pub why: String,
}

impl RunRecord {
    /// A number that changes whenever what the views derive from the run does: a unit's
    /// status, its epochs, or its kept result. Views cache their analyses under it.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.units.len().hash(&mut h);
        for u in &self.units {
            (u.status as u8).hash(&mut h);
            u.history.len().hash(&mut h);
            u.final_metrics()
                .map(|m| m.test_loss.to_bits())
                .hash(&mut h);
        }
        h.finish()
    }

    pub fn new(preset: &Preset, environment: Environment) -> Self {
        RunRecord {
            preset: preset.name.clone(),
            description: preset.description.clone(),
            source: preset.source.clone(),
            created: super::now_unix(),
            environment,
            units: preset
                .units
                .iter()
                .map(|spec| UnitRecord::queued(spec.clone()))
                .collect(),
            complete: false,
            layout: None,
            data: None,
            until: preset.until,
            engine: preset.engine,
            test: preset.test,
            margin: preset.margin,
            overrides: preset.overrides.clone(),
            format: None,
            rounds: Vec::new(),
        }
    }

    /// Records the data set the run trains on, and so the current format (which requires
    /// it of a manifest).
    pub fn set_data(&mut self, identity: crate::data::DataIdentity) {
        self.data = Some(identity);
        self.format = Some(RECORD_FORMAT);
    }

    /// Takes in the units a new round appended to `grown` (this run with more units), queued,
    /// and its rounds; the units already here keep what this record knows of them.
    pub fn adopt_round(&mut self, grown: &RunRecord) {
        let have = self.units.len();
        self.units.extend(grown.units.iter().skip(have).cloned());
        self.rounds = grown.rounds.clone();
        self.complete = false;
    }

    /// The run's variants, in the order of their first units.
    pub fn variants(&self) -> Vec<Variant<'_>> {
        let mut out: Vec<Variant> = Vec::new();
        for (i, u) in self.units.iter().enumerate() {
            let name = u.spec.variant_name();
            match out.iter_mut().find(|v| v.name == name) {
                Some(v) => v.units.push(i),
                None => out.push(Variant {
                    name,
                    units: vec![i],
                }),
            }
        }
        out
    }

    /// The round the run is in (1 before any was added).
    pub fn round(&self) -> usize {
        self.rounds.len() + 1
    }

    /// Checks every unit (see `UnitRecord::check`), naming the first that fails.
    pub fn check(&self) -> Result<(), String> {
        for (i, v) in self.units.iter().enumerate() {
            v.check().map_err(|m| format!("unit {i}: {m}"))?;
        }
        if let Some(m) = self.margin {
            if !(m.is_finite() && m > 0.0) {
                return Err(format!("margin {m} is not a positive, finite number"));
            }
        }
        match self.format {
            Some(f) if f > RECORD_FORMAT => {
                return Err(format!(
                    "record format {f} is from a newer mnist-lab (this one reads up to \
                     {RECORD_FORMAT})"
                ))
            }
            // Older manifests may lack it; a current one without it was edited, and without
            // it no joiner could check its data.
            Some(_) if self.layout.is_some() && self.data.is_none() => {
                return Err(
                    "the manifest does not name the data set it trains on (its `data` field \
                     is missing); a run of this format always records it"
                        .into(),
                )
            }
            _ => {}
        }
        let variants = self.variants();
        if let Some(u) = &self.until {
            // As the preset was checked: max seeds for every variant of the run.
            u.check(variants.len()).map_err(|m| format!("until: {m}"))?;
        }
        let mut from = 0;
        for (k, r) in self.rounds.iter().enumerate() {
            if r.first_unit <= from || r.first_unit >= self.units.len() {
                return Err(format!(
                    "round {} starts at unit {}, outside the units it can hold",
                    k + 2,
                    r.first_unit
                ));
            }
            from = r.first_unit;
        }
        if !self.rounds.is_empty() && self.until.is_none() {
            return Err("rounds are recorded without seeds Until(…)".into());
        }
        self.check_rounds()
    }

    /// Each round as `grow` writes it: seeds within `until`, variants of this run, its units
    /// of those variants only, no variant past the round's seeds, a reason in plain words.
    fn check_rounds(&self) -> Result<(), String> {
        let Some(until) = &self.until else {
            return Ok(());
        };
        for (k, r) in self.rounds.iter().enumerate() {
            let bad = |why: String| Err(format!("round {}: {why}", k + 2));
            if r.seeds < until.min || r.seeds > until.max {
                return bad(format!(
                    "{} seeds, outside Until's {}..={}",
                    r.seeds, until.min, until.max
                ));
            }
            if r.variants.is_empty() {
                return bad("extends no variant".into());
            }
            for (i, name) in r.variants.iter().enumerate() {
                if r.variants[..i].contains(name) {
                    return bad(format!("names {name:?} twice"));
                }
                if !self.units[..r.first_unit]
                    .iter()
                    .any(|u| u.spec.variant_name() == name)
                {
                    return bad(format!("extends {name:?}, which is no variant of the run"));
                }
            }
            if r.why.chars().count() > MAX_ROUND_WHY || r.why.chars().any(char::is_control) {
                return bad(format!(
                    "its reason is not one line of at most {MAX_ROUND_WHY} characters"
                ));
            }
            let end = self
                .rounds
                .get(k + 1)
                .map_or(self.units.len(), |next| next.first_unit);
            for (i, u) in self.units[r.first_unit..end].iter().enumerate() {
                let name = u.spec.variant_name();
                if !r.variants.iter().any(|v| v == name) {
                    return bad(format!(
                        "unit {} is of {name:?}, which the round does not extend",
                        r.first_unit + i
                    ));
                }
            }
            for name in &r.variants {
                let seeds = self.units[..end]
                    .iter()
                    .filter(|u| u.spec.variant_name() == name)
                    .count();
                if seeds > r.seeds {
                    return bad(format!(
                        "{name:?} has {seeds} seeds after it, more than its {}",
                        r.seeds
                    ));
                }
            }
        }
        Ok(())
    }

    /// A variant still running when the run stops is recorded as interrupted.
    pub fn mark_interrupted(&mut self) {
        for v in &mut self.units {
            if v.status == UnitStatus::Running {
                v.status = UnitStatus::Interrupted;
            }
        }
    }

    /// Interrupted: some variants still need training (`--resume` would train them).
    pub fn resumable(&self) -> bool {
        self.units.iter().any(|v| {
            matches!(
                v.status,
                UnitStatus::Queued | UnitStatus::Running | UnitStatus::Interrupted
            )
        })
    }

    /// Indices of variants that need no more training (for `--resume`).
    pub fn done_indices(&self) -> Vec<usize> {
        self.units
            .iter()
            .enumerate()
            .filter(|(_, v)| v.status.is_done())
            .map(|(i, _)| i)
            .collect()
    }

    pub fn count(&self, status: UnitStatus) -> usize {
        self.units.iter().filter(|v| v.status == status).count()
    }

    /// Best final test accuracy among finished variants.
    pub fn best_accuracy(&self) -> Option<f32> {
        self.units
            .iter()
            .filter(|v| v.status == UnitStatus::Finished)
            .filter_map(|v| v.final_metrics().map(|m| m.test_acc))
            .fold(None, |best, a| Some(best.map_or(a, |b: f32| b.max(a))))
    }
}

fn is_t(t: &crate::spec::DecisionTest) -> bool {
    *t == crate::spec::DecisionTest::T
}
