//! IDX file parsing (the format MNIST ships in), raw or gzipped, with clear errors.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Everything that can be wrong with a data file. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: file not found (looked for it and for {path}.gz)")]
    Missing { path: PathBuf },
    #[error("{path}: is a directory, expected an IDX file")]
    IsDirectory { path: PathBuf },
    #[error("{path}: cannot read: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: corrupt or truncated gzip stream: {error}")]
    Gzip {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: empty file")]
    Empty { path: PathBuf },
    #[error("{path}: header truncated: expected at least {expected} bytes, found {found}")]
    ShortHeader {
        path: PathBuf,
        expected: usize,
        found: usize,
    },
    #[error("{path}: wrong magic number: expected 0x{expected:08x}, found 0x{found:08x}")]
    Magic {
        path: PathBuf,
        expected: u32,
        found: u32,
    },
    #[error(
        "{path}: wrong image size: expected {expected_rows}x{expected_cols}, found {rows}x{cols}"
    )]
    ImageSize {
        path: PathBuf,
        expected_rows: u32,
        expected_cols: u32,
        rows: u32,
        cols: u32,
    },
    #[error("{path}: truncated: header promises {expected} data bytes, found {found}")]
    Truncated {
        path: PathBuf,
        expected: usize,
        found: usize,
    },
    #[error(
        "{path}: {extra} bytes after the data: header promises {expected} data bytes, \
         found {found} (not an IDX file of this data set, or two files joined)"
    )]
    TrailingBytes {
        path: PathBuf,
        expected: usize,
        found: usize,
        extra: usize,
    },
    #[error(
        "{path}: holds no examples; a data set needs at least one training and one test image"
    )]
    NoExamples { path: PathBuf },
    #[error("{path}: is a symbolic link that points to itself (a loop)")]
    SymlinkLoop { path: PathBuf },
    #[error("{path}: is a file, not a folder of IDX files")]
    NotAFolder { path: PathBuf },
    #[error("the data folder is an empty path; give --data DIR with a folder of IDX files")]
    EmptyPath,
    #[error("{path}: label {label} at index {index} is outside the {classes} classes {why}")]
    BadLabel {
        path: PathBuf,
        index: usize,
        label: u16,
        classes: usize,
        why: String,
    },
    #[error(
        "{path}: class {class} has no training image ({classes} classes, from labels \
         {first}..{last}); a data set's classes are 0..K-1 with every class trained on \
         (or 1..K, EMNIST letters' way). List the K class names in {names} if the gap is meant"
    )]
    ClassGap {
        path: PathBuf,
        class: usize,
        classes: usize,
        first: usize,
        last: usize,
        names: String,
    },
    #[error(
        "{path}: {count} test images are of class {class}, which no training image has: a \
         network cannot learn a class it never sees (first at index {index})"
    )]
    UnseenClass {
        path: PathBuf,
        class: usize,
        count: usize,
        index: usize,
    },
    #[error("{path}: {reason}")]
    ClassNames { path: PathBuf, reason: String },
    /// Not a regular file (a named pipe, a device, a socket): it is never read.
    #[error("{0}")]
    NotAFile(String),
    #[error(
        "{path}: holds more than the {declared} bytes of data its header declares (it was \
         read no further)"
    )]
    LongerThanDeclared { path: PathBuf, declared: u64 },
    #[error(
        "{path}: its header declares {declared} bytes of data, more than the {max} an IDX file \
         may hold here"
    )]
    DeclaresTooMuch {
        path: PathBuf,
        declared: u64,
        max: u64,
    },
    #[error(
        "{path}: every label is class {class}: a classifier needs at least 2 classes (are \
         these the right label files?)"
    )]
    OneClass { path: PathBuf, class: usize },
    #[error(
        "{path}: images of {rows}x{cols} pixels; at most {max} pixels per image are supported"
    )]
    ImageTooLarge {
        path: PathBuf,
        rows: u32,
        cols: u32,
        max: usize,
    },
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
    },
    #[error("{path}: SHA-256 mismatch: expected {expected}, found {found}")]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{path}: malformed checksum line {line}: {text:?}")]
    SumsFormat {
        path: PathBuf,
        line: usize,
        text: String,
    },
}

pub const IMAGES_MAGIC: u32 = 0x0000_0803;
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// Parsed IDX images: `count` images of `rows*cols` u8 pixels, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub count: usize,
    pub rows: u32,
    pub cols: u32,
    pub pixels: Vec<u8>,
}

/// Most data bytes an IDX file may declare (a 2 GiB split is 40× MNIST's training images).
pub const MAX_DECLARED: u64 = 2 << 30;

/// Reads an IDX file, un-gzipping it when it starts with the gzip magic, and never more than
/// its header declares: the header first, then the declared data and one byte to tell a
/// longer file. A small gzip whose header promises one image is never inflated whole. Links
/// are followed (a data folder is the user's), but only a regular file is read: a named pipe
/// is refused, not waited on.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    read_idx(path, None)
}

/// `read_maybe_gz` of a file that should start with `magic`: one that does not is returned
/// after its first bytes, for the parser to say which magic it found (its length is no
/// matter then).
pub fn read_idx(path: &Path, magic: Option<u32>) -> Result<Vec<u8>, DataError> {
    if path.is_dir() {
        return Err(DataError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    let io = |error: std::io::Error| DataError::Io {
        path: path.to_path_buf(),
        error,
    };
    let file = crate::files::open_data(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => DataError::Missing {
            path: path.to_path_buf(),
        },
        std::io::ErrorKind::InvalidInput => DataError::NotAFile(error.to_string()),
        _ => io(error),
    })?;
    let mut file = std::io::BufReader::new(file);
    let gzip = std::io::BufRead::fill_buf(&mut file)
        .map_err(io)?
        .starts_with(&[0x1f, 0x8b]);
    let out = if gzip {
        read_declared(path, flate2::read::GzDecoder::new(file), magic).map_err(|e| match e {
            DataError::Io { path, error } => DataError::Gzip { path, error },
            e => e,
        })?
    } else {
        read_declared(path, file, magic)?
    };
    if out.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// The header of an IDX stream and at most the data it declares (plus one byte: a longer
/// stream is refused here). What does not look like an IDX header is returned as read (at
/// most a header's length) for the parser to name.
fn read_declared(path: &Path, mut r: impl Read, magic: Option<u32>) -> Result<Vec<u8>, DataError> {
    let io = |error: std::io::Error| DataError::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut out = Vec::new();
    (&mut r).take(4).read_to_end(&mut out).map_err(io)?;
    if out.len() < 4 {
        return Ok(out);
    }
    // IDX: two zero bytes, the element type (0x08: u8), then the number of dimensions.
    let dims = out[3] as usize;
    if let Some(m) = magic.filter(|&m| m != be_u32(&out, 0)) {
        // The rest of the header the expected magic has, so the parser names the magic.
        let dims = (m & 0xff) as u64;
        (&mut r).take(4 * dims).read_to_end(&mut out).map_err(io)?;
        return Ok(out);
    }
    if out[0] != 0 || out[1] != 0 || out[2] != 0x08 || !(1..=3).contains(&dims) {
        return Ok(out);
    }
    (&mut r)
        .take(4 * dims as u64)
        .read_to_end(&mut out)
        .map_err(io)?;
    if out.len() < 4 + 4 * dims {
        return Ok(out);
    }
    let declared = (0..dims)
        .map(|d| be_u32(&out, 4 + 4 * d) as u64)
        .try_fold(1u64, u64::checked_mul)
        .unwrap_or(u64::MAX);
    if declared > MAX_DECLARED {
        return Err(DataError::DeclaresTooMuch {
            path: path.to_path_buf(),
            declared,
            max: MAX_DECLARED,
        });
    }
    let header = out.len();
    r.take(declared + 1).read_to_end(&mut out).map_err(io)?;
    if (out.len() - header) as u64 > declared {
        return Err(DataError::LongerThanDeclared {
            path: path.to_path_buf(),
            declared,
        });
    }
    Ok(out)
}

/// `raw` as `read_maybe_gz` reads a file: un-gzipped when it carries the gzip magic, and no
/// further than its IDX header declares (the fuzz target and the property tests use it).
pub fn decode_maybe_gz(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if raw.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let out = if raw.starts_with(&[0x1f, 0x8b]) {
        read_declared(path, flate2::read::GzDecoder::new(&raw[..]), None).map_err(|e| match e {
            DataError::Io { path, error } => DataError::Gzip { path, error },
            e => e,
        })?
    } else {
        read_declared(path, &raw[..], None)?
    };
    if out.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn check_header(path: &Path, bytes: &[u8], len: usize, magic: u32) -> Result<(), DataError> {
    if bytes.len() < len {
        return Err(DataError::ShortHeader {
            path: path.to_path_buf(),
            expected: len,
            found: bytes.len(),
        });
    }
    let found = be_u32(bytes, 0);
    if found != magic {
        return Err(DataError::Magic {
            path: path.to_path_buf(),
            expected: magic,
            found,
        });
    }
    Ok(())
}

/// The data part must be exactly as long as the header says: shorter is truncated, longer has
/// bytes that do not belong to it.
fn check_length(path: &Path, expected: usize, found: usize) -> Result<(), DataError> {
    if found < expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    if found > expected {
        return Err(DataError::TrailingBytes {
            path: path.to_path_buf(),
            expected,
            found,
            extra: found - expected,
        });
    }
    Ok(())
}

/// Most pixels an image may have (256×256): the first layer holds pixels × width weights.
pub const MAX_PIXELS: usize = 65_536;

/// Parses an IDX3 image file (magic 0x803); `want` is the (rows, cols) another file of the
/// data set already has (None: any size up to `MAX_PIXELS`).
pub fn parse_images(
    path: &Path,
    bytes: &[u8],
    want: Option<(u32, u32)>,
) -> Result<IdxImages, DataError> {
    check_header(path, bytes, 16, IMAGES_MAGIC)?;
    let count = be_u32(bytes, 4) as usize;
    let rows = be_u32(bytes, 8);
    let cols = be_u32(bytes, 12);
    if let Some((want_rows, want_cols)) = want.filter(|w| *w != (rows, cols)) {
        return Err(DataError::ImageSize {
            path: path.to_path_buf(),
            expected_rows: want_rows,
            expected_cols: want_cols,
            rows,
            cols,
        });
    }
    if rows == 0 || cols == 0 || rows as usize * cols as usize > MAX_PIXELS {
        return Err(DataError::ImageTooLarge {
            path: path.to_path_buf(),
            rows,
            cols,
            max: MAX_PIXELS,
        });
    }
    let expected = count.saturating_mul(rows as usize * cols as usize);
    let found = bytes.len() - 16;
    check_length(path, expected, found)?;
    Ok(IdxImages {
        count,
        rows,
        cols,
        pixels: bytes[16..].to_vec(),
    })
}

/// Parses an IDX1 label file (magic 0x801). Which labels are valid is the data set's
/// question (`super::classes`), asked once both splits are read.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    check_header(path, bytes, 8, LABELS_MAGIC)?;
    let count = be_u32(bytes, 4) as usize;
    let found = bytes.len() - 8;
    check_length(path, count, found)?;
    Ok(bytes[8..].to_vec())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a `sha256sum`-style file: `<hex>  <name>` per line; names have any `.gz` stripped.
pub fn parse_sums(path: &Path, text: &str) -> Result<Vec<(String, String)>, DataError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some(hex), Some(name)) if hex.len() == 64 => {
                let name = name.trim_start_matches('*');
                out.push((name.to_string(), hex.to_ascii_lowercase()));
            }
            _ => {
                return Err(DataError::SumsFormat {
                    path: path.to_path_buf(),
                    line: i + 1,
                    text: line.to_string(),
                })
            }
        }
    }
    Ok(out)
}
