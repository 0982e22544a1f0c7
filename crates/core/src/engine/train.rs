//! The train/eval loop of one variant, generic over the network type.

use std::time::Instant;

use dfdx::nn::modules::ZeroGrads;

use dfdx::prelude::*;

use super::control::{Control, Flow};
use super::stopping::{EarlyStopper, Verdict};
use super::Event;
use crate::data::{self, Dataset, Split};
use crate::fast::batch::{Batch, InputMode};
use crate::fast::weights::{self, WeightsError};
use crate::model::{ArchVisitor, Net};
use crate::optim::schedule::LrSchedule;
use crate::optim::Optimizer;
use crate::spec::EpochMetrics;
use crate::spec::{Arch, Io, UnitSpec, INPUTS, OUTPUTS};

/// How a variant's training ended (failures are errors).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Trained to the end; the weights file, if saving worked.
    Finished(Option<String>),
    Skipped,
    Cancelled,
}

/// Why a unit could not train or evaluate (other than diverging).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The unit cannot train on this data set as specified (e.g. a holdout too large).
    #[error("{0}")]
    Setup(String),
    #[error("device error: {0}")]
    Device(String),
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

impl From<dfdx::tensor::CpuError> for EngineError {
    fn from(e: dfdx::tensor::CpuError) -> Self {
        EngineError::Device(e.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss became NaN or infinite.
    #[error("{message}")]
    Diverged { epoch: usize, message: String },
    #[error("{error}")]
    Failed {
        epoch: Option<usize>,
        error: EngineError,
    },
}

/// Test-set evaluation in eval mode: mean cross-entropy, accuracy, and every prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub loss: f32,
    pub accuracy: f32,
    pub predictions: Vec<u8>,
    /// Softmax probability of the predicted class.
    pub confidence: Vec<f32>,
}

/// Progress events are throttled to this interval: each one costs the TUI a redraw (and the
/// terminal a repaint) on the cores that train; 4 a second keeps the view live for less.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
const EVAL_BATCH: usize = 1000;

/// Test hook: a variant whose name equals this panics in its first batch.
pub const INJECT_PANIC_ENV: &str = "MNIST_LAB_INJECT_PANIC";

pub struct TrainJob<'a> {
    pub index: usize,
    pub spec: &'a UnitSpec,
    pub data: &'a Dataset,
    pub control: &'a Control,
    pub inject_panic: Option<&'a str>,
    pub kernel: Kernel,
}

/// Which implementation trains: the fused plain-slice kernels (default; sparse first layer
/// when the batch is sparse enough), the same kernels on dense input only, or dfdx's modules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kernel {
    #[default]
    Fast,
    Dense,
    Dfdx,
}

impl From<crate::spec::Engine> for Kernel {
    fn from(engine: crate::spec::Engine) -> Kernel {
        match engine {
            crate::spec::Engine::Fast => Kernel::Fast,
            crate::spec::Engine::Dfdx => Kernel::Dfdx,
        }
    }
}

impl Kernel {
    /// How the fused kernels read the first layer's input (dfdx reads it dense).
    pub fn input_mode(self) -> InputMode {
        if self == Kernel::Dense {
            InputMode::Dense
        } else {
            InputMode::Auto
        }
    }
}

impl ArchVisitor for TrainJob<'_> {
    type Output = Result<Outcome, TrainError>;
    fn visit<M: Net>(self) -> Self::Output {
        train_dfdx::<M>(self)
    }
}

/// Why dfdx cannot train `arch` on data of `io`, if it cannot: its networks are compile-time
/// types, one per architecture of the menu, all for MNIST's 784 pixels and 10 classes.
pub fn dfdx_refusal(arch: &Arch, io: Io) -> Option<String> {
    if !arch.in_menu() {
        return Some(format!(
            "dfdx trains only the architectures with a compile-time dfdx type ({}); {arch} \
             trains on the fast path (--engine fast, the default)",
            crate::spec::ARCHITECTURES.join(", ")
        ));
    }
    (io != Io::MNIST).then(|| {
        format!(
            "dfdx trains only MNIST-shaped data ({INPUTS} pixels, {OUTPUTS} classes; its \
             network types are fixed at compile time); this data set has {} pixels and {} \
             classes: use the fast path (--engine fast, the default)",
            io.inputs, io.classes
        )
    })
}

/// Trains one unit with the job's kernel: the fast path for any architecture, dfdx for the
/// menu's (refused with the reason otherwise).
pub fn train_unit(job: TrainJob<'_>) -> Result<Outcome, TrainError> {
    let io = job.data.io();
    if job.kernel == Kernel::Dfdx {
        if let Some(why) = dfdx_refusal(&job.spec.arch, io) {
            return Err(TrainError::Failed {
                epoch: None,
                error: EngineError::Setup(why),
            });
        }
        return crate::model::dispatch(&job.spec.arch.clone(), job);
    }
    let trainer = FastTrainer::new(job.spec, io, job.kernel.input_mode());
    run_epochs(job, trainer)
}

pub fn failed(epoch: usize) -> impl FnOnce(EngineError) -> TrainError {
    move |error| TrainError::Failed {
        epoch: Some(epoch),
        error,
    }
}

/// Row-wise log-softmax cross-entropy and argmax over logits laid out [n, classes].
pub fn score_logits(logits: &[f32], labels: &[u8]) -> (f64, usize, Vec<u8>, Vec<f32>) {
    let classes = logits.len() / labels.len().max(1);
    let mut loss = 0.0f64;
    let mut correct = 0;
    let mut preds = Vec::with_capacity(labels.len());
    let mut conf = Vec::with_capacity(labels.len());
    for (row, &label) in logits.chunks_exact(classes.max(1)).zip(labels) {
        let (mut best, mut best_v) = (0usize, f32::NEG_INFINITY);
        for (k, &v) in row.iter().enumerate() {
            if v > best_v {
                best = k;
                best_v = v;
            }
        }
        let max = best_v as f64;
        let sum: f64 = row.iter().map(|&v| ((v as f64) - max).exp()).sum();
        let log_z = max + sum.ln();
        loss += log_z - row[label as usize] as f64;
        if best == label as usize {
            correct += 1;
        }
        preds.push(best as u8);
        conf.push((1.0 / sum) as f32);
    }
    (loss, correct, preds, conf)
}

/// Scores the examples `range` of `split` in batches of `batch`: `logits_of` fills the
/// logits [rows×classes] of the examples of one chunk of the range (each path loads its own
/// input). Both training paths evaluate through this.
pub fn evaluate_batches(
    split: &Split,
    range: std::ops::Range<usize>,
    batch: usize,
    mut logits_of: impl FnMut(std::ops::Range<usize>, &mut Vec<f32>) -> Result<(), EngineError>,
) -> Result<Evaluation, EngineError> {
    let mut logits = Vec::new();
    let (mut loss, mut correct) = (0.0f64, 0usize);
    let n = range.len();
    let mut predictions = Vec::with_capacity(n);
    let mut confidence = Vec::with_capacity(n);
    let batch = batch.max(1);
    let mut start = range.start;
    while start < range.end {
        let chunk = start..(start + batch).min(range.end);
        start = chunk.end;
        logits_of(chunk.clone(), &mut logits)?;
        let labels = &split.labels[chunk];
        let (l, c, p, conf) = score_logits(&logits, labels);
        loss += l;
        correct += c;
        predictions.extend(p);
        confidence.extend(conf);
    }
    Ok(Evaluation {
        loss: (loss / n.max(1) as f64) as f32,
        accuracy: correct as f32 / n.max(1) as f32,
        predictions,
        confidence,
    })
}

/// Evaluates a dfdx `model` on the examples `range` of `split` in eval mode.
fn evaluate_range<M: Net>(
    model: &M,
    dev: &Cpu,
    split: &Split,
    range: std::ops::Range<usize>,
) -> Result<Evaluation, EngineError> {
    let mut x = Vec::new();
    evaluate_batches(split, range, EVAL_BATCH, |chunk, logits| {
        let rows = chunk.len();
        split.fill_batch(&chunk.collect::<Vec<_>>(), &mut x);
        let x = dev.tensor_from_vec(x.clone(), (rows, Const::<INPUTS>));
        let out = model.try_forward(x)?;
        *logits = out.as_vec();
        Ok(())
    })
}

fn one_hot(labels: impl Iterator<Item = u8>, out: &mut Vec<f32>) {
    out.clear();
    for l in labels {
        let mut row = [0.0f32; OUTPUTS];
        row[l as usize] = 1.0;
        out.extend_from_slice(&row);
    }
}

/// One way of training a network: dfdx's modules, or the fused plain-slice path.
pub trait Trainer {
    /// Trains on the examples at `idx`; returns (mean loss of the batch, correct predictions).
    /// `next` is the batch after this one, when there is one: a trainer may prepare it
    /// meanwhile.
    fn step(
        &mut self,
        split: &Split,
        idx: &[usize],
        next: Option<&[usize]>,
    ) -> Result<(f32, usize), EngineError>;
    /// Evaluates the examples `range` of `split` in eval mode.
    fn evaluate(
        &mut self,
        split: &Split,
        range: std::ops::Range<usize>,
    ) -> Result<Evaluation, EngineError>;
    /// The learning rate of the next steps.
    fn set_lr(&mut self, lr: f32);
    /// The trained weights as labelled safetensors bytes.
    fn weights(&mut self, name: &str, arch: &Arch) -> Result<Vec<u8>, EngineError>;
}

/// The pixels (scaled to [0, 1]) and labels of the examples at `idx`.
fn load_batch(split: &Split, idx: &[usize], x: &mut Vec<f32>, labels: &mut Vec<u8>) {
    split.fill_batch(idx, x);
    labels.clear();
    labels.extend(idx.iter().map(|&i| split.labels[i]));
}

struct DfdxTrainer<M: Net> {
    dev: Cpu,
    model: M,
    opt: Optimizer<M>,
    grads: Option<Gradients<f32, Cpu>>,
    xbuf: Vec<f32>,
    ybuf: Vec<f32>,
    labels: Vec<u8>,
}

impl<M: Net> Trainer for DfdxTrainer<M> {
    fn step(
        &mut self,
        split: &Split,
        idx: &[usize],
        _next: Option<&[usize]>,
    ) -> Result<(f32, usize), EngineError> {
        load_batch(split, idx, &mut self.xbuf, &mut self.labels);
        one_hot(self.labels.iter().copied(), &mut self.ybuf);
        let n = idx.len();
        let dev = &self.dev;
        let x = dev.tensor_from_vec(std::mem::take(&mut self.xbuf), (n, Const::<INPUTS>));
        let y = dev.tensor_from_vec(std::mem::take(&mut self.ybuf), (n, Const::<OUTPUTS>));
        let grads = self
            .grads
            .take()
            .unwrap_or_else(|| self.model.alloc_grads());
        let logits = self.model.try_forward_mut(x.traced(grads))?;
        let (logits, tape) = logits.split_tape();
        let (_, correct, _, _) = score_logits(&logits.as_vec(), &self.labels);
        let loss = cross_entropy_with_logits_loss(logits.put_tape(tape), y);
        let value = loss.array();
        if !value.is_finite() {
            return Ok((value, correct));
        }
        let mut grads = loss.backward();
        self.opt.step(&mut self.model, &mut grads)?;
        self.model.zero_grads(&mut grads);
        self.grads = Some(grads);
        Ok((value, correct))
    }

    fn evaluate(
        &mut self,
        split: &Split,
        range: std::ops::Range<usize>,
    ) -> Result<Evaluation, EngineError> {
        evaluate_range(&self.model, &self.dev, split, range)
    }

    fn set_lr(&mut self, lr: f32) {
        self.opt.set_lr(lr);
    }

    fn weights(&mut self, name: &str, arch: &Arch) -> Result<Vec<u8>, EngineError> {
        let params = crate::fast::params::export(&self.model);
        Ok(weights::to_bytes(
            &params,
            &arch.widths(Io::MNIST),
            name,
            arch,
        )?)
    }
}

/// The fused path, for any architecture: parameters start as dfdx's would for the same
/// seed (`fast::init`).
pub struct FastTrainer {
    widths: Vec<usize>,
    net: crate::fast::FastNet,
    opt: crate::fast::FastOptimizer,
    rng: rand::rngs::StdRng,
    batch: Batch,
    /// The next training batch, packed while the current one trains.
    ahead: Batch,
    /// Which examples `batch` holds, when it was packed ahead.
    ahead_for: Vec<usize>,
    eval_batch: Batch,
    mode: InputMode,
    labels: Vec<u8>,
}

impl FastTrainer {
    /// Starts from the seed's initial weights (the same as dfdx's path starts from).
    pub fn new(spec: &UnitSpec, io: Io, mode: InputMode) -> Self {
        let widths = spec.arch.widths(io);
        let params = crate::fast::init::initial_params(&widths, spec.init, spec.seed);
        Self::from_params(spec, widths, &params, mode)
    }

    /// Starts from `params` (in `FastNet::params` order) for a network of `widths`.
    fn from_params(
        spec: &UnitSpec,
        widths: Vec<usize>,
        params: &[Vec<f32>],
        mode: InputMode,
    ) -> Self {
        let net = crate::fast::FastNet::from_params(&widths, params, spec);
        FastTrainer {
            widths,
            net,
            opt: crate::fast::FastOptimizer::new(spec.optimizer),
            rng: rand::SeedableRng::seed_from_u64(spec.seed ^ 0xD80F_D80F),
            batch: Batch::default(),
            ahead: Batch::default(),
            ahead_for: Vec::new(),
            eval_batch: Batch::default(),
            mode,
            labels: Vec::new(),
        }
    }
}

impl FastTrainer {
    /// One step on a batch somebody else packed (a lockstep group packs it once for all).
    pub fn step_packed(&mut self, batch: &Batch, labels: &[u8]) -> (f32, usize) {
        let (loss, correct) = self.net.train_step(batch.input(), labels, &mut self.rng);
        self.update(loss, correct, labels.len())
    }

    /// The optimiser's step after a batch of `n` with summed `loss`, unless it diverged;
    /// (mean loss, correct).
    fn update(&mut self, loss: f64, correct: usize, n: usize) -> (f32, usize) {
        let mean = (loss / n as f64) as f32;
        if mean.is_finite() {
            self.opt.step(&mut self.net);
        }
        (mean, correct)
    }

    /// Evaluates the examples `range` of `split` from `packed`, made by `pack_for_evaluation`
    /// of the same range (a lockstep group packs its evaluation images once).
    pub fn evaluate_packed(
        &mut self,
        split: &Split,
        range: std::ops::Range<usize>,
        packed: &[Batch],
    ) -> Result<Evaluation, EngineError> {
        let (net, start) = (&mut self.net, range.start);
        evaluate_batches(split, range, FAST_EVAL_BATCH, |chunk, logits| {
            let batch = packed
                .get((chunk.start - start) / FAST_EVAL_BATCH)
                .ok_or_else(|| EngineError::Setup("evaluation batches packed short".into()))?;
            net.predict(batch.input(), chunk.len(), logits);
            Ok(())
        })
    }
}

/// The examples `range` of `split` packed in evaluation batches, as `FastTrainer::evaluate`
/// packs them one at a time.
pub fn pack_for_evaluation(
    split: &Split,
    range: std::ops::Range<usize>,
    mode: InputMode,
) -> Vec<Batch> {
    let mut batches = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let end = (start + FAST_EVAL_BATCH).min(range.end);
        let mut batch = Batch::default();
        batch.load(
            (start..end).map(|i| split.image(i)),
            split.pixels,
            mode,
            false,
        );
        batches.push(batch);
        start = end;
    }
    batches
}

impl Trainer for FastTrainer {
    fn step(
        &mut self,
        split: &Split,
        idx: &[usize],
        next: Option<&[usize]>,
    ) -> Result<(f32, usize), EngineError> {
        if self.ahead_for != idx {
            let images = idx.iter().map(|&i| split.image(i));
            self.batch.load(images, split.pixels, self.mode, true);
        }
        self.labels.clear();
        self.labels.extend(idx.iter().map(|&i| split.labels[i]));
        // Packing is serial; done beside the step, it runs while the other core works on the
        // step's parallel parts instead of leaving it idle. Nothing in it depends on the step.
        let (net, rng, labels, mode) = (&mut self.net, &mut self.rng, &self.labels, self.mode);
        let (batch, ahead) = (&self.batch, &mut self.ahead);
        let ((loss, correct), ()) = rayon::join(
            || net.train_step(batch.input(), labels, rng),
            || {
                if let Some(next) = next {
                    let images = next.iter().map(|&i| split.image(i));
                    ahead.load(images, split.pixels, mode, true);
                }
            },
        );
        self.ahead_for.clear();
        if let Some(next) = next {
            std::mem::swap(&mut self.batch, &mut self.ahead);
            self.ahead_for.extend_from_slice(next);
        }
        Ok(self.update(loss, correct, idx.len()))
    }

    fn evaluate(
        &mut self,
        split: &Split,
        range: std::ops::Range<usize>,
    ) -> Result<Evaluation, EngineError> {
        let (net, batch, mode) = (&mut self.net, &mut self.eval_batch, self.mode);
        evaluate_batches(split, range, FAST_EVAL_BATCH, |chunk, logits| {
            batch.load(
                chunk.clone().map(|i| split.image(i)),
                split.pixels,
                mode,
                false,
            );
            net.predict(batch.input(), chunk.len(), logits);
            Ok(())
        })
    }

    fn set_lr(&mut self, lr: f32) {
        self.opt.set_lr(lr);
    }

    fn weights(&mut self, name: &str, arch: &Arch) -> Result<Vec<u8>, EngineError> {
        Ok(weights::to_bytes(
            &self.net.params(),
            &self.widths,
            name,
            arch,
        )?)
    }
}

/// Evaluation batch of the fused path: large enough that GEMM runs at full rate.
const FAST_EVAL_BATCH: usize = 2000;

/// Trains with dfdx's modules (a menu architecture on MNIST-shaped data).
fn train_dfdx<M: Net>(job: TrainJob<'_>) -> Result<Outcome, TrainError> {
    let spec = job.spec;
    let dev = Cpu::seed_from_u64(spec.seed);
    let model = M::new_configured(&dev, spec);
    let opt = Optimizer::new(&model, spec.optimizer);
    let trainer = DfdxTrainer {
        dev,
        model,
        opt,
        grads: None,
        xbuf: Vec::new(),
        ybuf: Vec::new(),
        labels: Vec::new(),
    };
    run_epochs(job, trainer)
}

/// The epoch loop of one unit trained alone, on either path: commands between batches,
/// the batches of each epoch, evaluation; the rest is the unit's `UnitRun`.
fn run_epochs<T: Trainer>(job: TrainJob<'_>, trainer: T) -> Result<Outcome, TrainError> {
    let mut run = match UnitRun::start(job, trainer) {
        Ok(run) => run,
        Err(done) => return done,
    };
    let (spec, train, control) = (run.job.spec, &run.job.data.train, run.job.control);
    for epoch in 1..=spec.epochs {
        run.begin_epoch(epoch, 1);
        let order = data::epoch_order(run.plan.train, spec.seed, epoch - 1);
        let batches = data::batches(&order, spec.batch_size);
        for (b, idx) in batches.iter().enumerate() {
            match control.poll() {
                Flow::Continue => {}
                Flow::Skip => return Ok(Outcome::Skipped),
                Flow::Cancel => return Ok(Outcome::Cancelled),
            }
            run.panic_if_injected();
            let next = batches.get(b + 1).copied();
            let (loss, correct) = run.trainer.step(train, idx, next).map_err(failed(epoch))?;
            if let Some(done) = run.after_step(b, batches.len(), loss, correct, idx.len()) {
                return done;
            }
        }
        run.end_training_pass();
        let (test, val) = run.evaluate()?;
        if let Some(done) = run.end_epoch(test, val) {
            return done;
        }
        if run.stopped() {
            break;
        }
    }
    run.finish()
}

/// How a unit ended, once it has.
pub type Done = Result<Outcome, TrainError>;

/// One unit's training around its steps: its events, divergence checks, learning-rate
/// schedule, early stopping and the weights it keeps. Whoever drives the steps (one unit
/// alone, `run_epochs`; or a lockstep group, `super::lockstep`) drives it the same way:
/// `start`, then per epoch `begin_epoch`, `after_step` per batch, `end_training_pass`, the
/// evaluations, `end_epoch`; then `finish`.
pub struct UnitRun<'a, T> {
    pub job: TrainJob<'a>,
    pub trainer: T,
    pub plan: crate::spec::TrainPlan,
    /// Test images evaluated after each epoch.
    pub n_test: usize,
    schedule: LrSchedule,
    stopper: Option<EarlyStopper>,
    /// With restore_best, the best epoch's weights are kept (only when somebody keeps weights).
    restore: bool,
    best_weights: Option<Vec<u8>>,
    /// The last epoch trained, and whether early stopping ended the unit there.
    trained: usize,
    stopped: bool,
    epoch: Epoch,
}

/// The epoch in progress.
struct Epoch {
    number: usize,
    lr: f32,
    started: Instant,
    paused_before: std::time::Duration,
    /// Units whose steps shared this epoch's time (1 alone): the unit's seconds are its share.
    share: u32,
    last_progress: Instant,
    /// Every batch's loss since the last progress event: the UI smooths per batch, so none
    /// may be skipped by the throttle.
    pending: Vec<f32>,
    loss_sum: f64,
    correct: usize,
    seen: usize,
    train_seconds: f32,
}

impl Epoch {
    /// Epoch `number` starting now, nothing booked yet; `share` as in `UnitRun::begin_epoch`.
    fn new(number: usize, lr: f32, paused_before: std::time::Duration, share: usize) -> Self {
        let now = Instant::now();
        Epoch {
            number,
            lr,
            started: now,
            paused_before,
            share: u32::try_from(share.max(1)).unwrap_or(u32::MAX),
            last_progress: now,
            pending: Vec::new(),
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            train_seconds: 0.0,
        }
    }
}

impl<'a, T: Trainer> UnitRun<'a, T> {
    /// Announces the unit (UnitStarted); Err: it ended already (a bad plan, a cancel).
    pub fn start(job: TrainJob<'a>, trainer: T) -> Result<Self, Done> {
        let spec = job.spec;
        let plan = spec.train_plan(job.data.train.len()).map_err(|m| {
            Err(TrainError::Failed {
                epoch: None,
                error: EngineError::Setup(m),
            })
        })?;
        let per_epoch = data::batch_count(plan.train, spec.batch_size);
        if job.control.emit(Event::UnitStarted {
            index: job.index,
            name: spec.name.clone(),
            epochs: spec.epochs,
            batches_per_epoch: per_epoch,
        }) == Flow::Cancel
        {
            return Err(Ok(Outcome::Cancelled));
        }
        Ok(UnitRun {
            n_test: spec.evaluated_test(job.data.test.len()),
            schedule: LrSchedule::new(spec.optimizer.lr(), spec.schedule, spec.epochs),
            stopper: spec.early_stopping.map(EarlyStopper::new),
            restore: spec.early_stopping.is_some_and(|e| e.restore_best)
                && job.control.keeps_weights(),
            best_weights: None,
            trained: 0,
            stopped: false,
            epoch: Epoch::new(0, 0.0, std::time::Duration::ZERO, 1),
            job,
            trainer,
            plan,
        })
    }

    /// Starts epoch `number` (1-based); `share` units train side by side with this one.
    pub fn begin_epoch(&mut self, number: usize, share: usize) {
        let lr = self.schedule.lr(number);
        self.trainer.set_lr(lr);
        self.epoch = Epoch::new(number, lr, self.job.control.paused_total(), share);
    }

    /// Seconds of this epoch spent training (and evaluating), a pause left out; in a group,
    /// this unit's share of them.
    fn active(&self) -> f32 {
        let e = &self.epoch;
        let paused = self
            .job
            .control
            .paused_total()
            .saturating_sub(e.paused_before);
        e.started.elapsed().saturating_sub(paused).as_secs_f32() / e.share as f32
    }

    /// The test hook: the named unit panics in its batches.
    pub fn panic_if_injected(&self) {
        if self.job.inject_panic == Some(self.job.spec.name.as_str()) {
            panic!(
                "injected panic in variant {:?} (test hook)",
                self.job.spec.name
            );
        }
    }

    /// Books batch `b` of `batches` (mean loss, correct, size): divergence, throttled progress.
    pub fn after_step(
        &mut self,
        b: usize,
        batches: usize,
        loss: f32,
        correct: usize,
        n: usize,
    ) -> Option<Done> {
        let epoch = self.epoch.number;
        if !loss.is_finite() {
            return Some(Err(TrainError::Diverged {
                epoch,
                message: format!("loss became {loss} at epoch {epoch}, batch {}", b + 1),
            }));
        }
        let e = &mut self.epoch;
        e.loss_sum += loss as f64 * n as f64;
        e.correct += correct;
        e.seen += n;
        e.pending.push(loss);
        if e.last_progress.elapsed() >= PROGRESS_EVERY || b + 1 == batches {
            e.last_progress = Instant::now();
            let (running_loss, seen) = ((e.loss_sum / e.seen as f64) as f32, e.seen);
            let flow = self.job.control.emit(Event::Progress {
                index: self.job.index,
                epoch,
                batch: b + 1,
                batches,
                running_loss,
                batch_loss: loss,
                batch_losses: std::mem::take(&mut e.pending),
                samples_per_sec: seen as f32 / self.active().max(1e-9),
            });
            if flow == Flow::Cancel {
                return Some(Ok(Outcome::Cancelled));
            }
        }
        None
    }

    /// The epoch's batches are done: what follows is evaluation.
    pub fn end_training_pass(&mut self) {
        self.epoch.train_seconds = self.active();
    }

    /// Evaluates the test images and the holdout (if any) with the unit's own trainer.
    pub fn evaluate(&mut self) -> Result<(Evaluation, Option<Evaluation>), TrainError> {
        let epoch = self.epoch.number;
        let data = self.job.data;
        let test = self
            .trainer
            .evaluate(&data.test, 0..self.n_test)
            .map_err(failed(epoch))?;
        let val = match self.plan.holdout.clone() {
            Some(h) => Some(
                self.trainer
                    .evaluate(&data.train, h)
                    .map_err(failed(epoch))?,
            ),
            None => None,
        };
        Ok((test, val))
    }

    /// Books the epoch's evaluations: its metrics, the schedule, early stopping and the best
    /// weights. Some: the unit ended (diverged, cancelled); after an early stop `stopped`.
    pub fn end_epoch(&mut self, test: Evaluation, val: Option<Evaluation>) -> Option<Done> {
        let epoch = self.epoch.number;
        for (what, e) in [("test", Some(&test)), ("validation", val.as_ref())] {
            if let Some(e) = e.filter(|e| !e.loss.is_finite()) {
                return Some(Err(TrainError::Diverged {
                    epoch,
                    message: format!("{what} loss became {} at epoch {epoch}", e.loss),
                }));
            }
        }
        let e = &self.epoch;
        let metrics = EpochMetrics {
            epoch,
            train_loss: (e.loss_sum / e.seen.max(1) as f64) as f32,
            train_acc: e.correct as f32 / e.seen.max(1) as f32,
            test_loss: test.loss,
            test_acc: test.accuracy,
            seconds: self.active(),
            samples_per_sec: e.seen as f32 / e.train_seconds.max(1e-9),
            val_loss: val.as_ref().map(|v| v.loss),
            val_acc: val.as_ref().map(|v| v.accuracy),
            lr: Some(e.lr),
            threads: u16::try_from(rayon::current_num_threads()).ok(),
        };
        let control = self.job.control;
        let index = self.job.index;
        if control.emit(Event::EpochEnd { index, metrics }) == Flow::Cancel {
            return Some(Ok(Outcome::Cancelled));
        }
        self.schedule.observe(metrics.monitored_loss());
        let verdict = self
            .stopper
            .as_mut()
            .map(|s| s.observe(epoch, metrics.monitored_loss()));
        if self.restore && verdict == Some(Verdict::Improved) {
            let spec = self.job.spec;
            match self.trainer.weights(&spec.name, &spec.arch) {
                Ok(bytes) => self.best_weights = Some(bytes),
                Err(e) => return Some(Err(failed(epoch)(e))),
            }
        }
        self.trained = epoch;
        if verdict == Some(Verdict::Stop) {
            self.stopped = true;
            let best_epoch = self.stopper.as_ref().map_or(epoch, |s| s.best_epoch());
            let event = Event::EarlyStopped {
                index,
                epoch,
                best_epoch,
                restored: self.restore,
            };
            if control.emit(event) == Flow::Cancel {
                return Some(Ok(Outcome::Cancelled));
            }
        }
        None
    }

    /// The epoch in progress (1-based).
    pub fn epoch(&self) -> usize {
        self.epoch.number
    }

    /// Whether early stopping ended the unit.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Whether the unit has trained all it will (its epochs, or stopped early).
    pub fn ended(&self) -> bool {
        self.stopped || self.trained >= self.job.spec.epochs
    }

    /// The unit trained to its end (or its early stop): the kept epoch, the weights.
    pub fn finish(mut self) -> Done {
        let (spec, control, index) = (self.job.spec, self.job.control, self.job.index);
        // Trained to the end with restore_best: the weights kept are the best epoch's, so
        // the unit's result is that epoch's (an early stop has said so already).
        if let (true, Some(s), false) = (self.restore, &self.stopper, self.stopped) {
            let best = s.best_epoch();
            if self.best_weights.is_some() && best < self.trained {
                let event = Event::KeptEpoch { index, epoch: best };
                if control.emit(event) == Flow::Cancel {
                    return Ok(Outcome::Cancelled);
                }
            }
        }
        // The weights are handed over in memory: the sink writes them, or keeps them for a
        // rescue folder when the disk refuses.
        // Without a sink nobody keeps them (benchmarks): they are not even serialised.
        // With restore_best the best epoch's weights are the ones kept, stopped early or not.
        let weights = match control
            .keeps_weights()
            .then(|| match self.best_weights.take() {
                Some(best) => Ok(best),
                None => self.trainer.weights(&spec.name, &spec.arch),
            }) {
            Some(Ok(bytes)) => control.keep_weights(&spec.name, bytes),
            Some(Err(e)) => Some(Err(super::sink::NotKept(e.to_string()))),
            None => None,
        };
        Ok(Outcome::Finished(match weights {
            Some(Ok(path)) => Some(path),
            Some(Err(e)) => {
                control.emit(Event::Warning {
                    message: format!("weights of {:?} not saved: {e}", spec.name),
                });
                None
            }
            None => None,
        }))
    }
}

/// Evaluates saved weights of `spec` on the test set (all of it, or the spec's subset),
/// on the fast path for every architecture: the numbers training recorded, recomputed.
pub fn evaluate_saved(
    spec: &UnitSpec,
    path: &std::path::Path,
    data: &Dataset,
) -> Result<Evaluation, EngineError> {
    let n = spec.evaluated_test(data.test.len());
    let bytes = weights::read_checked(path, &spec.name, &spec.arch)?;
    let widths = spec.arch.widths(data.io());
    let params = weights::from_bytes(&bytes, &widths, path)?;
    FastTrainer::from_params(spec, widths, &params, InputMode::Auto).evaluate(&data.test, 0..n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Trains the same batches twice on the fused path, once told the next batch (so it is
    /// packed ahead) and once not, with an evaluation in between: the two must agree bit
    /// for bit, losses and final parameters.
    fn ahead_or_not(spec: &UnitSpec, split: &Split, batches: &[Vec<usize>]) {
        let run = |ahead: bool| {
            let mut t = FastTrainer::new(spec, Io::MNIST, InputMode::Auto);
            let mut losses = Vec::new();
            for (b, idx) in batches.iter().enumerate() {
                let next = batches.get(b + 1).filter(|_| ahead).map(|n| &n[..]);
                let (loss, correct) = t.step(split, idx, next).expect("step");
                losses.push((loss.to_bits(), correct));
                if b == 1 {
                    let e = t.evaluate(split, 0..50).expect("evaluate");
                    losses.push((e.loss.to_bits(), e.predictions.len()));
                }
            }
            (losses, t.net.params())
        };
        let (ahead, plain) = (run(true), run(false));
        assert_eq!(
            ahead.0, plain.0,
            "losses differ with the batch packed ahead"
        );
        assert!(
            ahead.1 == plain.1,
            "parameters differ with the batch packed ahead"
        );
    }

    #[test]
    fn packing_the_next_batch_ahead_changes_nothing() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let n = 200;
        // MNIST-like sparsity (about a fifth non-zero), so the sparse path runs.
        let images = (0..n * INPUTS)
            .map(|_| {
                if rng.gen_bool(0.2) {
                    rng.gen_range(1..=255)
                } else {
                    0
                }
            })
            .collect();
        let labels = (0..n).map(|_| rng.gen_range(0..OUTPUTS as u8)).collect();
        let split = Split {
            images,
            labels,
            pixels: INPUTS,
        };
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.gen_range(0..=i));
        }
        // Uneven sizes, and one batch repeated back to back.
        let batches: Vec<Vec<usize>> = vec![
            order[..64].to_vec(),
            order[64..101].to_vec(),
            order[64..101].to_vec(),
            order[101..].to_vec(),
            order[..1].to_vec(),
        ];
        let preset = crate::preset::load("paper-2019").expect("embedded preset");
        let spec = &preset.units[0];
        ahead_or_not(spec, &split, &batches);
    }
}
