//! TUI measurements, run with `cargo bench --bench tui`:
//! * key-press-to-frame latency while training (space → "PAUSED" on screen, and back);
//! * frame time with 200 variants;
//! * wall and training time headless vs in the TUI (the TUI's overhead), in alternating pairs.

use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mnist-lab");

#[path = "../tests/common/many.rs"]
mod many;
#[path = "../tests/common/pty.rs"]
mod pty;
use pty::PtyApp;

fn spawn_tui(args: &[&str], runs: &std::path::Path) -> PtyApp {
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    all.push(std::ffi::OsStr::new("--runs-dir"));
    all.push(runs.as_os_str());
    PtyApp::spawn(&all, 36, 120)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs = tempfile::tempdir().unwrap();

    // Key-to-frame latency while training (paper-2019's first variant keeps the CPU busy).
    let mut app = spawn_tui(&["tui", "paper-2019"], runs.path());
    app.wait_for("batch ", Duration::from_secs(60));
    let (mut pause, mut resume) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let t = Instant::now();
        app.press(" ");
        app.wait_for("PAUSED", Duration::from_secs(10));
        pause.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        app.press(" ");
        app.wait_for("TRAINING", Duration::from_secs(10));
        resume.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(300));
    }
    // Navigation keys never wait for the engine: help overlay round trip.
    let mut help = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        app.press("?");
        app.wait_for(" keys ", Duration::from_secs(10));
        help.push(t.elapsed().as_secs_f64() * 1e3);
        app.press("?");
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = app.child.kill();
    println!(
        "key→frame while training (ms, median of 10): pause {:.1}, resume {:.1}, help {:.1}",
        median(&mut pause),
        median(&mut resume),
        median(&mut help)
    );

    render_200_variants();

    // Headless vs TUI: pairs in alternating order (this machine's speed drifts by a few per
    // cent over minutes), each compared within its pair. Wall time runs from launch to the
    // last variant done; training time is what run.json records, start-up excluded.
    for (args, done, pairs) in [
        (vec!["quick"], "3/3 done", 4),
        (vec!["paper-2019", "--epochs", "2"], "15/15 done", 4),
    ] {
        let (mut wall, mut train) = (Vec::new(), Vec::new());
        for pair in 0..pairs {
            let (h, u) = if pair % 2 == 0 {
                let h = headless_run(&args);
                (h, tui_run(&args, done))
            } else {
                let u = tui_run(&args, done);
                (headless_run(&args), u)
            };
            wall.push((u.0 / h.0 - 1.0) * 100.0);
            train.push((u.1 / h.1 - 1.0) * 100.0);
            println!(
                "  {}: headless {:.2} s ({:.2} s training), TUI {:.2} s ({:.2} s training)",
                args.join(" "),
                h.0,
                h.1,
                u.0,
                u.1
            );
        }
        println!(
            "{} TUI overhead over headless, median of {pairs} alternating pairs: wall {:+.1}%, training {:+.1}%",
            args.join(" "),
            median(&mut wall),
            median(&mut train)
        );
    }
}

/// Seconds of training that the one run in `root` recorded, summed over its variants.
fn training_seconds(root: &std::path::Path) -> f64 {
    let runs = mnist_lab::runs::history::list(root);
    let record = runs.first().expect("a run folder").record.as_ref().unwrap();
    record
        .units
        .iter()
        .map(|v| f64::from(v.seconds.unwrap_or(0.0)))
        .sum()
}

/// (wall seconds, training seconds) of a headless run.
fn headless_run(args: &[&str]) -> (f64, f64) {
    let runs = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let out = std::process::Command::new(BIN)
        .arg("run")
        .args(args)
        .arg("--runs-dir")
        .arg(runs.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success());
    (t.elapsed().as_secs_f64(), training_seconds(runs.path()))
}

/// (wall seconds, training seconds) of the same run in the TUI, until `done` shows.
fn tui_run(args: &[&str], done: &str) -> (f64, f64) {
    let runs = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let mut tui_args = vec!["tui"];
    tui_args.extend(args);
    let mut app = spawn_tui(&tui_args, runs.path());
    // Coarse polling: reading the screen must not steal CPU from training.
    app.wait_polling(done, Duration::from_secs(900), Duration::from_millis(100));
    let wall = t.elapsed().as_secs_f64();
    app.press("q");
    let _ = app.child.wait();
    (wall, training_seconds(runs.path()))
}

/// Frame time of the grid with 200 variants (half finished) at 160x50.
fn render_200_variants() {
    use mnist_lab::tui::app::Msg;
    let mut app = many::app_with_variants(200, 20);
    for (key, view) in [
        ('2', "grid"),
        ('3', "table"),
        ('4', "factors"),
        ('1', "live"),
    ] {
        app.update(Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(key),
        )));
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 50)).unwrap();
        let t = Instant::now();
        for _ in 0..50 {
            terminal
                .draw(|f| {
                    mnist_lab::tui::ui::render(&app, f);
                })
                .unwrap();
        }
        println!(
            "200 variants, {view} view at 160x50: {:.2} ms per frame",
            t.elapsed().as_secs_f64() * 1e3 / 50.0
        );
    }
}
