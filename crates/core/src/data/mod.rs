//! A data set of IDX files (MNIST's format): loading a folder, its classes, subsets,
//! shuffled batches. Images may be any rows × cols; classes come from the labels.

pub mod classes;
pub mod idx;

use std::path::{Path, PathBuf};

pub use classes::Classes;
pub use idx::DataError;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::spec::Io;

/// Environment variable that points at another folder of IDX files.
pub const DATA_ENV: &str = "MNIST_LAB_DATA";

/// The identity hash of the MNIST shipped in `data/mnist` (`Dataset::identity`): the study's
/// reference numbers are shown only for runs on it.
pub const MNIST_SHA256: &str = "979e081520cdfe92cbc9643ead5b074180ca1113bbc6dc45cf9621bbecaef15c";

/// One split: images kept as u8 (scaled to f32 per batch), labels `0..K`.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    /// Pixels per image (rows × cols).
    pub pixels: usize,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Fraction of its pixels that are not zero (what the sparse first layer skips).
    pub fn density(&self) -> f64 {
        let nonzero = self.images.iter().filter(|&&p| p != 0).count();
        nonzero as f64 / self.images.len().max(1) as f64
    }

    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * self.pixels..(i + 1) * self.pixels]
    }

    /// The first `n` examples (all of them when `n` is None or larger than the split).
    pub fn subset(&self, n: Option<usize>) -> Split {
        let n = n.unwrap_or(self.len()).min(self.len());
        Split {
            images: self.images[..n * self.pixels].to_vec(),
            labels: self.labels[..n].to_vec(),
            pixels: self.pixels,
        }
    }

    /// Writes the images at `indices` as f32 in \[0, 1\] into `out` (len = indices × pixels).
    pub fn fill_batch(&self, indices: &[usize], out: &mut Vec<f32>) {
        out.clear();
        out.reserve(indices.len() * self.pixels);
        for &i in indices {
            out.extend(self.image(i).iter().map(|&p| p as f32 * (1.0 / 255.0)));
        }
    }
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub dir: PathBuf,
    pub train: Split,
    pub test: Split,
    pub rows: usize,
    pub cols: usize,
    pub classes: Classes,
    /// Hashed once, on first use.
    identity: std::sync::OnceLock<DataIdentity>,
}

/// What makes two data sets the same for a run: the contents of the four IDX files (a hash
/// of the decoded images and labels, so `.gz` or not, and the folder's name, do not matter)
/// and the images' shape. The name and class count are said, not compared (the hash holds
/// the labels).
#[derive(Debug, Clone, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataIdentity {
    /// SHA-256 over the train images, train labels, test images and test labels.
    pub sha256: String,
    pub train: usize,
    pub test: usize,
    /// The folder's name (runs recorded before it: empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Image rows and columns, and classes (runs recorded before them were MNIST's).
    #[serde(default = "mnist_side")]
    pub rows: usize,
    #[serde(default = "mnist_side")]
    pub cols: usize,
    #[serde(default = "mnist_classes")]
    pub classes: usize,
}

fn mnist_side() -> usize {
    28
}
fn mnist_classes() -> usize {
    10
}

impl PartialEq for DataIdentity {
    fn eq(&self, other: &Self) -> bool {
        (&self.sha256, self.train, self.test, self.rows, self.cols)
            == (
                &other.sha256,
                other.train,
                other.test,
                other.rows,
                other.cols,
            )
    }
}

impl DataIdentity {
    /// Whether this is the MNIST the study used (its reference numbers apply).
    pub fn is_mnist(&self) -> bool {
        self.sha256 == MNIST_SHA256
    }
}

impl std::fmt::Display for DataIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.name.is_empty() {
            write!(f, "{}: ", self.name)?;
        }
        write!(
            f,
            "{}×{} images, {} classes, {} train / {} test, sha256 {}",
            self.rows,
            self.cols,
            self.classes,
            self.train,
            self.test,
            &self.sha256[..self.sha256.len().min(12)]
        )
    }
}

/// Equal contents, whether or not either was hashed yet.
impl PartialEq for Dataset {
    fn eq(&self, o: &Self) -> bool {
        (
            &self.dir,
            &self.train,
            &self.test,
            self.rows,
            self.cols,
            &self.classes,
        ) == (&o.dir, &o.train, &o.test, o.rows, o.cols, &o.classes)
    }
}

impl Dataset {
    /// A data set from splits already in memory (tests, tools), its labels already `0..classes`
    /// (the caller's word: no rule of `classes` is applied).
    pub fn in_memory(
        dir: &Path,
        train: Split,
        test: Split,
        (rows, cols): (usize, usize),
        classes: usize,
    ) -> Dataset {
        Dataset {
            dir: dir.to_path_buf(),
            train,
            test,
            rows,
            cols,
            classes: Classes::count_only(classes),
            identity: Default::default(),
        }
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// The sizes a network's ends take on this data set.
    pub fn io(&self) -> Io {
        Io {
            inputs: self.pixels(),
            classes: self.classes.count,
        }
    }

    /// The data set's name: its folder's.
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The data set's identity (hashes about 55 MB for MNIST, a fraction of a second, once).
    pub fn identity(&self) -> DataIdentity {
        self.identity.get_or_init(|| self.hash()).clone()
    }

    fn hash(&self) -> DataIdentity {
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
            name: self.name(),
            rows: self.rows,
            cols: self.cols,
            classes: self.classes.count,
        }
    }
}

/// The file names of the four standard files, uncompressed.
/// The most bytes a weights file of `arch` can hold on any data set this program reads (see
/// `Arch::weights_bytes_at_most`): the bound a weights file is read within.
pub fn max_weights_bytes(arch: &crate::spec::Arch) -> u64 {
    arch.weights_bytes_at_most(
        idx::MAX_PIXELS,
        classes::MAX_CLASSES,
        crate::files::WEIGHTS_HEADER,
    )
}

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
    // This crate lives in `crates/core` of the workspace; the data in its root.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .unwrap_or(manifest)
        .join("data/mnist")
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
    let magic = if name.contains("idx3") {
        idx::IMAGES_MAGIC
    } else {
        idx::LABELS_MAGIC
    };
    let bytes = idx::read_idx(&path, Some(magic))?;
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

/// One split as read, its labels not yet mapped to classes.
struct Loaded {
    split: Split,
    rows: u32,
    cols: u32,
    labels_path: PathBuf,
}

/// Reads one split; `shape` is the other split's image size, which this one must match.
fn load_split(
    dir: &Path,
    images: &str,
    labels: &str,
    sums: &[(String, String)],
    shape: Option<(u32, u32)>,
) -> Result<Loaded, DataError> {
    let (ipath, ibytes) = read_checked(dir, images, sums)?;
    let imgs = idx::parse_images(&ipath, &ibytes, shape)?;
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
    Ok(Loaded {
        split: Split {
            images: imgs.pixels,
            labels,
            pixels: imgs.rows as usize * imgs.cols as usize,
        },
        rows: imgs.rows,
        cols: imgs.cols,
        labels_path: lpath,
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
    let sums = match crate::files::read_data_text(&sums_path) {
        Ok(text) => idx::parse_sums(&sums_path, &text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(DataError::NotAFile(e.to_string()))
        }
        Err(source) => {
            return Err(DataError::Io {
                path: sums_path,
                error: source,
            })
        }
    };
    let mut train = load_split(dir, FILES[0], FILES[1], &sums, None)?;
    let mut test = load_split(
        dir,
        FILES[2],
        FILES[3],
        &sums,
        Some((train.rows, train.cols)),
    )?;
    let classes = classes::settle(
        classes::Labels {
            path: &train.labels_path,
            labels: &mut train.split.labels,
        },
        classes::Labels {
            path: &test.labels_path,
            labels: &mut test.split.labels,
        },
        classes::read_names(dir)?,
    )?;
    Ok(Dataset {
        dir: dir.to_path_buf(),
        rows: train.rows as usize,
        cols: train.cols as usize,
        train: train.split,
        test: test.split,
        classes,
        identity: Default::default(),
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
        let pixels = 784;
        let split = Split {
            images: (0..2 * pixels).map(|i| (i % 256) as u8).collect(),
            labels: vec![1, 2],
            pixels,
        };
        let mut out = Vec::new();
        split.fill_batch(&[1], &mut out);
        assert_eq!(out.len(), pixels);
        assert!((out[0] - (pixels % 256) as f32 / 255.0).abs() < 1e-7);
    }
}
