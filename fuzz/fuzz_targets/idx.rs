//! Any bytes as an IDX file (raw or gzipped): parsing must return Ok or an error, never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mnist_lab::data::idx;

fuzz_target!(|data: &[u8]| {
    let p = Path::new("fuzz.idx");
    if let Ok(bytes) = idx::decode_maybe_gz(p, data.to_vec()) {
        let _ = idx::parse_images(p, &bytes, None);
        let _ = idx::parse_labels(p, &bytes);
    }
    let _ = idx::parse_sums(p, &String::from_utf8_lossy(data));
});
