//! Lockstep training (`engine::lockstep`): units that share their batches train together and
//! give exactly the numbers and weights they give one by one; commands, failures and early
//! stopping still act on each unit.

mod common;

use std::path::Path;

use common::{mnist, numbers, run_all, run_with, small_preset};
use mnist_lab::engine::lockstep;
use mnist_lab::engine::{Command, EngineOptions, Event};
use mnist_lab::runs::{RunRecord, UnitStatus};
use mnist_lab::spec::FailKind;

const BASE: &str = "arch: \"128-64\", epochs: 3, batch_size: 64, train_subset: 2000, \
                    test_subset: 500, seed: 11, seeds: 2, validation: Holdout(300)";

/// Variants that differ in everything but their batches: optimiser, placement, dropout,
/// activation, initialiser, epochs, a schedule, early stopping with restored weights; one
/// with another architecture and one with another batch size (groups of their own).
const VARIANTS: &str = "(name: \"adam\"), \
    (name: \"none\", placement: None, dropout: 0.2), \
    (name: \"adadelta\", optimizer: Adadelta()), \
    (name: \"short\", epochs: 1, activation: Tanh, init: GlorotUniform), \
    (name: \"sched\", schedule: Step(every: 1, gamma: 0.5)), \
    (name: \"stops\", early_stopping: (patience: 1, min_delta: 10.0, restore_best: true)), \
    (name: \"wide\", arch: \"96\"), \
    (name: \"big batch\", batch_size: 100)";

fn options(lockstep: bool, weights: &Path) -> EngineOptions {
    EngineOptions {
        lockstep,
        weights_dir: Some(weights.to_path_buf()),
        ..Default::default()
    }
}

/// Every unit's per-epoch numbers, validation included, as bits.
fn all_numbers(r: &RunRecord) -> Vec<Vec<[u32; 7]>> {
    r.units
        .iter()
        .map(|u| {
            u.history
                .iter()
                .map(|m| {
                    [
                        m.train_loss.to_bits(),
                        m.train_acc.to_bits(),
                        m.test_loss.to_bits(),
                        m.test_acc.to_bits(),
                        m.val_loss.map_or(0, f32::to_bits),
                        m.val_acc.map_or(0, f32::to_bits),
                        m.lr.map_or(0, f32::to_bits),
                    ]
                })
                .collect()
        })
        .collect()
}

/// The weights files of a folder, by name, as bytes.
fn weights(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("weights folder")
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("weights file"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn units_that_share_their_batches_are_grouped_by_architecture_batch_size_seed_and_split() {
    let p = small_preset(BASE, VARIANTS);
    let data = mnist();
    let all: Vec<usize> = (0..p.units.len()).collect();
    let groups = lockstep::groups(&p.units, &all, &data, 1);
    // 8 variants x 2 seeds; per seed: the six 128-64 batch-64 units, "wide", "big batch".
    assert_eq!(groups.len(), 6, "{groups:?}");
    let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
    seen.sort();
    assert_eq!(seen, all, "every unit in exactly one group");
    for g in &groups {
        let first = &p.units[g[0]];
        for &i in g {
            let u = &p.units[i];
            assert_eq!(
                (&u.arch, u.batch_size, u.seed),
                (&first.arch, first.batch_size, first.seed),
                "{} grouped with {}",
                u.name,
                first.name
            );
        }
        assert!(g.windows(2).all(|w| w[0] < w[1]), "units keep their order");
    }
    let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
    assert_eq!(sizes.iter().filter(|&&s| s == 6).count(), 2, "{sizes:?}");
    // Units skipped (finished already) are left out.
    let some: Vec<usize> = all.iter().copied().filter(|i| i % 3 != 0).collect();
    let grouped: usize = lockstep::groups(&p.units, &some, &data, 1)
        .iter()
        .map(Vec::len)
        .sum();
    assert_eq!(grouped, some.len());
    // Two engines: each group in two parts of nearly equal size, in order.
    let halves = lockstep::groups(&p.units, &all, &data, 2);
    let mut sizes: Vec<usize> = halves.iter().map(Vec::len).collect();
    sizes.sort();
    assert_eq!(sizes, [1, 1, 1, 1, 3, 3, 3, 3], "{halves:?}");
    for pair in halves
        .iter()
        .filter(|h| h.len() == 3)
        .collect::<Vec<_>>()
        .chunks(2)
    {
        assert!(
            pair[0].last() < pair[1].first(),
            "parts keep the units' order: {pair:?}"
        );
    }
    assert_eq!(halves.concat().len(), all.len());
    // A network above the lockstep limit trains alone.
    let big = small_preset(
        "arch: \"512-128\", seeds: 2",
        "(name: \"a\"), (name: \"b\", dropout: 0.1)",
    );
    assert!(big.units[0].arch.weight_count(data.io()) > lockstep::MAX_WEIGHTS);
    let alone = lockstep::groups(&big.units, &[0, 1, 2, 3], &data, 1);
    assert_eq!(alone, [[0], [1], [2], [3]]);
}

#[test]
fn lockstep_gives_the_numbers_and_weights_of_one_by_one_bit_for_bit() {
    let p = small_preset(BASE, VARIANTS);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (alone_dir, together_dir) = (tmp.path().join("alone"), tmp.path().join("together"));
    let (_, alone) = run_all(p.clone(), options(false, &alone_dir));
    let (events, together) = run_all(p, options(true, &together_dir));
    assert!(
        together
            .units
            .iter()
            .all(|u| u.status == UnitStatus::Finished),
        "{:?}",
        together.units.iter().map(|u| u.status).collect::<Vec<_>>()
    );
    assert_eq!(all_numbers(&alone), all_numbers(&together));
    // "stops" improves by 10 on no epoch after its first: it stops after its second, having
    // left its group there; the 1-epoch unit left after one.
    let stops = together
        .units
        .iter()
        .find(|u| u.spec.name.starts_with("stops"));
    assert_eq!(stops.expect("the early-stopping unit").history.len(), 2);
    let short = together
        .units
        .iter()
        .find(|u| u.spec.name.starts_with("short"));
    assert_eq!(short.expect("the short unit").history.len(), 1);
    assert_eq!(weights(&alone_dir), weights(&together_dir));
    assert_eq!(weights(&together_dir).len(), 16);
    // They did train together: the first group's six units all started before any ended.
    let first_end = events
        .iter()
        .position(|e| matches!(e, Event::UnitFinished { .. }))
        .expect("a unit finished");
    let started = events[..first_end]
        .iter()
        .filter(|e| matches!(e, Event::UnitStarted { .. }))
        .count();
    assert_eq!(started, 6, "a group of six trains together");
}

#[test]
fn in_lockstep_a_failing_unit_fails_alone_and_skip_and_cancel_still_act() {
    let p = small_preset(
        "arch: \"128-64\", epochs: 2, batch_size: 64, train_subset: 2000, test_subset: 500, seed: 5",
        "(name: \"ok\"), (name: \"boom\", placement: None, optimizer: Sgd(lr: 1000000.0)), \
         (name: \"bad\"), (name: \"also ok\", dropout: 0.1), (name: \"later\", seed: 6, epochs: 1)",
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let with_panic = |lockstep: bool, dir: &str| EngineOptions {
        inject_panic: Some("bad".into()),
        ..options(lockstep, &tmp.path().join(dir))
    };
    let (_, alone) = run_all(p.clone(), with_panic(false, "alone"));
    let (_, together) = run_all(p.clone(), with_panic(true, "together"));
    let status = |r: &RunRecord| r.units.iter().map(|u| u.status).collect::<Vec<_>>();
    use UnitStatus::{Failed, Finished};
    assert_eq!(
        status(&together),
        [Finished, Failed, Failed, Finished, Finished]
    );
    let kind = |r: &RunRecord, i: usize| r.units[i].failure.as_ref().map(|f| f.kind);
    assert_eq!(kind(&together, 1), Some(FailKind::Diverged));
    assert_eq!(kind(&together, 2), Some(FailKind::Panicked));
    // The others trained exactly as they do beside no failing unit.
    assert_eq!(numbers(&alone), numbers(&together));

    // Skip: the running group's units are skipped; the next group trains.
    let p = small_preset(
        "arch: \"128-64\", epochs: 2, batch_size: 64, train_subset: 2000, test_subset: 500, seed: 5",
        "(name: \"a\"), (name: \"b\", placement: None), (name: \"c\", dropout: 0.1), \
         (name: \"d\", optimizer: Adadelta()), (name: \"later\", seed: 6, epochs: 1)",
    );
    let mut skipped = false;
    let (_, r) = run_with(
        p.clone(),
        options(true, &tmp.path().join("s")),
        |e, send| {
            if matches!(e, Event::Progress { index: 0, .. }) && !skipped {
                send(Command::Skip);
                skipped = true;
            }
        },
    );
    use UnitStatus::Skipped;
    assert_eq!(status(&r), [Skipped, Skipped, Skipped, Skipped, Finished]);

    // Cancel: the run ends; the group's units are interrupted, the next is still queued.
    let mut cancelled = false;
    let (events, r) = run_with(p, options(true, &tmp.path().join("c")), |e, send| {
        if matches!(e, Event::Progress { index: 0, .. }) && !cancelled {
            send(Command::Cancel);
            cancelled = true;
        }
    });
    assert_eq!(events.last(), Some(&Event::RunFinished { cancelled: true }));
    assert_eq!(r.units[0].status, UnitStatus::Interrupted);
    assert_eq!(r.units[4].status, UnitStatus::Queued);
}

/// `all_numbers` of a run folder.
fn folder_numbers(dir: &Path) -> Vec<Vec<[u32; 7]>> {
    all_numbers(&mnist_lab::runs::load(dir).expect("run folder loads"))
}

#[test]
fn a_lockstep_group_killed_midway_resumes_to_the_numbers_of_one_by_one() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let preset = tmp.path().join("group.ron");
    let text = "(name: \"group\", defaults: (arch: \"128-64\", epochs: 3, batch_size: 64, \
        train_subset: 3000, test_subset: 500, seed: 9), variants: [(name: \"a\"), \
        (name: \"b\", placement: None), (name: \"c\", epochs: 40), (name: \"d\", seed: 10)])";
    std::fs::write(&preset, text).expect("preset written");
    let reference = tmp.path().join("reference");
    let out = common::bin()
        .arg("run")
        .arg(&preset)
        .args(["--one-by-one", "--only", "a,b,d", "--run-dir"])
        .arg(&reference)
        .output()
        .expect("reference run");
    common::succeeded(&out);

    // One engine, lockstep: a, b and c train together; killed once b has ended an epoch.
    let root = tmp.path().join("runs");
    let mut run = common::JsonlRun::start_with(
        &preset,
        &[
            "--runs-dir".as_ref(),
            root.as_os_str(),
            "--jobs".as_ref(),
            "1".as_ref(),
        ],
    );
    run.wait_for(|e| matches!(e, Event::EpochEnd { index: 1, .. }));
    run.child.kill().expect("SIGKILL");
    run.child.wait().expect("reaped");
    let dir = common::only_run_dir(&root);
    let killed = mnist_lab::runs::load(&dir).expect("run folder loads");
    let statuses: Vec<UnitStatus> = killed.units.iter().map(|u| u.status).collect();
    // The group's three units were all in flight; d (another seed) had not started.
    assert!(
        statuses[..3].iter().all(|s| *s == UnitStatus::Interrupted),
        "{statuses:?}"
    );
    assert_eq!(statuses[3], UnitStatus::Queued);

    let out = common::resume(&dir, &root);
    common::succeeded(&out);
    let resumed = folder_numbers(&dir);
    let expected = folder_numbers(&reference);
    // a, b and d as one by one, bit for bit; c trained its 40 epochs.
    for (i, e) in [(0, 0), (1, 1), (3, 2)] {
        assert_eq!(resumed[i], expected[e], "unit {i}");
    }
    assert_eq!(resumed[2].len(), 40);
}
