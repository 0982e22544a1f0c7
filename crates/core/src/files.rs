//! The one way a file that comes from outside (a run folder, a data set's folder) is opened
//! for reading: never through a symbolic link at its name, only a regular file (a planted
//! named pipe would hang the reader, a device or socket is no file), and never more bytes
//! than such a file may hold (a planted sparse giant would fill the memory).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Small text files beside a data set (`classes.txt`, `SHA256SUMS`).
pub const TEXT_LIMIT: u64 = 1 << 20;

/// The largest safetensors header of a weights file read (names, shapes and two labels).
pub const WEIGHTS_HEADER: u64 = 1 << 20;

/// What a file that is not a regular file is, in words.
pub fn kind_of(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a folder"
    } else if ft.is_fifo() {
        "a named pipe"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

fn refused(path: &Path, why: String) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{}: {why}", path.display()),
    )
}

/// The one way a file in a run folder (or beside a data set) is opened for reading: never
/// through a symbolic link at its name, and only a regular file. A named pipe is opened
/// without blocking (O_NONBLOCK) and refused, so a planted pipe cannot hang a reader. A
/// missing file keeps its `NotFound` kind, so callers can tell "not there" from "refused".
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    let f = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refused(
                path,
                "is a symbolic link; links are never followed".into(),
            ))
        }
        Err(e) => return Err(e),
    };
    only_regular(f, path)
}

/// `f`, opened at `path`, if it is a regular file; else refused, saying what it is.
fn only_regular(f: File, path: &Path) -> std::io::Result<File> {
    let ft = f.metadata()?.file_type();
    if !ft.is_file() {
        return Err(refused(
            path,
            format!("is {}, not a regular file", kind_of(ft)),
        ));
    }
    Ok(f)
}

/// Refuses a file of `len` bytes where at most `limit` are read.
fn within(path: &Path, len: u64, limit: u64) -> std::io::Result<()> {
    if len > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{}: {len} bytes, more than the {limit} such a file may hold",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// `open_regular`, refusing a file larger than `limit` bytes before anything is read.
pub fn open_bounded(path: &Path, limit: u64) -> std::io::Result<(File, u64)> {
    let f = open_regular(path)?;
    let len = f.metadata()?.len();
    within(path, len, limit)?;
    Ok((f, len))
}

/// A whole regular file of at most `limit` bytes (see `open_regular`); a file that grows
/// past the bound while it is read is refused too.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let (f, len) = open_bounded(path, limit)?;
    read_up_to(path, f, len, limit)
}

/// A data folder's small text file (`classes.txt`, `SHA256SUMS`): a regular file, links
/// followed (see `open_data`), at most `TEXT_LIMIT` bytes.
pub fn read_data_text(path: &Path) -> std::io::Result<String> {
    let f = open_data(path)?;
    let len = f.metadata()?.len();
    within(path, len, TEXT_LIMIT)?;
    let bytes = read_up_to(path, f, len, TEXT_LIMIT)?;
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: is not UTF-8 text", path.display()),
        )
    })
}

fn read_up_to(path: &Path, f: File, len: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{}: grew past the {limit} bytes such a file may hold",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

/// `read_bounded` as UTF-8 text.
pub fn read_text_bounded(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: is not UTF-8 text", path.display()),
        )
    })
}

/// An error of `open_regular`/`read_bounded` as a message: refusals already name the file.
pub fn describe(path: &Path, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => e.to_string(),
        std::io::ErrorKind::NotFound => format!("{}: is missing", path.display()),
        _ => format!("{}: cannot read: {e}", path.display()),
    }
}

/// Opens a file of a data set's folder for reading: links are followed (the folder is the
/// user's, and may link to a download elsewhere), but only a regular file is opened, without
/// blocking on a named pipe.
pub fn open_data(path: &Path) -> std::io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    only_regular(f, path)
}
