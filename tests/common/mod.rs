#![allow(dead_code)]
//! Helpers shared by the integration tests.

pub mod fixtures;
pub mod many;
pub mod pty;
pub mod screen;

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::{Arc, OnceLock};

use mnist_lab::data::{self, Dataset};
use mnist_lab::engine::{self, Command, EngineOptions, Event};
use mnist_lab::preset::{self, Preset};
use mnist_lab::runs::{record::Environment, RunRecord};
use mnist_lab::session::Fold;

/// The shipped MNIST, loaded once per test binary.
pub fn mnist() -> Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
        Arc::new(data::load_dir(&dir).expect("shipped MNIST loads"))
    })
    .clone()
}

/// A preset from RON text (panics with the error if it does not parse).
pub fn preset_from(text: &str) -> Preset {
    preset::parse("<test>", text).unwrap_or_else(|e| panic!("{e}"))
}

/// A small preset: `variants` is the inside of `variants: [...]`.
pub fn small_preset(defaults: &str, variants: &str) -> Preset {
    preset_from(&format!(
        "(name: \"t\", defaults: ({defaults}), variants: [{variants}])"
    ))
}

/// Runs a preset to the end, collecting every event and the folded record.
pub fn run_all(preset: Preset, options: EngineOptions) -> (Vec<Event>, RunRecord) {
    run_with(preset, options, |_, _| {})
}

/// Like `run_all`, calling `on_event` (which may send commands) for every event.
pub fn run_with(
    preset: Preset,
    options: EngineOptions,
    mut on_event: impl FnMut(&Event, &dyn Fn(Command)),
) -> (Vec<Event>, RunRecord) {
    let mut record = RunRecord::new(&preset, Environment::detect("test"));
    let handle = engine::spawn(preset, mnist(), options);
    let mut events = Vec::new();
    loop {
        let event = handle
            .events
            .recv_timeout(std::time::Duration::from_secs(300))
            .expect("engine event within 5 minutes");
        record.apply(&event);
        on_event(&event, &|c| handle.send(c));
        let end = matches!(event, Event::RunFinished { .. });
        events.push(event);
        if end {
            break;
        }
    }
    handle.join();
    (events, record)
}

/// Per-epoch metrics without wall-clock fields, for equality checks.
pub fn numbers(record: &RunRecord) -> Vec<Vec<(f32, f32, f32, f32)>> {
    record
        .units
        .iter()
        .map(|v| {
            v.history
                .iter()
                .map(|m| (m.train_loss, m.train_acc, m.test_loss, m.test_acc))
                .collect()
        })
        .collect()
}

/// Standard output of a command that must have succeeded (else the test fails showing both
/// outputs).
pub fn succeeded(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The binary, run from the crate's folder.
pub fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_mnist-lab"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// A headless `run PRESET --jsonl --runs-dir ROOT` whose events can be awaited.
pub struct JsonlRun {
    pub child: Child,
    pub lines: Lines<BufReader<ChildStdout>>,
}

impl JsonlRun {
    /// One unit at a time (`--jobs 1 --one-by-one`), so a test knows which unit runs when
    /// it acts; several at once are tested in `scale_out`, lockstep in `lockstep`.
    pub fn start(preset: &Path, root: &Path) -> Self {
        JsonlRun::start_with(
            preset,
            &[
                "--runs-dir".as_ref(),
                root.as_os_str(),
                "--jobs".as_ref(),
                "1".as_ref(),
                "--one-by-one".as_ref(),
            ],
        )
    }

    /// `run PRESET --jsonl ARGS...`.
    pub fn start_with(preset: &Path, args: &[&std::ffi::OsStr]) -> Self {
        let mut child = bin()
            .arg("run")
            .arg(preset)
            .arg("--jsonl")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        JsonlRun { child, lines }
    }

    /// Reads events until one matches.
    pub fn wait_for(&mut self, wanted: impl Fn(&Event) -> bool) {
        for line in self.lines.by_ref() {
            let e: Event = serde_json::from_str(&line.unwrap()).unwrap();
            if wanted(&e) {
                return;
            }
        }
        panic!("the run ended before the awaited event");
    }
}

/// The one run folder under `root`.
pub fn only_run_dir(root: &Path) -> PathBuf {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path()
}

/// `run --resume DIR --runs-dir ROOT`, to the end.
pub fn resume(dir: &Path, root: &Path) -> std::process::Output {
    bin()
        .args(["run", "--resume"])
        .arg(dir)
        .arg("--runs-dir")
        .arg(root)
        .output()
        .unwrap()
}
