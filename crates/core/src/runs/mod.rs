//! The run store: one folder per preset run. A run folder is shared by its writers
//! (`units`: a manifest written once, a file per unit written after every epoch); a rescue
//! folder, and runs of older versions, are one `run.json` holding everything.

pub mod batches;
pub mod history;
pub mod lock;
pub mod merge;
pub mod record;
pub mod safe;
pub mod units;
pub mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use lock::RunLock;
pub use record::{RunRecord, UnitRecord, UnitStatus};

pub const DEFAULT_RUNS_DIR: &str = "runs";
pub const RUN_FILE: &str = "run.json";
/// The folder of a run's weights files.
pub const WEIGHTS_DIR: &str = "weights";
/// Where runs that cannot be saved in place go (default: the system's temporary folder).
pub const RESCUE_ENV: &str = "MNIST_LAB_RESCUE_DIR";

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
    check_folder(root, "runs folder")?;
    std::fs::create_dir_all(root)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the runs folder: {e}", root.display()))?;
    create_unique_dir(
        root,
        &format!("{}-{}", timestamp(now_unix()), sanitize(preset)),
    )
}

/// Says clearly when `path` exists but cannot be a folder (a file, a dangling symbolic link,
/// a symbolic link loop); a missing path is fine (it will be created).
pub fn check_folder(path: &Path, what: &str) -> Result<()> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => anyhow::bail!("{shown}: the {what} is a file, not a folder"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match std::fs::symlink_metadata(path) {
                Ok(_) => anyhow::bail!(
                    "{shown}: the {what} is a symbolic link to something that does not exist"
                ),
                Err(_) => Ok(()),
            }
        }
        Err(e) => anyhow::bail!("{shown}: cannot use the {what}: {e}"),
    }
}

/// Creates `root/base`, or `root/base-1`, `-2`, ... if taken (atomic: two processes never get
/// the same folder).
pub fn create_unique_dir(root: &Path, base: &str) -> Result<PathBuf> {
    for n in 0..1000 {
        let name = if n == 0 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        let dir = root.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => anyhow::bail!("{}: cannot create the folder: {e}", dir.display()),
        }
    }
    anyhow::bail!("{}: too many folders named {base}", root.display())
}

/// A new rescue folder for a run that cannot be saved in place; unique, like run folders.
pub fn create_rescue_dir(run_name: &str) -> Result<PathBuf> {
    let root = std::env::var_os(RESCUE_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    create_unique_dir(&root, &format!("mnist-lab-rescue-{}", sanitize(run_name)))
}

/// The rescue folder every writer of the run in `run_dir` shares (created when missing): its
/// name comes from the run folder's absolute path and the run's creation time, so writers of
/// one run meet there and other runs never do. A link planted at its name is refused.
pub fn shared_rescue_dir(run_dir: &Path, record: &RunRecord) -> Result<PathBuf> {
    use sha2::Digest;
    let root = std::env::var_os(RESCUE_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let absolute = std::path::absolute(run_dir).unwrap_or_else(|_| run_dir.to_path_buf());
    let mut h = sha2::Sha256::new();
    h.update(absolute.as_os_str().as_encoded_bytes());
    h.update(record.created.to_le_bytes());
    let hex: String = h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = run_dir
        .file_name()
        .map(|n| sanitize(&n.to_string_lossy()))
        .unwrap_or_else(|| sanitize(&record.preset));
    std::fs::create_dir_all(&root).with_context(|| {
        format!(
            "{}: cannot create the rescue folder's parent",
            root.display()
        )
    })?;
    let dir = root.join(format!("mnist-lab-rescue-{name}-{hex}"));
    safe::real_dir(&dir)?;
    Ok(dir)
}

/// The file that marks a folder as an export's: the run it copies, and the SHA-256 of the
/// `run.json` the export wrote, so a run put in its place (or a marker planted in a run) is
/// told apart from the export.
pub const EXPORT_MARK: &str = "EXPORTED-BY-MNIST-LAB";

/// The marker's line naming the run.json an export wrote.
const MARK_DIGEST: &str = "run.json sha256 ";

/// The hex SHA-256 of a run.json's bytes, as the marker records it.
fn run_json_digest(run_json: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(run_json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The marker's text for an export of `preset` whose `run.json` is `run_json`.
pub fn export_mark_text(preset: &str, run_json: &[u8]) -> String {
    format!(
        "This folder is an export of {preset}; it is not a run to train into.\n{MARK_DIGEST}{}\n",
        run_json_digest(run_json)
    )
}

/// What a folder is, for an export about to write into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderKind {
    /// Missing or empty.
    Empty,
    /// An earlier export, as it wrote it (its `run.json`, if any, is the one it wrote).
    Export,
    /// A run: unit files, writers, or a `run.json` no export wrote (whatever marker it has).
    Run(String),
    /// Files no export wrote, and no run.
    Foreign,
}

/// Tells an export's folder from a run's: a folder with `units/` or `writers/`, or whose
/// `run.json` is not the one its marker names, holds a run, whatever marker it has.
pub fn folder_kind(dir: &Path) -> FolderKind {
    let there = |name: &str| std::fs::symlink_metadata(dir.join(name)).is_ok();
    for sub in [units::UNITS_DIR, units::WRITERS_DIR] {
        if there(sub) {
            return FolderKind::Run(format!("it has {sub}/"));
        }
    }
    let mark = safe::read_text_bounded(&dir.join(EXPORT_MARK), safe::limit::TITLE).ok();
    if there(RUN_FILE) {
        let Some(mark) = mark else {
            return FolderKind::Run(format!("it has a {RUN_FILE} and no {EXPORT_MARK}"));
        };
        let ours = safe::read_bounded(&dir.join(RUN_FILE), safe::limit::RUN)
            .ok()
            .map(|json| run_json_digest(&json));
        let recorded = mark.lines().find_map(|l| l.strip_prefix(MARK_DIGEST));
        return match (recorded, ours) {
            (Some(a), Some(b)) if a == b => FolderKind::Export,
            _ => FolderKind::Run(format!(
                "its {RUN_FILE} is not the one an export wrote there"
            )),
        };
    }
    let any = std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    match (any, mark.is_some()) {
        (false, _) => FolderKind::Empty,
        (true, true) => FolderKind::Export,
        (true, false) => FolderKind::Foreign,
    }
}

/// Refuses to train or merge into an export: it copies a run, and is never one by accident.
pub fn refuse_export(dir: &Path) -> Result<()> {
    let marked = std::fs::symlink_metadata(dir.join(EXPORT_MARK)).is_ok();
    let has_units = std::fs::symlink_metadata(dir.join(units::UNITS_DIR)).is_ok();
    anyhow::ensure!(
        !marked || has_units,
        "{}: is an export (it holds {EXPORT_MARK}), not a run to train into; resume or join \
         the run it was exported from, or give a new folder",
        dir.display()
    );
    Ok(())
}

/// Marks temporary files, so leftovers of a killed process can be found and removed.
pub const TMP_MARK: &str = ".tmp-";

/// Removes temporary files a killed writer left in `dir` and its weights folder. Call it only
/// while holding the run's lock (another writer's files in flight are then impossible).
pub fn remove_stale_temp_files(dir: &Path) -> usize {
    let mut removed = 0;
    for folder in [dir.to_path_buf(), dir.join(WEIGHTS_DIR)] {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.')
                && name.contains(TMP_MARK)
                && std::fs::remove_file(e.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    removed
}

/// The weights file of a unit: a readable stem and a hash of the exact name, so two distinct
/// names never share a file, whatever sanitising does to them.
pub fn weights_file_name(unit: &str) -> String {
    use sha2::Digest;
    let mut stem = sanitize(unit);
    stem.truncate(48);
    let hash = sha2::Sha256::digest(unit.as_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{stem}-{hex}.safetensors")
}

/// Writes a unit's weights into `folder` (created if need be) under `weights_file_name`,
/// atomically; returns the file's path.
pub fn write_weights(folder: &Path, unit: &str, bytes: &[u8]) -> Result<PathBuf> {
    safe::real_dir(folder)?;
    let path = folder.join(weights_file_name(unit));
    write_atomic(&path, bytes)?;
    Ok(path)
}

/// The weights path recorded for a unit, relative to its run folder.
pub fn weights_record_path(unit: &str) -> String {
    format!("{WEIGHTS_DIR}/{}", weights_file_name(unit))
}

/// Finds the weights of variant `name` of the run in `dir`: its record and the file's path.
/// Paths are recorded relative to the run folder; older runs recorded them relative to the
/// folder they were started from, so the file name is also looked up in `dir/weights`.
pub fn find_weights<'r>(
    dir: &Path,
    record: &'r RunRecord,
    name: &str,
) -> Result<(&'r UnitRecord, PathBuf)> {
    let v = record
        .units
        .iter()
        .find(|v| v.spec.name == name)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no variant named {name:?} (variants: {})",
                dir.display(),
                record
                    .units
                    .iter()
                    .map(|v| v.spec.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let recorded = v
        .weights
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("{}: no saved weights for {name:?}", dir.display()))?;
    // A recorded path is a name inside the run folder: an absolute path or one with `..` is
    // refused (an older run's path relative to where it was started is found by its file name).
    let mut candidates = Vec::new();
    let mut refused = None;
    match safe::inside(dir, recorded) {
        Ok(p) => candidates.push(p),
        Err(e) => refused = Some(e),
    }
    if refused.is_none() {
        if let Some(file) = Path::new(recorded).file_name().and_then(|f| f.to_str()) {
            if let Ok(p) = safe::inside(dir, &format!("{WEIGHTS_DIR}/{file}")) {
                candidates.push(p);
            }
        }
    }
    if let Some(e) = refused {
        return Err(e.context(format!("the weights of {name:?}")));
    }
    // A named pipe, folder or other non-file at the name is refused as what it is, never
    // called missing (and never opened: a pipe would block).
    for p in &candidates {
        if let Some(m) = std::fs::symlink_metadata(p).ok().filter(|m| !m.is_file()) {
            anyhow::bail!(
                "the weights of {name:?}: {}: is {}, not a regular file",
                p.display(),
                safe::kind_of(m.file_type())
            );
        }
    }
    candidates
        .iter()
        .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
        .cloned()
        .map(|p| (v, p))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: the weights of {name:?} are missing (looked for {})",
                dir.display(),
                candidates
                    .first()
                    .map_or_else(|| recorded.clone(), |p| p.display().to_string())
            )
        })
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
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{file_name}{TMP_MARK}{}-{n}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f =
            safe::create_new(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        write(&mut f).with_context(|| format!("{}: cannot write", tmp.display()))?;
        f.sync_all()
            .with_context(|| format!("{}: cannot sync", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("{}: cannot replace", path.display()))?;
        // The rename itself is durable only once the folder is synced.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes a whole single-file `run.json` (a rescue folder) atomically, after checking that
/// what is written reads back as the same record (a value JSON cannot carry, such as NaN, would make the run unreadable).
pub fn save(dir: &Path, record: &RunRecord) -> Result<()> {
    let json = serde_json::to_vec_pretty(record).context("serialising run.json")?;
    let back: RunRecord = serde_json::from_slice(&json)
        .context("the run record would not read back (a number JSON cannot hold?)")?;
    anyhow::ensure!(
        back == *record,
        "the run record would not read back as written (a number JSON cannot hold?)"
    );
    write_atomic(&dir.join(RUN_FILE), &json)
}

/// The run in `dir`: a single-file run as written, a shared folder's manifest with its unit
/// files laid over it.
pub fn load(dir: &Path) -> Result<RunRecord> {
    let record = load_run_file(dir)?;
    if record.layout.is_some() {
        units::assemble(dir, record)
    } else {
        Ok(record)
    }
}

/// `run.json` alone: the manifest of a shared folder, or a whole single-file run.
pub fn load_run_file(dir: &Path) -> Result<RunRecord> {
    let path = dir.join(RUN_FILE);
    let text = safe::read_text_bounded(&path, safe::limit::RUN)
        .map_err(|e| anyhow::anyhow!(safe::describe(&path, &e)))?;
    let record: RunRecord = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a valid run file", path.display()))?;
    record
        .check()
        .map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    if let Some(l) = record.layout {
        anyhow::ensure!(
            l == units::SHARED_LAYOUT,
            "{}: layout {l} is from a newer mnist-lab (this one reads {})",
            path.display(),
            units::SHARED_LAYOUT
        );
    }
    Ok(record)
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
