//! `export --tensorboard`: one folder of event files per unit. That TensorBoard's own reader
//! gives back the numbers of epochs.csv is checked by `tests/tensorboard/run.sh`, a step of
//! `.ci/run` (it installs TensorBoard from PyPI; `cargo test` installs nothing).

mod common;

use common::bin;

use common::succeeded as ok;

#[test]
fn tensorboard_export_writes_one_event_file_per_unit() {
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
    for d in &dirs {
        assert!(!d.contains('/'), "one folder per unit: {d}");
        let events: Vec<_> = std::fs::read_dir(tb.join(d))
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("events.out.tfevents.")
            })
            .collect();
        assert_eq!(events.len(), 1, "{d}");
        assert!(events[0].metadata().unwrap().len() > 100, "{d}");
    }
    assert_eq!(std::fs::read_dir(&tb).unwrap().count(), 3);
    assert!(csv_dir.join("epochs.csv").is_file());
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
