//! A run folder many writers share: `run.json` is the manifest (preset, the expanded unit
//! list, environment), written once; each unit has its own `units/NNNN.json`, written
//! atomically after every epoch and when it ends; `units/NNNN.lock` (an exclusive `flock`)
//! stops two processes from training one unit; each writer holds `writers/<host>-<pid>.lock`
//! for its life, so watchers can count writers and tell a live unit from one whose writer
//! died. What is finished, and whether the run is complete, is derived from the unit files.
//! Linux's NFS client maps `flock` onto NFS byte-range locks, so this holds on shared file
//! systems too.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{RunRecord, UnitRecord, UnitStatus};

pub const UNITS_DIR: &str = "units";
pub const WRITERS_DIR: &str = "writers";
/// The manifest's `layout` for a shared folder; single-file runs have none.
pub const SHARED_LAYOUT: u32 = 2;

pub fn unit_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(UNITS_DIR).join(format!("{index:04}.json"))
}

fn unit_lock_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(UNITS_DIR).join(format!("{index:04}.lock"))
}

/// What a unit file holds: the unit's record and who wrote it last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UnitFile {
    /// `host-pid` of the writer, to tell a live unit from one whose writer died.
    writer: String,
    #[serde(flatten)]
    record: UnitRecord,
}

/// The manifest of `record`: the same run with every unit queued and empty.
pub fn manifest_of(record: &RunRecord) -> RunRecord {
    let mut m = record.clone();
    m.layout = Some(SHARED_LAYOUT);
    m.complete = false;
    for v in &mut m.units {
        v.status = UnitStatus::Queued;
        v.history.clear();
        v.failure = None;
        v.seconds = None;
        v.weights = None;
        v.early_stop = None;
        v.kept_epoch = None;
    }
    m
}

/// Writes the manifest of a new run into `dir` unless it already has one. Returns whether
/// this call created it; two processes racing get exactly one `true` (the file is linked
/// into place, which fails if it exists).
pub fn create_manifest(dir: &Path, record: &RunRecord) -> Result<bool> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the run folder", dir.display()))?;
    super::safe::real_dir(&dir.join(UNITS_DIR))?;
    let path = dir.join(super::RUN_FILE);
    if path.exists() {
        return Ok(false);
    }
    let json = serde_json::to_vec_pretty(&manifest_of(record)).context("serialising run.json")?;
    let tmp = dir.join(format!(".run.json.new-{}", writer_id()));
    let result = (|| -> Result<bool> {
        let mut f = super::safe::create_new(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        f.write_all(&json)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        match std::fs::hard_link(&tmp, &path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e).with_context(|| format!("{}: cannot create", path.display())),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Refuses to join `dir` when its manifest is not the run `ours` describes, naming the first
/// difference.
pub fn check_same_run(dir: &Path, theirs: &RunRecord, ours: &RunRecord) -> Result<()> {
    let refuse = |what: String| {
        anyhow::anyhow!(
            "{}: this folder holds a different run ({what}); use a new --run-dir, or the same \
             preset and options",
            dir.display()
        )
    };
    if theirs.preset != ours.preset {
        return Err(refuse(format!(
            "preset {:?}, not {:?}",
            theirs.preset, ours.preset
        )));
    }
    if theirs.engine != ours.engine {
        return Err(refuse(format!(
            "it trains on the {} engine, and this writer would train on {}; a run trains on \
             one engine",
            theirs.engine, ours.engine
        )));
    }
    if theirs.until != ours.until {
        return Err(refuse("other seeds Until(…) settings".into()));
    }
    // Rounds of `seeds: Until` append units: the run this preset starts is their prefix.
    let grown = !theirs.rounds.is_empty() && theirs.rounds[0].first_unit == ours.units.len();
    if theirs.units.len() != ours.units.len() && !grown {
        return Err(refuse(format!(
            "{} units, not {}",
            theirs.units.len(),
            ours.units.len()
        )));
    }
    if let (Some(a), Some(b)) = (&theirs.data, &ours.data) {
        if a != b {
            return Err(refuse(format!(
                "trained on other data: {a} there, {b} here"
            )));
        }
    }
    for (i, (a, b)) in theirs.units.iter().zip(&ours.units).enumerate() {
        if a.spec != b.spec {
            return Err(refuse(format!(
                "unit {i} is {:?} there and {:?} here, with different settings",
                a.spec.name, b.spec.name
            )));
        }
    }
    Ok(())
}

/// The lock a writer holds while it grows the manifest. Never removed: a lock file deleted
/// while another writer waits on it would let two of them grow the run at once.
pub const MANIFEST_LOCK: &str = "run.lock";

/// What a writer found when it tried to add a round.
#[derive(Debug)]
pub enum Growth {
    /// Some unit has not ended yet (another writer may have added the round already).
    Pending(RunRecord),
    /// `round` was asked for no more units: the run as it is.
    Unchanged(RunRecord),
    /// The manifest now holds the new round: the run with its new units queued.
    Grown(RunRecord),
}

/// Adds a round of units to the shared folder `dir` (`seeds: Until`), once however many
/// writers ask: under the manifest lock, the run is read again; when every unit has ended,
/// `round` (a pure function of the run) says what to append, and the manifest is rewritten
/// atomically with it. A writer that comes second finds the new units queued (`Pending`),
/// so each round is added exactly once, and every writer trains from the same manifest.
pub fn grow_manifest(
    dir: &Path,
    round: impl FnOnce(&RunRecord) -> Option<RunRecord>,
) -> Result<Growth> {
    let _lock = Flock::take(&dir.join(MANIFEST_LOCK), true)?
        .ok_or_else(|| anyhow::anyhow!("{}: the manifest lock was not given", dir.display()))?;
    let record = assemble(dir, super::load_run_file(dir)?)?;
    if !record.units.iter().all(|v| v.status.is_done()) {
        return Ok(Growth::Pending(record));
    }
    let Some(grown) = round(&record) else {
        return Ok(Growth::Unchanged(record));
    };
    anyhow::ensure!(
        grown.units.len() > record.units.len()
            && grown.units[..record.units.len()]
                .iter()
                .zip(&record.units)
                .all(|(a, b)| a.spec == b.spec),
        "a round may only append units"
    );
    let manifest = manifest_of(&grown);
    let json = serde_json::to_vec_pretty(&manifest).context("serialising run.json")?;
    super::write_atomic(&dir.join(super::RUN_FILE), &json)?;
    assemble(dir, super::load_run_file(dir)?).map(Growth::Grown)
}

/// Writes unit `index`'s file atomically, as written by this process.
pub fn save_unit(dir: &Path, index: usize, record: &UnitRecord) -> Result<()> {
    check_still_there(dir)?;
    let file = UnitFile {
        writer: writer_id(),
        record: record.clone(),
    };
    let json = serde_json::to_vec_pretty(&file).context("serialising a unit file")?;
    let back: UnitFile = serde_json::from_slice(&json)
        .context("the unit record would not read back (a number JSON cannot hold?)")?;
    anyhow::ensure!(
        back == file,
        "the unit record would not read back as written (a number JSON cannot hold?)"
    );
    super::write_atomic(&unit_file(dir, index), &json)
}

/// Refuses to write into a run folder that lost its manifest or its `units/` (deleted, moved
/// or replaced under a running writer): writing there would re-create a folder nobody can
/// read. The writer keeps its record and rescues it instead.
fn check_still_there(dir: &Path) -> Result<()> {
    let lost = |what: &str| {
        anyhow::anyhow!(
            "{}: the run folder lost its {what} while this process was writing it (deleted or \
             moved?); nothing more is written there",
            dir.display()
        )
    };
    match std::fs::symlink_metadata(dir.join(UNITS_DIR)) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(lost("units folder (replaced by something else)")),
        Err(_) => return Err(lost("units folder")),
    }
    if std::fs::symlink_metadata(dir.join(super::RUN_FILE)).is_err() {
        return Err(lost("manifest run.json"));
    }
    Ok(())
}

/// Unit `index`'s file, with the writer that wrote it; None when no writer has started it.
fn load_unit(dir: &Path, index: usize) -> Result<Option<UnitFile>> {
    let path = unit_file(dir, index);
    let text = match read_no_follow(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!(super::safe::describe(&path, &e)),
    };
    let unit: UnitFile = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a valid unit file", path.display()))?;
    unit.record
        .check()
        .map_err(|why| anyhow::anyhow!("{}: unit {index}: {why}", path.display()))?;
    Ok(Some(unit))
}

/// A unit file's text: a regular file of bounded size, never through a link.
fn read_no_follow(path: &Path) -> std::io::Result<String> {
    super::safe::read_text_bounded(path, super::safe::limit::UNIT)
}

/// Whether unit `index` has ended (finished, failed or skipped) according to its file.
pub fn unit_done(dir: &Path, index: usize) -> bool {
    matches!(load_unit(dir, index), Ok(Some(u)) if u.record.status.is_done())
}

/// The whole run of a shared folder: the manifest with every unit file laid over it. A unit
/// whose writer is gone while it was running reads as interrupted; the run is complete when
/// every unit has ended.
pub fn assemble(dir: &Path, mut manifest: RunRecord) -> Result<RunRecord> {
    check_units_dir(dir)?;
    let live = live_writers(dir);
    for (i, v) in manifest.units.iter_mut().enumerate() {
        let Some(unit) = load_unit(dir, i)? else {
            continue;
        };
        anyhow::ensure!(
            unit.record.spec == v.spec,
            "{}: unit {i} is not the manifest's {:?}",
            unit_file(dir, i).display(),
            v.spec.name
        );
        *v = unit.record;
        if v.status == UnitStatus::Running && !live.contains(&unit.writer) {
            v.status = UnitStatus::Interrupted;
        }
    }
    manifest.complete = manifest.units.iter().all(|v| v.status.is_done());
    Ok(manifest)
}

/// A `units/` that is a link (or anything but a real folder) is refused: its files would be
/// read, and its locks made, wherever the link points.
fn check_units_dir(dir: &Path) -> Result<()> {
    let units = dir.join(UNITS_DIR);
    if std::fs::symlink_metadata(&units).is_ok() {
        super::safe::existing_real_dir(&units)?;
    }
    Ok(())
}

/// This process as a writer: `host-pid`.
pub fn writer_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| super::sanitize(h.trim()))
        .unwrap_or_else(|_| "host".into());
    format!("{host}-{}", std::process::id())
}

/// An exclusive `flock` on an open file; released on drop (and by the kernel when the
/// process dies, even by `kill -9`).
#[derive(Debug)]
struct Flock {
    file: std::fs::File,
}

impl Flock {
    /// Locks `path` (created if need be); `wait` blocks for it, else None when it is held.
    fn take(path: &Path, wait: bool) -> Result<Option<Flock>> {
        // A link planted at a lock's name is removed, never followed.
        let file = super::safe::open_own(path).context("cannot open the lock")?;
        // std's file locks are `flock` on Linux (and so NFS byte-range locks there).
        let locked = if wait {
            file.lock()
        } else {
            match file.try_lock() {
                Ok(()) => Ok(()),
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => Err(e),
            }
        };
        locked.with_context(|| format!("{}: cannot lock", path.display()))?;
        Ok(Some(Flock { file }))
    }
}

impl Drop for Flock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Held while this process trains unit `index`. The lock file goes when the unit has ended
/// (a finished folder keeps none, so nothing invites `rm units/*.lock`); a claim survives the
/// file being deleted meanwhile: the unit file names its live writer, and no other writer
/// claims a unit a live writer is running.
#[derive(Debug)]
pub struct UnitLock {
    lock: Flock,
    path: PathBuf,
    dir: PathBuf,
    index: usize,
}

impl UnitLock {
    /// Puts the lock file back when someone deleted it (or replaced it) while we hold the
    /// unit, so a writer that checks the lock before the unit file still finds it held.
    pub fn refresh(&mut self) {
        use std::os::unix::fs::MetadataExt;
        let ours = self.lock.file.metadata().map(|m| (m.dev(), m.ino())).ok();
        let there = std::fs::symlink_metadata(&self.path)
            .map(|m| (m.dev(), m.ino()))
            .ok();
        if ours.is_some() && ours == there {
            return;
        }
        if let Ok(Some(fresh)) = Flock::take(&self.path, false) {
            self.lock = fresh;
        }
    }
}

impl Drop for UnitLock {
    fn drop(&mut self) {
        // Removed while still locked, and only once the unit has ended: a writer that opened
        // the old file finds the unit done when it checks again under the lock.
        if unit_done(&self.dir, self.index) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether unit `index`'s file says a live writer other than this process is running it.
fn running_elsewhere(dir: &Path, index: usize) -> bool {
    match load_unit(dir, index) {
        Ok(Some(u)) if u.record.status == UnitStatus::Running => {
            u.writer != writer_id() && live_writers(dir).contains(&u.writer)
        }
        _ => false,
    }
}

/// Claims unit `index` (named `name`) for this process: None when another writer holds it or
/// it has already ended. Checked again once locked, so a unit finished by a writer that has
/// just let go is not trained twice; and a unit a live writer is running (its lock file
/// deleted under it) is not taken. Temporary files a killed writer of this unit left behind
/// (its unit file's and its weights') are removed: nobody else can be writing them now.
pub fn claim_unit(dir: &Path, index: usize, name: &str) -> Result<Option<UnitLock>> {
    super::safe::existing_real_dir(&dir.join(UNITS_DIR))?;
    if unit_done(dir, index) || running_elsewhere(dir, index) {
        return Ok(None);
    }
    let path = unit_lock_file(dir, index);
    let Some(lock) = Flock::take(&path, false)? else {
        return Ok(None);
    };
    if unit_done(dir, index) || running_elsewhere(dir, index) {
        return Ok(None);
    }
    for (folder, stem) in [
        (dir.join(UNITS_DIR), format!(".{index:04}.json.tmp-")),
        (
            dir.join(super::WEIGHTS_DIR),
            format!(".{}.tmp-", super::weights_file_name(name)),
        ),
    ] {
        for e in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with(&stem) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(Some(UnitLock {
        lock,
        path,
        dir: dir.to_path_buf(),
        index,
    }))
}

/// Held by a writer for as long as it works on the run; the file goes with it.
#[derive(Debug)]
pub struct WriterLock {
    _lock: Flock,
    path: PathBuf,
}

impl WriterLock {
    pub fn take(dir: &Path) -> Result<WriterLock> {
        let folder = dir.join(WRITERS_DIR);
        super::safe::real_dir(&folder)?;
        let path = folder.join(format!("{}.lock", writer_id()));
        // Blocking: only a watcher's short probe can hold our own file. A link planted at
        // this (predictable) name is replaced by a file of our own, never written through.
        let lock = Flock::take(&path, true)?
            .ok_or_else(|| anyhow::anyhow!("{}: cannot lock", path.display()))?;
        let _ = lock.file.set_len(0);
        let _ = (&lock.file).write_all(std::env::args().collect::<Vec<_>>().join(" ").as_bytes());
        Ok(WriterLock { _lock: lock, path })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The writers working on `dir` now (`host-pid`), from the writer locks that are held.
pub fn live_writers(dir: &Path) -> Vec<String> {
    let folder = dir.join(WRITERS_DIR);
    // A link in place of `writers/` names no writer of this run.
    if super::safe::existing_real_dir(&folder).is_err() {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut live = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(id) = name.strip_suffix(".lock") else {
            continue;
        };
        // Probe without creating: a lock whose file is gone (or is no regular file: a
        // planted pipe must not hang the probe) is no writer.
        let Ok(file) = super::safe::open_regular(&e.path()) else {
            continue;
        };
        // A probe that gets a shared lock lets go at once: nobody holds it.
        match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
            }
            Err(_) => live.push(id.to_string()),
        }
    }
    live.sort();
    live
}

/// The command line a live writer gave, for messages (empty when unknown).
pub fn writer_command(dir: &Path, id: &str) -> String {
    super::safe::read_text_bounded(
        &dir.join(WRITERS_DIR).join(format!("{id}.lock")),
        super::safe::limit::LOCK,
    )
    .unwrap_or_default()
}

/// Rewrites a single-file run (an older mnist-lab's) as a shared folder: a unit file for
/// every unit that started, then the manifest. Its old lock is held meanwhile, so an older
/// writer cannot be writing it.
pub fn migrate(dir: &Path, record: &RunRecord) -> Result<()> {
    let _old = super::RunLock::acquire(dir)?;
    super::safe::real_dir(&dir.join(UNITS_DIR))?;
    for (i, v) in record.units.iter().enumerate() {
        if v.status != UnitStatus::Queued && !unit_file(dir, i).exists() {
            save_unit(dir, i, v)?;
        }
    }
    let json = serde_json::to_vec_pretty(&manifest_of(record)).context("serialising run.json")?;
    super::write_atomic(&dir.join(super::RUN_FILE), &json)
}
