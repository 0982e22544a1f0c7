//! A shared run folder is hostile ground (issue "Faults, round three"): no path read from a
//! file escapes it, no planted link is followed, a run is the same run (specs and data) before
//! anyone writes, merges and exports never destroy. One test per numbered fault; the README's
//! Guarantees table names them.

mod common;

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::bin;
use mnist_lab::engine::Event;
use mnist_lab::runs::{self, units, UnitStatus};

/// A preset of tiny units (a second each) named `names`; `extra` is added to the defaults.
fn preset(dir: &Path, names: &[&str], extra: &str) -> PathBuf {
    let variants: Vec<String> = names
        .iter()
        .map(|n| format!("(name: {})", serde_json::to_string(n).unwrap()))
        .collect();
    let epochs = if extra.contains("epochs") {
        ""
    } else {
        "epochs: 1, "
    };
    let subset = if extra.contains("train_subset") {
        ""
    } else {
        "train_subset: 300, "
    };
    let text = format!(
        "(name: \"tiny\", defaults: (arch: \"128-64\", {epochs}{subset}\
         test_subset: 100, seed: 3{extra}), variants: [{}])",
        variants.join(", ")
    );
    let path = dir.join(format!("tiny-{}.ron", names.len()));
    std::fs::write(&path, text).unwrap();
    path
}

/// `run PRESET --run-dir DIR ARGS...`, to the end.
fn run_into(preset: &Path, dir: &Path, args: &[&str]) -> Output {
    bin()
        .arg("run")
        .arg(preset)
        .arg("--run-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// A finished two-unit run in `tmp/name`.
fn finished_run(tmp: &Path, name: &str) -> PathBuf {
    let p = preset(tmp, &["a", "b"], "");
    let dir = tmp.join(name);
    common::succeeded(&run_into(&p, &dir, &[]));
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn refused_saying(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(o), stderr(o));
    assert!(stderr(o).contains(needle), "{}", stderr(o));
}

/// Rewrites unit `index`'s file through its JSON.
fn edit_unit(dir: &Path, index: usize, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = units::unit_file(dir, index);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

fn merge(sources: &[&Path], to: &Path) -> Output {
    bin()
        .arg("merge")
        .args(sources)
        .arg("--to")
        .arg(to)
        .output()
        .unwrap()
}

fn export_to(run: &Path, to: &Path) -> Output {
    bin()
        .arg("export")
        .arg(run)
        .arg("--to")
        .arg(to)
        .output()
        .unwrap()
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

// 1. A unit file's weights path is a name inside its folder.

#[test]
fn weights_paths_that_leave_the_folder_are_refused_by_merge_and_export() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, b"secret").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::metadata(&victim).unwrap();
    edit_unit(&run, 0, |v| {
        v["weights"] = victim.display().to_string().into()
    });
    let out = merge(&[&run], &tmp.path().join("merged"));
    refused_saying(&out, "is absolute");
    assert!(!tmp.path().join("merged").exists());
    let out = export_to(&run, &tmp.path().join("export"));
    refused_saying(&out, "is absolute");
    if let Ok(files) = std::fs::read_dir(tmp.path().join("export")) {
        assert_eq!(files.count(), 0, "nothing exported from a refused run");
    }
    let after = std::fs::metadata(&victim).unwrap();
    assert_eq!((before.ino(), after.mode() & 0o777), (after.ino(), 0o600));
    assert_eq!(std::fs::read(&victim).unwrap(), b"secret");

    edit_unit(&run, 0, |v| v["weights"] = "../../esc/w".into());
    let out = merge(&[&run], &tmp.path().join("deep/er/merged"));
    refused_saying(&out, "climbs out");
    assert!(!tmp.path().join("esc").exists());
    assert!(!tmp.path().join("deep/esc").exists());
}

// 2. Writers never follow a link planted at a lock's name.

#[test]
fn links_planted_at_lock_names_are_replaced_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    let writers = run.join(units::WRITERS_DIR);
    std::fs::create_dir_all(&writers).unwrap();
    let planted = writers.join(format!("{}.lock", units::writer_id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let writer = units::WriterLock::take(&run).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert!(!std::fs::symlink_metadata(&planted)
        .unwrap()
        .file_type()
        .is_symlink());
    drop(writer);

    // A dangling link at a unit's lock: its target is never created.
    let r = runs::load(&run).unwrap();
    let mut unfinished = r.units[1].clone();
    unfinished.status = UnitStatus::Interrupted;
    units::save_unit(&run, 1, &unfinished).unwrap();
    let target = tmp.path().join("created-outside");
    std::os::unix::fs::symlink(&target, run.join("units/0001.lock")).unwrap();
    let claim = units::claim_unit(&run, 1, "b").unwrap();
    assert!(claim.is_some());
    assert!(!target.exists(), "the link's target was created");

    // A units/ folder replaced by a link to elsewhere is never written through.
    drop(claim);
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::rename(run.join("units"), tmp.path().join("units-moved")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, run.join("units")).unwrap();
    assert!(units::save_unit(&run, 1, &unfinished).is_err());
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

// 3. An export never writes over another run.

#[test]
fn export_into_another_runs_folder_is_refused_and_that_run_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let r1 = finished_run(tmp.path(), "r1");
    let p = preset(tmp.path(), &["x"], "");
    let r2 = tmp.path().join("r2");
    common::succeeded(&run_into(&p, &r2, &[]));
    let before = files_under(&r2);
    let manifest = std::fs::read(r2.join("run.json")).unwrap();
    refused_saying(&export_to(&r1, &r2), "holds a run of its own");
    assert_eq!(files_under(&r2), before);
    assert_eq!(std::fs::read(r2.join("run.json")).unwrap(), manifest);
    assert!(runs::load(&r2).unwrap().complete);

    // A folder of someone else's files is refused too; a fresh one, and the same export again,
    // are fine.
    let notes = tmp.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("todo.txt"), b"mine").unwrap();
    refused_saying(&export_to(&r1, &notes), "did not write");
    let fresh = tmp.path().join("fresh");
    common::succeeded(&export_to(&r1, &fresh));
    common::succeeded(&export_to(&r1, &fresh));
    assert_eq!(runs::load(&fresh).unwrap().units.len(), 2);
}

// 4. A run is trained on one data set.

/// A copy of the shipped MNIST with one test label changed: another data set.
fn other_data(tmp: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let dir = tmp.join("other-data");
    std::fs::create_dir(&dir).unwrap();
    for f in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
    ] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let mut labels = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(src.join("t10k-labels-idx1-ubyte.gz")).unwrap(),
    )
    .read_to_end(&mut labels)
    .unwrap();
    labels[8] = (labels[8] + 1) % 10;
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), labels).unwrap();
    dir
}

#[test]
fn joining_or_resuming_a_run_with_other_data_is_refused_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), &["a", "b"], "");
    let dir = tmp.path().join("run");
    common::succeeded(&run_into(&p, &dir, &["--shard", "0/2"]));
    let other = other_data(tmp.path());
    let out = run_into(
        &p,
        &dir,
        &["--shard", "1/2", "--data", other.to_str().unwrap()],
    );
    refused_saying(&out, "trained on other data");
    assert_eq!(
        runs::load(&dir).unwrap().count(UnitStatus::Finished),
        1,
        "nothing trained on the other data"
    );
    let out = bin()
        .args(["run", "--resume"])
        .arg(&dir)
        .arg("--data")
        .arg(&other)
        .output()
        .unwrap();
    refused_saying(&out, "trained on other data");
    // The same data finishes it.
    common::succeeded(&run_into(&p, &dir, &["--shard", "1/2"]));
    assert!(runs::load(&dir).unwrap().complete);
}

// 5. Merge takes each unit's weights from any source that has them.

#[test]
fn merge_finds_weights_in_any_source_whatever_the_order() {
    let tmp = tempfile::tempdir().unwrap();
    let a = finished_run(tmp.path(), "a");
    let b = tmp.path().join("b");
    std::fs::create_dir(&b).unwrap();
    for f in files_under(&a) {
        let to = b.join(&f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(a.join(&f), to).unwrap();
    }
    // a lost its weights (a rescue, a copy without them).
    std::fs::remove_dir_all(a.join("weights")).unwrap();
    for (name, order) in [("ab", [&a, &b]), ("ba", [&b, &a])] {
        let to = tmp.path().join(name);
        let out = merge(&[order[0], order[1]], &to);
        assert!(stdout(&out).contains("2 units taken"), "{}", stdout(&out));
        let weights = files_under(&to.join("weights"));
        assert_eq!(weights.len(), 2, "{name}: {weights:?}");
        let eval = bin().arg("eval").arg(&to).arg("b").output().unwrap();
        assert!(eval.status.success(), "{name}: {}", stderr(&eval));
    }
    // Neither has them: merged without, and said per unit.
    std::fs::remove_dir_all(b.join("weights")).unwrap();
    let out = merge(&[&a, &b], &tmp.path().join("none"));
    assert!(
        stdout(&out).matches("no weights:").count() == 2,
        "{}",
        stdout(&out)
    );
}

// 6. A writer whose folder is deleted under it stops writing there and rescues everything.

#[test]
fn a_writer_whose_folder_is_deleted_rescues_the_whole_record() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    // Long enough that the deletion (retried while the writer adds files) is over before
    // "a" ends and writes its weights: weights written into the folder and then deleted with
    // it are gone, and nobody could rescue them.
    let p = preset(tmp.path(), &["a", "b"], ", epochs: 40");
    let dir = tmp.path().join("run");
    let rescue = tmp.path().join("rescue");
    std::fs::create_dir(&rescue).unwrap();
    let mut child = bin()
        .arg("run")
        .arg(&p)
        .args(["--jsonl", "--jobs", "1", "--run-dir"])
        .arg(&dir)
        .env(runs::RESCUE_ENV, &rescue)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut deleted = false;
    for line in lines.by_ref() {
        let e: Event = serde_json::from_str(&line.unwrap()).unwrap();
        if matches!(&e, Event::EpochEnd { index: 0, metrics } if metrics.epoch == 2) {
            // The writer may add a file while the folder is being removed: try again.
            let mut tries = 0;
            while let Err(e) = std::fs::remove_dir_all(&dir) {
                tries += 1;
                assert!(tries < 50, "cannot remove {}: {e}", dir.display());
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            deleted = true;
            break;
        }
    }
    assert!(deleted);
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", rest.join("\n"), stderr(&out));
    assert!(!dir.exists(), "the deleted folder was re-created");
    assert!(said.contains("lost its"), "{said}");
    let rescued: Vec<PathBuf> = std::fs::read_dir(&rescue)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(rescued.len(), 1, "{said}");
    let r = runs::load(&rescued[0]).unwrap();
    assert_eq!(
        r.units[0].history.len(),
        40,
        "epochs before the deletion kept"
    );
    assert_eq!(r.count(UnitStatus::Finished), 2);
    assert_eq!(files_under(&rescued[0].join("weights")).len(), 2, "{said}");
}

// 7. Writers of one run that cannot write its folder rescue into one shared folder.

#[test]
fn two_shards_that_cannot_write_weights_share_one_rescue_that_merges_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), &["a", "b", "c", "d"], "");
    let dir = tmp.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    // The weights folder cannot be made (a file is in its place): every weights file fails.
    std::fs::write(dir.join("weights"), b"in the way").unwrap();
    let rescue = tmp.path().join("rescue");
    std::fs::create_dir(&rescue).unwrap();
    let shard = |k: &str| {
        bin()
            .arg("run")
            .arg(&p)
            .arg("--run-dir")
            .arg(&dir)
            .args(["--shard", k])
            .env(runs::RESCUE_ENV, &rescue)
            .output()
            .unwrap()
    };
    let (first, second) = (shard("0/2"), shard("1/2"));
    let folders: Vec<PathBuf> = std::fs::read_dir(&rescue)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(folders.len(), 1, "one shared rescue: {folders:?}");
    let shared = folders[0].display().to_string();
    for out in [&first, &second] {
        let said = format!("{}{}", stdout(out), stderr(out));
        assert!(
            said.contains(&shared),
            "each names the shared rescue: {said}"
        );
        assert!(said.contains("mnist-lab merge"), "{said}");
    }
    let r = runs::load(&folders[0]).unwrap();
    assert_eq!(r.count(UnitStatus::Finished), 4);
    assert_eq!(files_under(&folders[0].join("weights")).len(), 4);
    for v in &r.units {
        let (_, w) = runs::find_weights(&folders[0], &r, &v.spec.name).unwrap();
        assert!(w.is_file());
    }
    let to = tmp.path().join("whole");
    let out = merge(&[&dir, &folders[0]], &to);
    assert!(out.status.success(), "{}", stderr(&out));
    let whole = runs::load(&to).unwrap();
    assert!(whole.complete);
    assert_eq!(files_under(&to.join("weights")).len(), 4);
}

// 8. Per-unit export files never collide.

#[test]
fn confusion_matrices_of_names_that_sanitise_alike_are_two_files() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), &["a/b", "a_b"], "");
    let dir = tmp.path().join("run");
    common::succeeded(&run_into(&p, &dir, &[]));
    let out = export_to(&dir, &tmp.path().join("export"));
    common::succeeded(&out);
    let csvs: Vec<String> = files_under(&tmp.path().join("export"))
        .into_iter()
        .filter(|f| f.starts_with("confusion-") && f.ends_with(".csv"))
        .collect();
    assert_eq!(csvs.len(), 2, "{csvs:?}");
}

// 9. Every number read from a run folder is checked; merge is all or nothing.

#[test]
fn numbers_beyond_f32_or_out_of_range_are_refused_naming_file_and_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    edit_unit(&run, 1, |v| v["history"][0]["test_loss"] = 3.5e38.into());
    let to = tmp.path().join("merged");
    let out = merge(&[&run], &to);
    refused_saying(&out, "units/0001.json");
    // 3.5e38 reads as infinity in an f32: named as both (issue "Faults, round four", 16).
    assert!(
        stderr(&out).contains("test loss is infinite or beyond ±3.4e38"),
        "{}",
        stderr(&out)
    );
    assert!(!to.exists(), "merge wrote before checking");
    let parent_files: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(parent_files.is_empty(), "{parent_files:?}");

    edit_unit(&run, 1, |v| v["history"][0]["test_loss"] = 0.5.into());
    edit_unit(&run, 0, |v| v["history"][0]["test_acc"] = (-5.0).into());
    let out = bin().arg("eval").arg(&run).arg("a").output().unwrap();
    refused_saying(&out, "test accuracy -5 is not in [0, 1]");
    assert!(stderr(&out).contains("units/0000.json"), "{}", stderr(&out));
}

#[test]
fn merge_with_a_weights_path_naming_a_folder_writes_nothing_or_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    std::fs::create_dir(run.join("weights/folder")).unwrap();
    edit_unit(&run, 1, |v| v["weights"] = "weights/folder".into());
    let to = tmp.path().join("merged");
    let out = merge(&[&run], &to);
    // A folder is not weights: the unit merges without them, the rest with theirs.
    assert!(out.status.success(), "{}", stderr(&out));
    let r = runs::load(&to).unwrap();
    assert_eq!(r.count(UnitStatus::Finished), 2);
    assert!(r.units[0].weights.is_some() && r.units[1].weights.is_none());
}

// 10. Deleting unit locks does not let a second writer train a running unit.

#[test]
fn deleted_unit_locks_do_not_let_a_second_writer_take_a_running_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), &["a", "b"], ", epochs: 25");
    let dir = tmp.path().join("run");
    let mut first = common::JsonlRun::start_with(
        &p,
        &[
            "--run-dir".as_ref(),
            dir.as_os_str(),
            "--jobs".as_ref(),
            "1".as_ref(),
        ],
    );
    first.wait_for(|e| matches!(e, Event::EpochEnd { index: 0, metrics } if metrics.epoch == 2));
    for e in std::fs::read_dir(dir.join("units")).unwrap().flatten() {
        if e.file_name().to_string_lossy().ends_with(".lock") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let second = run_into(&p, &dir, &["--jobs", "1"]);
    let text = common::succeeded(&second);
    assert!(!text.contains("a done"), "a was trained twice: {text}");
    for line in first.lines.by_ref() {
        line.unwrap();
    }
    assert!(first.child.wait().unwrap().success());
    let r = runs::load(&dir).unwrap();
    assert!(r.complete);
    assert_eq!(r.units[0].history.len(), 25);
    let locks: Vec<String> = files_under(&dir)
        .into_iter()
        .filter(|f| f.ends_with(".lock"))
        .collect();
    assert!(
        locks.is_empty(),
        "a finished folder keeps no locks: {locks:?}"
    );
}

// 11. Specs read back from a manifest obey a preset's rules; --seeds does not apply to a resume.

#[test]
fn resume_checks_the_manifests_specs_and_refuses_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(tmp.path(), &["a", "b"], "");
    let dir = tmp.path().join("run");
    common::succeeded(&run_into(&p, &dir, &["--only", "a"]));
    let out = bin()
        .args(["run", "--resume"])
        .arg(&dir)
        .args(["--seeds", "3"])
        .output()
        .unwrap();
    refused_saying(&out, "--seeds");
    let manifest = dir.join("run.json");
    for (field, value, needle) in [
        ("train_subset", 0, "train_subset"),
        ("epochs", 0, "epochs must be"),
        ("batch_size", 0, "batch_size must be"),
    ] {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        let original = v["units"][0]["spec"][field].clone();
        v["units"][0]["spec"][field] = value.into();
        std::fs::write(&manifest, serde_json::to_string(&v).unwrap()).unwrap();
        let out = bin().args(["run", "--resume"]).arg(&dir).output().unwrap();
        refused_saying(&out, needle);
        assert!(stderr(&out).contains("run.json"), "{}", stderr(&out));
        v["units"][0]["spec"][field] = original;
        std::fs::write(&manifest, serde_json::to_string(&v).unwrap()).unwrap();
    }
}

// 13. Export goes on past a unit whose weights are missing.

#[test]
fn export_goes_on_past_missing_weights_with_a_line_per_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let r = runs::load(&run).unwrap();
    let (_, a_weights) = runs::find_weights(&run, &r, "a").unwrap();
    std::fs::remove_file(a_weights).unwrap();
    let to = tmp.path().join("export");
    let out = export_to(&run, &to);
    let text = common::succeeded(&out);
    assert!(text.contains("skipped: \"a\""), "{text}");
    assert!(!text.contains("skipped: \"b\""), "{text}");
    assert_eq!(files_under(&to.join("weights")).len(), 1);
    assert!(to.join("confusion-b.csv").is_file());
}

// 16. An idle watch of a big folder looks at its files only when something changed, even
// while others read them.

#[test]
fn an_idle_watch_does_not_look_at_every_file_every_second() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let follower = runs::watch::follow(&run);
    let first = follower
        .recv_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    assert!(first.record.is_ok());
    let before = runs::watch::full_looks();
    // Others read the folder (an export, a TUI): reads are not changes.
    let until = std::time::Instant::now() + std::time::Duration::from_millis(3500);
    while std::time::Instant::now() < until {
        runs::load(&run).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        runs::watch::full_looks() - before,
        0,
        "looked at every file with nothing changed"
    );
    assert!(follower.try_recv().is_err(), "no change to report");
    // A change is still seen within about a second.
    let mut v = runs::load(&run).unwrap().units[0].clone();
    v.seconds = Some(99.0);
    units::save_unit(&run, 0, &v).unwrap();
    let next = follower
        .recv_timeout(std::time::Duration::from_secs(3))
        .expect("the change is reported");
    assert_eq!(next.record.unwrap().units[0].seconds, Some(99.0));
}

// 14. The TUI never waits on file work: export (and evaluation) run off the UI thread.

#[test]
fn the_tui_stays_responsive_and_stops_on_sigterm_while_exporting() {
    use common::pty::PtyApp;
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let delay = std::ffi::OsString::from("3000");
    let mut app = PtyApp::spawn_env(
        &["watch".as_ref(), run.as_os_str()],
        &[("MNIST_LAB_INJECT_JOB_DELAY_MS", &delay)],
        40,
        120,
    );
    app.wait_for("2/2 done", Duration::from_secs(20));
    app.press("e");
    app.wait_for("exporting", Duration::from_secs(2));
    // The export takes 3 s: help must open at once all the same.
    let t = Instant::now();
    app.press("?");
    app.wait_polling(
        "show / hide this help",
        Duration::from_secs(2),
        Duration::from_millis(20),
    );
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    app.press("?");
    app.wait_polling(
        "exported",
        Duration::from_secs(15),
        Duration::from_millis(50),
    );
    assert!(run.join("summary.md").is_file());
    // A SIGTERM during an export acts at once.
    app.press("e");
    app.wait_for("exporting", Duration::from_secs(2));
    let pid = app.child.process_id().unwrap() as i32;
    let t = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = app.child.wait().unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    assert!(!status.success());
}

// 15. A TUI training a shared folder follows the other writers.

#[test]
fn a_tui_training_a_shared_folder_shows_the_other_writers_units() {
    use common::pty::PtyApp;
    use std::time::Duration;
    let tmp = tempfile::tempdir().unwrap();
    let names = ["a", "b", "c", "d", "e", "f"];
    // Units long enough (about a second each) that the other writer, which first loads the
    // data, finds some left to train.
    let p = preset(tmp.path(), &names, ", epochs: 40, train_subset: 6000");
    let root = tmp.path().join("runs");
    let dir = root.join("shared");
    let preset = mnist_lab::preset::load(p.to_str().unwrap()).unwrap();
    let record = runs::RunRecord::new(&preset, runs::record::Environment::detect("t"));
    units::create_manifest(&dir, &record).unwrap();
    // The past run is the picker's last entry; the cursor starts on `quick`.
    let (entries, _) = mnist_lab::tui::runtime::picker_entries(None);
    let quick = entries
        .iter()
        .position(|e| e.preset.as_ref().is_ok_and(|p| p.name == "quick"))
        .unwrap();
    let mut app = PtyApp::spawn(
        &["tui".as_ref(), "--runs-dir".as_ref(), root.as_os_str()],
        40,
        140,
    );
    app.wait_for("shared", Duration::from_secs(20));
    for _ in 0..=quick {
        app.press("\x1b[A");
    }
    app.press("r");
    app.wait_for("0/6 done", Duration::from_secs(20));
    // Another writer joins the same folder.
    let other = run_into(&p, &dir, &["--jobs", "1"]);
    let text = common::succeeded(&other);
    assert!(
        text.contains(" done in "),
        "the other writer trained some: {text}"
    );
    app.wait_polling(
        "6/6 done",
        Duration::from_secs(60),
        Duration::from_millis(100),
    );
    app.wait_polling("DONE", Duration::from_secs(30), Duration::from_millis(100));
    let r = runs::load(&dir).unwrap();
    assert!(r.complete);
    app.press("q");
    let _ = app.child.wait();
}
