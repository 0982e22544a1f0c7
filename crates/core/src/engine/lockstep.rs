//! Units trained in lockstep. Units that share an architecture, a batch size, a seed and a
//! split see the same batches in the same order (the seed is a common random number: it
//! fixes the data order for every variant). Trained together, each batch is packed once for
//! all of them (beside their steps), their steps run side by side on the pool, and the
//! evaluation images are packed once. Each unit keeps its own weights, optimiser, dropout
//! stream, schedule and early stopping, and computes exactly what it computes alone: the
//! results are bit-identical to training the units one by one.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use rayon::prelude::*;

use super::control::Flow;
use super::train::{
    failed, pack_for_evaluation, Done, Evaluation, FastTrainer, Outcome, TrainError, TrainJob,
    UnitRun,
};
use crate::data::{self, Dataset};
use crate::fast::batch::{Batch, InputMode};
use crate::spec::UnitSpec;

/// What units must share to train in lockstep: the same batches in the same order, the same
/// network shape, the same evaluation images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKey {
    widths: Vec<usize>,
    batch_size: usize,
    seed: u64,
    train: usize,
    holdout: Option<std::ops::Range<usize>>,
    test: usize,
}

impl GroupKey {
    /// None when the unit cannot plan its split (it trains alone and reports why).
    pub fn of(spec: &UnitSpec, data: &Dataset) -> Option<GroupKey> {
        let plan = spec.train_plan(data.train.len()).ok()?;
        Some(GroupKey {
            widths: spec.arch.widths(data.io()),
            batch_size: spec.batch_size,
            seed: spec.seed,
            train: plan.train,
            holdout: plan.holdout,
            test: spec.evaluated_test(data.test.len()),
        })
    }
}

/// The largest network (in weights) trained in lockstep: past it, a step costs more than
/// packing its batch saves (docs/BENCHMARKS.md, "Constants and what set them").
pub const MAX_WEIGHTS: usize = 420_000;

/// The units `indices` (in order) in groups that can train in lockstep: each group in the
/// order of its first unit, its units in their order. A unit of a network larger than
/// `MAX_WEIGHTS` is a group of its own. With `engines` engines taking groups in turn, each
/// group is cut into that many parts of nearly equal size, so that no engine is left with
/// a whole group to train while the others idle at the end.
pub fn groups(
    units: &[UnitSpec],
    indices: &[usize],
    data: &Dataset,
    engines: usize,
) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Option<GroupKey>, Vec<usize>)> = Vec::new();
    for &i in indices {
        let small = units[i].arch.weight_count(data.io()) <= MAX_WEIGHTS;
        let key = GroupKey::of(&units[i], data).filter(|_| small);
        match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let engines = engines.max(1);
    let mut parts = Vec::new();
    for (_, members) in groups {
        let count = engines.min(members.len());
        let (size, longer) = (members.len() / count, members.len() % count);
        let mut rest = &members[..];
        for p in 0..count {
            let (part, after) = rest.split_at(size + usize::from(p < longer));
            parts.push(part.to_vec());
            rest = after;
        }
    }
    parts
}

/// A unit of the group still training.
struct Member<'a> {
    run: UnitRun<'a, FastTrainer>,
    started: Instant,
    /// The latest step's (mean loss, correct), or its panic.
    step: Option<std::thread::Result<(f32, usize)>>,
    /// The latest evaluations (test, holdout), or their error or panic.
    evaluation: Option<std::thread::Result<Evaluated>>,
}

/// An epoch's evaluations: the test images and the holdout (if any).
type Evaluated = Result<(Evaluation, Option<Evaluation>), TrainError>;

impl Member<'_> {
    fn index(&self) -> usize {
        self.run.job.index
    }
}

/// How a unit of a group ended: its index, when it started, its result (or its panic).
pub type Ended = (usize, Instant, std::thread::Result<Done>);

/// Trains `jobs` (units of one group, see `groups`) in lockstep on the fast path. `ended`
/// hears each unit as it ends (in unit order among those ending at once) and says whether
/// to go on. Commands act between batches: Skip skips every unit of the group, Cancel
/// cancels. Returns false when the run was cancelled.
pub fn train_group(
    jobs: Vec<TrainJob<'_>>,
    mode: InputMode,
    mut ended: impl FnMut(Ended) -> Flow,
) -> bool {
    let Some(first) = jobs.first() else {
        return true;
    };
    let (control, data) = (first.control, first.data);
    let io = data.io();
    let mut members = Vec::new();
    for job in jobs {
        let (index, started) = (job.index, Instant::now());
        let run = catch_unwind(AssertUnwindSafe(|| {
            let trainer = FastTrainer::new(job.spec, io, mode);
            UnitRun::start(job, trainer)
        }));
        let result = match run {
            Ok(Ok(run)) => {
                members.push(Member {
                    run,
                    started,
                    step: None,
                    evaluation: None,
                });
                continue;
            }
            Ok(Err(done)) => Ok(done),
            Err(panic) => Err(panic),
        };
        if end(&mut ended, (index, started, result)) == Flow::Cancel {
            return false;
        }
    }
    let Some(lead) = members.first() else {
        return true;
    };
    let (plan, n_test) = (lead.run.plan.clone(), lead.run.n_test);
    let (seed, batch_size) = (lead.run.job.spec.seed, lead.run.job.spec.batch_size);
    let epochs = members
        .iter()
        .map(|m| m.run.job.spec.epochs)
        .max()
        .unwrap_or(0);
    let train = &data.train;
    // The evaluation images, packed at the first epoch's end, once for every unit and epoch.
    let mut packed: Option<(Vec<Batch>, Option<Vec<Batch>>)> = None;
    let (mut batch, mut ahead, mut labels) = (Batch::default(), Batch::default(), Vec::new());
    for epoch in 1..=epochs {
        let share = members.len();
        for m in members.iter_mut() {
            m.run.begin_epoch(epoch, share);
        }
        let order = data::epoch_order(plan.train, seed, epoch - 1);
        let batches = data::batches(&order, batch_size);
        let load = |into: &mut Batch, idx: &[usize]| {
            into.load(
                idx.iter().map(|&i| train.image(i)),
                train.pixels,
                mode,
                true,
            )
        };
        if let Some(idx) = batches.first() {
            load(&mut batch, idx);
        }
        for (b, idx) in batches.iter().enumerate() {
            match control.poll() {
                Flow::Continue => {}
                Flow::Skip => {
                    for m in members.drain(..) {
                        let skipped = (m.index(), m.started, Ok(Ok(Outcome::Skipped)));
                        if end(&mut ended, skipped) == Flow::Cancel {
                            return false;
                        }
                    }
                    return true;
                }
                Flow::Cancel => return false,
            }
            labels.clear();
            labels.extend(idx.iter().map(|&i| train.labels[i]));
            // The next batch is packed (serially) beside the steps, as one unit alone does.
            let (current, labels) = (&batch, &labels);
            rayon::join(
                || {
                    members.par_iter_mut().for_each(|m| {
                        m.step = Some(catch_unwind(AssertUnwindSafe(|| {
                            m.run.panic_if_injected();
                            m.run.trainer.step_packed(current, labels)
                        })))
                    })
                },
                || {
                    if let Some(next) = batches.get(b + 1) {
                        load(&mut ahead, next);
                    }
                },
            );
            std::mem::swap(&mut batch, &mut ahead);
            let n = idx.len();
            let go_on = settle(&mut members, &mut ended, |m| match m.step.take() {
                Some(Ok((loss, correct))) => {
                    Settle::ended(m.run.after_step(b, batches.len(), loss, correct, n))
                }
                Some(Err(panic)) => Settle::End(Err(panic)),
                None => Settle::Keep,
            });
            if !go_on {
                return false;
            }
            if members.is_empty() {
                return true;
            }
        }
        for m in members.iter_mut() {
            m.run.end_training_pass();
        }
        let (test, holdout) = packed.get_or_insert_with(|| {
            let holdout = plan.holdout.clone();
            (
                pack_for_evaluation(&data.test, 0..n_test, mode),
                holdout.map(|h| pack_for_evaluation(train, h, mode)),
            )
        });
        let (test, holdout) = (&*test, holdout.as_deref());
        members.par_iter_mut().for_each(|m| {
            m.evaluation = Some(catch_unwind(AssertUnwindSafe(|| {
                let trainer = &mut m.run.trainer;
                let t = trainer
                    .evaluate_packed(&data.test, 0..n_test, test)
                    .map_err(failed(epoch))?;
                let v = match (plan.holdout.clone(), holdout) {
                    (Some(range), Some(packed)) => Some(
                        trainer
                            .evaluate_packed(train, range, packed)
                            .map_err(failed(epoch))?,
                    ),
                    _ => None,
                };
                Ok((t, v))
            })))
        });
        let go_on = settle(&mut members, &mut ended, |m| match m.evaluation.take() {
            Some(Ok(Ok((t, v)))) => Settle::ended(m.run.end_epoch(t, v)),
            Some(Ok(Err(e))) => Settle::End(Ok(Err(e))),
            Some(Err(panic)) => Settle::End(Err(panic)),
            None => Settle::Keep,
        });
        // Units that trained all their epochs (or stopped early) leave the group here.
        if !go_on
            || !settle(&mut members, &mut ended, |m| {
                if m.run.ended() {
                    Settle::Finish
                } else {
                    Settle::Keep
                }
            })
        {
            return false;
        }
    }
    true
}

/// Hands an ended unit on; a cancelled one cancels the run (as it does alone).
fn end(ended: &mut impl FnMut(Ended) -> Flow, unit: Ended) -> Flow {
    if matches!(unit.2, Ok(Ok(Outcome::Cancelled))) {
        return Flow::Cancel;
    }
    ended(unit)
}

/// What `settle` does with a member of the group.
enum Settle {
    /// It trains on.
    Keep,
    /// It ended so.
    End(std::thread::Result<Done>),
    /// It trained all it had to: its weights and result are made now (`UnitRun::finish`).
    Finish,
}

impl Settle {
    fn ended(done: Option<Done>) -> Settle {
        done.map_or(Settle::Keep, |d| Settle::End(Ok(d)))
    }
}

/// Books each member's latest work in unit order (`book`) and takes the ended ones out of
/// the group; false when the run was cancelled.
fn settle<'a>(
    members: &mut Vec<Member<'a>>,
    ended: &mut impl FnMut(Ended) -> Flow,
    mut book: impl FnMut(&mut Member<'a>) -> Settle,
) -> bool {
    let mut i = 0;
    while i < members.len() {
        let unit = match book(&mut members[i]) {
            Settle::Keep => {
                i += 1;
                continue;
            }
            Settle::End(result) => {
                let m = members.remove(i);
                (m.index(), m.started, result)
            }
            Settle::Finish => {
                let m = members.remove(i);
                let (index, started) = (m.index(), m.started);
                let done = catch_unwind(AssertUnwindSafe(|| m.run.finish()));
                (index, started, done)
            }
        };
        if end(ended, unit) == Flow::Cancel {
            return false;
        }
    }
    true
}
