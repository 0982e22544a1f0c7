//! Loading a batch for the fused net: packed sparse when it is sparse enough to pay, else
//! dense. The choice is made per batch from its measured density.

use super::net::Input;
use super::sparse::{SparseBatch, DENSE_ABOVE};

/// Images fetched ahead of the one being read.
const PREFETCH_AHEAD: usize = 4;

/// `images`, each yielded once the one `PREFETCH_AHEAD` further on has been asked into the
/// cache: a batch's images lie at random places in the data set, and each is a cache miss.
fn prefetched<'a>(
    images: impl Iterator<Item = &'a [u8]> + Clone,
) -> impl Iterator<Item = &'a [u8]> + Clone {
    let mut ahead = images.clone();
    for img in ahead.by_ref().take(PREFETCH_AHEAD) {
        prefetch(img);
    }
    images.inspect(move |_| {
        if let Some(img) = ahead.next() {
            prefetch(img);
        }
    })
}

/// Asks the CPU to bring `bytes` into its caches (a hint: nothing is read or can fault).
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        // SAFETY: a prefetch never faults, and the pointer lies inside `bytes`.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr() as *const i8
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// How the first layer reads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputMode {
    /// Sparse below `DENSE_ABOVE` density, dense above.
    #[default]
    Auto,
    Dense,
    Sparse,
}

/// One batch's input, with buffers reused from batch to batch.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    dense: Vec<f32>,
    sparse: SparseBatch,
    is_sparse: bool,
}

impl Batch {
    /// Loads u8 images of `cols` pixels, scaled by 1/255. `for_training` also builds what
    /// the weight gradient needs.
    pub fn load<'a, I>(&mut self, images: I, cols: usize, mode: InputMode, for_training: bool)
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        self.is_sparse = match mode {
            InputMode::Dense => false,
            InputMode::Sparse => true,
            InputMode::Auto => {
                let (mut nnz, mut total) = (0usize, 0usize);
                for img in prefetched(images.clone()) {
                    nnz += img.iter().filter(|&&p| p != 0).count();
                    total += img.len();
                }
                (nnz as f64) <= DENSE_ABOVE * total as f64
            }
        };
        // The count above brought the images into the cache; otherwise this is the first read.
        if mode == InputMode::Auto {
            self.fill(images, cols, for_training);
        } else {
            self.fill(prefetched(images), cols, for_training);
        }
    }

    /// Packs (sparse) or scales (dense) the images, as `is_sparse` says.
    fn fill<'a>(
        &mut self,
        images: impl Iterator<Item = &'a [u8]>,
        cols: usize,
        for_training: bool,
    ) {
        if self.is_sparse {
            self.sparse.pack_u8(images, cols, for_training);
        } else {
            self.dense.clear();
            for img in images {
                self.dense
                    .extend(img.iter().map(|&p| p as f32 * (1.0 / 255.0)));
            }
        }
    }

    pub fn is_sparse(&self) -> bool {
        self.is_sparse
    }

    pub fn input(&self) -> Input<'_> {
        if self.is_sparse {
            Input::Sparse(&self.sparse)
        } else {
            Input::Dense(&self.dense)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetched_images_come_in_order_each_once() {
        let imgs: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; 100]).collect();
        for n in [0, 1, PREFETCH_AHEAD, 7] {
            let got: Vec<&[u8]> = prefetched(imgs[..n].iter().map(Vec::as_slice)).collect();
            let want: Vec<&[u8]> = imgs[..n].iter().map(Vec::as_slice).collect();
            assert_eq!(got, want, "{n} images");
        }
    }

    #[test]
    fn auto_picks_sparse_for_sparse_images_and_dense_for_dense_ones() {
        let sparse_img = [0u8, 0, 0, 9];
        let dense_img = [1u8, 2, 3, 0];
        let mut b = Batch::default();
        b.load([&sparse_img[..]].into_iter(), 4, InputMode::Auto, true);
        assert!(b.is_sparse());
        b.load([&dense_img[..]].into_iter(), 4, InputMode::Auto, true);
        assert!(!b.is_sparse());
        match b.input() {
            Input::Dense(x) => {
                let scaled = |p: f32| p * (1.0 / 255.0);
                assert_eq!(x, &[scaled(1.0), scaled(2.0), scaled(3.0), 0.0])
            }
            Input::Sparse(_) => panic!("dense expected"),
        }
        b.load([&dense_img[..]].into_iter(), 4, InputMode::Sparse, true);
        assert!(b.is_sparse(), "a forced mode wins over the density");
    }
}
