//! Where the engine's results go as they happen. A sink runs on the engine thread: it sees
//! every event before the front-end does, and keeps each finished unit's weights, so whatever
//! it makes durable (the run record) is durable before the next unit starts.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What a sink does with the engine's results (the session's `Recorder` is the real one).
pub trait Sink: Send {
    /// Asks to train unit `index`: false when another writer has it or has finished it.
    fn claim(&mut self, _index: usize) -> bool {
        true
    }
    /// Sees one event before it is sent on; returns warnings for the front-end (e.g. a save
    /// that failed), sent right after the event.
    fn observe(&mut self, event: &super::Event) -> Vec<String>;
    /// Keeps the trained weights of unit `name` (safetensors bytes); returns the path to
    /// record, or why they are not on disk.
    fn keep_weights(&mut self, name: &str, bytes: Vec<u8>) -> Result<String, NotKept>;
}

/// Why a unit's weights are not on disk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotKept(pub String);

pub type SharedSink = Arc<Mutex<dyn Sink>>;

/// Writes weights into one folder and records nothing else (benchmarks, tests).
pub struct WeightsDir(pub PathBuf);

impl Sink for WeightsDir {
    fn observe(&mut self, _event: &super::Event) -> Vec<String> {
        Vec::new()
    }

    fn keep_weights(&mut self, name: &str, bytes: Vec<u8>) -> Result<String, NotKept> {
        crate::runs::write_weights(&self.0, name, &bytes)
            .map(|path| path.display().to_string())
            .map_err(|e| NotKept(format!("{e:#}")))
    }
}
