//! Past runs: listing the store, and the preset a recorded run was made from.

use std::path::{Path, PathBuf};

use super::{load, RunRecord};
use crate::preset::Preset;

/// A run found in the store: its folder and its record (or why it cannot be read).
#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    pub dir: PathBuf,
    pub record: Result<RunRecord, String>,
}

impl PastRun {
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default()
    }

    /// Interrupted: some variants still need training.
    pub fn resumable(&self) -> bool {
        self.record.as_ref().is_ok_and(RunRecord::resumable)
    }
}

/// Every folder under `root` holding a run.json, newest first.
pub fn list(root: &Path) -> Vec<PastRun> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(super::RUN_FILE).is_file())
        .collect();
    dirs.sort();
    dirs.reverse();
    dirs.into_iter()
        .map(|dir| PastRun {
            record: load(&dir).map_err(|e| format!("{e:#}")),
            dir,
        })
        .collect()
}

/// The preset a record was made from (specs as resolved then).
pub fn preset_of(record: &RunRecord) -> Preset {
    Preset {
        name: record.preset.clone(),
        description: record.description.clone(),
        source: record.source.clone(),
        units: record.units.iter().map(|v| v.spec.clone()).collect(),
        until: record.until,
    }
}
