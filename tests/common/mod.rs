#![allow(dead_code)]
//! Helpers shared by the integration tests.

use std::sync::{Arc, OnceLock};

use mnist_lab::data::{self, Dataset};
use mnist_lab::engine::{self, Command, EngineOptions, Event};
use mnist_lab::preset::{self, Preset};
use mnist_lab::runs::{record::Environment, RunRecord};

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
        .variants
        .iter()
        .map(|v| {
            v.history
                .iter()
                .map(|m| (m.train_loss, m.train_acc, m.test_loss, m.test_acc))
                .collect()
        })
        .collect()
}
