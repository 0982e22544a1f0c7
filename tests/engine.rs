//! The engine on real MNIST subsets: placement, determinism, pause/resume, skip, cancel,
//! divergence, panics, and a short training run that must learn.

mod common;

use common::{numbers, run_all, run_with, small_preset};
use mnist_lab::engine::{Command, EngineOptions, Event};
use mnist_lab::model::{Configure, Mlp512x256x128x64x32};
use mnist_lab::runs::UnitStatus;
use mnist_lab::spec::FailKind;
use mnist_lab::spec::Placement;

const SMALL: &str = "arch: \"128-64\", epochs: 2, batch_size: 64, train_subset: 3000, \
                     test_subset: 1000, seed: 11, optimizer: Adam(lr: 0.002)";

#[test]
fn placement_decides_which_layers_get_bn_and_dropout() {
    let dev = dfdx::prelude::Cpu::seed_from_u64(0);
    let base = small_preset("arch: \"512-256-128-64-32\"", "(name: \"a\")").units[0].clone();
    let expect = [
        (Placement::Every, [true, true, true, true, true]),
        (Placement::First, [true, false, false, false, false]),
        (Placement::Last, [false, false, false, false, true]),
        (Placement::None, [false, false, false, false, false]),
    ];
    for (placement, flags) in expect {
        let mut spec = base.clone();
        spec.placement = placement;
        let net: Mlp512x256x128x64x32 = mnist_lab::model::Net::new_configured(&dev, &spec);
        let mut got = Vec::new();
        net.placement_flags(&mut got);
        assert_eq!(got, flags, "{placement:?}");
    }
}

#[test]
fn same_seed_same_numbers_and_a_different_seed_differs() {
    let p = small_preset(SMALL, "(name: \"a\"), (name: \"b\", seed: 12)");
    let (_, r1) = run_all(p.clone(), EngineOptions::default());
    let (_, r2) = run_all(p, EngineOptions::default());
    let (n1, n2) = (numbers(&r1), numbers(&r2));
    assert_eq!(n1, n2);
    assert_eq!(n1[0].len(), 2);
    assert_ne!(
        n1[0], n1[1],
        "seed 11 and 12 should not give identical curves"
    );
}

#[test]
fn pause_and_resume_give_exactly_the_uninterrupted_numbers() {
    let p = small_preset(SMALL, "(name: \"a\")");
    let (_, plain) = run_all(p.clone(), EngineOptions::default());
    let mut paused_seen = false;
    let (events, paused) = run_with(p, EngineOptions::default(), |e, send| match e {
        Event::Progress { epoch: 1, .. } if !paused_seen => {
            send(Command::Pause);
            paused_seen = true;
        }
        Event::Paused => {
            std::thread::sleep(std::time::Duration::from_millis(1200));
            send(Command::Resume);
        }
        _ => {}
    });
    assert!(events.contains(&Event::Paused) && events.contains(&Event::Resumed));
    // Nothing happens between Paused and Resumed.
    let at = events.iter().position(|e| *e == Event::Paused).unwrap();
    assert_eq!(events[at + 1], Event::Resumed);
    assert_eq!(numbers(&plain), numbers(&paused));
    // The pause is not training time: the paused epoch's seconds, and the speed the ETA is
    // made from, leave out the 1.2 s pause (its 3,000 images train in far less than 1 s).
    for m in &paused.units[0].history {
        assert!(m.seconds < 1.0, "the 1.2 s pause was counted: {m:?}");
    }
    let speeds: Vec<f32> = events[at..]
        .iter()
        .filter_map(|e| match e {
            Event::Progress {
                samples_per_sec, ..
            } => Some(*samples_per_sec),
            _ => None,
        })
        .collect();
    assert!(!speeds.is_empty());
    // Counting the pause, no speed could exceed 3,000 images / 1.2 s = 2,500 per second.
    assert!(speeds.iter().all(|s| *s > 3000.0), "{speeds:?}");
}

#[test]
fn skip_moves_to_the_next_variant_and_cancel_ends_the_run() {
    let p = small_preset(SMALL, "(name: \"a\"), (name: \"b\", epochs: 1)");
    let mut skipped = false;
    let (_, r) = run_with(p.clone(), EngineOptions::default(), |e, send| {
        if matches!(e, Event::Progress { index: 0, .. }) && !skipped {
            send(Command::Skip);
            skipped = true;
        }
    });
    assert_eq!(r.units[0].status, UnitStatus::Skipped);
    assert_eq!(r.units[1].status, UnitStatus::Finished);

    let mut cancelled = false;
    let (events, r) = run_with(p, EngineOptions::default(), |e, send| {
        if matches!(e, Event::Progress { index: 0, .. }) && !cancelled {
            send(Command::Cancel);
            cancelled = true;
        }
    });
    assert_eq!(events.last(), Some(&Event::RunFinished { cancelled: true }));
    assert_eq!(r.units[0].status, UnitStatus::Interrupted);
    assert_eq!(r.units[1].status, UnitStatus::Queued);
}

#[test]
fn a_diverging_variant_fails_and_the_next_one_runs() {
    let p = small_preset(
        SMALL,
        "(name: \"boom\", placement: None, optimizer: Sgd(lr: 1000000.0)), (name: \"ok\", epochs: 1)",
    );
    let (_, r) = run_all(p, EngineOptions::default());
    let boom = &r.units[0];
    assert_eq!(boom.status, UnitStatus::Failed);
    let f = boom.failure.as_ref().unwrap();
    assert_eq!(f.kind, FailKind::Diverged);
    assert_eq!(f.epoch, Some(1));
    assert!(f.message.contains("loss became"), "{}", f.message);
    assert_eq!(r.units[1].status, UnitStatus::Finished);
}

#[test]
fn a_panicking_variant_is_reported_and_the_next_one_runs() {
    let p = small_preset(SMALL, "(name: \"bad\"), (name: \"ok\", epochs: 1)");
    let opts = EngineOptions {
        inject_panic: Some("bad".into()),
        ..Default::default()
    };
    let (_, r) = run_all(p, opts);
    assert_eq!(r.units[0].status, UnitStatus::Failed);
    let f = r.units[0].failure.as_ref().unwrap();
    assert_eq!(f.kind, FailKind::Panicked);
    assert!(f.message.contains("injected panic"), "{}", f.message);
    assert_eq!(r.units[1].status, UnitStatus::Finished);
}

#[test]
fn a_short_real_run_learns_mnist() {
    // 10k training images, 3 epochs, full test set: a working network clears 0.93 easily.
    let p = small_preset(
        "arch: \"512-128\", epochs: 3, batch_size: 128, train_subset: 10000, seed: 3, dropout: 0.2",
        "(name: \"every\", placement: Every), (name: \"adadelta\", placement: Every, optimizer: Adadelta())",
    );
    let (_, r) = run_all(p, EngineOptions::default());
    let every = r.units[0].last().unwrap();
    assert!(every.test_acc >= 0.93, "test accuracy {}", every.test_acc);
    // Keras-style BN running statistics (momentum 0.99) are still warming up after 156 steps,
    // which keeps the eval-mode loss above what the accuracy suggests.
    assert!(every.test_loss < 0.5, "test loss {}", every.test_loss);
    assert!(r.units[0].history[1].train_loss < r.units[0].history[0].train_loss);
    // Adadelta (lr 1.0, Keras semantics) also learns, if more slowly.
    let ada = r.units[1].last().unwrap();
    assert!(ada.test_acc >= 0.85, "adadelta accuracy {}", ada.test_acc);
}

#[test]
fn every_activation_trains_without_failing() {
    let p = small_preset(
        "arch: \"256\", epochs: 1, train_subset: 3000, test_subset: 500, placement: None",
        "(name: \"relu\"), (name: \"sigmoid\", activation: Sigmoid, init: GlorotUniform), \
         (name: \"tanh\", activation: Tanh, init: LecunUniform), \
         (name: \"leaky\", activation: LeakyReLU(alpha: 0.1)), (name: \"elu\", activation: ELU(alpha: 1.0)), \
         (name: \"rms\", optimizer: RMSprop()), (name: \"adagrad\", optimizer: Adagrad()), \
         (name: \"sgd\", optimizer: Sgd(lr: 0.05, momentum: 0.9, nesterov: true))",
    );
    let (_, r) = run_all(p, EngineOptions::default());
    for v in &r.units {
        assert_eq!(
            v.status,
            UnitStatus::Finished,
            "{}: {:?}",
            v.spec.name,
            v.failure
        );
        let m = v.last().unwrap();
        assert!(
            m.test_acc > 0.5,
            "{} reached only {}",
            v.spec.name,
            m.test_acc
        );
    }
}

/// Progress events are throttled, batches are not: every batch's loss reaches the UI, in
/// order, the last of each event being its `batch_loss` (issue "The dashboard shows only what
/// is true", 1: the live EMA smooths batches, not a running mean).
#[test]
fn progress_events_carry_every_batchs_loss() {
    let p = small_preset(SMALL, "(name: \"a\")");
    let (events, _) = run_all(p, EngineOptions::default());
    let mut per_epoch = std::collections::BTreeMap::<usize, (usize, usize)>::new();
    for e in &events {
        if let Event::Progress {
            epoch,
            batch,
            batches,
            batch_loss,
            batch_losses,
            ..
        } = e
        {
            assert_eq!(batch_losses.last(), Some(batch_loss));
            let seen = per_epoch.entry(*epoch).or_insert((0, *batches));
            seen.0 += batch_losses.len();
            assert_eq!(seen.0, *batch, "epoch {epoch}: batches booked so far");
        }
    }
    assert_eq!(per_epoch.len(), 2);
    for (epoch, (seen, batches)) in per_epoch {
        assert_eq!(seen, batches, "epoch {epoch}");
    }
}
