//! The numbers a preset produces are part of the Results (docs/RESULTS.md): they were measured with
//! them. This test recomputes a digest of every epoch of `quick`, of paper-2019's
//! "2L adam every" (3 epochs) and of one placement-grid unit (2 epochs) and fails when it differs from the digest the Results record,
//! so a change that alters training says so there (issue "Conclusions that survive a
//! referee", 12).

mod common;

use sha2::{Digest, Sha256};

/// SHA-256 over every unit's name and each epoch's losses and accuracies (f32 bits), units in
/// name order.
fn digest(dirs: &[std::path::PathBuf]) -> String {
    let mut h = Sha256::new();
    for dir in dirs {
        let record = mnist_lab::runs::load(dir).unwrap();
        let mut units: Vec<_> = record.units.iter().collect();
        units.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        for v in units {
            h.update(v.spec.name.as_bytes());
            for m in &v.history {
                for x in [
                    m.train_loss,
                    m.train_acc,
                    m.test_loss,
                    m.test_acc,
                    m.val_loss.unwrap_or(f32::NAN),
                    m.val_acc.unwrap_or(f32::NAN),
                ] {
                    h.update(x.to_bits().to_le_bytes());
                }
            }
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn train(args: &[&str], root: &std::path::Path) -> std::path::PathBuf {
    let out = common::bin()
        .args(args)
        .arg("--runs-dir")
        .arg(root)
        .output()
        .unwrap();
    common::succeeded(&out);
    common::only_run_dir(root)
}

#[test]
fn quick_and_one_paper_unit_train_the_numbers_the_readme_was_written_with() {
    let tmp = tempfile::tempdir().unwrap();
    let quick = train(&["run", "quick"], &tmp.path().join("q"));
    let paper = train(
        &[
            "run",
            "paper-2019",
            "--only",
            "2L adam every",
            "--epochs",
            "3",
        ],
        &tmp.path().join("p"),
    );
    // A placement-grid unit: 15,000 training images after the holdout, so each epoch ends in
    // a 24-row last batch (the case whose summation order once changed every grid unit while
    // this digest stayed the same).
    let grid = train(
        &[
            "run",
            "placement-grid",
            "--only",
            "512-128 · Every · 0.2",
            "--seeds",
            "1",
            "--epochs",
            "2",
        ],
        &tmp.path().join("g"),
    );
    let got = digest(&[quick, paper, grid]);
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/RESULTS.md"),
    )
    .unwrap();
    let recorded = readme
        .lines()
        .find_map(|l| l.split("Result digest: `").nth(1))
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("docs/RESULTS.md records no line \"Result digest: `{got}`\""));
    assert_eq!(
        got, recorded,
        "training now produces other numbers than the README's Results were measured with: \
         re-run the presets, update the Results and the digest line"
    );
}
