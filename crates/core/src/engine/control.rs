//! Commands from the consumer, checked between batches. While paused the worker blocks on
//! the channel, so it uses no CPU.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::sink::{NotKept, SharedSink, Sink};
use super::{Command, Event};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Skip,
    Cancel,
}

pub struct Control {
    commands: Receiver<Command>,
    events: Sender<Event>,
    sink: Option<SharedSink>,
    /// Nanoseconds spent paused so far: timings leave them out, so a resumed epoch's speed
    /// (and the ETAs made from it) is the training's, not the pause's.
    paused_nanos: std::sync::atomic::AtomicU64,
}

impl Control {
    pub fn new(
        commands: Receiver<Command>,
        events: Sender<Event>,
        sink: Option<SharedSink>,
    ) -> Self {
        Control {
            commands,
            events,
            sink,
            paused_nanos: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Runs `f` on the sink, if there is one (its lock poisoned by a panic still holds the
    /// record: use it).
    fn with_sink<R>(&self, f: impl FnOnce(&mut dyn Sink) -> R) -> Option<R> {
        let sink = self.sink.as_ref()?;
        let mut guard = sink.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut *guard))
    }

    /// Hands an event to the sink, then sends it (and any warning the sink had) on; a
    /// consumer that went away means the run is cancelled.
    pub fn emit(&self, event: Event) -> Flow {
        let warnings = self.with_sink(|s| s.observe(&event)).unwrap_or_default();
        if self.events.send(event).is_err() {
            return Flow::Cancel;
        }
        for message in warnings {
            if self.events.send(Event::Warning { message }).is_err() {
                return Flow::Cancel;
            }
        }
        Flow::Continue
    }

    /// Whether this engine may train unit `index` (the sink decides; without one, yes).
    pub fn claim(&self, index: usize) -> bool {
        self.with_sink(|s| s.claim(index)).unwrap_or(true)
    }

    /// Whether finished units' weights are kept (there is a sink to take them).
    pub fn keeps_weights(&self) -> bool {
        self.sink.is_some()
    }

    /// Gives a finished unit's weights to the sink; the path to record, or why not saved.
    pub fn keep_weights(&self, name: &str, bytes: Vec<u8>) -> Option<Result<String, NotKept>> {
        self.with_sink(|s| s.keep_weights(name, bytes))
    }

    /// Handles pending commands; blocks while paused. Called once per batch.
    pub fn poll(&self) -> Flow {
        loop {
            match self.commands.try_recv() {
                Ok(Command::Pause) => return self.wait_paused(),
                Ok(Command::Resume) => continue,
                Ok(Command::Skip) => return Flow::Skip,
                Ok(Command::Cancel) => return Flow::Cancel,
                Err(TryRecvError::Empty) => return Flow::Continue,
                // Nobody can steer us any more: finish the run as a headless one would.
                Err(TryRecvError::Disconnected) => return Flow::Continue,
            }
        }
    }

    /// Time spent paused since the engine started.
    pub fn paused_total(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(
            self.paused_nanos.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    fn wait_paused(&self) -> Flow {
        let since = std::time::Instant::now();
        let flow = self.wait_paused_inner();
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.paused_nanos
            .fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
        flow
    }

    fn wait_paused_inner(&self) -> Flow {
        if self.emit(Event::Paused) == Flow::Cancel {
            return Flow::Cancel;
        }
        loop {
            // A long timeout only to notice a vanished consumer; no busy waiting.
            match self
                .commands
                .recv_timeout(std::time::Duration::from_secs(3600))
            {
                Ok(Command::Resume) => return self.emit(Event::Resumed),
                Ok(Command::Pause) => continue,
                Ok(Command::Skip) => {
                    self.emit(Event::Resumed);
                    return Flow::Skip;
                }
                Ok(Command::Cancel) => return Flow::Cancel,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Flow::Cancel,
            }
        }
    }
}
