//! Past runs: listing the store, and the preset a recorded run was made from.

use std::path::{Path, PathBuf};

use super::{load, RunRecord};
use crate::preset::Preset;

/// A run found in the store: its folder and its record (or why it cannot be read).
#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    pub dir: PathBuf,
    pub record: Result<RunRecord, String>,
    /// The name a user gave the run (`n` in the TUI), from its `title` file.
    pub title: Option<String>,
    /// The store holds a symbolic link at this name, not the run's folder: shown, never
    /// deleted (deleting would reach through the link).
    pub link: bool,
}

/// The file in a run folder that holds the name a user gave the run.
pub const TITLE_FILE: &str = "title";
/// Longest name a run may be given, in characters.
pub const MAX_TITLE: usize = 60;

/// The name given to the run in `dir`, if any. A name that is not valid (too long, control
/// characters, a link planted in its place) is not shown.
pub fn read_title(dir: &Path) -> Option<String> {
    let bytes = super::safe::read_inside(dir, TITLE_FILE, super::safe::limit::TITLE).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    check_title(text.trim()).ok()
}

/// A run's name as typed: trimmed, 1 to `MAX_TITLE` characters, no control characters.
pub fn check_title(text: &str) -> anyhow::Result<String> {
    let t = text.trim();
    anyhow::ensure!(!t.is_empty(), "a run's name cannot be empty");
    anyhow::ensure!(
        t.chars().count() <= MAX_TITLE,
        "a run's name has at most {MAX_TITLE} characters"
    );
    anyhow::ensure!(
        !t.chars().any(char::is_control),
        "a run's name cannot hold control characters"
    );
    Ok(t.to_string())
}

/// Names the run in `dir` (atomically: the old name stays until the new one is complete);
/// an empty name removes it.
pub fn write_title(dir: &Path, text: &str) -> anyhow::Result<Option<String>> {
    use anyhow::Context;
    super::safe::real_dir(dir)?;
    let path = dir.join(TITLE_FILE);
    if text.trim().is_empty() {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}: cannot remove", path.display())),
        }
        return Ok(None);
    }
    let title = check_title(text)?;
    super::write_atomic(&path, format!("{title}\n").as_bytes())?;
    Ok(Some(title))
}

/// Deletes the run folder `dir` of the store `root`: only a real folder directly inside the
/// store that holds a run (a link is removed as a link, never followed).
pub fn delete_run(root: &Path, dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    anyhow::ensure!(
        dir.parent() == Some(root),
        "{}: is not a run of {}",
        dir.display(),
        root.display()
    );
    let meta = std::fs::symlink_metadata(dir)
        .with_context(|| format!("{}: cannot read", dir.display()))?;
    anyhow::ensure!(
        meta.is_dir() && dir.join(super::RUN_FILE).is_file(),
        "{}: is not a run folder",
        dir.display()
    );
    std::fs::remove_dir_all(dir).with_context(|| format!("{}: cannot delete", dir.display()))
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
            link: std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()),
            record: load(&dir).map_err(|e| format!("{e:#}")),
            title: read_title(&dir),
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
        engine: record.engine,
        test: record.test,
        margin: record.margin,
        overrides: record.overrides.clone(),
    }
}
