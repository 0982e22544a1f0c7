//! A run folder is untrusted input: jobs, people and scripts share it. Every path read from a
//! file in it is a name inside it (relative, plain components, no symbolic link on the way),
//! and every file this program creates or writes there is opened without following a link
//! someone planted in its place.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

/// Checks that `rel` (read from a run or unit file) names something inside its folder by its
/// words alone: not empty, not absolute, only plain components (no `..`, no `.`), no NUL.
pub fn check_relative(rel: &str) -> Result<()> {
    anyhow::ensure!(!rel.is_empty(), "an empty path");
    anyhow::ensure!(!rel.contains('\0'), "a path with a NUL byte");
    let path = Path::new(rel);
    for c in path.components() {
        match c {
            Component::Normal(_) => {}
            Component::RootDir | Component::Prefix(_) => {
                anyhow::bail!("{rel:?} is absolute; a run folder may only name files inside it")
            }
            Component::ParentDir => {
                anyhow::bail!(
                    "{rel:?} climbs out with '..'; a run folder may only name files inside it"
                )
            }
            Component::CurDir => anyhow::bail!("{rel:?} is not a plain relative path"),
        }
    }
    Ok(())
}

/// `dir/rel`, once `rel` passes `check_relative` and no component below `dir` is a symbolic
/// link (checked on the disk as it is now, without following any link).
pub fn inside(dir: &Path, rel: &str) -> Result<PathBuf> {
    check_relative(rel).with_context(|| format!("{}: refused path", dir.display()))?;
    let mut path = dir.to_path_buf();
    for c in Path::new(rel).components() {
        path.push(c);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
                "{}: a symbolic link inside the run folder; links are never followed",
                path.display()
            ),
            Ok(_) => {}
            // What does not exist yet cannot be a link; the caller's open decides the rest.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ENOTDIR) =>
            {
                break
            }
            Err(e) => return Err(e).with_context(|| format!("{}: cannot inspect", path.display())),
        }
    }
    Ok(path)
}

/// Makes sure `path` is a real folder (created when missing), never a symbolic link planted
/// in its place.
pub fn real_dir(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
            "{}: is a symbolic link; a run folder's own folders must be real folders",
            path.display()
        ),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => anyhow::bail!("{}: is a file, not a folder", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match std::fs::create_dir(path) {
                Ok(()) => Ok(()),
                // Another writer made it a moment ago: check what it made.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => real_dir(path),
                Err(e) => Err(e).with_context(|| format!("{}: cannot create", path.display())),
            }
        }
        Err(e) => Err(e).with_context(|| format!("{}: cannot inspect", path.display())),
    }
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Opens (creating when missing) a file this program owns inside a run folder, for reading
/// and writing, without following a symbolic link at its name: a planted link is removed
/// (unlinking a link never touches its target) and a real file made in its place.
pub fn open_own(path: &Path) -> Result<File> {
    for _ in 0..3 {
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
        {
            Ok(f) => {
                anyhow::ensure!(
                    f.metadata().is_ok_and(|m| m.is_file()),
                    "{}: is not a regular file",
                    path.display()
                );
                return Ok(f);
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) && is_symlink(path) => {
                std::fs::remove_file(path).with_context(|| {
                    format!("{}: cannot remove a planted symbolic link", path.display())
                })?;
            }
            Err(e) => return Err(e).with_context(|| format!("{}: cannot open", path.display())),
        }
    }
    anyhow::bail!(
        "{}: keeps being replaced by a symbolic link",
        path.display()
    )
}

/// Creates a new file at `path` that did not exist (never through a link, never over
/// another file): temporary files are made this way.
pub fn create_new(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// How large each kind of file a run folder holds may be: a file over its bound is refused
/// before it is read, so a planted (sparse) giant cannot fill the memory.
pub mod limit {
    /// A run's name (`title`): 60 characters.
    pub const TITLE: u64 = 4 << 10;
    /// A writer's lock (its command line).
    pub const LOCK: u64 = 64 << 10;
    /// One unit's file: its epochs and its kept batch losses.
    pub const UNIT: u64 = 16 << 20;
    /// `run.json`: a manifest of 5,000 units, or a single-file run with their epochs.
    pub const RUN: u64 = 96 << 20;
    /// A weights file of any network (`weights` gives one network's bound).
    pub const WEIGHTS: u64 = 512 << 20;

    /// The most bytes a weights file of `arch` can hold (`data::max_weights_bytes`).
    pub fn weights(arch: &crate::spec::Arch) -> u64 {
        crate::data::max_weights_bytes(arch).min(WEIGHTS)
    }
}

pub use crate::files::{
    describe, kind_of, open_bounded, open_regular, read_bounded, read_text_bounded,
};

/// Makes sure an existing `path` is a real folder, not a link to one (a reader's check:
/// nothing is created).
pub fn existing_real_dir(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => anyhow::bail!(
            "{}: is a symbolic link; a run folder's own folders must be real folders",
            path.display()
        ),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) => anyhow::bail!(
            "{}: is {}, not a folder",
            path.display(),
            kind_of(m.file_type())
        ),
        Err(e) => Err(e).with_context(|| format!("{}: cannot inspect", path.display())),
    }
}

/// Reads a file inside a run folder named by `rel` (from a record), refusing what leaves it,
/// what is not a regular file and what is larger than `limit`.
pub fn read_inside(dir: &Path, rel: &str, limit: u64) -> Result<Vec<u8>> {
    let path = inside(dir, rel)?;
    read_bounded(&path, limit).map_err(|e| anyhow::anyhow!(describe(&path, &e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_pass() {
        assert!(check_relative("weights/a.safetensors").is_ok());
        for bad in ["", "/etc/passwd", "../x", "weights/../../x", "./w", "a\0b"] {
            assert!(check_relative(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_link_on_the_way_is_refused_and_a_planted_link_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("weights")).unwrap();
        assert!(inside(dir.path(), "weights/w").is_err());
        assert!(real_dir(&dir.path().join("weights")).is_err());
        let target = outside.path().join("victim");
        std::fs::write(&target, "keep").unwrap();
        let lock = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        let f = open_own(&lock).unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(!std::fs::symlink_metadata(&lock)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
