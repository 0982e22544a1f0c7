//! Faults, round four (issue 37): no file planted in a run folder may hang, flood or
//! overwrite, and an export is never mistaken for a run. The matrix test plants a named
//! pipe, a symbolic link and a 1 GB sparse file at every name a run folder holds and runs
//! every command that reads a run folder against each; the other tests take the issue's
//! items one by one.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::bin;
use mnist_lab::runs::{self, units};

/// A preset of tiny units (a second each) named `names`; `extra` is added to the defaults.
fn preset(dir: &Path, names: &[&str], extra: &str) -> PathBuf {
    let variants: Vec<String> = names
        .iter()
        .map(|n| format!("(name: {})", serde_json::to_string(n).unwrap()))
        .collect();
    let text = format!(
        "(name: \"tiny\", defaults: (arch: \"128-64\", epochs: 1, train_subset: 300, \
         test_subset: 100, seed: 3{extra}), variants: [{}])",
        variants.join(", ")
    );
    let path = dir.join(format!("tiny-{}.ron", names.len()));
    std::fs::write(&path, text).unwrap();
    path
}

/// `run PRESET --run-dir DIR`, which must succeed.
fn train_into(preset: &Path, dir: &Path) {
    let out = bin()
        .arg("run")
        .arg(preset)
        .arg("--run-dir")
        .arg(dir)
        .output()
        .unwrap();
    common::succeeded(&out);
}

/// A finished two-unit run (`a`, `b`) in `tmp/name`, with a title.
fn finished_run(tmp: &Path, name: &str) -> PathBuf {
    let p = preset(tmp, &["a", "b"], "");
    let dir = tmp.join(name);
    train_into(&p, &dir);
    std::fs::write(dir.join("title"), "named\n").unwrap();
    dir
}

/// What a command did: its exit, its words, its time and its peak memory.
struct Ran {
    code: Option<i32>,
    text: String,
    took: Duration,
    max_rss_mb: f64,
}

/// Runs `cmd` (no terminal, no input) for at most `limit`: a command still running then is
/// killed and the test fails, naming it. Peak memory comes from the child's own rusage.
// The child is reaped by `wait4` (which also gives its own peak memory), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn timed(mut cmd: Command, limit: Duration) -> Ran {
    let out = tempfile::NamedTempFile::new().unwrap();
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out.reopen().unwrap())
        .stderr(out.reopen().unwrap())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: rusage is plain data, zeroed; wait4 writes it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waiting (without blocking) on a child this process spawned.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if rc == pid {
            let took = start.elapsed();
            let status = std::process::ExitStatus::from_raw(status);
            return Ran {
                code: status.code(),
                text: std::fs::read_to_string(out.path()).unwrap_or_default(),
                took,
                max_rss_mb: usage.ru_maxrss as f64 / 1024.0,
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{shown} still ran after {limit:?}: {}",
                std::fs::read_to_string(out.path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Copies a run folder (files and folders only; it holds nothing else).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Plant {
    Pipe,
    Link,
    Sparse,
}

/// Puts `plant` at `rel` in `run` (moving what was there out to `outside`, which a link then
/// points at). Returns what a command must name when it refuses.
fn plant(run: &Path, rel: &str, what: Plant, outside: &Path) -> String {
    let path = run.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let moved = outside.join(rel.replace('/', "_"));
    if std::fs::symlink_metadata(&path).is_ok() {
        std::fs::rename(&path, &moved).unwrap();
    } else {
        std::fs::write(&moved, b"{}").unwrap();
    }
    match what {
        Plant::Pipe => {
            let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        }
        Plant::Link => std::os::unix::fs::symlink(&moved, &path).unwrap(),
        Plant::Sparse => {
            let f = std::fs::File::create(&path).unwrap();
            f.set_len(1 << 30).unwrap();
        }
    }
    Path::new(rel)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string()
}

/// Every command that reads a run folder, against `run` (whose parent is the runs folder).
fn commands(run: &Path, preset: &Path, scratch: &Path) -> Vec<(&'static str, Command)> {
    let root = run.parent().unwrap();
    let mut out = Vec::new();
    let mut c = bin();
    c.arg("runs").arg("--runs-dir").arg(root);
    out.push(("runs", c));
    let mut c = bin();
    c.arg("export")
        .arg(run)
        .arg("--to")
        .arg(scratch.join("export"));
    out.push(("export", c));
    let mut c = bin();
    c.arg("merge")
        .arg(run)
        .arg("--to")
        .arg(scratch.join("merged"));
    out.push(("merge", c));
    let mut c = bin();
    c.arg("eval").arg(run).arg("a");
    out.push(("eval", c));
    let mut c = bin();
    c.args(["run", "--resume"]).arg(run);
    out.push(("resume", c));
    let mut c = bin();
    c.arg("run").arg(preset).arg("--run-dir").arg(run);
    out.push(("join", c));
    out
}

/// Every name a run folder holds, files and folders.
fn names(run: &Path) -> Vec<String> {
    let weights = std::fs::read_dir(run.join("weights"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .file_name();
    vec![
        "run.json".into(),
        "title".into(),
        "units/0000.json".into(),
        "writers/host-1.lock".into(),
        format!("weights/{}", weights.to_string_lossy()),
        "units".into(),
        "writers".into(),
        "weights".into(),
    ]
}

#[test]
fn a_pipe_a_link_or_a_sparse_giant_at_any_name_never_hangs_or_floods_any_command() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = finished_run(tmp.path(), "pristine");
    let p = preset(tmp.path(), &["a", "b"], "");
    let mut slowest = (Duration::ZERO, String::new());
    for (case, rel) in names(&pristine).iter().enumerate() {
        for what in [Plant::Pipe, Plant::Link, Plant::Sparse] {
            let is_dir = pristine.join(rel).is_dir();
            if is_dir && !matches!(what, Plant::Link) {
                // A folder replaced by a pipe or a file is a file at a folder's name; the
                // link is the case that matters for folders.
                continue;
            }
            let base = tmp.path().join(format!("case-{case}-{what:?}"));
            let root = base.join("runs");
            let run = root.join("run");
            let outside = base.join("outside");
            std::fs::create_dir_all(&outside).unwrap();
            copy_dir(&pristine, &run);
            let name = plant(&run, rel, what, &outside);
            let outside_before = std::fs::read_dir(&outside).unwrap().count();
            for (label, cmd) in commands(&run, &p, &base) {
                let r = timed(cmd, Duration::from_secs(10));
                let said = format!("{rel} as {what:?}, {label}: rc {:?}\n{}", r.code, r.text);
                // Ends on its own with an exit code, never a crash or a signal.
                assert!(matches!(r.code, Some(0..=2)), "{said}");
                // Refusals name the file they refuse.
                if r.code != Some(0) {
                    assert!(r.text.contains(&name), "{said}");
                }
                assert!(r.max_rss_mb < 200.0, "{said}: {} MB", r.max_rss_mb);
                if r.took > slowest.0 {
                    slowest = (r.took, said.lines().next().unwrap().to_string());
                }
                // Nothing is made where a link points.
                assert_eq!(
                    std::fs::read_dir(&outside).unwrap().count(),
                    outside_before,
                    "{said}"
                );
                if let Ok(entries) = std::fs::read_dir(outside.join(rel.replace('/', "_"))) {
                    assert!(
                        !entries
                            .flatten()
                            .any(|e| e.file_name().to_string_lossy().ends_with(".lock")),
                        "{said}: a lock was made through the link"
                    );
                }
            }
            // A planted run.json or unit file is refused by name, whatever reads it.
            if matches!(rel.as_str(), "run.json" | "units/0000.json") {
                let mut c = bin();
                c.arg("eval").arg(&run).arg("a");
                let r = timed(c, Duration::from_secs(10));
                assert_ne!(r.code, Some(0), "{}", r.text);
                assert!(!r.text.contains("missing"), "{}", r.text);
            }
        }
    }
    eprintln!("slowest: {:?} ({})", slowest.0, slowest.1);
}

fn run_cmd(args: &[&std::ffi::OsStr]) -> Ran {
    let mut c = bin();
    c.args(args);
    timed(c, Duration::from_secs(60))
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

// 1. An export is never mistaken for a run, and never overwrites one.

#[test]
fn an_export_never_becomes_a_run_and_a_run_is_never_exported_over() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let other = finished_run(tmp.path(), "other");
    let x = tmp.path().join("x");
    let r = run_cmd(&[os("export"), run.as_os_str(), os("--to"), x.as_os_str()]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    // Resuming or joining the export is refused: it would turn it into a run.
    let r = run_cmd(&[os("run"), os("--resume"), x.as_os_str()]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(r.text.contains("is an export"), "{}", r.text);
    assert!(!x.join("units").exists() && !x.join("writers").exists());
    let p = preset(tmp.path(), &["a", "b"], "");
    let r = run_cmd(&[os("run"), p.as_os_str(), os("--run-dir"), x.as_os_str()]);
    assert!(r.text.contains("is an export"), "{}", r.text);
    let r = run_cmd(&[os("merge"), other.as_os_str(), os("--to"), x.as_os_str()]);
    assert!(r.text.contains("is an export"), "{}", r.text);
    // Exporting again into the export is fine.
    let r = run_cmd(&[os("export"), run.as_os_str(), os("--to"), x.as_os_str()]);
    assert_eq!(r.code, Some(0), "{}", r.text);

    // A run.json put into the export by hand (not the one the export wrote): refused.
    std::fs::copy(other.join("run.json"), x.join("run.json")).unwrap();
    let before = std::fs::read(x.join("run.json")).unwrap();
    let r = run_cmd(&[os("export"), run.as_os_str(), os("--to"), x.as_os_str()]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(r.text.contains("holds a run of its own"), "{}", r.text);
    assert_eq!(std::fs::read(x.join("run.json")).unwrap(), before);

    // A marker planted in a shared run folder does not make it an export target.
    std::fs::write(other.join(runs::EXPORT_MARK), "").unwrap();
    let before = std::fs::read(other.join("run.json")).unwrap();
    let r = run_cmd(&[os("export"), run.as_os_str(), os("--to"), other.as_os_str()]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(r.text.contains("holds a run"), "{}", r.text);
    assert_eq!(std::fs::read(other.join("run.json")).unwrap(), before);
    assert!(!other.join("epochs.csv").exists());
    // ...and that run still resumes (its units make it a run, whatever marker it has).
    assert!(runs::refuse_export(&other).is_ok());
}

// 3. A sparse giant is refused before it is read.

#[test]
fn a_sparse_title_or_unit_file_is_refused_by_its_size_without_reading_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    std::fs::File::create(run.join("units/0001.json"))
        .unwrap()
        .set_len(20 << 30)
        .unwrap();
    std::fs::File::create(run.join("title"))
        .unwrap()
        .set_len(20 << 30)
        .unwrap();
    let r = run_cmd(&[os("runs"), os("--runs-dir"), tmp.path().as_os_str()]);
    assert!(r.max_rss_mb < 200.0, "{} MB", r.max_rss_mb);
    assert!(r.text.contains("0001.json"), "{}", r.text);
    assert!(r.text.contains("more than the"), "{}", r.text);
    assert_eq!(runs::history::read_title(&run), None);
}

// 4. A gzip bomb behind a header that promises one image is never inflated whole.

#[test]
fn a_gzipped_idx_is_inflated_no_further_than_its_header_declares() {
    use mnist_lab::data::idx;
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bomb-idx3-ubyte.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::best(),
    );
    for x in [idx::IMAGES_MAGIC, 1, 28, 28] {
        gz.write_all(&x.to_be_bytes()).unwrap();
    }
    // 256 MB of zeros after the one promised image: a few hundred KB compressed.
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        gz.write_all(&zeros).unwrap();
    }
    gz.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 2 << 20);
    let start = Instant::now();
    let e = idx::read_maybe_gz(&path).unwrap_err();
    assert!(
        matches!(e, idx::DataError::LongerThanDeclared { declared: 784, .. }),
        "{e}"
    );
    // Inflating all of it takes far longer than the first kilobyte.
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );

    // A header declaring more than any data set may hold is refused before inflating.
    let path = tmp.path().join("huge-idx3-ubyte");
    let mut v = Vec::new();
    for x in [idx::IMAGES_MAGIC, u32::MAX, 256, 256] {
        v.extend(x.to_be_bytes());
    }
    std::fs::write(&path, v).unwrap();
    let e = idx::read_maybe_gz(&path).unwrap_err();
    assert!(matches!(e, idx::DataError::DeclaresTooMuch { .. }), "{e}");
    // A named pipe for an IDX file is refused, not waited on.
    let fifo = tmp.path().join("pipe-idx3-ubyte");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let e = idx::read_maybe_gz(&fifo).unwrap_err();
    assert!(e.to_string().contains("named pipe"), "{e}");
}

/// Rewrites `dir/run.json` through its JSON.
fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(runs::RUN_FILE);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

// 5. merge streams each weights file: its memory does not grow with the run.

#[test]
fn merge_streams_weights_so_its_memory_does_not_grow_with_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    // One trained unit of a 4.4 MB network, repeated as 60 units: 264 MB of weights.
    let p = tmp.path().join("wide.ron");
    std::fs::write(
        &p,
        "(name: \"wide\", defaults: (arch: \"1000-300\", epochs: 1, train_subset: 300, \
         test_subset: 100, seed: 3), variants: [(name: \"a\")])",
    )
    .unwrap();
    let one = tmp.path().join("one");
    train_into(&p, &one);
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let manifest = read(&one.join("run.json"));
    let unit = read(&one.join("units/0000.json"));
    let weights = std::fs::read(one.join(unit["weights"].as_str().unwrap())).unwrap();
    assert!(weights.len() > 4_000_000);
    let big = tmp.path().join("big");
    std::fs::create_dir_all(big.join("units")).unwrap();
    std::fs::create_dir_all(big.join("weights")).unwrap();
    let n = 60;
    let mut m = manifest.clone();
    let mut specs = Vec::new();
    for k in 0..n {
        let name = format!("u{k}");
        let mut u = unit.clone();
        u["spec"]["name"] = name.clone().into();
        u["spec"]["seed"] = (k as u64 + 10).into();
        u["weights"] = runs::weights_record_path(&name).into();
        specs.push(u["spec"].clone());
        std::fs::write(
            units::unit_file(&big, k),
            serde_json::to_string(&u).unwrap(),
        )
        .unwrap();
        std::fs::write(big.join(runs::weights_record_path(&name)), &weights).unwrap();
    }
    let first = manifest["units"][0].clone();
    m["units"] = specs
        .into_iter()
        .map(|s| {
            let mut u = first.clone();
            u["spec"] = s;
            u
        })
        .collect();
    std::fs::write(big.join("run.json"), serde_json::to_string(&m).unwrap()).unwrap();
    let to = tmp.path().join("merged");
    let r = run_cmd(&[os("merge"), big.as_os_str(), os("--to"), to.as_os_str()]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(r.text.contains(&format!("{n} units taken")), "{}", r.text);
    eprintln!("merge of {n} units of 1000-300: {:.0} MB", r.max_rss_mb);
    assert!(r.max_rss_mb < 120.0, "{} MB", r.max_rss_mb);
    // Every weights file arrived whole.
    for k in [0, n - 1] {
        let name = format!("u{k}");
        assert_eq!(
            std::fs::read(to.join(runs::weights_record_path(&name))).unwrap(),
            weights
        );
    }
}

// 7. The view export never follows a link planted at its folder's name.

#[test]
fn the_view_export_refuses_a_planted_link_at_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, run.join("view-live")).unwrap();
    let record = runs::load(&run).unwrap();
    let e = mnist_lab::export::export_files(&run.join("view-live"), &record, &["epochs.csv"])
        .unwrap_err();
    assert!(format!("{e:#}").contains("symbolic link"), "{e:#}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    // Without the link the same export is written inside the run.
    std::fs::remove_file(run.join("view-live")).unwrap();
    let written =
        mnist_lab::export::export_files(&run.join("view-live"), &record, &["epochs.csv"]).unwrap();
    assert!(written[0].starts_with(&run));
}

// 9. Hand-edited rounds and `until` are checked against the whole run.

#[test]
fn hand_edited_until_and_rounds_are_refused_naming_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let p = preset(
        tmp.path(),
        &["a", "b", "c"],
        ", seeds: Until(min: 2, max: 2, half_width: 0.5)",
    );
    let run = tmp.path().join("run");
    train_into(&p, &run);
    let good = std::fs::read(run.join("run.json")).unwrap();
    assert!(runs::load(&run).is_ok());
    let refused = |edit: &dyn Fn(&mut serde_json::Value), needle: &str| {
        std::fs::write(run.join("run.json"), &good).unwrap();
        edit_manifest(&run, |v| edit(v));
        let e = format!("{:#}", runs::load(&run).unwrap_err());
        assert!(e.contains(needle), "{needle:?} not in {e}");
    };
    // max 5,000 seeds is checked against the run's 3 variants: 15,000 units.
    refused(
        &|v| v["until"]["max"] = 5000.into(),
        "could reach 15000 units (3 variants",
    );
    refused(
        &|v| v["until"]["step"] = u64::MAX.into(),
        "step 18446744073709551615 above max",
    );
    let round = |seeds: u64, variants: serde_json::Value, why: &str| {
        let why = why.to_string();
        move |v: &mut serde_json::Value| {
            let n = v["units"].as_array().unwrap().len();
            let mut more = v["units"][0].clone();
            more["spec"]["seed"] = 99.into();
            more["spec"]["name"] = "a · s99".into();
            more["spec"]["variant"] = "a".into();
            v["units"].as_array_mut().unwrap().push(more);
            v["rounds"] = serde_json::json!([{
                "first_unit": n, "seeds": seeds, "variants": variants, "why": why
            }]);
        }
    };
    refused(
        &round(u64::MAX, serde_json::json!(["a"]), "x"),
        "18446744073709551615 seeds, outside Until's 2..=2",
    );
    refused(
        &round(2, serde_json::json!(["zzz"]), "x"),
        "extends \"zzz\", which is no variant of the run",
    );
    refused(
        &round(2, serde_json::json!(["a"]), "two\nlines"),
        "its reason is not one line",
    );
    // A preset's step past max is refused before anything trains.
    let e = mnist_lab::preset::parse(
        "<t>",
        "(name: \"t\", defaults: (seeds: Until(min: 2, max: 3, half_width: 0.1, step: \
         18446744073709551615)), variants: [(name: \"a\"), (name: \"b\")])",
    )
    .unwrap_err();
    assert!(e.to_string().contains("above max 3"), "{e}");
}

// 10. A manifest of the current format names its data set; older ones stay readable.

#[test]
fn a_current_manifest_without_its_data_set_is_refused_and_an_old_one_still_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    edit_manifest(&run, |v| {
        v.as_object_mut().unwrap().remove("data");
    });
    let e = format!("{:#}", runs::load(&run).unwrap_err());
    assert!(e.contains("does not name the data set"), "{e}");
    // A joiner is refused too, so it cannot record nothing either.
    let p = preset(tmp.path(), &["a", "b"], "");
    let r = run_cmd(&[os("run"), p.as_os_str(), os("--run-dir"), run.as_os_str()]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(r.text.contains("does not name the data set"), "{}", r.text);
    // Recorded before the format was kept: no format, no data, read as before.
    edit_manifest(&run, |v| {
        v.as_object_mut().unwrap().remove("format");
    });
    assert!(runs::load(&run).is_ok());
    // A newer format is named as such.
    edit_manifest(&run, |v| v["format"] = 99.into());
    let e = format!("{:#}", runs::load(&run).unwrap_err());
    assert!(e.contains("newer mnist-lab"), "{e}");
}

// 11. eval and export compare the data set given with the run's.

#[test]
fn eval_and_export_say_when_the_data_is_not_the_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    // MNIST's files with the test split's first label changed: same shape, other data.
    let other = tmp.path().join("other-data");
    std::fs::create_dir(&other).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    for f in mnist_lab::data::FILES {
        let bytes = mnist_lab::data::idx::read_maybe_gz(&src.join(format!("{f}.gz"))).unwrap();
        let mut bytes = bytes;
        if f.starts_with("t10k-labels") {
            bytes[8] = (bytes[8] + 1) % 10;
        }
        std::fs::write(other.join(f), bytes).unwrap();
    }
    let r = run_cmd(&[
        os("eval"),
        run.as_os_str(),
        os("a"),
        os("--data"),
        other.as_os_str(),
    ]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(
        r.text.contains("was trained on mnist") && r.text.contains("other-data"),
        "{}",
        r.text
    );
    let to = tmp.path().join("x");
    let r = run_cmd(&[
        os("export"),
        run.as_os_str(),
        os("--to"),
        to.as_os_str(),
        os("--data"),
        other.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    assert!(
        r.text
            .contains("no confusion matrices: the run was trained on"),
        "{}",
        r.text
    );
    assert!(!std::fs::read_dir(&to)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("confusion-")));
}

// 12. Text cells that a spreadsheet would run are neutralised; numbers stay numbers.

#[test]
fn csv_cells_a_spreadsheet_would_run_are_neutralised() {
    let tmp = tempfile::tempdir().unwrap();
    let names = [
        "=HYPERLINK(\"x\")",
        "+cmd|' /C calc'!A0",
        "@SUM(1)",
        "-2+3",
        "\tx",
    ];
    let p = preset(tmp.path(), &names, "");
    let run = tmp.path().join("run");
    train_into(&p, &run);
    let r = run_cmd(&[os("export"), run.as_os_str()]);
    assert_eq!(r.code, Some(0), "{}", r.text);
    for file in ["units.csv", "epochs.csv", "summary.csv", "comparisons.csv"] {
        let mut reader = csv::Reader::from_path(run.join(file)).unwrap();
        let mut cells = 0;
        for row in reader.records() {
            for cell in row.unwrap().iter() {
                let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
                assert!(
                    !risky || cell.parse::<f64>().is_ok_and(f64::is_finite),
                    "{file}: {cell:?}"
                );
                cells += 1;
            }
        }
        assert!(cells > 0 || file == "comparisons.csv", "{file} is empty");
    }
    let units = std::fs::read_to_string(run.join("units.csv")).unwrap();
    assert!(units.contains("'=HYPERLINK"), "{units}");
    assert!(units.contains("'-2+3"), "{units}");
    assert_eq!(mnist_lab::export::neutralise("-0.25".into()), "-0.25");
    assert_eq!(mnist_lab::export::neutralise("=1+1".into()), "'=1+1");
}

// 13. --resume refuses --arch too, and says so.

#[test]
fn resume_refuses_arch_and_lists_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let r = run_cmd(&[
        os("run"),
        os("--resume"),
        run.as_os_str(),
        os("--arch"),
        os("32"),
    ]);
    assert_eq!(r.code, Some(2), "{}", r.text);
    assert!(r.text.contains("--arch"), "{}", r.text);
}

// 15. Two classes of one name are refused.

#[test]
fn duplicate_class_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    for f in mnist_lab::data::FILES {
        std::fs::copy(
            src.join(format!("{f}.gz")),
            tmp.path().join(format!("{f}.gz")),
        )
        .unwrap();
    }
    let names: Vec<&str> = vec!["a", "b", "c", "d", "e", "f", "g", "h", "a", "j"];
    std::fs::write(tmp.path().join("classes.txt"), names.join("\n")).unwrap();
    let e = mnist_lab::data::load_dir(tmp.path()).err().unwrap();
    assert!(
        e.to_string().contains("class 0 and class 8 both \"a\""),
        "{e}"
    );
}

// 16. A number past f32's range is not shown as "inf".

#[test]
fn a_loss_past_f32s_range_is_named_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    let path = units::unit_file(&run, 0);
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let loss = v["history"][0]["test_loss"].to_string();
    std::fs::write(&path, text.replacen(&loss, "3.5e38", 1)).unwrap();
    let e = format!("{:#}", runs::load(&run).unwrap_err());
    assert!(e.contains("beyond ±3.4e38"), "{e}");
    assert!(!e.contains("inf is"), "{e}");
}

// 14. With no spread the planner says a test cannot be computed, and claims no lead.

#[test]
fn the_planner_with_zero_spread_claims_neither_a_size_nor_a_lead() {
    use mnist_lab::insight::{factors::Layout, plan, stats};
    use mnist_lab::spec::{EpochMetrics, Metric};
    let p = mnist_lab::preset::parse(
        "<t>",
        "(name: \"z\", defaults: (arch: \"32\", seed: 1, seeds: 3, validation: Test), \
         variants: [(name: \"a\"), (name: \"b\", dropout: 0.2)])",
    )
    .unwrap();
    let mut r = runs::RunRecord::new(&p, runs::record::Environment::detect("t"));
    for v in &mut r.units {
        // b is a + 0.05 on every seed, up to f32 rounding: a spread of about 1e-8.
        let base = 0.1 * v.spec.seed as f32;
        let loss = if v.spec.variant_name() == "b" {
            base + 0.05
        } else {
            base
        };
        v.status = runs::UnitStatus::Finished;
        v.history.push(EpochMetrics {
            epoch: 1,
            test_loss: loss,
            test_acc: 0.9,
            ..Default::default()
        });
    }
    let layout = Layout::new(&r);
    let cs = stats::one_factor_comparisons(
        &layout,
        &stats::per_variant(&r),
        Metric::TestLoss,
        stats::Adjustment::Holm,
    );
    let mut plan = plan::plan(&r, Metric::TestLoss, None, &cs).unwrap();
    assert!(
        plan.sd_diff > 0.0 && plan.sd_diff < 1e-6,
        "{}",
        plan.sd_diff
    );
    // A tiny spread is printed as what it is, not as 0.0000.
    let text = plan.text();
    assert!(!text.contains("0.0000"), "{text}");
    assert!(!text.contains("ahead of every"), "{text}");
    // No spread at all, and a best that no test could be run against: neither a size nor
    // a lead is claimed.
    plan.sd_diff = 0.0;
    plan.told_apart = 0;
    plan.untested = 1;
    let text = plan.text();
    assert!(!text.contains("sees differences of"), "{text}");
    assert!(text.contains("no spread"), "{text}");
    assert!(
        text.contains("tested against no variant; 1 rival could not be tested"),
        "{text}"
    );
}

// 2. A pipe planted as a unit file neither blanks `watch` nor the TUI's picker: both draw,
// say what is wrong with the run, and quit on `q`.

#[test]
fn watch_and_the_picker_draw_and_quit_with_a_pipe_in_the_run_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let run = finished_run(tmp.path(), "run");
    std::fs::remove_file(run.join("units/0001.json")).unwrap();
    let c =
        std::ffi::CString::new(run.join("units/0001.json").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let runs_dir = tmp.path().as_os_str();
    for (args, needle) in [
        (vec!["watch".as_ref(), run.as_os_str()], "0001.json"),
        (
            vec!["tui".as_ref(), "--runs-dir".as_ref(), runs_dir],
            "pick a preset",
        ),
    ] {
        let mut app = common::pty::PtyApp::spawn(&args, 30, 120);
        app.wait_for(needle, Duration::from_secs(10));
        app.press("q");
        let start = Instant::now();
        loop {
            if app.child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{args:?} did not quit on q: {}",
                app.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Per-batch losses are kept in the unit's record (issue "The dashboard shows only what is
/// true", 8): a finished run read back has every unit's batch curve, bounded and finite, and
/// a hand-edited NaN in it is refused naming the unit.
#[test]
fn batch_losses_are_kept_in_unit_files_and_checked_when_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = finished_run(tmp.path(), "kept");
    let record = mnist_lab::runs::load(&dir).unwrap();
    for u in &record.units {
        // 300 images at the default batch size: every batch booked, none lost.
        assert!(!u.batches.points.is_empty(), "{}", u.spec.name);
        assert!(u.batches.points.len() <= mnist_lab::runs::batches::MAX_POINTS);
        assert!(u
            .batches
            .points
            .iter()
            .all(|p| p.1.is_finite() && p.0 <= 1.0));
    }
    // A planted negative loss: the unit file is refused, by name.
    let unit = dir.join("units").join("0000.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&unit).unwrap()).unwrap();
    json["batches"]["points"][0][1] = serde_json::json!(-1.0);
    std::fs::write(&unit, json.to_string()).unwrap();
    let err = format!("{:#}", mnist_lab::runs::load(&dir).unwrap_err());
    assert!(err.contains("batch loss point 0"), "{err}");
}
