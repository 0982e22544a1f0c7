//! Robustness: hostile files never panic, faults during training cost only the variant at
//! fault, signals leave a consistent run.json and the right exit status, any terminal size
//! renders, and names cannot escape the runs folder.

mod common;

use std::path::Path;
use std::time::Duration;

use mnist_lab::data::{self, idx, FILES};
use mnist_lab::engine::{EngineOptions, Event};
use mnist_lab::preset;
use mnist_lab::runs::{self, UnitStatus};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn idx_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let p = Path::new("fuzz.idx");
        let _ = idx::parse_images(p, &bytes, Some((28, 28)));
        let _ = idx::parse_labels(p, &bytes);
        let _ = idx::decode_maybe_gz(p, bytes.clone());
        let _ = idx::parse_sums(p, &String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn idx_headers_with_hostile_counts_never_panic(
        magic in prop_oneof![Just(0x803u32), Just(0x801u32), any::<u32>()],
        count in any::<u32>(), rows in 0u32..64, cols in 0u32..64,
        tail in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let mut b = Vec::new();
        for v in [magic, count, rows, cols] { b.extend(v.to_be_bytes()); }
        b.extend(tail);
        let p = Path::new("fuzz.idx");
        let _ = idx::parse_images(p, &b, None);
        let _ = idx::parse_labels(p, &b);
    }

    #[test]
    fn gzip_streams_with_garbage_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..500)) {
        let mut b = vec![0x1f, 0x8b, 8, 0];
        b.extend(tail);
        let _ = idx::decode_maybe_gz(Path::new("x.gz"), b);
    }

    #[test]
    fn preset_parser_never_panics_on_any_text(text in ".{0,400}") {
        let _ = preset::parse("fuzz.ron", &text);
    }

    #[test]
    fn preset_parser_never_panics_on_mutated_presets(
        cut in 0usize..2000, insert in ".{0,12}", which in 0usize..4,
    ) {
        let (_, text) = preset::EMBEDDED[which];
        let cut = cut.min(text.len());
        let cut = (0..=cut).rev().find(|c| text.is_char_boundary(*c)).unwrap_or(0);
        let mutated = format!("{}{}{}", &text[..cut], insert, &text[cut..]);
        if let Err(e) = preset::parse("fuzz.ron", &mutated) {
            let msg = e.to_string();
            prop_assert!(msg.starts_with("fuzz.ron"), "error names the file: {}", msg);
        }
    }

    #[test]
    fn rendering_any_size_never_panics(w in 1u16..=400, h in 1u16..=120, view in 0usize..VIEWS) {
        let app = app_with_many_variants(12, view);
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
        t.draw(|f| {
            mnist_lab::tui::ui::render(&app, f);
        }).unwrap();
    }
}

/// The picker and the run's seven views.
const VIEWS: usize = 8;

/// The shared fixture, shown in view `view`: 0–6 the run's views (live, grid, table,
/// factors, digits, pairs, overlay: keys 1–7), 7 the picker.
fn app_with_many_variants(n: usize, view: usize) -> mnist_lab::tui::app::App {
    use mnist_lab::tui::app::Msg;
    let mut app = common::many::app_with_variants(n, 3);
    if view == 7 {
        app.screen = mnist_lab::tui::app::Screen::Picker;
        return app;
    }
    let key = ['1', '2', '3', '4', '5', '6', '7'][view];
    app.update(Msg::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char(key),
    )));
    let wanted = mnist_lab::tui::app::View::all().nth(view).unwrap();
    // `5` opens the digits view once the selected unit's weights are evaluated; these units
    // saved none: its digits are loaded as the runtime would, so the gallery and the matrix
    // are drawn at every size too.
    if wanted == mnist_lab::tui::app::View::Digits {
        common::fixtures::with_digits(&mut app);
        app.view = wanted;
    }
    assert_eq!(app.view, wanted, "key {key} shows the view");
    app
}

#[test]
fn every_size_from_1x1_to_400x120_renders() {
    for view in 0..VIEWS {
        let app = app_with_many_variants(15, view);
        for w in (1..=400).step_by(13).chain([1, 79, 80, 400]) {
            for h in (1..=120).step_by(7).chain([1, 23, 24, 120]) {
                let mut t =
                    ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
                t.draw(|f| {
                    mnist_lab::tui::ui::render(&app, f);
                })
                .unwrap();
            }
        }
    }
}

#[test]
fn two_hundred_variants_page_in_the_grid() {
    let mut app = app_with_many_variants(200, 1);
    app.selected = 0;
    for _ in 0..150 {
        app.update(mnist_lab::tui::app::Msg::Key(
            crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Down),
        ));
    }
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    t.draw(|f| {
        mnist_lab::tui::ui::render(&app, f);
    })
    .unwrap();
    let screen: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(
        screen.contains("variant number 150"),
        "the selection is scrolled into view: {}",
        t.backend()
    );
    assert!(
        screen.contains("rows "),
        "the grid says which rows it shows"
    );
}

/// Every data-file error is one line naming the file.
#[test]
fn data_errors_are_one_line_and_name_the_file() {
    type Setup = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Setup)> = vec![
        (
            "wrong magic",
            Box::new(|d: &Path| std::fs::write(d.join(FILES[0]), [0u8; 16]).unwrap()),
        ),
        (
            "empty",
            Box::new(|d: &Path| std::fs::write(d.join(FILES[1]), b"").unwrap()),
        ),
        (
            "directory",
            Box::new(|d: &Path| {
                std::fs::remove_file(d.join(FILES[2])).unwrap();
                std::fs::create_dir(d.join(FILES[2])).unwrap();
            }),
        ),
        (
            "corrupt gzip",
            Box::new(|d: &Path| {
                std::fs::remove_file(d.join(FILES[3])).unwrap();
                std::fs::write(d.join(format!("{}.gz", FILES[3])), [0x1f, 0x8b, 8, 0, 9, 9])
                    .unwrap();
            }),
        ),
    ];
    for (what, setup) in cases {
        let dir = tempfile::tempdir().unwrap();
        for f in FILES {
            let header: &[u8] = if f.contains("images") {
                &[0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]
            } else {
                &[0, 0, 8, 1, 0, 0, 0, 0]
            };
            std::fs::write(dir.path().join(f), header).unwrap();
        }
        setup(dir.path());
        let msg = data::load_dir(dir.path()).unwrap_err().to_string();
        assert!(!msg.contains('\n'), "{what}: {msg}");
        assert!(msg.contains(dir.path().to_str().unwrap()), "{what}: {msg}");
    }
}

#[test]
fn a_preset_with_lr_1e3_diverges_at_an_epoch_and_the_next_variant_runs() {
    let p = common::small_preset(
        "arch: \"512-128\", epochs: 2, train_subset: 2000, test_subset: 500",
        "(name: \"wild\", placement: None, optimizer: Sgd(lr: 1000.0)), (name: \"calm\", epochs: 1)",
    );
    let (_, r) = common::run_all(p, EngineOptions::default());
    assert_eq!(r.units[0].status, UnitStatus::Failed);
    let f = r.units[0].failure.as_ref().unwrap();
    assert_eq!(f.kind, mnist_lab::spec::FailKind::Diverged);
    assert_eq!(f.epoch, Some(1));
    assert_eq!(r.units[1].status, UnitStatus::Finished);
}

#[test]
fn hostile_names_cannot_leave_the_runs_folder() {
    let root = tempfile::tempdir().unwrap();
    for name in [
        "../../x",
        "/etc/passwd",
        "a\0b",
        "..",
        "con\x07trol\nname",
        "////",
    ] {
        let dir = runs::create_run_dir(root.path(), name).unwrap();
        assert_eq!(
            dir.parent().unwrap(),
            root.path(),
            "{name:?} -> {}",
            dir.display()
        );
        let file = dir.file_name().unwrap().to_str().unwrap();
        assert!(
            !file.contains('/') && !file.contains('\0') && !file.chars().any(|c| c.is_control())
        );
    }
    // Variant names become weight files inside the weights folder only.
    let weights = root.path().join("weights");
    let p = common::small_preset(
        "arch: \"128-64\", epochs: 1, train_subset: 500, test_subset: 100",
        "(name: \"../../evil\"), (name: \"/abs/path\")",
    );
    let (_, r) = common::run_all(
        p,
        EngineOptions {
            weights_dir: Some(weights.clone()),
            ..Default::default()
        },
    );
    for v in &r.units {
        let w = Path::new(v.weights.as_ref().unwrap());
        assert_eq!(w.parent().unwrap(), weights, "{}", w.display());
    }
    assert!(!root
        .path()
        .parent()
        .unwrap()
        .join("evil.safetensors")
        .exists());
}

const THREE: &str = r#"(name: "sig", defaults: (arch: "128-64", epochs: 2, train_subset: 3000,
    test_subset: 500, seed: 2), variants: [(name: "a"), (name: "b", epochs: 200), (name: "c")])"#;

/// Starts a headless run, waits until variant 2 trains, sends `signal`; returns (status, run).
fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) on a child process we started and still own.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal})");
}

fn signal_headless(signal: i32) -> (Option<i32>, runs::RunRecord, String) {
    let tmp = tempfile::tempdir().unwrap();
    let preset_path = tmp.path().join("sig.ron");
    std::fs::write(&preset_path, THREE).unwrap();
    let root = tmp.path().join("runs");
    let mut run = common::JsonlRun::start(&preset_path, &root);
    run.wait_for(|e| matches!(e, Event::EpochEnd { index: 1, .. }));
    send_signal(run.child.id(), signal);
    let out = run.child.wait_with_output().unwrap();
    let dir = common::only_run_dir(&root);
    (
        out.status.code(),
        runs::load(&dir).unwrap(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn signals_in_headless_runs_save_and_exit_with_the_right_status() {
    for (sig, code) in [
        (libc::SIGINT, 130),
        (libc::SIGTERM, 143),
        (libc::SIGHUP, 129),
    ] {
        let (status, r, stderr) = signal_headless(sig);
        assert_eq!(status, Some(code), "{sig}: {stderr}");
        assert_eq!(r.units[0].status, UnitStatus::Finished, "{sig}");
        assert_eq!(r.units[1].status, UnitStatus::Interrupted, "{sig}");
        assert_eq!(r.units[2].status, UnitStatus::Queued, "{sig}");
        assert!(stderr.contains("--resume"), "{stderr}");
    }
}

#[test]
fn kill_9_then_resume_finishes_the_rest() {
    // (The full equality check with an uninterrupted run is in tests/run_store.rs.)
    let tmp = tempfile::tempdir().unwrap();
    let preset_path = tmp.path().join("sig.ron");
    std::fs::write(&preset_path, THREE.replace("epochs: 200", "epochs: 40")).unwrap();
    let root = tmp.path().join("runs");
    let mut run = common::JsonlRun::start(&preset_path, &root);
    run.wait_for(|e| matches!(e, Event::EpochEnd { index: 1, .. }));
    run.child.kill().unwrap();
    run.child.wait().unwrap();
    let dir = common::only_run_dir(&root);
    assert_eq!(runs::load(&dir).unwrap().count(UnitStatus::Finished), 1);
    let out = common::resume(&dir, &root);
    assert!(out.status.success());
    assert_eq!(runs::load(&dir).unwrap().count(UnitStatus::Finished), 3);
}

#[test]
fn an_unwritable_run_folder_mid_run_keeps_training_and_rescues_the_results() {
    let tmp = tempfile::tempdir().unwrap();
    let preset_path = tmp.path().join("sig.ron");
    std::fs::write(
        &preset_path,
        THREE
            .replace("epochs: 200", "epochs: 6")
            .replace("\"sig\"", "\"rescue-test\""),
    )
    .unwrap();
    let root = tmp.path().join("runs");
    let mut run = common::JsonlRun::start(&preset_path, &root);
    run.wait_for(|e| matches!(e, Event::UnitStarted { index: 1, .. }));
    let (child, lines) = (run.child, run.lines);
    // The run folder vanishes and a file takes its place: every later write fails (as root,
    // permission bits would not stop us, so this is how the test makes it unwritable).
    let dir = common::only_run_dir(&root);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"in the way").unwrap();
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        rest.iter().any(|l| l.contains("RunFinished")),
        "training went on to the end"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot save the run"), "{stderr}");
    let rescue = std::env::temp_dir().join(format!(
        "mnist-lab-rescue-{}",
        dir.file_name().unwrap().to_string_lossy()
    ));
    assert!(stderr.contains(rescue.to_str().unwrap()), "{stderr}");
    // The rescue every writer of this run shares: its name ends in a hash of the run folder.
    let start = stderr.find(rescue.to_str().unwrap()).unwrap();
    let rescue = std::path::PathBuf::from(
        stderr[start..]
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .next()
            .unwrap(),
    );
    let r = runs::load(&rescue).unwrap();
    assert_eq!(r.count(UnitStatus::Finished), 3);
    std::fs::remove_dir_all(&rescue).ok();
}

#[test]
fn signal_in_the_tui_restores_the_terminal_and_records_the_interruption() {
    use std::ffi::OsStr;
    let tmp = tempfile::tempdir().unwrap();
    let preset_path = tmp.path().join("sig.ron");
    std::fs::write(&preset_path, THREE).unwrap();
    let root = tmp.path().join("runs");
    let args = [
        OsStr::new("tui"),
        preset_path.as_os_str(),
        OsStr::new("--runs-dir"),
        root.as_os_str(),
    ];
    let mut app = common::pty::PtyApp::spawn(&args, 30, 100);
    let start = std::time::Instant::now();
    loop {
        let done = root
            .read_dir()
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .and_then(|e| runs::load(&e.path()).ok())
            .is_some_and(|r| r.units[0].status == UnitStatus::Finished);
        if done {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "first variant never finished"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = app.child.process_id().unwrap();
    send_signal(pid, libc::SIGTERM);
    let status = app.child.wait().unwrap();
    assert_eq!(status.exit_code(), 143);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !app.parser.lock().unwrap().screen().alternate_screen(),
        "terminal restored"
    );
    let r = runs::load(&common::only_run_dir(&root)).unwrap();
    assert_eq!(r.units[0].status, UnitStatus::Finished);
    assert_eq!(r.units[1].status, UnitStatus::Interrupted);
}

#[test]
fn a_panic_in_training_is_reported_and_never_printed_raw() {
    // The training runs on pool workers: their panics must be caught and kept quiet too.
    let root = tempfile::tempdir().unwrap();
    let out = common::bin()
        .args(["run", "quick", "--epochs", "1", "--train-subset", "2000"])
        .args(["--test-subset", "500", "--runs-dir"])
        .arg(root.path())
        .env("MNIST_LAB_INJECT_PANIC", "128-64 none")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stderr.contains("panicked at"),
        "raw panic printed: {stderr}"
    );
    assert!(
        format!("{stdout}{stderr}").contains("injected panic"),
        "failure not reported: {stdout}{stderr}"
    );
    let record = runs::load(&common::only_run_dir(root.path())).unwrap();
    let statuses: Vec<_> = record.units.iter().map(|v| v.status).collect();
    assert_eq!(
        statuses,
        [
            UnitStatus::Finished,
            UnitStatus::Failed,
            UnitStatus::Finished
        ]
    );
}
