//! Exports register themselves: one list (`export::FILES`) says which files an export writes,
//! and every export, the TensorBoard one too, goes through `export::export`.

use mnist_lab::export::{self, Format, FILES};
use mnist_lab::preset;
use mnist_lab::runs::{record::Environment, RunRecord, UnitStatus};
use mnist_lab::spec::{EpochMetrics, Metric};

fn finished_run() -> RunRecord {
    let p = preset::parse(
        "<test>",
        r#"(name: "x", defaults: (arch: "256", epochs: 2, seeds: 2, validation: Test),
            variants: [(name: "a"), (name: "b", dropout: 0.3)])"#,
    )
    .unwrap();
    let mut r = RunRecord::new(&p, Environment::detect("t"));
    for (k, v) in r.units.iter_mut().enumerate() {
        v.status = UnitStatus::Finished;
        for epoch in 1..=2 {
            v.history.push(EpochMetrics {
                epoch,
                train_loss: 0.5 / epoch as f32,
                train_acc: 0.8,
                test_loss: 0.4 / epoch as f32 + 0.01 * k as f32,
                test_acc: 0.85,
                lr: Some(0.001),
                ..Default::default()
            });
        }
    }
    r
}

#[test]
fn an_export_writes_every_registered_file_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let r = finished_run();
    let out = tmp.path().join("out");
    let written = export::export(Format::Files, tmp.path(), &out, &r, None).unwrap();
    let names: Vec<&str> = FILES.iter().map(|f| f.file).collect();
    for name in &names {
        let len = std::fs::metadata(out.join(name))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 0, "{name} was not written");
        assert!(written.files.iter().any(|f| f == name), "{written:?}");
    }
    // Nothing but the registered files, the run's copy and the export's mark.
    let mut on_disk: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    expected.extend(["run.json".to_string(), export::EXPORT_MARK.to_string()]);
    expected.sort();
    assert_eq!(on_disk, expected);
}

#[test]
fn tensorboard_goes_through_the_same_entry_point_with_one_tag_per_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let r = finished_run();
    let tb = tmp.path().join("tb");
    let written = export::export(Format::TensorBoard, tmp.path(), &tb, &r, None).unwrap();
    assert_eq!(written.files, ["TensorBoard events of 4 units"]);
    let unit = std::fs::read_dir(&tb)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let file = std::fs::read_dir(&unit)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let bytes = std::fs::read(file).unwrap();
    let has = |tag: &str| bytes.windows(tag.len()).any(|w| w == tag.as_bytes());
    // Every metric the epochs recorded has its tag; validation was not recorded (Test).
    for m in Metric::all() {
        let recorded = r.units[0].history[0];
        assert_eq!(has(m.tag()), m.of(&recorded).is_some(), "{}", m.tag());
    }
}
