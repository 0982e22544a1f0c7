//! The study features on real MNIST subsets: seed repeats, the holdout, early stopping with
//! restored weights, learning-rate schedules, grid expansion and `--seeds`.

mod common;

use common::{numbers, run_all, small_preset};
use mnist_lab::engine::{self, stopping, EngineOptions};
use mnist_lab::runs::UnitStatus;
use mnist_lab::session::{apply_overrides, Overrides};

const BASE: &str = "arch: \"128-64\", batch_size: 64, train_subset: 3000, \
                    test_subset: 1000, optimizer: Adam(lr: 0.002)";

#[test]
fn seed_repeats_are_independent_and_deterministic() {
    let p = small_preset(
        &format!("{BASE}, epochs: 2, seed: 5, seeds: 3, validation: Holdout(500)"),
        "(name: \"a\")",
    );
    let names: Vec<&str> = p.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["a · s5", "a · s6", "a · s7"]);
    assert!(p.units.iter().all(|u| u.variant_name() == "a"));
    let (_, r1) = run_all(p.clone(), EngineOptions::default());
    let (_, r2) = run_all(p, EngineOptions::default());
    let (n1, n2) = (numbers(&r1), numbers(&r2));
    assert_eq!(n1, n2, "same seed, same numbers");
    assert_ne!(n1[0], n1[1], "different seeds, different numbers");
    assert_ne!(n1[1], n1[2]);
    // Each unit trains its own seed: the second unit alone gives the same numbers.
    let only = apply_overrides(
        small_preset(
            &format!("{BASE}, epochs: 2, seed: 5, seeds: 3, validation: Holdout(500)"),
            "(name: \"a\")",
        ),
        &Overrides {
            only: vec!["a · s6".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let (_, alone) = run_all(only, EngineOptions::default());
    assert_eq!(numbers(&alone)[0], n1[1]);
}

#[test]
fn holdout_images_are_never_trained_on() {
    // Holding out the last 1,000 of 3,000 images must train exactly as a 2,000-image subset
    // monitored on the test set does: same images, same order, same initial weights. Had any
    // held-out image entered a batch, the training losses would differ.
    let held = small_preset(
        &format!("{BASE}, epochs: 2, seed: 3, validation: Holdout(1000)"),
        "(name: \"h\")",
    );
    let plain = small_preset(
        "arch: \"128-64\", epochs: 2, batch_size: 64, train_subset: 2000, test_subset: 1000, \
         optimizer: Adam(lr: 0.002), seed: 3, validation: Test",
        "(name: \"h\")",
    );
    let (_, a) = run_all(held, EngineOptions::default());
    let (_, b) = run_all(plain, EngineOptions::default());
    let ha = &a.units[0].history;
    let hb = &b.units[0].history;
    assert_eq!(ha.len(), 2);
    for (x, y) in ha.iter().zip(hb) {
        assert_eq!((x.train_loss, x.train_acc), (y.train_loss, y.train_acc));
        assert_eq!((x.test_loss, x.test_acc), (y.test_loss, y.test_acc));
        assert!(x.val_loss.is_some() && y.val_loss.is_none());
    }
    // And the plan itself: 2,000 trained, 2,000..3,000 held out.
    let plan = a.units[0].spec.train_plan(60_000).unwrap();
    assert_eq!(plan.train, 2000);
    assert_eq!(plan.holdout, Some(2000..3000));
    let order = mnist_lab::data::epoch_order(plan.train, 3, 0);
    assert!(order.iter().all(|&i| i < 2000));
}

#[test]
fn a_holdout_larger_than_the_data_fails_the_unit_with_a_reason() {
    let p = small_preset(
        "arch: \"128-64\", epochs: 1, validation: Holdout(59999), test_subset: 100",
        "(name: \"x\")",
    );
    let mut p2 = p.clone();
    // 60,000 training images minus 59,999 leaves 1: fine. Make it impossible after loading.
    p2.units[0].validation = mnist_lab::spec::Validation::Holdout(60_000);
    let (_, r) = run_all(p2, EngineOptions::default());
    assert_eq!(r.units[0].status, UnitStatus::Failed);
    let msg = &r.units[0].failure.as_ref().unwrap().message;
    assert!(msg.contains("Holdout(60000)"), "{msg}");
}

#[test]
fn early_stopping_stops_where_the_curve_says_and_keeps_the_best_weights() {
    // 600 images, no dropout, a high rate: the validation loss turns up within a few epochs.
    let p = small_preset(
        "arch: \"512-128\", epochs: 30, batch_size: 32, train_subset: 1100, test_subset: 2000, \
         placement: None, optimizer: Adam(lr: 0.003), seed: 1, validation: Holdout(500), \
         early_stopping: (patience: 2, restore_best: true)",
        "(name: \"es\")",
    );
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        weights_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let (events, r) = run_all(p, options);
    let v = &r.units[0];
    assert_eq!(v.status, UnitStatus::Finished);
    let stop = v
        .early_stop
        .expect("early stopping should have stopped this unit");
    let rule = v.spec.early_stopping.unwrap();
    let dictated = stopping::stop_epoch(rule, v.history.iter().map(|m| m.val_loss.unwrap()));
    assert_eq!(
        Some(stop.epoch),
        dictated,
        "stopped where the curve dictates"
    );
    assert_eq!(
        v.history.len(),
        stop.epoch,
        "no epoch trained after the stop"
    );
    assert!(stop.epoch < 30);
    let best = v.best_validation_epoch().unwrap();
    assert_eq!(stop.best_epoch, best.epoch);
    assert_eq!(stop.epoch, best.epoch + 2);
    assert!(stop.restored);
    // The kept weights are the best epoch's: evaluated again, they give its test loss.
    let weights = events
        .iter()
        .find_map(|e| match e {
            engine::Event::UnitFinished { weights, .. } => weights.clone(),
            _ => None,
        })
        .expect("weights saved");
    let eval =
        engine::train::evaluate_saved(&v.spec, std::path::Path::new(&weights), &common::mnist())
            .unwrap();
    assert!(
        (eval.loss - best.test_loss).abs() < 1e-4,
        "saved weights give {} but the best epoch had {}",
        eval.loss,
        best.test_loss
    );
    let last = v.last().unwrap();
    assert_ne!(
        last.test_loss, best.test_loss,
        "the last epoch's weights were not kept"
    );
    assert_eq!(v.final_metrics().unwrap().epoch, best.epoch);
}

#[test]
fn every_epoch_trains_at_its_scheduled_rate() {
    let p = small_preset(
        &format!(
            "{BASE}, epochs: 4, seed: 2, validation: Holdout(500), \
             schedule: Step(every: 2, gamma: 0.5)"
        ),
        "(name: \"s\")",
    );
    let (_, r) = run_all(p.clone(), EngineOptions::default());
    let lrs: Vec<f32> = r.units[0].history.iter().map(|m| m.lr.unwrap()).collect();
    assert_eq!(lrs, [0.002, 0.002, 0.001, 0.001]);
    // The rate acts: the same unit without a schedule trains differently from epoch 3 on.
    let mut flat = p;
    flat.units[0].schedule = None;
    let (_, f) = run_all(flat, EngineOptions::default());
    let (a, b) = (&r.units[0].history, &f.units[0].history);
    assert_eq!(a[1].train_loss, b[1].train_loss);
    assert_ne!(a[2].train_loss, b[2].train_loss);
}

/// Issue "Conclusions that survive a referee", 1: with `restore_best` and no early stop the
/// weights kept are the best epoch's, and so is every number that reports the unit.
#[test]
fn restore_best_without_an_early_stop_reports_the_kept_epoch_everywhere() {
    let p = small_preset(
        "arch: \"512-128\", epochs: 12, batch_size: 32, train_subset: 1100, test_subset: 2000, \
         placement: None, optimizer: Adam(lr: 0.003), seed: 1, validation: Holdout(500), \
         early_stopping: (patience: 50, restore_best: true)",
        "(name: \"kept\")",
    );
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        weights_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let (_, r) = run_all(p, options);
    let v = &r.units[0];
    assert_eq!(v.status, UnitStatus::Finished);
    assert!(v.early_stop.is_none(), "patience 50 never stops 12 epochs");
    assert_eq!(v.history.len(), 12);
    let best = v.best_validation_epoch().unwrap().epoch;
    assert!(
        best < 12,
        "this seed's best validation epoch is before the last: {best}"
    );
    assert_eq!(v.kept_epoch, Some(best));
    let kept = v.final_metrics().unwrap();
    assert_eq!(kept.epoch, best);
    // The saved weights are that epoch's.
    let weights = std::path::Path::new(v.weights.as_ref().unwrap());
    let e = engine::train::evaluate_saved(&v.spec, weights, &common::mnist()).unwrap();
    assert_eq!(e.accuracy, kept.test_acc);
    // And every consumer reports that epoch's numbers.
    let table = mnist_lab::report::rows(&r);
    assert_eq!(table[0][2], format!("{:.4}", kept.test_loss));
    let results = mnist_lab::insight::factors::results(&r);
    assert_eq!(results[0].1, kept.test_loss as f64);
    let stats = mnist_lab::insight::stats::per_variant(&r);
    assert_eq!(stats[0].loss.mean, kept.test_loss as f64);
    assert_eq!(r.best_accuracy(), Some(kept.test_acc));
    let units = mnist_lab::export::units_csv(&r);
    assert!(
        units.contains(&format!("{}", kept.test_loss)),
        "units.csv: {units}"
    );
    // It reads back the same (older records without the field read as the last epoch).
    let json = serde_json::to_string(v).unwrap();
    let back: mnist_lab::runs::UnitRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back.final_metrics().unwrap().epoch, best);
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    old.as_object_mut().unwrap().remove("kept_epoch");
    let old: mnist_lab::runs::UnitRecord = serde_json::from_value(old).unwrap();
    assert_eq!(old.final_metrics().unwrap().epoch, 12);
}
