//! IDX loading: the shipped files, and every way a file can be wrong.

mod common;

use std::path::Path;

use mnist_lab::data::{self, idx, DataError, FILES};

fn images(count: u32, rows: u32, cols: u32, data_len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(idx::IMAGES_MAGIC.to_be_bytes());
    v.extend(count.to_be_bytes());
    v.extend(rows.to_be_bytes());
    v.extend(cols.to_be_bytes());
    v.extend((0..data_len).map(|i| (i % 256) as u8));
    v
}

fn labels(count: u32, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(idx::LABELS_MAGIC.to_be_bytes());
    v.extend(count.to_be_bytes());
    v.extend(data);
    v
}

/// Writes a valid tiny data set (n train, m test) into `dir`.
fn write_set(dir: &Path, n: u32, m: u32) {
    let px = 28 * 28;
    std::fs::write(dir.join(FILES[0]), images(n, 28, 28, n as usize * px)).unwrap();
    let train: Vec<u8> = (0..n).map(|i| (i % 4) as u8).collect();
    let test: Vec<u8> = (0..m).map(|i| (i % 3) as u8).collect();
    std::fs::write(dir.join(FILES[1]), labels(n, &train)).unwrap();
    std::fs::write(dir.join(FILES[2]), images(m, 28, 28, m as usize * px)).unwrap();
    std::fs::write(dir.join(FILES[3]), labels(m, &test)).unwrap();
}

#[test]
fn shipped_mnist_loads_with_verified_checksums() {
    let d = common::mnist();
    assert_eq!(d.train.len(), 60_000);
    assert_eq!(d.test.len(), 10_000);
    assert_eq!(d.train.images.len(), 60_000 * 784);
    // The first training label of MNIST is a 5, the first test label a 7.
    assert_eq!(d.train.labels[0], 5);
    assert_eq!(d.test.labels[0], 7);
}

#[test]
fn a_small_valid_set_loads_raw_and_gzipped() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), 5, 3);
    let d = data::load_dir(dir.path()).unwrap();
    assert_eq!((d.train.len(), d.test.len()), (5, 3));
    // gzip one of them: still loads
    let raw = std::fs::read(dir.path().join(FILES[0])).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    std::fs::remove_file(dir.path().join(FILES[0])).unwrap();
    std::fs::write(
        dir.path().join(format!("{}.gz", FILES[0])),
        gz.finish().unwrap(),
    )
    .unwrap();
    let d2 = data::load_dir(dir.path()).unwrap();
    assert_eq!(d.train, d2.train);
}

fn error_for(setup: impl FnOnce(&Path)) -> String {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), 5, 3);
    setup(dir.path());
    let err = data::load_dir(dir.path()).expect_err("should fail");
    err.to_string()
}

#[test]
fn wrong_magic_names_file_and_numbers() {
    let msg = error_for(|d| {
        let mut b = images(5, 28, 28, 5 * 784);
        b[3] = 0x01;
        std::fs::write(d.join(FILES[0]), b).unwrap();
    });
    assert!(msg.contains(FILES[0]), "{msg}");
    assert!(
        msg.contains("expected 0x00000803, found 0x00000801"),
        "{msg}"
    );
}

#[test]
fn truncated_images_say_expected_and_found() {
    let msg = error_for(|d| {
        std::fs::write(d.join(FILES[0]), images(5, 28, 28, 5 * 784 - 10)).unwrap();
    });
    assert!(msg.contains("truncated"), "{msg}");
    assert!(
        msg.contains("promises 3920 data bytes, found 3910"),
        "{msg}"
    );
}

#[test]
fn count_mismatch_between_images_and_labels() {
    let msg = error_for(|d| {
        std::fs::write(d.join(FILES[1]), labels(4, &[1, 2, 3, 4])).unwrap();
    });
    assert!(
        msg.contains("5 images but") && msg.contains("4 labels"),
        "{msg}"
    );
}

#[test]
fn wrong_image_size() {
    let msg = error_for(|d| {
        std::fs::write(d.join(FILES[2]), images(3, 32, 32, 3 * 1024)).unwrap();
    });
    assert!(
        msg.contains(FILES[2]) && msg.contains("expected 28x28, found 32x32"),
        "{msg}"
    );
}

#[test]
fn empty_file_and_short_header() {
    let msg = error_for(|d| std::fs::write(d.join(FILES[3]), b"").unwrap());
    assert!(msg.contains(FILES[3]) && msg.contains("empty"), "{msg}");
    let msg = error_for(|d| std::fs::write(d.join(FILES[3]), [0u8, 0, 8]).unwrap());
    assert!(msg.contains("header truncated"), "{msg}");
}

#[test]
fn corrupt_gzip_is_reported() {
    let msg = error_for(|d| {
        std::fs::remove_file(d.join(FILES[1])).unwrap();
        std::fs::write(
            d.join(format!("{}.gz", FILES[1])),
            [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
        )
        .unwrap();
    });
    assert!(msg.contains("gzip"), "{msg}");
    assert!(msg.contains(&format!("{}.gz", FILES[1])), "{msg}");
}

#[test]
fn missing_file_and_directory_in_its_place() {
    let msg = error_for(|d| std::fs::remove_file(d.join(FILES[2])).unwrap());
    assert!(msg.contains(FILES[2]) && msg.contains("not found"), "{msg}");
    let msg = error_for(|d| {
        std::fs::remove_file(d.join(FILES[2])).unwrap();
        std::fs::create_dir(d.join(FILES[2])).unwrap();
    });
    assert!(msg.contains("is a directory"), "{msg}");
}

#[test]
fn label_out_of_range() {
    let msg = error_for(|d| {
        let names: String = (0..10).map(|k| format!("digit {k}\n")).collect();
        std::fs::write(d.join("classes.txt"), names).unwrap();
        std::fs::write(d.join(FILES[1]), labels(5, &[0, 2, 12, 4, 5])).unwrap();
    });
    assert!(
        msg.contains(FILES[1])
            && msg.contains("label 12 at index 2 is outside the 10 classes named in")
            && msg.contains("classes.txt"),
        "{msg}"
    );
    // Undeclared, the classes are 0..=12 and 1, 3, 6..=11 have no training image.
    let msg = error_for(|d| {
        std::fs::write(d.join(FILES[1]), labels(5, &[0, 2, 12, 4, 5])).unwrap();
    });
    assert!(
        msg.contains(FILES[1]) && msg.contains("class 1 has no training image"),
        "{msg}"
    );
}

#[test]
fn checksum_mismatch_is_detected() {
    let msg = error_for(|d| {
        std::fs::write(
            d.join("SHA256SUMS"),
            format!("{}  {}\n", "0".repeat(64), FILES[0]),
        )
        .unwrap();
    });
    assert!(msg.contains("SHA-256 mismatch"), "{msg}");
    assert!(msg.contains(&"0".repeat(64)), "{msg}");
}

#[test]
fn parse_errors_never_panic_on_garbage_prefixes() {
    let good = images(2, 28, 28, 2 * 784);
    for cut in 0..good.len().min(64) {
        let r = idx::parse_images(Path::new("x"), &good[..cut], None);
        assert!(r.is_err());
    }
    assert!(matches!(
        idx::parse_images(Path::new("x"), &good, None),
        Ok(i) if i.count == 2
    ));
    let e = idx::parse_labels(Path::new("x"), &good).unwrap_err();
    assert!(matches!(e, DataError::Magic { .. }));
}
