//! The run store: atomic writes, kill -9 and --resume, exports, weights round trip.

mod common;

use std::io::Write;
use std::path::Path;

use mnist_lab::engine::{EngineOptions, Event};
use mnist_lab::export;
use mnist_lab::runs::{self, record::Environment, RunRecord, UnitStatus};
use mnist_lab::spec::EpochMetrics;

use common::bin;

#[test]
fn a_failure_mid_write_leaves_the_previous_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    runs::write_atomic(&path, b"{\"version\": 1}").unwrap();
    let err = runs::write_atomic_with(&path, |f| {
        f.write_all(b"{\"version\": 2, \"half")?;
        Err(std::io::Error::other("disk full (simulated)"))
    })
    .unwrap_err();
    assert!(format!("{err:#}").contains("disk full"));
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"version\": 1}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

const PRESET: &str = r#"(name: "killme", defaults: (arch: "128-64", epochs: 2, batch_size: 64,
    train_subset: 4000, test_subset: 1000, seed: 5, dropout: 0.2),
    variants: [(name: "one"), (name: "two", placement: None), (name: "three", placement: Last, epochs: 30)])"#;

#[test]
fn kill_9_loses_only_the_running_variant_and_resume_finishes_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tmp.path().join("killme.ron");
    std::fs::write(&preset, PRESET).unwrap();

    // Uninterrupted reference.
    let reference_root = tmp.path().join("reference");
    let out = bin()
        .arg("run")
        .arg(&preset)
        .arg("--runs-dir")
        .arg(&reference_root)
        .args(["--only", "one,two"])
        .output()
        .unwrap();
    assert!(out.status.success());

    // Killed during variant 3.
    let root = tmp.path().join("runs");
    let mut run = common::JsonlRun::start(&preset, &root);
    run.wait_for(|e| matches!(e, Event::UnitStarted { index: 2, .. }));
    run.child.kill().unwrap(); // SIGKILL
    run.child.wait().unwrap();
    let dir = common::only_run_dir(&root);
    let record = runs::load(&dir).unwrap();
    let statuses: Vec<_> = record.units.iter().map(|v| v.status).collect();
    assert_eq!(statuses[..2], [UnitStatus::Finished, UnitStatus::Finished]);
    assert_ne!(statuses[2], UnitStatus::Finished);
    assert!(!record.complete);

    // `runs` marks it resumable; --resume trains only the rest, into the same folder.
    let listing = bin()
        .arg("runs")
        .arg("--runs-dir")
        .arg(&root)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("(resumable)"));
    let out = common::resume(&dir, &root);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("2 already done"), "{text}");
    assert!(
        !text.contains("[1/3]"),
        "finished variants are not trained again: {text}"
    );
    let resumed = runs::load(&dir).unwrap();
    assert!(resumed.complete);
    assert!(resumed
        .units
        .iter()
        .all(|v| v.status == UnitStatus::Finished));
    assert_eq!(
        resumed.units[2].history.len(),
        30,
        "the spec as recorded (30 epochs) is kept"
    );

    let reference_dir = std::fs::read_dir(&reference_root)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let reference = runs::load(&reference_dir).unwrap();
    assert_eq!(
        common::numbers(&reference)[..2],
        common::numbers(&resumed)[..2]
    );
}

fn synthetic_record() -> RunRecord {
    let p = mnist_lab::preset::load("paper-2019").unwrap();
    let mut r = RunRecord::new(&p, Environment::detect("t"));
    for (i, v) in r.units.iter_mut().enumerate().take(4) {
        v.status = UnitStatus::Finished;
        for e in 1..=3 {
            v.history.push(EpochMetrics {
                epoch: e,
                train_loss: 0.5 / e as f32 + i as f32 * 0.01,
                train_acc: 0.9,
                test_loss: 0.4 / e as f32,
                test_acc: 0.97,
                seconds: 1.5,
                samples_per_sec: 4e4,
                ..Default::default()
            });
        }
    }
    r
}

#[test]
fn csv_exports_have_the_right_columns_and_rows() {
    let r = synthetic_record();
    let epochs = export::epochs_csv(&r);
    let lines: Vec<&str> = epochs.lines().collect();
    assert!(lines[0].starts_with("unit,epoch,train_loss,train_acc,test_loss,test_acc,seconds,val_loss,val_acc,lr,variant,seed"));
    assert_eq!(lines.len(), 1 + 4 * 3);
    assert!(lines.iter().skip(1).all(|l| l.split(',').count() == 12));
    assert!(lines[1].starts_with("2L adam every,1,0.5,"));

    let summary = export::summary_csv(&r);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 1 + 15);
    let cols = lines[0].split(',').count();
    // 18 described columns, and mean, sd and CI of each result metric (`Metric`).
    let metrics = mnist_lab::spec::Metric::all()
        .filter(|m| m.is_result())
        .count();
    assert_eq!(cols, 18 + 4 * metrics);
    assert!(lines[0].contains(
        ",n,test_loss,test_loss_sd,test_loss_ci_low,test_loss_ci_high,test_acc,test_acc_sd,"
    ));
    assert!(lines[0].contains(",val_acc_ci_high,best_epoch_test_loss,"));
    assert!(
        lines.iter().all(|l| l.split(',').count() == cols),
        "{summary}"
    );
    // One seed per variant: n = 1, a mean, and no sd or CI (unknown, not zero).
    assert!(
        lines[1].starts_with("2L adam every,2,512-128,1,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",,,"), "{}", lines[1]);
    assert!(lines[1].ends_with(",0.057,0.98,1,1"), "{}", lines[1]);
    assert!(lines[15].ends_with(",0,1"), "{}", lines[15]);
    let units = export::units_csv(&r);
    let lines: Vec<&str> = units.lines().collect();
    assert_eq!(
        lines[0],
        "unit,variant,seed,status,epochs_trained,kept_epoch,test_loss,test_acc,\
         last_epoch_test_loss,last_epoch_test_acc,best_epoch,best_epoch_val_loss,\
         best_epoch_test_loss,early_stopped_at,restored,seconds,engine"
    );
    assert_eq!(lines.len(), 1 + 15);
    assert!(
        lines[1].starts_with("2L adam every,2L adam every,2019,done,3,"),
        "{}",
        lines[1]
    );
}

#[test]
fn markdown_summary_is_the_studys_table() {
    let md = export::summary_md(&synthetic_record());
    // The study's table comes first; the factor tables follow after a blank line.
    let rows: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), 2 + 15);
    assert!(md.contains("## Factors"), "{md}");
    assert!(
        rows[0].contains("layers")
            && rows[0].contains("study loss")
            && rows[0].contains("BN+Dropout")
    );
    assert!(rows[1].starts_with("|---|"));
    assert!(rows[2].contains("| 2L adam every | 2 | 0.1333 | 0.9700 | 3/20 | 0.5 | Adam | ReLU | Every | 0.057 | 0.98 |"), "{}", rows[2]);
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

#[test]
fn exports_write_png_svg_and_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let r = synthetic_record();
    let written = export::export_all(dir.path(), &r, None).unwrap();
    for f in [
        "run.json",
        "epochs.csv",
        "summary.csv",
        "summary.md",
        "curves.png",
        "curves.svg",
    ] {
        assert!(written.files.contains(&f.to_string()));
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let png = std::fs::read(dir.path().join("curves.png")).unwrap();
    assert_eq!(png_size(&png), mnist_lab::export::plot::image_size(15));
    assert!(
        png.len() > 20_000,
        "a real picture, not a blank: {} bytes",
        png.len()
    );
    let svg = std::fs::read_to_string(dir.path().join("curves.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("2L adam every"));
    assert!(
        svg.matches("<polyline").count() >= 8,
        "two lines per finished variant"
    );
    assert_eq!(runs::load(dir.path()).unwrap(), r);
}

#[test]
fn export_to_an_unwritable_folder_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let r = synthetic_record();
    let target = file.join("export");
    let err = format!("{:#}", export::export_all(&target, &r, None).unwrap_err());
    assert!(
        err.contains("not-a-folder/export") && err.contains("cannot create"),
        "{err}"
    );
    // The CLI says the same and exits non-zero.
    let run_dir = dir.path().join("run");
    std::fs::create_dir(&run_dir).unwrap();
    runs::save(&run_dir, &r).unwrap();
    let out = bin()
        .arg("export")
        .arg(&run_dir)
        .arg("--to")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create the export folder"));
    assert_eq!(
        runs::load(&run_dir).unwrap(),
        r,
        "the run itself is untouched"
    );
}

#[test]
fn safetensors_round_trip_gives_the_same_test_accuracy() {
    let weights = tempfile::tempdir().unwrap();
    let p = common::small_preset(
        "arch: \"512-128\", epochs: 1, train_subset: 3000, test_subset: 2000, seed: 9, dropout: 0.3",
        "(name: \"w/eights\", placement: Every)",
    );
    let opts = EngineOptions {
        weights_dir: Some(weights.path().to_path_buf()),
        ..Default::default()
    };
    let (_, r) = common::run_all(p, opts);
    let v = &r.units[0];
    let path = v.weights.as_ref().expect("weights saved");
    assert!(
        Path::new(path).starts_with(weights.path()),
        "sanitised name stays inside: {path}"
    );
    let e = mnist_lab::engine::train::evaluate_saved(&v.spec, Path::new(path), &common::mnist())
        .unwrap();
    let m = v.last().unwrap();
    assert_eq!(e.accuracy, m.test_acc);
    assert!(
        (e.loss - m.test_loss).abs() < 1e-6,
        "{} vs {}",
        e.loss,
        m.test_loss
    );
}

#[test]
fn export_with_data_writes_confusion_matrices_and_effects() {
    let dir = tempfile::tempdir().unwrap();
    let p = common::small_preset(
        "arch: \"128-64\", epochs: 1, train_subset: 2000, test_subset: 1000, seed: 4",
        "(name: \"a\", placement: Every), (name: \"b\", placement: None)",
    );
    let opts = EngineOptions {
        weights_dir: Some(dir.path().join("weights")),
        ..Default::default()
    };
    let (_, mut r) = common::run_all(p, opts);
    // As a run folder records them: inside the folder, relative to it.
    for v in &mut r.units {
        v.weights = Some(runs::weights_record_path(&v.spec.name));
    }
    let data = common::mnist();
    let written = export::export_all(dir.path(), &r, Some(&data)).unwrap();
    assert!(
        written.files.iter().any(|w| w.starts_with("confusion")),
        "{written:?}"
    );
    let csv = std::fs::read_to_string(dir.path().join("confusion-a.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 11);
    let total: u32 = rows[1..]
        .iter()
        .flat_map(|l| l.split(',').skip(1).map(|c| c.parse::<u32>().unwrap()))
        .sum();
    assert_eq!(total, 1000, "one count per test image");
    let png = std::fs::read(dir.path().join("confusion-b.png")).unwrap();
    assert_eq!(png_size(&png), (620, 660));
    let effects = std::fs::read_to_string(dir.path().join("effects.csv")).unwrap();
    assert!(effects.starts_with(
        "factor,level,n,lsmean_test_loss,se_test_loss,ci_low_test_loss,ci_high_test_loss,\
         lsmean_test_acc,se_test_acc,ci_low_test_acc,ci_high_test_acc,anova_df,anova_f,anova_p,\
         partial_eta2,confounded_with\n"
    ));
    assert!(effects.contains("BN+Dropout,Every,1,"), "{effects}");
}

#[test]
fn an_export_that_cannot_go_to_the_run_folder_goes_to_the_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, b"x").unwrap();
    let first = blocked.join("run");
    let fallback = dir.path().join("mnist-lab-export-run");
    let r = synthetic_record();
    let done = export::export_or_fallback(&first, &fallback, &r, None).unwrap();
    assert_eq!(done.dir, fallback);
    assert!(done.first_error.unwrap().contains("cannot create"));
    assert_eq!(runs::load(&fallback).unwrap(), r);
    // Both unwritable: an error naming both.
    let err = export::export_or_fallback(&first, &blocked.join("other"), &r, None).unwrap_err();
    assert!(format!("{err:#}").contains("; and "), "{err:#}");
}

/// Runs recorded before units were called units (`"variants": [...]` in run.json) still load,
/// and load to the same record.
#[test]
fn run_files_that_say_variants_still_load() {
    let tmp = tempfile::tempdir().unwrap();
    let r = synthetic_record();
    runs::save(tmp.path(), &r).unwrap();
    let path = tmp.path().join(runs::RUN_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"units\": ["), "written under the new name");
    std::fs::write(&path, text.replacen("\"units\": [", "\"variants\": [", 1)).unwrap();
    assert_eq!(runs::load(tmp.path()).unwrap(), r);
}

/// A run's variants are its units grouped by variant, in the order of their first units.
#[test]
fn a_run_knows_its_variants_and_their_units() {
    let p = mnist_lab::preset::parse(
        "<test>",
        r#"(name: "v", defaults: (arch: "256", seeds: 2), variants: [(name: "a"), (name: "b")])"#,
    )
    .unwrap();
    let r = RunRecord::new(&p, Environment::detect("t"));
    let v = r.variants();
    assert_eq!(
        v.iter()
            .map(|v| (v.name, v.units.clone()))
            .collect::<Vec<_>>(),
        [("a", vec![0, 2]), ("b", vec![1, 3])]
    );
}

/// A run's name (`n` in the TUI) is a file of its folder: written whole, read back, checked
/// (length, control characters), never read through a planted link; deleting a run removes
/// only a real run folder directly inside the store.
#[test]
fn run_names_and_deletion_stay_inside_the_store() {
    use mnist_lab::runs::history;
    let root = tempfile::tempdir().unwrap();
    let p = mnist_lab::preset::load("quick").unwrap();
    let dir = root.path().join("20260101-000000-quick");
    std::fs::create_dir(&dir).unwrap();
    runs::save(&dir, &RunRecord::new(&p, Environment::detect("t"))).unwrap();

    assert_eq!(history::read_title(&dir), None);
    assert_eq!(
        history::write_title(&dir, "  wide nets  ").unwrap(),
        Some("wide nets".to_string())
    );
    assert_eq!(history::read_title(&dir), Some("wide nets".into()));
    let listed = history::list(root.path());
    assert_eq!(listed[0].title.as_deref(), Some("wide nets"));
    for bad in [
        "x".repeat(history::MAX_TITLE + 1),
        "a\u{1b}[2Jb".to_string(),
    ] {
        assert!(history::write_title(&dir, &bad).is_err(), "{bad:?}");
        assert_eq!(history::read_title(&dir), Some("wide nets".into()), "kept");
    }
    // An empty name removes it; no temporary file is left.
    assert_eq!(history::write_title(&dir, "").unwrap(), None);
    assert_eq!(history::read_title(&dir), None);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, vec!["run.json".to_string()]);
    // A link planted as the name is not followed.
    let secret = root.path().join("secret");
    std::fs::write(&secret, "secret text").unwrap();
    std::os::unix::fs::symlink(&secret, dir.join(history::TITLE_FILE)).unwrap();
    assert_eq!(history::read_title(&dir), None);

    // Deletion: not a folder outside the store, not a link to a run, not a non-run folder.
    let outside = tempfile::tempdir().unwrap();
    assert!(history::delete_run(root.path(), outside.path()).is_err());
    let link = root.path().join("20270101-000000-link");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    assert!(history::delete_run(root.path(), &link).is_err());
    assert!(dir.join("run.json").exists(), "the link's target stays");
    let plain = root.path().join("notes");
    std::fs::create_dir(&plain).unwrap();
    assert!(history::delete_run(root.path(), &plain).is_err());
    assert!(plain.exists());
    history::delete_run(root.path(), &dir).unwrap();
    assert!(!dir.exists());
    assert!(secret.exists());
}

/// `E` exports what a view shows: the view's files of the export registry, into a folder of
/// their own, refused where files no export wrote are.
#[test]
fn a_view_export_writes_the_views_files_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let p = mnist_lab::preset::load("quick").unwrap();
    let record = RunRecord::new(&p, Environment::detect("t"));
    let dir = tmp.path().join("view-factors");
    let written = export::export_files(&dir, &record, export::view_files("factors")).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["effects.csv", "anova.csv"]);
    assert!(dir.join(export::EXPORT_MARK).exists());
    // Again into the same folder: allowed (its own export).
    export::export_files(&dir, &record, export::view_files("table")).unwrap();
    assert!(dir.join("summary.csv").exists() && dir.join("curves.svg").exists());
    // Not into a folder holding someone's files.
    let foreign = tmp.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
    assert!(export::export_files(&foreign, &record, export::view_files("pairs")).is_err());
    assert!(!foreign.join("comparisons.csv").exists());
}

/// `units.csv` says which epoch a unit's numbers come from, gives the last epoch's beside
/// them, and says `restored` for a restore without a stop (issue "Conclusions that survive a
/// referee, round two", 8 and 9).
#[test]
fn units_csv_says_which_epoch_its_numbers_come_from() {
    let mut r = synthetic_record();
    let u = &mut r.units[0];
    assert!(u.history.len() >= 3);
    u.kept_epoch = Some(1);
    u.early_stop = None;
    let first = u.history[0].test_loss;
    let last = u.history.last().unwrap().test_loss;
    let csv = export::units_csv(&r);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let at = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(at("kept_epoch"), "1");
    assert_eq!(at("test_loss"), first.to_string());
    assert_eq!(at("last_epoch_test_loss"), last.to_string());
    assert_eq!(at("restored"), "true");
    // A unit whose numbers are its last epoch's: kept_epoch is the last, restored false.
    let row: Vec<&str> = csv.lines().nth(2).unwrap().split(',').collect();
    let at = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(at("kept_epoch"), at("epochs_trained"));
    assert_eq!(at("restored"), "false");
}
