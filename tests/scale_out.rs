//! Many writers, one run folder (issue "Scale out"): processes sharing a folder by shard or
//! not at all, a writer killed mid-unit, a join refused for a different run, merges and their
//! conflicts, and `--jobs`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use common::bin;
use mnist_lab::engine::Event;
use mnist_lab::runs::{self, units, UnitStatus};

/// Four quick units; `slow` makes unit b take 30 epochs (a few seconds), to be killed in.
fn preset(dir: &Path, slow: bool) -> PathBuf {
    let b_epochs = if slow { ", epochs: 30" } else { "" };
    let text = format!(
        r#"(name: "share", defaults: (arch: "128-64", epochs: 2, train_subset: 1500,
            test_subset: 300, seed: 7),
            variants: [(name: "a"), (name: "b", placement: None{b_epochs}),
                       (name: "c", placement: Last), (name: "d", dropout: 0.2)])"#
    );
    let path = dir.join(if slow { "slow.ron" } else { "share.ron" });
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn_into(preset: &Path, run_dir: &Path, extra: &[&str]) -> Child {
    bin()
        .arg("run")
        .arg(preset)
        .arg("--run-dir")
        .arg(run_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finished_ok(child: Child) -> String {
    common::succeeded(&child.wait_with_output().unwrap())
}

/// The units a process trained, from its "NAME done in" lines.
fn trained(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.trim().split_once(" done in ").map(|(n, _)| n.to_string()))
        .collect()
}

/// Each unit's status, and its losses and accuracies epoch by epoch, as the folder has them.
type Unit = (UnitStatus, Vec<(f32, f32, f32, f32)>);

fn numbers(dir: &Path) -> Vec<Unit> {
    let r = runs::load(dir).unwrap();
    let statuses = r.units.iter().map(|v| v.status);
    statuses.zip(common::numbers(&r)).collect()
}

#[test]
fn two_processes_sharing_a_folder_train_every_unit_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), false);
    let reference = tmp.path().join("reference");
    finished_ok(spawn_into(&p, &reference, &[]));
    let expected = numbers(&reference);
    assert!(expected.iter().all(|u| u.0 == UnitStatus::Finished));

    // Both shards at once, then the same (whole) work twice at once.
    for (name, args) in [
        ("shards", [["--shard", "0/2"], ["--shard", "1/2"]]),
        ("same", [["--jobs", "1"], ["--jobs", "1"]]),
    ] {
        let dir = tmp.path().join(name);
        let first = spawn_into(&p, &dir, &args[0]);
        let second = spawn_into(&p, &dir, &args[1]);
        let (one, two) = (finished_ok(first), finished_ok(second));
        let mut all = trained(&one);
        all.extend(trained(&two));
        all.sort();
        assert_eq!(
            all,
            ["a", "b", "c", "d"],
            "{name}: each unit once\n{one}\n{two}"
        );
        assert_eq!(
            numbers(&dir),
            expected,
            "{name}: the same numbers as one process"
        );
        assert!(runs::load(&dir).unwrap().complete);
        assert!(units::live_writers(&dir).is_empty(), "writers leave");
    }
}

#[test]
fn a_killed_writer_leaves_its_finished_units_and_a_stale_lock_the_next_takes_over() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), true);
    let dir = tmp.path().join("run");
    // One unit at a time: a is finished when b is killed.
    let args = [
        "--run-dir".as_ref(),
        dir.as_os_str(),
        "--jobs".as_ref(),
        "1".as_ref(),
        "--one-by-one".as_ref(),
    ];
    let mut run = common::JsonlRun::start_with(&p, &args);
    run.wait_for(|e| matches!(e, Event::EpochEnd { index: 1, metrics } if metrics.epoch >= 2));
    run.child.kill().unwrap(); // SIGKILL: no chance to tidy up
    run.child.wait().unwrap();

    let r = runs::load(&dir).unwrap();
    assert_eq!(r.units[0].status, UnitStatus::Finished);
    // Its file still says running, but its writer is gone: read as interrupted.
    assert_eq!(r.units[1].status, UnitStatus::Interrupted);
    assert!(
        r.units[1].history.len() >= 2,
        "epochs written as they ended"
    );
    assert!(!r.complete);
    assert!(
        dir.join("units/0001.lock").exists(),
        "the stale lock is left"
    );
    assert!(units::live_writers(&dir).is_empty());

    // The next writer takes over b (and the rest), not a.
    let text = finished_ok(spawn_into(&p, &dir, &[]));
    let mut took = trained(&text);
    took.sort();
    assert_eq!(took, ["b", "c", "d"], "{text}");
    let r = runs::load(&dir).unwrap();
    assert!(r.complete);
    assert_eq!(r.units[1].history.len(), 30);
}

#[test]
fn joining_a_folder_of_a_different_run_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), false);
    let dir = tmp.path().join("run");
    finished_ok(spawn_into(&p, &dir, &["--only", "a"]));
    let out = spawn_into(&p, &dir, &["--epochs", "3", "--only", "a"])
        .wait_with_output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("holds a different run"), "{err}");
    assert!(err.contains("unit 0"), "names the difference: {err}");
    // Nothing of the folder changed.
    assert_eq!(numbers(&dir)[0].1.len(), 2);
}

/// `merge SOURCES --to TO`, to the end.
fn merge(sources: &[&Path], to: &Path) -> std::process::Output {
    bin()
        .arg("merge")
        .args(sources)
        .arg("--to")
        .arg(to)
        .output()
        .unwrap()
}

#[test]
fn merge_combines_shards_and_reports_conflicts_instead_of_choosing() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), false);
    let (left, right) = (tmp.path().join("left"), tmp.path().join("right"));
    finished_ok(spawn_into(&p, &left, &["--shard", "0/2"]));
    finished_ok(spawn_into(&p, &right, &["--shard", "1/2"]));
    let merged = tmp.path().join("merged");
    let out = merge(&[&left, &right], &merged);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("4 units taken"), "{text}");
    let r = runs::load(&merged).unwrap();
    assert!(r.complete);
    // Weights came along: a merged unit evaluates to its recorded accuracy.
    let eval = bin().args(["eval"]).arg(&merged).arg("c").output().unwrap();
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let acc = format!("{:.4}", r.units[2].last().unwrap().test_acc);
    let said = String::from_utf8_lossy(&eval.stdout);
    assert!(
        said.contains(&format!("test accuracy {acc}")),
        "recomputed {acc}: {said}"
    );

    // The same unit finished with other numbers elsewhere: reported, left out, exit 1.
    let other = tmp.path().join("other");
    finished_ok(spawn_into(&p, &other, &["--shard", "0/2"]));
    let file = units::unit_file(&other, 0);
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replacen("\"test_loss\": ", "\"test_loss\": 1", 1);
    assert_ne!(text, changed);
    std::fs::write(&file, changed).unwrap();
    let target = tmp.path().join("target");
    let out = merge(&[&left, &other], &target);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("conflict: unit 0 (a)"), "{text}");
    assert!(text.contains("1 conflicts"), "{text}");
    let r = runs::load(&target).unwrap();
    assert_eq!(r.units[0].status, UnitStatus::Queued, "not chosen");
    assert_eq!(r.units[2].status, UnitStatus::Finished, "the rest merged");
}

#[test]
fn jobs_train_units_side_by_side_with_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), false);
    let dir = tmp.path().join("jobs");
    let text = finished_ok(spawn_into(&p, &dir, &["--jobs", "2"]));
    assert!(text.contains("2 at once"), "{text}");
    let mut all = trained(&text);
    all.sort();
    assert_eq!(all, ["a", "b", "c", "d"], "{text}");
    let r = runs::load(&dir).unwrap();
    assert!(r.complete);
    assert!(r.units.iter().all(|v| v.history.len() == 2));
}
