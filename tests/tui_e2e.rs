//! End to end: the real binary in a pseudo-terminal. Start quick.ron, pause (no progress while
//! paused), resume, wait for every variant, open the grid, export, quit; the terminal is
//! restored afterwards.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

struct Screen(Arc<Mutex<vt100::Parser>>);

impl Screen {
    fn text(&self) -> String {
        self.0.lock().unwrap().screen().contents()
    }
    fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let t = self.text();
            if t.contains(needle) {
                return t;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {needle:?}; screen:\n{t}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn tui_end_to_end_in_a_pty() {
    let runs = tempfile::tempdir().unwrap();
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: 36,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_mnist-lab"));
    cmd.args(["tui", "quick", "--epochs", "8", "--runs-dir"]);
    cmd.arg(runs.path());
    cmd.cwd(env!("CARGO_MANIFEST_DIR"));
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);

    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        36.try_into().unwrap(),
        120.try_into().unwrap(),
        0,
    )));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let feed = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            feed.lock().unwrap().process(&buf[..n]);
        }
    });
    let mut keys = pair.master.take_writer().unwrap();
    let mut press = |k: &str| {
        keys.write_all(k.as_bytes()).unwrap();
        keys.flush().unwrap();
    };
    let screen = Screen(parser.clone());

    screen.wait_for("TRAINING", Duration::from_secs(30));
    screen.wait_for("batch ", Duration::from_secs(30));
    press(" ");
    screen.wait_for("PAUSED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let paused_a = screen.text();
    std::thread::sleep(Duration::from_millis(1500));
    let paused_b = screen.text();
    assert_eq!(paused_a, paused_b, "no progress while paused");
    press(" ");
    screen.wait_for("TRAINING", Duration::from_secs(10));
    screen.wait_for("3/3 done", Duration::from_secs(120));
    screen.wait_for("DONE", Duration::from_secs(10));

    press("2");
    let grid = screen.wait_for("study loss", Duration::from_secs(10));
    assert!(
        grid.contains("128-64 every") && grid.contains("256 sgd"),
        "{grid}"
    );
    assert!(
        grid.contains("L 0."),
        "final numbers in the grid cells: {grid}"
    );

    press("e");
    let shown = screen.wait_for("exported", Duration::from_secs(10));
    press("q");

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the app did not quit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(200));
    {
        let p = parser.lock().unwrap();
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
}
