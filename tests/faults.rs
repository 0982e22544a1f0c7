//! The faults found by trying mnist-lab as a careless or hostile user would (issue "Faults
//! found ..."): one test per fault, each failing on the code before the fix. The README's
//! Guarantees table names them.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::bin;
use mnist_lab::engine::{EngineOptions, Event, Kernel, Sink};
use mnist_lab::runs::{self, RunLock, UnitStatus};
use mnist_lab::session::{Recorder, Saved, Session};

/// A preset file with tiny variants (seconds each) named `names`.
fn tiny_preset(dir: &Path, names: &[&str], extra: &str) -> PathBuf {
    let variants: Vec<String> = names
        .iter()
        .map(|n| format!("(name: {})", ron_string(n)))
        .collect();
    let text = format!(
        "(name: \"tiny\", defaults: (arch: \"128-64\", epochs: 1, train_subset: 300, \
         test_subset: 100, seed: 3{extra}), variants: [{}])",
        variants.join(", ")
    );
    let path = dir.join("tiny.ron");
    std::fs::write(&path, text).unwrap();
    path
}

fn ron_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Tests that set the rescue folder's environment variable take turns.
static RESCUE_ENV_LOCK: Mutex<()> = Mutex::new(());

fn run_tiny(preset: &Path, root: &Path) -> std::process::Output {
    bin()
        .arg("run")
        .arg(preset)
        .arg("--runs-dir")
        .arg(root)
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// The command failed with status 2 and said `needle` on standard error.
fn fails_saying(o: &std::process::Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(stderr(o).contains(needle), "{}", stderr(o));
}

fn temp_files_in(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for folder in [dir.to_path_buf(), dir.join("weights")] {
        for e in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.contains(".tmp") {
                found.push(n);
            }
        }
    }
    found
}

// 1. Distinct names never share a weights file, and weights are checked against their unit.

#[test]
fn distinct_names_get_distinct_weights_files() {
    let long_a = format!("{}a", "x".repeat(80));
    let long_b = format!("{}b", "x".repeat(80));
    for (a, b) in [
        ("2L adam!every", "2L adam_every"),
        ("é", "ü"),
        (long_a.as_str(), long_b.as_str()),
    ] {
        assert_eq!(runs::sanitize(a), runs::sanitize(b), "the collision exists");
        assert_ne!(runs::weights_file_name(a), runs::weights_file_name(b));
    }
    let f = runs::weights_file_name("../../evil");
    assert!(!f.contains('/') && f.ends_with(".safetensors"), "{f}");
}

#[test]
fn eval_refuses_weights_of_another_variant_and_reports_each_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tiny_preset(tmp.path(), &["a.b", "a_b"], ", placement: Every");
    let root = tmp.path().join("runs");
    let out = run_tiny(&preset, &root);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = common::only_run_dir(&root);
    let record = runs::load(&dir).unwrap();
    for v in &record.units {
        let e = bin()
            .arg("eval")
            .arg(&dir)
            .arg(&v.spec.name)
            .output()
            .unwrap();
        assert!(e.status.success(), "{}", stderr(&e));
        let recorded = format!("{:.4}", v.last().unwrap().test_acc);
        assert!(
            stdout(&e).contains(&format!("test accuracy {recorded}")),
            "{} evaluates as itself: {}",
            v.spec.name,
            stdout(&e)
        );
    }
    // Replace one file by the other's: eval must notice.
    let (_, a) = runs::find_weights(&dir, &record, "a.b").unwrap();
    let (_, b) = runs::find_weights(&dir, &record, "a_b").unwrap();
    assert_ne!(a, b);
    std::fs::copy(&a, &b).unwrap();
    let e = bin().arg("eval").arg(&dir).arg("a_b").output().unwrap();
    fails_saying(&e, "belong to variant \"a.b\", not \"a_b\"");
}

// 2. Non-finite numbers in a preset are refused; a record is never written unreadable.

#[test]
fn non_finite_numbers_in_a_preset_are_refused() {
    for bad in ["NaN", "inf", "-inf"] {
        let text = format!(
            "(name: \"p\", variants: [(name: \"v\", arch: \"256\", \
             reference: (test_loss: {bad}, test_acc: 0.9))])"
        );
        let e = mnist_lab::preset::parse("p.ron", &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("test_loss must be a finite number"),
            "{bad}: {e}"
        );
        let text = format!(
            "(name: \"p\", variants: [(name: \"v\", arch: \"256\", \
             reference: (test_loss: 0.1, test_acc: {bad}))])"
        );
        let e = mnist_lab::preset::parse("p.ron", &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("test_acc must be in [0, 1]"), "{bad}: {e}");
    }
}

#[test]
fn a_record_that_would_not_read_back_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let p = common::small_preset("arch: \"256\"", "(name: \"v\")");
    let mut r = runs::RunRecord::new(&p, runs::record::Environment::detect("t"));
    runs::save(dir.path(), &r).unwrap();
    let good = std::fs::read(dir.path().join("run.json")).unwrap();
    r.units[0].spec.dropout = f32::NAN;
    let e = runs::save(dir.path(), &r).unwrap_err();
    assert!(format!("{e:#}").contains("read back"), "{e:#}");
    assert_eq!(std::fs::read(dir.path().join("run.json")).unwrap(), good);
    assert!(temp_files_in(dir.path()).is_empty());
}

// 3. One writer per run folder.

#[test]
fn a_second_writer_of_a_run_folder_is_refused_with_the_holders_pid() {
    let dir = tempfile::tempdir().unwrap();
    let first = RunLock::acquire(dir.path()).unwrap();
    let e = RunLock::acquire(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains(&format!("process {}", std::process::id())),
        "names the holder: {e}"
    );
    drop(first);
    RunLock::acquire(dir.path()).expect("free again once the holder is gone");
}

#[test]
fn two_resumes_of_one_run_share_it_and_never_train_a_unit_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tiny_preset(tmp.path(), &["a", "b"], "");
    let root = tmp.path().join("runs");
    assert!(run_tiny(&preset, &root).status.success());
    let dir = common::only_run_dir(&root);
    // An older mnist-lab's single-file run whose b was interrupted (migrated on resume).
    let mut r = runs::load(&dir).unwrap();
    r.units[1].status = UnitStatus::Interrupted;
    r.layout = None;
    std::fs::remove_dir_all(dir.join("units")).unwrap();
    runs::save(&dir, &r).unwrap();
    let first = Session::resume(&dir, &common::mnist()).unwrap();
    // The first resume is training b (holds its lock): the second has nothing to take.
    assert!(first.lock().claim(1));
    let second = common::resume(&dir, &root);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(!stdout(&second).contains("b done"), "{}", stdout(&second));
    assert!(
        stdout(&second).contains("1 left to other writers"),
        "{}",
        stdout(&second)
    );
    // The first lets go without finishing b: the next writer takes it over.
    drop(first);
    let third = common::resume(&dir, &root);
    assert!(stdout(&third).contains("b done"), "{}", stdout(&third));
    let r = runs::load(&dir).unwrap();
    assert!(r.complete);
    assert_eq!(r.count(UnitStatus::Finished), 2);
}

// 4. A full disk or a file-size limit.

#[test]
fn refused_weights_go_to_the_rescue_folder_with_the_record() {
    let tmp = tempfile::tempdir().unwrap();
    let rescue_root = tmp.path().join("rescue");
    std::fs::create_dir_all(&rescue_root).unwrap();
    let _env = RESCUE_ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    std::env::set_var(runs::RESCUE_ENV, &rescue_root);
    let p = common::small_preset(
        "arch: \"128-64\", epochs: 1, train_subset: 300, test_subset: 100",
        "(name: \"v\")",
    );
    let dir = tmp.path().join("run");
    std::fs::create_dir_all(&dir).unwrap();
    // The weights folder cannot be created: a file has its name.
    std::fs::write(dir.join("weights"), b"in the way").unwrap();
    let record = runs::RunRecord::new(&p, runs::record::Environment::detect("t"));
    runs::units::create_manifest(&dir, &record).unwrap();
    let writer = runs::units::WriterLock::take(&dir).unwrap();
    let recorder = Arc::new(Mutex::new(Recorder::new(record, dir.clone(), writer)));
    let sink: Arc<Mutex<dyn Sink>> = recorder.clone();
    let (events, _) = common::run_all(
        p,
        EngineOptions {
            sink: Some(sink),
            ..Default::default()
        },
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Warning { message } if message.contains("kept in memory"))),
        "the user is told: {events:?}"
    );
    let saved = recorder.lock().unwrap().finish(false);
    let Saved::Rescued { dir: rescued, .. } = &saved else {
        panic!("rescued: {saved:?}");
    };
    assert!(rescued.starts_with(&rescue_root));
    let r = runs::load(rescued).unwrap();
    let (_, w) = runs::find_weights(rescued, &r, "v").unwrap();
    let e =
        mnist_lab::engine::train::evaluate_saved(&r.units[0].spec, &w, &common::mnist()).unwrap();
    assert_eq!(e.accuracy, r.units[0].last().unwrap().test_acc);
    assert!(saved.to_string().contains(&rescued.display().to_string()));
    assert!(temp_files_in(&dir).is_empty());
}

#[test]
fn a_file_size_limit_fails_the_write_cleanly_and_says_where_the_run_is() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tiny_preset(tmp.path(), &["v"], "");
    let root = tmp.path().join("runs");
    let rescue = tmp.path().join("rescue");
    std::fs::create_dir_all(&rescue).unwrap();
    // run.json (a few KB) fits under 64 KiB; the weights (~420 KB) do not, anywhere.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 64; exec \"$0\" run \"$1\" --runs-dir \"$2\"")
        .arg(env!("CARGO_BIN_EXE_mnist-lab"))
        .arg(&preset)
        .arg(&root)
        .env(runs::RESCUE_ENV, &rescue)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    // The unit records fit and are in the run folder; only the weights were lost: said once,
    // truly, in one line (issue "Faults, round three", 12).
    assert_eq!(
        out.status.code(),
        Some(1),
        "handled, not killed by SIGXFSZ: {:?} {}",
        out.status,
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("records saved in"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(!err.contains("could not be saved anywhere"), "{err}");
    assert_eq!(
        err.matches("weights could not be written").count(),
        1,
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("\\n"), "{err}");
    assert_eq!(
        std::fs::read_dir(&rescue).unwrap().count(),
        0,
        "no half-made rescue folder left"
    );
    let dir = common::only_run_dir(&root);
    let r = runs::load(&dir).unwrap();
    assert_eq!(r.count(UnitStatus::Finished), 1);
    let dir = common::only_run_dir(&root);
    assert!(temp_files_in(&dir).is_empty(), "{:?}", temp_files_in(&dir));
    for d in std::fs::read_dir(&rescue).unwrap().flatten() {
        assert!(temp_files_in(&d.path()).is_empty());
    }
}

#[test]
fn leftover_temporary_files_are_removed_when_a_run_is_opened_for_writing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("weights")).unwrap();
    std::fs::create_dir_all(dir.path().join("units")).unwrap();
    // A killed writer's half-written unit file and weights of unit 3 ("v"), and of another
    // unit, which this claim must leave to whoever claims that one.
    let stale = [
        dir.path().join(".run.json.tmp-4242-0"),
        dir.path()
            .join("weights")
            .join(format!(".{}.tmp-4242-1", runs::weights_file_name("v"))),
        dir.path().join("units/.0003.json.tmp-4242-2"),
    ];
    let other = dir.path().join("units/.0004.json.tmp-4242-3");
    for f in stale.iter().chain([&other]) {
        std::fs::write(f, b"half written").unwrap();
    }
    // An older single-file run is tidied when its lock is taken (to migrate it)...
    drop(RunLock::acquire(dir.path()).unwrap());
    assert!(!stale[0].exists());
    // ...a shared folder's unit when it is claimed.
    let _claim = runs::units::claim_unit(dir.path(), 3, "v")
        .unwrap()
        .unwrap();
    for f in &stale {
        assert!(!f.exists(), "{} removed", f.display());
    }
    assert!(other.exists(), "another unit's file is left to its writer");
}

// 5. Rescue folders are unique.

#[test]
fn rescue_folders_never_collide() {
    let tmp = tempfile::tempdir().unwrap();
    let _env = RESCUE_ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    std::env::set_var(runs::RESCUE_ENV, tmp.path());
    let a = runs::create_rescue_dir("20260101-000000-quick").unwrap();
    let b = runs::create_rescue_dir("20260101-000000-quick").unwrap();
    assert_ne!(a, b);
    assert!(a.is_dir() && b.is_dir());
}

// 6. The record of a finished unit is on disk before the next unit starts.

#[test]
fn kill_9_loses_at_most_the_unit_in_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..12).map(|i| format!("u{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let preset = tiny_preset(tmp.path(), &names, "");
    let root = tmp.path().join("runs");
    let mut child = bin()
        .arg("run")
        .arg(&preset)
        .arg("--runs-dir")
        .arg(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut done = 0;
    for line in lines.by_ref() {
        if line.unwrap().contains(" done in ") {
            done += 1;
            if done == 6 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let r = runs::load(&common::only_run_dir(&root)).unwrap();
    assert!(
        r.count(UnitStatus::Finished) >= done,
        "{} finished on disk, {done} reported",
        r.count(UnitStatus::Finished)
    );
}

// 7. Paths in run.json are relative to the run folder.

#[test]
fn a_moved_run_folder_still_finds_its_weights_from_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tiny_preset(tmp.path(), &["v"], "");
    let root = tmp.path().join("runs");
    assert!(run_tiny(&preset, &root).status.success());
    let dir = common::only_run_dir(&root);
    let r = runs::load(&dir).unwrap();
    let w = r.units[0].weights.clone().unwrap();
    assert!(w.starts_with("weights/"), "relative to the run: {w}");
    let moved = tmp.path().join("elsewhere/renamed-run");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&dir, &moved).unwrap();
    let e = bin()
        .current_dir(tmp.path())
        .arg("--data")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist"))
        .arg("eval")
        .arg("elsewhere/renamed-run")
        .arg("v")
        .output()
        .unwrap();
    assert!(e.status.success(), "{}", stderr(&e));
    let x = bin()
        .current_dir(tmp.path())
        .args(["export", "elsewhere/renamed-run", "--to", "out"])
        .output()
        .unwrap();
    assert!(x.status.success(), "{}", stderr(&x));
    assert!(tmp
        .path()
        .join("out/weights")
        .join(Path::new(&w).file_name().unwrap())
        .is_file());
}

// 8. The TUI without a terminal.

#[test]
fn the_tui_without_a_terminal_says_so_in_one_line() {
    let out = bin()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(!e.contains("panicked"), "{e}");
    assert!(
        e.contains("needs a terminal") && e.contains("run PRESET"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1, "{e}");
}

// 9. Closed pipes.

#[test]
fn a_closed_pipe_ends_the_run_cleanly_with_141() {
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..4).map(|i| format!("u{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let preset = tiny_preset(tmp.path(), &names, "");
    let root = tmp.path().join("runs");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("\"$0\" run \"$1\" --runs-dir \"$2\" 2>&1 | head -1; exit ${PIPESTATUS[0]}")
        .arg(env!("CARGO_BIN_EXE_mnist-lab"))
        .arg(&preset)
        .arg(&root)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("preset tiny"), "{}", stdout(&out));
    let r = runs::load(&common::only_run_dir(&root)).expect("the record was saved");
    assert!(!r.complete);
}

/// Any command piped into `head` ends quietly: `list | head -1` printed "error: Broken pipe".
/// The reader is closed before the program starts, so the write always meets a closed pipe
/// (through `head` the whole list could fit the pipe's buffer before `head` exited).
#[test]
fn list_into_a_closed_pipe_ends_quietly_with_141() {
    let tmp = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = bin()
        .arg("list")
        .arg("--runs-dir")
        .arg(tmp.path().join("runs"))
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn a_full_standard_output_is_named_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tiny_preset(tmp.path(), &["v"], "");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = bin()
        .arg("run")
        .arg(&preset)
        .arg("--runs-dir")
        .arg(tmp.path().join("runs"))
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    fails_saying(&out, "cannot write to standard output");
}

// 10. An idle TUI uses next to no CPU after a finished run.

/// CPU seconds (user + system) a process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf reads a constant of the system; no memory is passed.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

#[test]
fn an_idle_tui_after_a_finished_run_uses_next_to_no_cpu() {
    let runs = tempfile::tempdir().unwrap();
    let args: Vec<&std::ffi::OsStr> = [
        "tui",
        "quick",
        "--epochs",
        "1",
        "--train-subset",
        "500",
        "--test-subset",
        "100",
        "--runs-dir",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .chain([runs.path().as_os_str()])
    .collect();
    let mut app = common::pty::PtyApp::spawn(&args, 36, 120);
    app.wait_for("DONE", Duration::from_secs(60));
    let pid = app.child.process_id().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_seconds(pid);
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_seconds(pid) - before;
    eprintln!(
        "idle TUI: {used:.2} CPU s in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(used < 0.2, "idle TUI used {used:.2} CPU seconds in 3 s");
    app.press("q");
}

// 11. Control characters in names reach no terminal raw.

#[test]
fn names_with_control_characters_are_escaped_in_headless_output() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tiny_preset(tmp.path(), &["red\u{1b}[31m", "two\nlines"], "");
    let out = run_tiny(&preset, &tmp.path().join("runs"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(
        text.contains("red\\u{1b}[31m") && text.contains("two\\nlines"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("lines")),
        "{text}"
    );
}

// 12. BatchNorm with one sample.

#[test]
fn batchnorm_trains_batches_of_one_and_two_on_both_paths() {
    for kernel in [Kernel::Fast, Kernel::Dfdx] {
        for (batch, subset) in [(1, 12), (2, 12), (128, 129)] {
            let p = common::small_preset(
                &format!(
                    "arch: \"128-64\", epochs: 1, batch_size: {batch}, train_subset: {subset}, \
                     test_subset: 50, placement: Every"
                ),
                "(name: \"n\")",
            );
            let (events, r) = common::run_all(
                p,
                EngineOptions {
                    kernel,
                    ..Default::default()
                },
            );
            let v = &r.units[0];
            assert_eq!(
                v.status,
                UnitStatus::Finished,
                "{kernel:?} batch {batch}: {events:?}"
            );
            let m = v.last().unwrap();
            assert!(m.train_loss.is_finite() && m.test_loss.is_finite());
        }
    }
}

// 13. A data set of no images.

#[test]
fn a_data_set_of_no_images_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut images = vec![0, 0, 8, 3];
    images.extend(0u32.to_be_bytes());
    images.extend(28u32.to_be_bytes());
    images.extend(28u32.to_be_bytes());
    let mut labels = vec![0, 0, 8, 1];
    labels.extend(0u32.to_be_bytes());
    for (i, f) in mnist_lab::data::FILES.iter().enumerate() {
        let bytes = if i % 2 == 0 { &images } else { &labels };
        std::fs::write(dir.path().join(f), bytes).unwrap();
    }
    let e = mnist_lab::data::load_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds no examples"), "{e}");
}

// 14. Messages: what is wrong, and where, once.

fn run_with_data(data: &Path) -> String {
    let out = bin()
        .arg("--data")
        .arg(data)
        .args(["run", "quick", "--runs-dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    stderr(&out)
}

#[test]
fn data_folder_messages_name_the_real_problem() {
    let tmp = tempfile::tempdir().unwrap();
    // A symbolic link loop is not "file not found".
    let looped = tmp.path().join("loop");
    std::fs::create_dir_all(&looped).unwrap();
    std::os::unix::fs::symlink(
        "train-images-idx3-ubyte",
        looped.join("train-images-idx3-ubyte"),
    )
    .unwrap();
    let e = run_with_data(&looped);
    assert!(
        e.contains("symbolic link") && !e.contains("not found"),
        "{e}"
    );
    // --data that is a file, or empty.
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let e = run_with_data(&file);
    assert!(e.contains("is a file, not a folder"), "{e}");
    let e = run_with_data(Path::new(""));
    assert!(e.contains("a value is required for '--data"), "{e}");
    let out = bin()
        .env("MNIST_LAB_DATA", "")
        .args(["run", "quick", "--runs-dir"])
        .arg(tmp.path().join("runs"))
        .output()
        .unwrap();
    assert!(stderr(&out).contains("empty path"), "{}", stderr(&out));
    // Trailing bytes are not "truncated".
    let mut bytes = vec![0, 0, 8, 1];
    bytes.extend(2u32.to_be_bytes());
    bytes.extend([1, 2, 3]);
    let path = Path::new("labels");
    let e = mnist_lab::data::idx::parse_labels(path, &bytes)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("1 bytes after the data") && !e.contains("truncated"),
        "{e}"
    );
}

#[test]
fn no_error_text_is_repeated() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let out = bin().arg("run").arg(file.join("p.ron")).output().unwrap();
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(e.matches("os error 20").count(), 1, "{e}");
}

#[test]
fn a_runs_folder_that_cannot_be_one_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("runs-file");
    std::fs::write(&file, b"x").unwrap();
    let dangling = tmp.path().join("dangling");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
    for (root, says) in [(&file, "is a file"), (&dangling, "does not exist")] {
        let out = bin()
            .arg("runs")
            .arg("--runs-dir")
            .arg(root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        let out = bin()
            .args(["run", "quick", "--runs-dir"])
            .arg(root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains(says) && !stderr(&out).contains("File exists"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn a_preset_path_that_is_a_device_or_a_folder_is_named_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let e = mnist_lab::preset::load("/dev/null")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let e = mnist_lab::preset::load(tmp.path().to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a directory"), "{e}");
}

#[test]
fn a_damaged_weights_file_is_described_not_debug_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tiny_preset(tmp.path(), &["v"], "");
    let root = tmp.path().join("runs");
    assert!(run_tiny(&preset, &root).status.success());
    let dir = common::only_run_dir(&root);
    let r = runs::load(&dir).unwrap();
    let (_, w) = runs::find_weights(&dir, &r, "v").unwrap();
    std::fs::write(&w, [0xff; 64]).unwrap();
    let out = bin().arg("eval").arg(&dir).arg("v").output().unwrap();
    let e = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(e.contains("not a safetensors weights file"), "{e}");
    assert!(!e.contains("SafeTensorError") && !e.contains("Os {"), "{e}");
}

#[test]
fn a_preset_with_a_byte_order_mark_is_read() {
    let p = mnist_lab::preset::parse(
        "bom.ron",
        "\u{feff}(name: \"b\", variants: [(name: \"v\", arch: \"256\")])",
    )
    .unwrap();
    assert_eq!(p.name, "b");
}

#[test]
fn epochs_above_the_preset_limit_are_refused_on_the_command_line() {
    let out = bin()
        .args(["run", "quick", "--epochs", "10001"])
        .output()
        .unwrap();
    fails_saying(&out, "--epochs must be 1..=10000");
}

#[test]
fn unlabelled_weights_from_older_runs_still_export_and_eval_says_why_not() {
    use dfdx::nn::SaveToSafetensors;
    let tmp = tempfile::tempdir().unwrap();
    let preset = tiny_preset(tmp.path(), &["v"], "");
    let root = tmp.path().join("runs");
    assert!(run_tiny(&preset, &root).status.success());
    let dir = common::only_run_dir(&root);
    let r = runs::load(&dir).unwrap();
    let (v, w) = runs::find_weights(&dir, &r, "v").unwrap();
    // What mnist-lab wrote before weights were labelled: dfdx's file, no metadata.
    let dev: dfdx::tensor::Cpu = Default::default();
    let net: mnist_lab::model::Mlp128x64 = mnist_lab::model::Net::new_configured(&dev, &v.spec);
    net.save_safetensors(&w).unwrap();
    let e = bin().arg("eval").arg(&dir).arg("v").output().unwrap();
    fails_saying(&e, "does not say which variant it belongs to");
    let out = tmp.path().join("out");
    let x = bin()
        .arg("export")
        .arg(&dir)
        .arg("--to")
        .arg(&out)
        .output()
        .unwrap();
    assert!(x.status.success(), "{}", stderr(&x));
    assert!(out.join("summary.csv").is_file());
    assert!(!out.join("confusion-v.csv").exists());
}
