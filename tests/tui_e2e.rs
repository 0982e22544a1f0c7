//! End to end: the real binary in a pseudo-terminal. Start quick.ron, pause (no progress while
//! paused), resume, wait for every variant, open the grid, export, quit; the terminal is
//! restored afterwards.

mod common;

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use common::pty::PtyApp;

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
    assert_eq!(record.variants.len(), 3);
    assert!(record.variants.iter().all(|v| v.history.len() == 8));
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("| 128-64 every |"), "{md}");
    for f in ["epochs.csv", "curves.png", "confusion-128-64_every.csv"] {
        assert!(dir.join(f).is_file(), "{f} exported");
    }
}
