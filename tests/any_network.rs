//! Any widths and depths, any IDX data set: architectures outside the dfdx menu train, save,
//! reload and evaluate to their recorded numbers; weights written before still load; data
//! sets of other shapes and class counts train, and bad labels give one clear error.

mod common;

use std::path::Path;

use common::{bin, succeeded};
use mnist_lab::data::{self, idx, FILES};

/// `eval`'s recomputed and recorded numbers: ((acc, loss) now, (acc, loss) recorded).
fn eval_numbers(text: &str) -> ((String, String), (String, String)) {
    let num = |part: &str, after: &str| {
        let at = part
            .find(after)
            .unwrap_or_else(|| panic!("{after:?} in {text}"))
            + after.len();
        part[at..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<String>()
    };
    let (now, recorded) = text
        .split_once("(recorded:")
        .unwrap_or_else(|| panic!("{text}"));
    (
        (num(now, "test accuracy "), num(now, "test loss ")),
        (num(recorded, "accuracy "), num(recorded, "loss ")),
    )
}

fn eval(dir: &Path, variant: &str, data: Option<&Path>) -> String {
    let mut c = bin();
    c.arg("eval").arg(dir).arg(variant);
    if let Some(d) = data {
        c.arg("--data").arg(d);
    }
    succeeded(&c.output().unwrap())
}

fn only_run(root: &Path) -> std::path::PathBuf {
    common::only_run_dir(root)
}

/// Writes an IDX data set into `dir`.
fn write_idx(dir: &Path, (rows, cols): (u32, u32), train: (&[u8], &[u8]), test: (&[u8], &[u8])) {
    let images = |pixels: &[u8]| {
        let n = (pixels.len() / (rows * cols) as usize) as u32;
        let mut v = Vec::new();
        for x in [idx::IMAGES_MAGIC, n, rows, cols] {
            v.extend(x.to_be_bytes());
        }
        v.extend_from_slice(pixels);
        v
    };
    let labels = |l: &[u8]| {
        let mut v = Vec::new();
        for x in [idx::LABELS_MAGIC, l.len() as u32] {
            v.extend(x.to_be_bytes());
        }
        v.extend_from_slice(l);
        v
    };
    std::fs::write(dir.join(FILES[0]), images(train.0)).unwrap();
    std::fs::write(dir.join(FILES[1]), labels(train.1)).unwrap();
    std::fs::write(dir.join(FILES[2]), images(test.0)).unwrap();
    std::fs::write(dir.join(FILES[3]), labels(test.1)).unwrap();
}

/// MNIST's digits 0..=4 shrunk to 14×14 (each pixel the mean of its 2×2): a 5-class set of
/// `train` and `test` images.
fn small_digits(dir: &Path, train: usize, test: usize) {
    let m = common::mnist();
    let shrink = |split: &data::Split, n: usize| {
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for i in (0..split.len()).filter(|&i| split.labels[i] < 5).take(n) {
            let img = split.image(i);
            for r in 0..14 {
                for c in 0..14 {
                    let sum: u32 = [(0, 0), (0, 1), (1, 0), (1, 1)]
                        .iter()
                        .map(|(dr, dc)| img[(2 * r + dr) * 28 + 2 * c + dc] as u32)
                        .sum();
                    pixels.push((sum / 4) as u8);
                }
            }
            labels.push(split.labels[i]);
        }
        (pixels, labels)
    };
    let (tr, te) = (shrink(&m.train, train), shrink(&m.test, test));
    write_idx(dir, (14, 14), (&tr.0, &tr.1), (&te.0, &te.1));
}

const WIDTHS_PRESET: &str = r#"(
    name: "widths",
    description: "architectures outside the dfdx menu, in both spellings",
    defaults: (epochs: 1, batch_size: 64, optimizer: Adam(lr: 0.001), dropout: 0.2, seed: 5,
               train_subset: 2000, test_subset: 500),
    variants: [
        (name: "wide", arch: "1000-300", placement: Every),
        (name: "one", arch: [64], placement: None),
        (name: "three", arch: [48, 24, 12], placement: Last),
        (name: "menu", arch: "128-64", placement: First),
    ],
)"#;

/// Architectures outside the menu (and one in it) train, their weights are saved in the one
/// layout, and `eval` reloads them to exactly the numbers training recorded.
#[test]
fn any_architecture_trains_saves_reloads_and_evaluates_to_the_recorded_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tmp.path().join("widths.ron");
    std::fs::write(&preset, WIDTHS_PRESET).unwrap();
    let root = tmp.path().join("runs");
    let text = succeeded(
        &bin()
            .args(["run"])
            .arg(&preset)
            .arg("--runs-dir")
            .arg(&root)
            .output()
            .unwrap(),
    );
    assert!(text.contains("4 of 4 units finished"), "{text}");
    let dir = only_run(&root);
    for variant in ["wide", "one", "three", "menu"] {
        let out = eval(&dir, variant, None);
        let (now, recorded) = eval_numbers(&out);
        assert_eq!(now, recorded, "{variant}: {out}");
        let acc: f64 = now.0.parse().unwrap();
        // Chance is 0.1; 31 steps teach even the narrow three-layer net more than that.
        assert!(acc > 0.25, "{variant} learnt something in an epoch: {out}");
    }
    // The three-layer net's file has dfdx's names and shapes, like every other.
    let weights = std::fs::read_dir(dir.join("weights"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("three")
        })
        .expect("weights of three");
    let bytes = std::fs::read(weights).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    for (name, shape) in [
        ("0.linear.weight", vec![48, 784]),
        ("1.0.linear.weight", vec![24, 48]),
        ("1.1.0.linear.weight", vec![12, 24]),
        ("1.1.0.bn.running_var", vec![12]),
        ("1.1.1.weight", vec![10, 12]),
        ("1.1.1.bias", vec![10]),
    ] {
        assert_eq!(st.tensor(name).unwrap().shape(), shape, "{name}");
    }
    assert_eq!(
        st.names().len(),
        3 * 6 + 2 + 3 * 2,
        "tensors and BN scalars"
    );
}

/// Weights saved through dfdx's visitor before any width was allowed (a run made at
/// d73d0ef, see tests/reference/old-weights) load and evaluate to their recorded numbers,
/// and training the same preset again gives the same numbers: the fast path draws dfdx's
/// starting weights.
#[test]
fn weights_written_before_any_width_was_allowed_still_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/old-weights/run");
    std::fs::create_dir_all(dir.join("units")).unwrap();
    std::fs::create_dir_all(dir.join("weights")).unwrap();
    for sub in ["run.json", "units/0000.json"] {
        std::fs::copy(src.join(sub), dir.join(sub)).unwrap();
    }
    for f in std::fs::read_dir(src.join("weights")).unwrap().flatten() {
        std::fs::copy(f.path(), dir.join("weights").join(f.file_name())).unwrap();
    }
    let out = eval(&dir, "128-64 every", None);
    assert!(
        out.contains("test accuracy 0.6400, test loss 1.5180 on 500 images (recorded: accuracy 0.6400, loss 1.5180)"),
        "{out}"
    );
    let preset =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/old-weights/preset.ron");
    let text = succeeded(
        &bin()
            .arg("run")
            .arg(&preset)
            .arg("--runs-dir")
            .arg(tmp.path().join("again"))
            .output()
            .unwrap(),
    );
    assert!(
        text.contains("train loss 1.5301 acc 0.5169 | val loss 1.3842 acc 0.7289 | test loss 1.5180 acc 0.6400"),
        "the same numbers as at d73d0ef: {text}"
    );
}

/// `run PRESET` (its text) on a 14×14 data set of 5 classes (3,000 train, 600 test images)
/// in `tmp/digits-0-4`, with `extra` arguments: its output, the data folder, the runs folder.
fn run_on_small_digits(
    tmp: &Path,
    preset_text: &str,
    extra: &[&str],
) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let data_dir = tmp.join("digits-0-4");
    std::fs::create_dir(&data_dir).unwrap();
    small_digits(&data_dir, 3000, 600);
    let preset = tmp.join("p.ron");
    std::fs::write(&preset, preset_text).unwrap();
    let root = tmp.join("runs");
    let text = succeeded(
        &bin()
            .arg("run")
            .arg(&preset)
            .arg("--data")
            .arg(&data_dir)
            .arg("--runs-dir")
            .arg(&root)
            .args(extra)
            .output()
            .unwrap(),
    );
    (text, data_dir, root)
}

/// A 14×14 data set of 5 classes trains and reports: the run says which data it is, leaves
/// out the study's numbers, records the shape and classes, and exports a 5×5 confusion.
#[test]
fn a_14x14_data_set_of_5_classes_trains_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let (text, data_dir, root) = run_on_small_digits(
        tmp.path(),
        r#"(name: "small", defaults: (epochs: 2, batch_size: 64, seed: 2, dropout: 0.1),
            variants: [(name: "64 every", arch: "64", placement: Every,
                        reference: (test_loss: 0.1, test_acc: 0.98))])"#,
        &["--export"],
    );
    assert!(
        text.contains("data digits-0-4: 14×14 images, 5 classes, 3000 train / 600 test"),
        "{text}"
    );
    assert!(
        text.contains("the study's numbers are MNIST's: not shown"),
        "{text}"
    );
    let last = text
        .lines()
        .rfind(|l| l.contains("epoch   2/2"))
        .unwrap_or_else(|| panic!("{text}"));
    let acc: f64 = last
        .split("test loss ")
        .nth(1)
        .and_then(|s| s.split("acc ").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(acc > 0.9, "5 digit classes at 14x14 are easy: {last}");
    let dir = only_run(&root);
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    let d = &run["data"];
    assert_eq!(
        (
            d["rows"].as_u64(),
            d["cols"].as_u64(),
            d["classes"].as_u64()
        ),
        (Some(14), Some(14), Some(5))
    );
    assert_eq!(d["name"].as_str(), Some("digits-0-4"));
    assert!(
        run["units"][0]["spec"]["reference"].is_null(),
        "no study numbers: {run}"
    );
    let csv = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .chain(
            std::fs::read_dir(dir.join("export"))
                .into_iter()
                .flatten()
                .flatten(),
        )
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("confusion-")
                && p.extension().is_some_and(|e| e == "csv")
        })
        .unwrap_or_else(|| panic!("a confusion CSV in {}", dir.display()));
    let csv = std::fs::read_to_string(csv).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("true\\predicted,0,1,2,3,4"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 6);
    // Its weights reload to the recorded numbers on this data set.
    let out = eval(&dir, "64 every", Some(&data_dir));
    let (now, recorded) = eval_numbers(&out);
    assert_eq!(now, recorded, "{out}");
}

/// EMNIST letters number their 26 classes 1..26: read as 0..25 and said so.
#[test]
fn emnist_letters_labels_1_to_26_are_read_as_0_to_25_and_said() {
    let tmp = tempfile::tempdir().unwrap();
    let m = common::mnist();
    let (n, t) = (2600, 520);
    let label = |i: usize| 1 + (i % 26) as u8;
    let train: Vec<u8> = (0..n).map(label).collect();
    let test: Vec<u8> = (0..t).map(label).collect();
    write_idx(
        tmp.path(),
        (28, 28),
        (&m.train.images[..n * 784], &train),
        (&m.test.images[..t * 784], &test),
    );
    let d = data::load_dir(tmp.path()).unwrap();
    assert_eq!((d.classes.count, d.classes.offset), (26, 1));
    assert_eq!((d.train.labels[0], d.train.labels[25]), (0, 25));
    assert_eq!(d.test.labels.iter().max(), Some(&25));
    let note = d.classes.note().unwrap();
    assert!(
        note.contains("labels 1..26 read as classes 0..25"),
        "{note}"
    );
    let preset = tmp.path().join("p.ron");
    std::fs::write(
        &preset,
        r#"(name: "letters", defaults: (epochs: 1, arch: "32", seed: 1),
            variants: [(name: "a", placement: None)])"#,
    )
    .unwrap();
    let text = succeeded(
        &bin()
            .arg("run")
            .arg(&preset)
            .arg("--data")
            .arg(tmp.path())
            .arg("--runs-dir")
            .arg(tmp.path().join("runs"))
            .output()
            .unwrap(),
    );
    assert!(
        text.contains("26 classes") && text.contains("labels 1..26 read as classes 0..25"),
        "{text}"
    );
    assert!(text.contains("1 of 1 units finished"), "{text}");
}

/// A label outside the classes `classes.txt` declares, and test images of a class no
/// training image has: each refused before training, in one message naming the file.
#[test]
fn bad_labels_give_one_clear_error() {
    let m = common::mnist();
    let run = |dir: &Path| {
        let out = bin()
            .args([
                "run",
                "quick",
                "--train-subset",
                "100",
                "--epochs",
                "1",
                "--data",
            ])
            .arg(dir)
            .arg("--runs-dir")
            .arg(dir.join("runs"))
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let train: Vec<u8> = (0..300).map(|i| (i % 5) as u8).collect();
    // Declared 5 classes, a training label 7.
    let tmp = tempfile::tempdir().unwrap();
    let mut bad = train.clone();
    bad[42] = 7;
    write_idx(
        tmp.path(),
        (28, 28),
        (&m.train.images[..300 * 784], &bad),
        (&m.test.images[..50 * 784], &train[..50]),
    );
    std::fs::write(tmp.path().join("classes.txt"), "a\nb\nc\nd\ne\n").unwrap();
    let err = run(tmp.path());
    assert!(
        err.contains(FILES[1])
            && err.contains("label 7 at index 42 is outside the 5 classes named in"),
        "{err}"
    );
    assert_eq!(err.matches("label 7").count(), 1, "said once: {err}");
    // Test images of class 6, which training never saw.
    let tmp = tempfile::tempdir().unwrap();
    let mut test = train[..50].to_vec();
    test[3] = 6;
    test[9] = 6;
    write_idx(
        tmp.path(),
        (28, 28),
        (&m.train.images[..300 * 784], &train),
        (&m.test.images[..50 * 784], &test),
    );
    let err = run(tmp.path());
    assert!(
        err.contains(FILES[3])
            && err.contains("2 test images are of class 6, which no training image has")
            && err.contains("first at index 3"),
        "{err}"
    );
}

/// dfdx's networks are compile-time types: `--kernel dfdx` outside the menu is refused with
/// the reason, before anything trains.
#[test]
fn kernel_dfdx_is_refused_outside_the_menu_with_the_reason() {
    let out = bin()
        .args([
            "bench", "--kernel", "dfdx", "--arch", "1000-300", "--epochs", "1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1000-300")
            && err.contains("compile-time dfdx type")
            && err.contains("fast path"),
        "{err}"
    );
    assert!(
        !err.contains("training 1000-300"),
        "refused before training: {err}"
    );
}

/// `list` shows the menu and says any widths work; `--arch` and bad widths are checked.
#[test]
fn list_shows_the_menu_and_says_any_widths_work() {
    let text = succeeded(&bin().arg("list").output().unwrap());
    assert!(text.contains("any hidden widths"), "{text}");
    assert!(text.contains("1 to 8 layers of 1 to 4096 units"), "{text}");
    for a in mnist_lab::spec::ARCHITECTURES {
        assert!(text.contains(a), "{a}: {text}");
    }
    let out = bin()
        .args(["run", "quick", "--arch", "512-0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--arch") && err.contains("a layer of width 0"),
        "{err}"
    );
}

/// A preset's subset larger than the data set is said at the start (issue "The dashboard
/// shows only what is true", 11: `--data` with 3,000 images once recorded `train_subset:
/// 20000` without a word).
#[test]
fn a_subset_larger_than_the_data_set_is_said() {
    let tmp = tempfile::tempdir().unwrap();
    let (text, ..) = run_on_small_digits(
        tmp.path(),
        r#"(name: "small", defaults: (epochs: 1, arch: "64", train_subset: 20000),
            variants: [(name: "a")])"#,
        &[],
    );
    assert!(
        text.contains(
            "note: train_subset 20000 is more than the 3000 training images: all 3000 are used"
        ),
        "{text}"
    );
}
