//! Commands from the consumer, checked between batches. While paused the worker blocks on
//! the channel, so it uses no CPU.

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

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
}

impl Control {
    pub fn new(commands: Receiver<Command>, events: Sender<Event>) -> Self {
        Control { commands, events }
    }

    /// Sends an event; a consumer that went away means the run is cancelled.
    pub fn emit(&self, event: Event) -> Flow {
        match self.events.send(event) {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Cancel,
        }
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

    fn wait_paused(&self) -> Flow {
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
