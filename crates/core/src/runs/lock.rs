//! The lock of a single-file run (older mnist-lab versions): an exclusive `flock` on
//! `<run>/.lock`, which their writer held while training. Taken to migrate such a run into a
//! shared folder, so an older writer cannot be writing it meanwhile; a holder is named with its
//! process id and command. The kernel drops the lock when its holder exits, even after
//! `kill -9`.

use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, Result};

pub const LOCK_FILE: &str = ".lock";

/// Held while this process writes the run folder; released on drop.
#[derive(Debug)]
pub struct RunLock {
    file: std::fs::File,
}

/// This process, as the holder of a lock names it.
fn describe_self() -> String {
    let args: Vec<String> = std::env::args().collect();
    format!("process {} ({})", std::process::id(), args.join(" "))
}

impl RunLock {
    /// Takes the lock of `dir`, or says which process holds it. Removes temporary files a
    /// killed writer left behind once the lock is ours.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let path = dir.join(LOCK_FILE);
        let mut file = super::safe::open_own(&path).context("cannot open the run's lock")?;
        // std's file lock is `flock` on Linux, as older writers took it.
        if let Err(e) = file.try_lock() {
            if matches!(e, std::fs::TryLockError::WouldBlock) {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                anyhow::bail!(
                    "{}: this run is being written by {}; one process at a time may train \
                     into a run folder",
                    dir.display(),
                    if holder.is_empty() {
                        "another process"
                    } else {
                        holder
                    }
                );
            }
            anyhow::bail!("{}: cannot lock the run: {e}", path.display());
        }
        // Ours: say who holds it, for the next process that tries.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = file.write_all(describe_self().as_bytes());
        let _ = file.flush();
        super::remove_stale_temp_files(dir);
        Ok(RunLock { file })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Closing the file would unlock it too; unlocking says so.
        let _ = self.file.unlock();
    }
}
