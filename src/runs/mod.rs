//! The run store: one folder per preset run, `run.json` rewritten atomically as variants end.

pub mod export;
pub mod history;
pub mod plot;
pub mod record;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use record::{RunRecord, VariantRecord, VariantStatus};

pub const DEFAULT_RUNS_DIR: &str = "runs";
pub const RUN_FILE: &str = "run.json";

/// Turns a user-given name into a safe single path component: letters, digits, '-', '_', '.'
/// kept, everything else (slashes, NUL, control characters, spaces) becomes '_', and no
/// leading dots, so `../../x` cannot leave the runs folder.
pub fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while s.starts_with('.') {
        s.remove(0);
    }
    s.truncate(80);
    if s.is_empty() {
        s.push_str("unnamed");
    }
    s
}

/// `yyyymmdd-hhmmss` in UTC for a Unix time.
pub fn timestamp(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let secs = unix_secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Creates a fresh `runs/<timestamp>-<preset>/` (suffixed if it already exists).
pub fn create_run_dir(root: &Path, preset: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(root)
        .with_context(|| format!("{}: cannot create the runs folder", root.display()))?;
    let base = format!("{}-{}", timestamp(now_unix()), sanitize(preset));
    for n in 0..1000 {
        let name = if n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dir = root.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("{}: cannot create run folder", dir.display()))
            }
        }
    }
    anyhow::bail!(
        "{}: too many runs with the same name and second",
        root.display()
    )
}

/// Writes `bytes` to `path` atomically: temporary file in the same folder, fsync, rename.
/// A failure at any point leaves the previous file untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// `write_atomic` with the writing done by `write` (tests inject failures through it).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        write(&mut f).with_context(|| format!("{}: cannot write", tmp.display()))?;
        f.sync_all()
            .with_context(|| format!("{}: cannot sync", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("{}: cannot replace", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub fn save(dir: &Path, record: &RunRecord) -> Result<()> {
    let json = serde_json::to_vec_pretty(record).context("serialising run.json")?;
    write_atomic(&dir.join(RUN_FILE), &json)
}

pub fn load(dir: &Path) -> Result<RunRecord> {
    let path = dir.join(RUN_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a valid run file", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_names_inside_the_folder() {
        assert_eq!(sanitize("../../x"), "_.._x");
        assert_eq!(sanitize("a/b\0c\nd"), "a_b_c_d");
        assert_eq!(sanitize(""), "unnamed");
        assert_eq!(sanitize("..."), "unnamed");
        assert_eq!(sanitize("2L adam every"), "2L_adam_every");
    }

    #[test]
    fn timestamp_formats_utc() {
        assert_eq!(timestamp(0), "19700101-000000");
        // 2026-11-27 06:09:44 UTC
        assert_eq!(timestamp(1_795_759_784), "20261127-060944");
    }
}
