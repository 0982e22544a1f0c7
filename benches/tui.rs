//! TUI measurements, run with `cargo bench --bench tui`:
//! * key-press-to-frame latency while training (space → "PAUSED" on screen, and back);
//! * wall time of quick.ron headless vs in the TUI (the TUI's overhead).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const BIN: &str = env!("CARGO_BIN_EXE_mnist-lab");

fn wait_for(parser: &Mutex<vt100::Parser>, needle: &str, timeout: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if parser.lock().unwrap().screen().contents().contains(needle) {
            return start.elapsed();
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {needle}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// A TUI in a pty: its screen, its keyboard and the process.
type Tui = (
    Arc<Mutex<vt100::Parser>>,
    Box<dyn Write + Send>,
    Box<dyn portable_pty::Child + Send + Sync>,
);

fn spawn_tui(args: &[&str], runs: &std::path::Path) -> Tui {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 36,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(BIN);
    cmd.args(args);
    cmd.arg("--runs-dir");
    cmd.arg(runs);
    cmd.cwd(env!("CARGO_MANIFEST_DIR"));
    let child = pair.slave.spawn_command(cmd).unwrap();
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
    (parser, pair.master.take_writer().unwrap(), child)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs = tempfile::tempdir().unwrap();

    // Key-to-frame latency while training (paper-2019's first variant keeps the CPU busy).
    let (parser, mut keys, mut child) = spawn_tui(&["tui", "paper-2019"], runs.path());
    wait_for(&parser, "batch ", Duration::from_secs(60));
    let (mut pause, mut resume) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let t = Instant::now();
        keys.write_all(b" ").unwrap();
        keys.flush().unwrap();
        wait_for(&parser, "PAUSED", Duration::from_secs(10));
        pause.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        keys.write_all(b" ").unwrap();
        keys.flush().unwrap();
        wait_for(&parser, "TRAINING", Duration::from_secs(10));
        resume.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(300));
    }
    // Navigation keys never wait for the engine: help overlay round trip.
    let mut help = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        keys.write_all(b"?").unwrap();
        keys.flush().unwrap();
        wait_for(&parser, " keys ", Duration::from_secs(10));
        help.push(t.elapsed().as_secs_f64() * 1e3);
        keys.write_all(b"?").unwrap();
        keys.flush().unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    println!(
        "key→frame while training (ms, median of 10): pause {:.1}, resume {:.1}, help {:.1}",
        median(&mut pause),
        median(&mut resume),
        median(&mut help)
    );

    // Headless vs TUI wall time for quick.ron.
    let mut headless = Vec::new();
    let mut tui = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let out = std::process::Command::new(BIN)
            .args(["run", "quick", "--runs-dir"])
            .arg(runs.path())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.success());
        headless.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let (parser, mut keys, mut child) = spawn_tui(&["tui", "quick"], runs.path());
        wait_for(&parser, "3/3 done", Duration::from_secs(120));
        tui.push(t.elapsed().as_secs_f64());
        keys.write_all(b"q").unwrap();
        keys.flush().unwrap();
        let _ = child.wait();
    }
    let (h, u) = (median(&mut headless), median(&mut tui));
    println!(
        "quick.ron wall time (s, median of 3): headless {h:.2}, TUI {u:.2}, overhead {:+.1}%",
        (u / h - 1.0) * 100.0
    );
}
