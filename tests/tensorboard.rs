//! `export --tensorboard`: the event files read back by TensorBoard's own EventAccumulator
//! (installed from PyPI by `tests/tensorboard/read.sh`) give the same numbers as epochs.csv.

mod common;

use common::bin;

use common::succeeded as ok;

#[test]
fn tensorboard_export_reads_back_as_epochs_csv_in_tensorboard() {
    let runs = tempfile::tempdir().unwrap();
    // Two seeds of a variant with a holdout (validation scalars) and a schedule (learning
    // rate), one without: units with and without the optional scalars.
    let preset = runs.path().join("tb.ron");
    std::fs::write(
        &preset,
        r#"(name: "tb", defaults: (arch: "128-64", epochs: 2, train_subset: 1200, test_subset: 300),
            variants: [
              (name: "held/out", seeds: 2, validation: Holdout(200), schedule: Some(Cosine(min_lr: 0.0001))),
              (name: "plain", validation: Test),
            ])"#,
    )
    .unwrap();
    ok(&bin()
        .arg("run")
        .arg(&preset)
        .arg("--runs-dir")
        .arg(runs.path())
        .output()
        .unwrap());
    let run_dir = std::fs::read_dir(runs.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a run folder");
    let csv_dir = runs.path().join("csv");
    ok(&bin()
        .arg("export")
        .arg(&run_dir)
        .arg("--to")
        .arg(&csv_dir)
        .output()
        .unwrap());
    let tb = runs.path().join("tb");
    let text = ok(&bin()
        .arg("export")
        .arg(&run_dir)
        .arg("--tensorboard")
        .arg(&tb)
        .output()
        .unwrap());
    assert!(text.contains("3 units"), "{text}");

    let record = mnist_lab::runs::load(&run_dir).unwrap();
    let dirs = mnist_lab::export::tensorboard::unit_dirs(&record);
    let mut mapping = String::from("unit,dir\n");
    for (v, d) in record.units.iter().zip(&dirs) {
        assert!(!d.contains('/'), "one folder per unit: {d}");
        mapping.push_str(&format!("\"{}\",{d}\n", v.spec.name));
    }
    let mapping_csv = runs.path().join("mapping.csv");
    std::fs::write(&mapping_csv, mapping).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tensorboard/read.sh");
    let out = std::process::Command::new(script)
        .arg(&tb)
        .arg(csv_dir.join("epochs.csv"))
        .arg(&mapping_csv)
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(text.contains("ok: 3 units"), "{text}");
}

#[test]
fn unit_folders_stay_distinct_when_names_collide_after_sanitising() {
    let p = mnist_lab::preset::parse(
        "<t>",
        r#"(name: "t", defaults: (arch: "128-64"),
            variants: [(name: "a/b"), (name: "a?b"), (name: "A_b")])"#,
    )
    .unwrap();
    let record =
        mnist_lab::runs::RunRecord::new(&p, mnist_lab::runs::record::Environment::detect("t"));
    let dirs = mnist_lab::export::tensorboard::unit_dirs(&record);
    let lower: std::collections::HashSet<_> = dirs.iter().map(|d| d.to_lowercase()).collect();
    assert_eq!(lower.len(), 3, "{dirs:?}");
}
