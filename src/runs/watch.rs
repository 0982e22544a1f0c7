//! Following a run folder that other processes write: a thread that sends the run again
//! whenever its files change. File-system events (`notify`) make it quick; a poll once a
//! second catches what events miss (network file systems send none for other machines'
//! writes), so a new epoch shows within about a second either way.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, Sender};
use notify::Watcher;

use super::RunRecord;

/// How often the folder is looked at when no event comes.
pub const POLL: Duration = Duration::from_secs(1);

/// The run as it is on disk now, and who is writing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub record: Result<RunRecord, String>,
    /// Live writers (`host-pid`), from their locks.
    pub writers: Vec<String>,
}

pub fn snapshot(dir: &Path) -> Snapshot {
    snapshot_with(dir, super::units::live_writers(dir))
}

/// A snapshot whose live writers were just probed.
fn snapshot_with(dir: &Path, writers: Vec<String>) -> Snapshot {
    Snapshot {
        dir: dir.to_path_buf(),
        record: super::load(dir).map_err(|e| format!("{e:#}")),
        writers,
    }
}

/// What changes when a writer writes: every file's name, size and modification time.
fn fingerprint(dir: &Path) -> Vec<(String, u64, Option<SystemTime>)> {
    let mut all = Vec::new();
    for sub in [
        dir.to_path_buf(),
        dir.join(super::units::UNITS_DIR),
        dir.join(super::units::WRITERS_DIR),
    ] {
        let Ok(entries) = std::fs::read_dir(&sub) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.path().display().to_string();
            if let Ok(m) = e.metadata() {
                all.push((name, m.len(), m.modified().ok()));
            }
        }
    }
    all.sort();
    all
}

/// Starts following `dir`: the first snapshot at once, then one after each change. The
/// thread ends when the receiver is dropped.
pub fn follow(dir: &Path) -> Receiver<Snapshot> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let dir = dir.to_path_buf();
    let _ = std::thread::Builder::new()
        .name("mnist-lab-watch".into())
        .spawn(move || follow_loop(&dir, &tx));
    rx
}

fn follow_loop(dir: &Path, tx: &Sender<Snapshot>) {
    let (ev_tx, ev_rx) = std::sync::mpsc::channel();
    // Without events (no inotify, too many watches) polling alone still works.
    let watcher = notify::recommended_watcher(ev_tx).ok().and_then(|mut w| {
        w.watch(dir, notify::RecursiveMode::Recursive).ok()?;
        Some(w)
    });
    // What changes when a writer writes, starts or dies (a killed writer leaves its lock
    // file, but no longer holds it).
    let state = || (fingerprint(dir), super::units::live_writers(dir));
    let mut last = state();
    if tx.send(snapshot_with(dir, last.1.clone())).is_err() {
        return;
    }
    loop {
        match ev_rx.recv_timeout(POLL) {
            // Let a burst of events (a write, a rename) settle, then look once.
            Ok(_) => {
                std::thread::sleep(Duration::from_millis(50));
                while ev_rx.try_recv().is_ok() {}
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(POLL);
            }
        }
        let now = state();
        if now != last {
            last = now;
            if tx.send(snapshot_with(dir, last.1.clone())).is_err() {
                break;
            }
        }
    }
    drop(watcher);
}
