//! The MNIST-shaped data set: loading a folder of IDX files, subsets, shuffled batches.

pub mod idx;

use std::path::{Path, PathBuf};

pub use idx::DataError;
use rand::seq::SliceRandom;
use rand::SeedableRng;

pub const IMAGE_SIDE: u32 = 28;
pub const PIXELS: usize = (IMAGE_SIDE * IMAGE_SIDE) as usize;
pub const CLASSES: usize = 10;

/// Environment variable that points at another folder of IDX files.
pub const DATA_ENV: &str = "MNIST_LAB_DATA";

/// One split: images kept as u8 (scaled to f32 per batch), labels 0..=9.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * PIXELS..(i + 1) * PIXELS]
    }

    /// The first `n` examples (all of them when `n` is None or larger than the split).
    pub fn subset(&self, n: Option<usize>) -> Split {
        let n = n.unwrap_or(self.len()).min(self.len());
        Split {
            images: self.images[..n * PIXELS].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }

    /// Writes the images at `indices` as f32 in [0,1] into `out` (len = indices * PIXELS).
    pub fn fill_batch(&self, indices: &[usize], out: &mut Vec<f32>) {
        out.clear();
        out.reserve(indices.len() * PIXELS);
        for &i in indices {
            out.extend(self.image(i).iter().map(|&p| p as f32 * (1.0 / 255.0)));
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub dir: PathBuf,
    pub train: Split,
    pub test: Split,
}

/// What makes two data sets the same for a run: the contents of the four IDX files (a hash
/// of the decoded images and labels, so `.gz` or not, and the folder's name, do not matter).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataIdentity {
    /// SHA-256 over the train images, train labels, test images and test labels.
    pub sha256: String,
    pub train: usize,
    pub test: usize,
}

impl std::fmt::Display for DataIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} train / {} test images, sha256 {}",
            self.train,
            self.test,
            &self.sha256[..self.sha256.len().min(12)]
        )
    }
}

impl Dataset {
    /// The data set's identity (hashes about 55 MB for MNIST: a fraction of a second).
    pub fn identity(&self) -> DataIdentity {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [
            &self.train.images,
            &self.train.labels,
            &self.test.images,
            &self.test.labels,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        DataIdentity {
            sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            train: self.train.len(),
            test: self.test.len(),
        }
    }
}

/// The file names of the four standard files, uncompressed.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Where data comes from when nothing is said: `$MNIST_LAB_DATA`, `./data/mnist`, then the
/// copy shipped in the source tree (so `cargo run` works from anywhere, offline).
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_ENV) {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("data/mnist");
    if local.is_dir() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/mnist")
}

/// Finds `name` or `name.gz` in `dir`.
fn locate(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    for path in [&plain, &gz] {
        match std::fs::metadata(path) {
            Ok(_) => return Ok(path.clone()),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(DataError::SymlinkLoop { path: path.clone() })
            }
            // A link to nothing is reported as the real error, not as "not found".
            Err(source) if std::fs::symlink_metadata(path).is_ok() => {
                return Err(DataError::Io {
                    path: path.clone(),
                    error: source,
                })
            }
            Err(_) => {}
        }
    }
    Err(DataError::Missing { path: plain })
}

fn read_checked(
    dir: &Path,
    name: &str,
    sums: &[(String, String)],
) -> Result<(PathBuf, Vec<u8>), DataError> {
    let path = locate(dir, name)?;
    let bytes = idx::read_maybe_gz(&path)?;
    if let Some((_, expected)) = sums.iter().find(|(n, _)| n.trim_end_matches(".gz") == name) {
        let found = idx::sha256_hex(&bytes);
        if &found != expected {
            return Err(DataError::Checksum {
                path,
                expected: expected.clone(),
                found,
            });
        }
    }
    Ok((path, bytes))
}

fn load_split(
    dir: &Path,
    images: &str,
    labels: &str,
    sums: &[(String, String)],
) -> Result<Split, DataError> {
    let (ipath, ibytes) = read_checked(dir, images, sums)?;
    let imgs = idx::parse_images(&ipath, &ibytes, IMAGE_SIDE, IMAGE_SIDE)?;
    drop(ibytes);
    let (lpath, lbytes) = read_checked(dir, labels, sums)?;
    let labels = idx::parse_labels(&lpath, &lbytes)?;
    if imgs.count == 0 {
        return Err(DataError::NoExamples { path: ipath });
    }
    if imgs.count != labels.len() {
        return Err(DataError::CountMismatch {
            images: ipath,
            labels: lpath,
            n_images: imgs.count,
            n_labels: labels.len(),
        });
    }
    Ok(Split {
        images: imgs.pixels,
        labels,
    })
}

/// Loads the four IDX files of `dir`, verifying `SHA256SUMS` when the folder has one.
pub fn load_dir(dir: &Path) -> Result<Dataset, DataError> {
    if dir.as_os_str().is_empty() {
        return Err(DataError::EmptyPath);
    }
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(DataError::NotAFolder {
                path: dir.to_path_buf(),
            })
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(DataError::SymlinkLoop {
                path: dir.to_path_buf(),
            })
        }
        Err(_) => {
            return Err(DataError::Missing {
                path: dir.to_path_buf(),
            })
        }
    }
    let sums_path = dir.join("SHA256SUMS");
    let sums = match std::fs::read_to_string(&sums_path) {
        Ok(text) => idx::parse_sums(&sums_path, &text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(DataError::Io {
                path: sums_path,
                error: source,
            })
        }
    };
    let train = load_split(dir, FILES[0], FILES[1], &sums)?;
    let test = load_split(dir, FILES[2], FILES[3], &sums)?;
    Ok(Dataset {
        dir: dir.to_path_buf(),
        train,
        test,
    })
}

/// A seeded permutation of `0..n` for one epoch: same seed and epoch, same order.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(epoch as u64),
    );
    order.shuffle(&mut rng);
    order
}

/// Splits an epoch's order into batches. A final batch of one example is merged into the
/// previous one: batch statistics of a single example are undefined (infinite variance).
pub fn batches(order: &[usize], batch_size: usize) -> Vec<&[usize]> {
    let mut out: Vec<&[usize]> = order.chunks(batch_size.max(1)).collect();
    if out.len() >= 2 && out[out.len() - 1].len() == 1 {
        out.pop();
        let n = out.len();
        let start = (n - 1) * batch_size;
        out[n - 1] = &order[start..];
    }
    out
}

/// How many batches `batches` makes of `n` examples, without building them.
pub fn batch_count(n: usize, batch_size: usize) -> usize {
    let b = batch_size.max(1);
    let count = n.div_ceil(b);
    // The same rule as `batches`: a last batch of one example joins the one before it.
    if count >= 2 && n - (count - 1) * b == 1 {
        count - 1
    } else {
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_merge_a_trailing_single_example() {
        let order: Vec<usize> = (0..9).collect();
        let b = batches(&order, 4);
        assert_eq!(b.len(), 2);
        assert_eq!(b[1], &[4, 5, 6, 7, 8]);
        let b = batches(&order, 3);
        assert_eq!(b.len(), 3);
        for n in 0..40 {
            for bs in 1..9 {
                let order: Vec<usize> = (0..n).collect();
                assert_eq!(
                    batch_count(n, bs),
                    batches(&order, bs).len(),
                    "n {n} bs {bs}"
                );
            }
        }
    }

    #[test]
    fn epoch_order_is_a_seeded_permutation() {
        let a = epoch_order(100, 7, 0);
        let b = epoch_order(100, 7, 0);
        let c = epoch_order(100, 7, 1);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut s = a.clone();
        s.sort();
        assert_eq!(s, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn fill_batch_scales_by_1_over_255() {
        let split = Split {
            images: (0..2 * PIXELS).map(|i| (i % 256) as u8).collect(),
            labels: vec![1, 2],
        };
        let mut out = Vec::new();
        split.fill_batch(&[1], &mut out);
        assert_eq!(out.len(), PIXELS);
        assert!((out[0] - (PIXELS % 256) as f32 / 255.0).abs() < 1e-7);
    }
}
