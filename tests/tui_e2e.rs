//! End to end: the real binary in a pseudo-terminal. Start quick.ron, pause (no progress while
//! paused), resume, wait for every variant, open the grid, export, quit; the terminal is
//! restored afterwards.

mod common;

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use common::pty::PtyApp;

/// Presses q and waits for the app to end.
fn quit(app: &mut PtyApp) {
    app.press("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the app did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `tui PRESET --runs-dir ROOT` for a preset written from `ron` into `dir`.
fn preset_args(dir: &std::path::Path, name: &str, ron: &str) -> Vec<std::ffi::OsString> {
    let preset = dir.join(name);
    std::fs::write(&preset, ron).unwrap();
    vec![
        "tui".into(),
        preset.into_os_string(),
        "--runs-dir".into(),
        dir.join("runs").into_os_string(),
    ]
}

#[test]
fn tui_end_to_end_in_a_pty() {
    let runs = tempfile::tempdir().unwrap();
    let args: Vec<&OsStr> = ["tui", "quick", "--epochs", "8", "--runs-dir"]
        .iter()
        .map(OsStr::new)
        .chain([runs.path().as_os_str()])
        .collect();
    let mut app = PtyApp::spawn(&args, 36, 120);

    app.wait_for("TRAINING", Duration::from_secs(30));
    app.wait_for("batch ", Duration::from_secs(30));
    app.press(" ");
    app.wait_for("PAUSED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let paused_a = app.screen();
    std::thread::sleep(Duration::from_millis(1500));
    let paused_b = app.screen();
    assert_eq!(paused_a, paused_b, "no progress while paused");
    app.press(" ");
    app.wait_for("TRAINING", Duration::from_secs(10));
    app.wait_for("3/3 done", Duration::from_secs(120));
    app.wait_for("DONE", Duration::from_secs(10));

    app.press("2");
    let grid = app.wait_for("study loss", Duration::from_secs(10));
    assert!(
        grid.contains("128-64 every") && grid.contains("256 sgd"),
        "{grid}"
    );
    assert!(
        grid.contains("L 0."),
        "final numbers in the grid cells: {grid}"
    );

    app.press("e");
    let shown = app.wait_for("exported", Duration::from_secs(30));
    app.press("q");

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = app.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the app did not quit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(200));
    {
        let p = app.parser.lock().unwrap();
        assert!(!p.screen().alternate_screen(), "left the alternate screen");
        assert!(!p.screen().hide_cursor(), "cursor visible again");
    }

    let dirs: Vec<_> = std::fs::read_dir(runs.path()).unwrap().flatten().collect();
    assert_eq!(dirs.len(), 1, "one run folder: {shown}");
    let dir = dirs[0].path();
    let record = mnist_lab::runs::load(&dir).unwrap();
    assert_eq!(record.units.len(), 3);
    assert!(record.units.iter().all(|v| v.history.len() == 8));
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("| 128-64 every |"), "{md}");
    for f in ["epochs.csv", "curves.png", "confusion-128-64_every.csv"] {
        assert!(dir.join(f).is_file(), "{f} exported");
    }
}

/// A 2-variant × 2-seed run in the real binary: four units train, then the table shows CIs,
/// the pairwise view a test, the grid the seed band; the run file has the four units.
#[test]
fn two_variants_two_seeds_end_to_end_in_a_pty() {
    let runs = tempfile::tempdir().unwrap();
    let preset = runs.path().join("seeds.ron");
    std::fs::write(
        &preset,
        r#"(name: "seeds", defaults: (arch: "128-64", epochs: 2, train_subset: 3000,
            test_subset: 1000, seed: 1, seeds: 2),
            variants: [(name: "every", placement: Every), (name: "none", placement: None)])"#,
    )
    .unwrap();
    let root = runs.path().join("runs");
    let args: Vec<&OsStr> = [
        OsStr::new("tui"),
        preset.as_os_str(),
        OsStr::new("--runs-dir"),
        root.as_os_str(),
    ]
    .to_vec();
    let mut app = PtyApp::spawn(&args, 36, 140);
    app.wait_for("4/4 done", Duration::from_secs(120));
    app.wait_for("DONE", Duration::from_secs(10));
    app.press("3");
    let table = app.wait_for("95% CI", Duration::from_secs(10));
    assert!(table.contains("2/2"), "n per variant: {table}");
    app.press("6");
    let pairs = app.wait_for("A vs B", Duration::from_secs(10));
    assert!(pairs.contains("(A − B), 95% CI ["), "{pairs}");
    app.press("2");
    app.wait_for("band min–max", Duration::from_secs(10));
    quit(&mut app);
    let dir = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let record = mnist_lab::runs::load(&dir).unwrap();
    let names: Vec<&str> = record.units.iter().map(|v| v.spec.name.as_str()).collect();
    assert_eq!(
        names,
        ["every · s1", "none · s1", "every · s2", "none · s2"]
    );
    assert!(record
        .units
        .iter()
        .all(|v| v.history.len() == 2 && v.history.iter().all(|m| m.val_loss.is_some())));
}

/// The mouse in the real binary: SGR mouse reports (what terminals send once the app turns
/// capture on) click a header tab and a grid cell; `--no-mouse` leaves them alone.
#[test]
fn sgr_mouse_clicks_switch_views_and_select_grid_cells_in_a_pty() {
    let runs = tempfile::tempdir().unwrap();
    let owned = preset_args(
        runs.path(),
        "mouse.ron",
        r#"(name: "mouse", defaults: (arch: "128-64", epochs: 1, train_subset: 1000,
            test_subset: 300),
            variants: [(name: "left one"), (name: "right one")])"#,
    );
    let args: Vec<&OsStr> = owned.iter().map(|a| a.as_os_str()).collect();
    let mut app = PtyApp::spawn(&args, 30, 120);
    app.wait_for("2/2 done", Duration::from_secs(120));
    let screen = app.wait_for("DONE", Duration::from_secs(10));
    let mode = app.parser.lock().unwrap().screen().mouse_protocol_mode();
    assert_ne!(
        mode,
        vt100::MouseProtocolMode::None,
        "the app asks for mouse reports"
    );
    // Press and release of the left button at a 1-based (column, row), SGR encoding.
    let click = |app: &mut PtyApp, col: usize, row: usize| {
        app.press(&format!(
            "\x1b[<0;{};{}M\x1b[<0;{};{}m",
            col + 1,
            row + 1,
            col + 1,
            row + 1
        ));
    };
    let header = screen.lines().next().unwrap().to_string();
    let at = header.find("2 grid").expect("the grid tab");
    click(&mut app, header[..at].chars().count() + 1, 0);
    let grid = app.wait_for("one y-scale", Duration::from_secs(10));
    // The selection followed training to the last variant; click inside the cell of "left
    // one", a few rows under its title.
    app.press("1");
    app.wait_for("right one · loss", Duration::from_secs(10));
    app.press("2");
    app.wait_for("one y-scale", Duration::from_secs(10));
    let (row, line) = grid
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(" left one "))
        .expect("the cell title");
    let col = line[..line.find(" left one ").unwrap()].chars().count() + 2;
    click(&mut app, col, row + 2);
    // The live view names the selected variant in its chart's title.
    app.press("1");
    let live = app.wait_for("left one · loss", Duration::from_secs(10));
    assert!(live.contains("left one · loss"), "{live}");
    // M gives the mouse back to the terminal.
    app.press("M");
    app.wait_for("mouse off", Duration::from_secs(10));
    let mode = app.parser.lock().unwrap().screen().mouse_protocol_mode();
    assert_eq!(mode, vt100::MouseProtocolMode::None);
    quit(&mut app);

    // --no-mouse never asks for mouse reports.
    let mut args = args;
    args.push(OsStr::new("--no-mouse"));
    let mut app = PtyApp::spawn(&args, 30, 120);
    app.wait_for("DONE", Duration::from_secs(120));
    let mode = app.parser.lock().unwrap().screen().mouse_protocol_mode();
    assert_eq!(mode, vt100::MouseProtocolMode::None);
    quit(&mut app);
}

#[test]
fn watch_follows_a_run_folder_that_another_process_writes() {
    use mnist_lab::runs::{self, units, UnitStatus};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shared");
    let p = mnist_lab::preset::parse(
        "w.ron",
        r#"(name: "watched", defaults: (arch: "128-64", epochs: 3),
            variants: [(name: "first"), (name: "second", placement: None)])"#,
    )
    .unwrap();
    let record = runs::RunRecord::new(&p, runs::record::Environment::detect("t"));
    units::create_manifest(&dir, &record).unwrap();
    // This test process is the writer the TUI watches.
    let writer = units::WriterLock::take(&dir).unwrap();
    let mut app = PtyApp::spawn(&["watch".as_ref(), dir.as_os_str()], 36, 120);
    app.wait_for("watching (1 writer)", Duration::from_secs(20));
    app.press("3");
    app.wait_for("test loss", Duration::from_secs(5));

    let mut unit = record.units[0].clone();
    unit.status = UnitStatus::Running;
    let epoch = |e: usize, loss: f32| mnist_lab::spec::EpochMetrics {
        epoch: e,
        train_loss: loss,
        train_acc: 0.5,
        test_loss: loss,
        test_acc: 0.5,
        ..Default::default()
    };
    for (e, loss, shown) in [(1, 0.4321, "0.4321"), (2, 0.1234, "0.1234")] {
        unit.history.push(epoch(e, loss));
        units::save_unit(&dir, 0, &unit).unwrap();
        let t = Instant::now();
        app.wait_polling(shown, Duration::from_secs(5), Duration::from_millis(50));
        assert!(
            t.elapsed() < Duration::from_millis(2500),
            "epoch {e} shown after {:?}",
            t.elapsed()
        );
    }
    // Pause, skip and cancel belong to the writers.
    app.press(" ");
    app.wait_for("pause, skip and cancel are theirs", Duration::from_secs(5));

    // The writer ends both units and leaves: the run is done.
    for (i, loss) in [(0, 0.1111f32), (1, 0.2222)] {
        let mut u = record.units[i].clone();
        u.status = UnitStatus::Finished;
        u.history = (1..=3).map(|e| epoch(e, loss)).collect();
        units::save_unit(&dir, i, &u).unwrap();
    }
    drop(writer);
    app.wait_for("2/2 done", Duration::from_secs(5));
    app.wait_for("DONE", Duration::from_secs(5));
    quit(&mut app);
}
