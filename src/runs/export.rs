//! Exports of a run: run.json and the study's table as Markdown.

use std::path::Path;

use anyhow::{Context, Result};

use super::{save, write_atomic, RunRecord};
use crate::report;

/// Writes every export into `dir`; returns the file names written.
pub fn export_all(dir: &Path, record: &RunRecord) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    save(dir, record)?;
    let md = format!(
        "# {}\n\n{}\n\n{}",
        record.preset,
        record.description,
        report::markdown_table(record)
    );
    write_atomic(&dir.join("summary.md"), md.as_bytes())?;
    Ok(vec!["run.json".into(), "summary.md".into()])
}
