//! The training engine: runs a preset's variants one after another on a worker thread,
//! reports over a crossbeam channel, obeys Pause/Resume/Skip/Cancel between batches.

pub mod control;
pub mod events;
pub mod lockstep;
pub mod sink;
pub mod stopping;
pub mod train;

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Once};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

use crate::spec::FailKind;
pub use control::Flow;
pub use events::{Command, Event};
pub use sink::{SharedSink, Sink};
pub use train::{EngineError, Kernel};
use train::{Outcome, TrainError, TrainJob};

use crate::data::Dataset;
use crate::preset::Preset;

pub const ENGINE_THREAD: &str = "mnist-lab-engine";

#[derive(Clone, Default)]
pub struct EngineOptions {
    /// Indices of variants not to train (already finished in a resumed run).
    pub skip: Vec<usize>,
    /// Test hook: the variant of this name panics (also read from `MNIST_LAB_INJECT_PANIC`).
    pub inject_panic: Option<String>,
    /// Where results go as they happen (the session's `Recorder`): events and weights.
    pub sink: Option<SharedSink>,
    /// Without a sink: a folder for finished variants' weights; None keeps no weights.
    pub weights_dir: Option<std::path::PathBuf>,
    /// Fused kernels (default) or the plain dfdx modules.
    pub kernel: train::Kernel,
    /// Worker threads of this engine's training pool; None: one per core.
    pub threads: Option<usize>,
    /// Train units that share their batches in lockstep (`lockstep`), on the fast path;
    /// otherwise one unit after another.
    pub lockstep: bool,
    /// Engines training this run side by side in this process (`--jobs`): lockstep groups
    /// are cut in as many parts, so that they finish together.
    pub engines: usize,
}

pub struct EngineHandle {
    pub events: Receiver<Event>,
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl EngineHandle {
    /// Sends a command; ignored once the engine has finished.
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// Waits for the worker to end.
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.commands.send(Command::Cancel);
            let _ = t.join();
        }
    }
}

/// Runs `work` on a worker of a training pool of its own. Its parallel regions (GEMM, the
/// fused kernels) then fork from inside the pool; called from the engine thread, every region
/// was injected from outside and put that thread to sleep and woke it again, about 10,000
/// times a second on 2 cores, with three busy threads on two cores. One pool per call, not a
/// shared one: a paused run blocks its worker, and a worker waiting in a join may pick up
/// another queued run, so two runs (as in tests) must not share workers.
pub fn in_training_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    in_training_pool_of(None, work)
}

/// `in_training_pool` with `threads` workers (None: one per core).
pub fn in_training_pool_of<R: Send>(threads: Option<usize>, work: impl FnOnce() -> R + Send) -> R {
    match build_training_pool(threads) {
        Ok(pool) => pool.install(work),
        // No pool (threads cannot be spawned): rayon's global pool does the same work.
        Err(_) => {
            dfdx::flush_denormals_to_zero();
            work()
        }
    }
}

/// The training workers: named for the panic hook, flushing denormals (they make some kernels
/// ~100x slower and change nothing visible in the results), and at the default scheduling policy even when created from the UI thread, which gives way
/// to them (`thread_policy::yield_to_training`).
fn build_training_pool(
    threads: Option<usize>,
) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .thread_name(|i| format!("{ENGINE_THREAD}-{i}"))
        .start_handler(|_| {
            dfdx::flush_denormals_to_zero();
            let _ = crate::thread_policy::default_policy();
        })
        .build()
}

/// Keeps panics of the engine thread off the terminal (they become UnitFailed events);
/// every other thread's panics go to the previous hook (e.g. ratatui's terminal restore).
fn quiet_engine_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let engine = std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with(ENGINE_THREAD));
            if !engine {
                previous(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".into()
    }
}

/// Starts training `preset` on a worker thread.
pub fn spawn(preset: Preset, data: Arc<Dataset>, options: EngineOptions) -> EngineHandle {
    quiet_engine_panics();
    let (event_tx, event_rx) = crossbeam_channel::unbounded();
    let (command_tx, command_rx) = crossbeam_channel::unbounded();
    let thread = std::thread::Builder::new()
        .name(ENGINE_THREAD.into())
        .spawn(move || {
            let sink = options.sink.clone().or_else(|| {
                let dir = options.weights_dir.clone()?;
                Some(Arc::new(std::sync::Mutex::new(sink::WeightsDir(dir))) as SharedSink)
            });
            let control = control::Control::new(command_rx, event_tx, sink);
            in_training_pool_of(options.threads, || {
                run_preset(&preset, &data, &options, &control)
            });
        })
        .expect("spawning the engine thread");
    EngineHandle {
        events: event_rx,
        commands: command_tx,
        thread: Some(thread),
    }
}

fn run_preset(
    preset: &Preset,
    data: &Dataset,
    options: &EngineOptions,
    control: &control::Control,
) {
    let env_panic = std::env::var(train::INJECT_PANIC_ENV).ok();
    let inject = options.inject_panic.clone().or(env_panic);
    if control.emit(Event::RunStarted {
        preset: preset.name.clone(),
        variants: preset.units.len(),
    }) == Flow::Cancel
    {
        return;
    }
    let cancelled = if options.lockstep && options.kernel != train::Kernel::Dfdx {
        !run_in_lockstep(preset, data, options, control, inject.as_deref())
    } else {
        !run_one_by_one(preset, data, options, control, inject.as_deref())
    };
    control.emit(Event::RunFinished { cancelled });
}

/// Trains the preset's units one after another; false when the run was cancelled.
fn run_one_by_one(
    preset: &Preset,
    data: &Dataset,
    options: &EngineOptions,
    control: &control::Control,
    inject: Option<&str>,
) -> bool {
    for (index, spec) in preset.units.iter().enumerate() {
        if options.skip.contains(&index) || !control.claim(index) {
            continue;
        }
        let started = Instant::now();
        let job = TrainJob {
            index,
            spec,
            data,
            control,
            inject_panic: inject,
            kernel: options.kernel,
        };
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| train::train_unit(job)));
        let Some(event) = ended_event(index, started, result) else {
            return false;
        };
        if control.emit(event) == Flow::Cancel {
            return false;
        }
    }
    true
}

/// Trains the preset's units group by group (`lockstep::groups`), each group's units in
/// lockstep (a group of one trains alone); false when the run was cancelled.
fn run_in_lockstep(
    preset: &Preset,
    data: &Dataset,
    options: &EngineOptions,
    control: &control::Control,
    inject: Option<&str>,
) -> bool {
    let left: Vec<usize> = (0..preset.units.len())
        .filter(|i| !options.skip.contains(i))
        .collect();
    let mode = options.kernel.input_mode();
    for group in lockstep::groups(&preset.units, &left, data, options.engines) {
        // Each unit is claimed as before: another engine (or process) may hold some.
        let claimed: Vec<usize> = group.into_iter().filter(|&i| control.claim(i)).collect();
        let jobs = claimed
            .iter()
            .map(|&index| TrainJob {
                index,
                spec: &preset.units[index],
                data,
                control,
                inject_panic: inject,
                kernel: options.kernel,
            })
            .collect();
        let go_on =
            lockstep::train_group(jobs, mode, |(index, started, result)| {
                match ended_event(index, started, result) {
                    Some(event) => control.emit(event),
                    None => Flow::Cancel,
                }
            });
        if !go_on {
            return false;
        }
    }
    true
}

/// The event that says how unit `index` ended (None: it was cancelled, which ends the run).
fn ended_event(
    index: usize,
    started: Instant,
    result: std::thread::Result<Result<Outcome, TrainError>>,
) -> Option<Event> {
    Some(match result {
        Ok(Ok(Outcome::Finished(weights))) => Event::UnitFinished {
            index,
            seconds: started.elapsed().as_secs_f32(),
            weights,
        },
        Ok(Ok(Outcome::Skipped)) => Event::UnitSkipped { index },
        Ok(Ok(Outcome::Cancelled)) => return None,
        Ok(Err(e @ TrainError::Diverged { epoch, .. })) => Event::UnitFailed {
            index,
            kind: FailKind::Diverged,
            epoch: Some(epoch),
            message: e.to_string(),
        },
        Ok(Err(e @ TrainError::Failed { epoch, .. })) => Event::UnitFailed {
            index,
            kind: FailKind::Error,
            epoch,
            message: e.to_string(),
        },
        Err(payload) => Event::UnitFailed {
            index,
            kind: FailKind::Panicked,
            epoch: None,
            message: format!("panicked: {}", panic_message(payload.as_ref())),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_training_pool_runs_work_on_named_workers_that_flush_denormals() {
        let (name, flushed) = in_training_pool(|| {
            let name = std::thread::current().name().map(str::to_string);
            // The smallest normal f32 halved is a denormal, or 0 when denormals are flushed.
            let half = std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.5);
            (name, half == 0.0)
        });
        assert!(
            name.as_deref()
                .is_some_and(|n| n.starts_with(&format!("{ENGINE_THREAD}-"))),
            "{name:?}"
        );
        assert!(flushed, "pool workers must flush denormals to zero");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn training_workers_run_at_the_default_policy_when_the_ui_gives_way() {
        let policy = std::thread::spawn(|| {
            crate::thread_policy::yield_to_training().unwrap();
            let pool = build_training_pool(None).unwrap();
            pool.install(crate::thread_policy::current_policy)
        })
        .join()
        .unwrap();
        assert_eq!(policy, libc::SCHED_OTHER);
    }
}
