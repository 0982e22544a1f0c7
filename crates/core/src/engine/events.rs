//! The only vocabulary between the engine and its consumers (TUI, headless runner, recorder).

use serde::{Deserialize, Serialize};

use crate::spec::{EpochMetrics, FailKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    RunStarted {
        preset: String,
        variants: usize,
    },
    // Named for a unit (one variant trained with one seed); older writers' JSON said
    // `VariantStarted`.
    #[serde(alias = "VariantStarted")]
    UnitStarted {
        index: usize,
        name: String,
        epochs: usize,
        batches_per_epoch: usize,
    },
    /// Throttled batch progress inside an epoch.
    Progress {
        index: usize,
        /// 1-based epoch in progress.
        epoch: usize,
        batch: usize,
        batches: usize,
        /// Mean training loss of the batches so far in this epoch.
        running_loss: f32,
        /// Loss of the latest batch.
        batch_loss: f32,
        /// The loss of every batch since the previous progress event of this unit, in order
        /// (its last is `batch_loss`): events are throttled, batches are not skipped.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        batch_losses: Vec<f32>,
        samples_per_sec: f32,
    },
    EpochEnd {
        index: usize,
        metrics: EpochMetrics,
    },
    // Named for a unit (one variant trained with one seed); older writers' JSON said
    // `VariantFinished`.
    #[serde(alias = "VariantFinished")]
    UnitFinished {
        index: usize,
        seconds: f32,
        /// Where the trained weights were saved (safetensors; relative to the run folder when
        /// a run records them), if they could be.
        weights: Option<String>,
    },
    /// Something the user should know that does not stop training (e.g. weights unsaved).
    Warning {
        message: String,
    },
    // Named for a unit (one variant trained with one seed); older writers' JSON said
    // `VariantFailed`.
    #[serde(alias = "VariantFailed")]
    UnitFailed {
        index: usize,
        kind: FailKind,
        /// 1-based epoch in which it happened, when known.
        epoch: Option<usize>,
        message: String,
    },
    // Named for a unit (one variant trained with one seed); older writers' JSON said
    // `VariantSkipped`.
    #[serde(alias = "VariantSkipped")]
    UnitSkipped {
        index: usize,
    },
    /// Early stopping ended the unit after `epoch`; `best_epoch` had the lowest validation
    /// loss, and its weights are the ones kept when `restored`.
    EarlyStopped {
        index: usize,
        epoch: usize,
        best_epoch: usize,
        restored: bool,
    },
    /// `restore_best` kept epoch `epoch`'s weights though the unit trained on to its last
    /// epoch (no early stop): the unit's result is that epoch's.
    KeptEpoch {
        index: usize,
        epoch: usize,
    },
    Paused,
    Resumed,
    RunFinished {
        cancelled: bool,
    },
}

impl Event {
    /// The unit whose record this event changes (not batch progress, which is not kept).
    pub fn unit(&self) -> Option<usize> {
        match self {
            Event::UnitStarted { index, .. }
            | Event::EpochEnd { index, .. }
            | Event::UnitFinished { index, .. }
            | Event::UnitFailed { index, .. }
            | Event::UnitSkipped { index }
            | Event::EarlyStopped { index, .. }
            | Event::KeptEpoch { index, .. } => Some(*index),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    /// Stop the running variant (it is recorded as skipped) and go on with the next.
    Skip,
    /// Stop the whole run after the current batch.
    Cancel,
}
