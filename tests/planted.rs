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

/// A finished two-unit run (`a`, `b`) in `tmp/name`, with a title.
fn finished_run(tmp: &Path, name: &str) -> PathBuf {
    let p = preset(tmp, &["a", "b"], "");
    let dir = tmp.join(name);
    let out = bin()
        .arg("run")
        .arg(&p)
        .arg("--run-dir")
        .arg(&dir)
        .output()
        .unwrap();
    common::succeeded(&out);
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
    c.arg("export").arg(run).arg("--to").arg(scratch.join("export"));
    out.push(("export", c));
    let mut c = bin();
    c.arg("merge").arg(run).arg("--to").arg(scratch.join("merged"));
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
    assert!(r.text.contains("holds a run"), "{}", r.text);
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
    use std::io::Write;
    use mnist_lab::data::idx;
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
    assert!(start.elapsed() < Duration::from_millis(200), "{:?}", start.elapsed());

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
