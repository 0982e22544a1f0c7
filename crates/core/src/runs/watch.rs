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

/// What changes in a folder's own entry when a file in it is created, renamed or removed
/// (every unit write is a rename into `units/`): a stat each, so an idle folder of 5,000
/// units costs three stats a second, not 5,000.
fn folder_stamps(dir: &Path) -> Vec<Option<(SystemTime, u64)>> {
    use std::os::unix::fs::MetadataExt;
    [
        dir.to_path_buf(),
        dir.join(super::units::UNITS_DIR),
        dir.join(super::units::WRITERS_DIR),
    ]
    .iter()
    .map(|d| {
        let m = std::fs::metadata(d).ok()?;
        Some((m.modified().ok()?, m.ino()))
    })
    .collect()
}

static FULL_LOOKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many times any follower in this process has looked at every file of its folder (what
/// an idle watch must not do every second).
pub fn full_looks() -> usize {
    FULL_LOOKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// The whole fingerprint is taken at least this often, for file systems whose folder times
/// are coarse (two writes within one tick) or cached.
const FULL_LOOK: Duration = Duration::from_secs(30);

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
    let (ev_tx, ev_rx) = std::sync::mpsc::channel::<()>();
    // Only what writers do counts: our own reads (opening unit files, probing locks) raise
    // access events, which would otherwise wake this loop forever.
    let on_event = move |e: notify::Result<notify::Event>| {
        if e.is_ok_and(|e| !matches!(e.kind, notify::EventKind::Access(_))) {
            let _ = ev_tx.send(());
        }
    };
    // Without events (no inotify, too many watches) polling alone still works.
    let watcher = notify::recommended_watcher(on_event)
        .ok()
        .and_then(|mut w| {
            w.watch(dir, notify::RecursiveMode::Recursive).ok()?;
            Some(w)
        });
    // What changes when a writer writes, starts or dies (a killed writer leaves its lock
    // file, but no longer holds it).
    let state = || {
        FULL_LOOKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (fingerprint(dir), super::units::live_writers(dir))
    };
    let mut last = state();
    let mut stamps = folder_stamps(dir);
    let mut looked = std::time::Instant::now();
    if tx.send(snapshot_with(dir, last.1.clone())).is_err() {
        return;
    }
    loop {
        let evented = match ev_rx.recv_timeout(POLL) {
            // Let a burst of events (a write, a rename) settle, then look once.
            Ok(_) => {
                std::thread::sleep(Duration::from_millis(50));
                while ev_rx.try_recv().is_ok() {}
                true
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => false,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(POLL);
                false
            }
        };
        // Without an event, look closer only when a folder changed, a writer came or went,
        // or the last full look is old.
        let now_stamps = folder_stamps(dir);
        let writers = super::units::live_writers(dir);
        if !evented && now_stamps == stamps && writers == last.1 && looked.elapsed() < FULL_LOOK {
            continue;
        }
        stamps = now_stamps;
        looked = std::time::Instant::now();
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
