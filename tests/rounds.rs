//! `seeds: Until(min, max, half_width)`: seeds added in rounds until the comparisons with the
//! best are decided, agreed on by every writer of a shared folder.

mod common;

use std::path::Path;

use common::{bin, succeeded};
use mnist_lab::insight::rounds::{self, Decision};
use mnist_lab::insight::stats;
use mnist_lab::preset::{self, Until};
use mnist_lab::runs::{self, record::Environment, RunRecord, UnitStatus};
use mnist_lab::session::{apply_overrides, Overrides};
use mnist_lab::spec::EpochMetrics;

const TWO: &str = r#"(name: "u", defaults: (arch: "128-64", epochs: 1, validation: Test,
    seeds: Until(min: 3, max: 7, half_width: HW, step: 2)),
    variants: [(name: "a", dropout: 0.2), (name: "b", dropout: 0.3)])"#;

fn until_preset(half_width: f64) -> preset::Preset {
    preset::parse("<test>", &TWO.replace("HW", &format!("{half_width:?}"))).unwrap()
}

/// The run of `p` with every unit finished at the given test loss, variant by variant (the
/// units of each variant in seed order).
fn finished(p: &preset::Preset, losses: &[&[f64]]) -> RunRecord {
    let mut r = RunRecord::new(p, Environment::detect("t"));
    for (g, values) in stats::variant_groups(&r).iter().zip(losses) {
        assert_eq!(g.len(), values.len());
        for (&i, &loss) in g.iter().zip(values.iter()) {
            let v = &mut r.units[i];
            v.status = UnitStatus::Finished;
            v.history.push(EpochMetrics {
                epoch: 1,
                test_loss: loss as f32,
                test_acc: 0.9,
                ..Default::default()
            });
        }
    }
    r
}

fn until(p: &preset::Preset) -> Until {
    p.until.expect("the preset asks for seeds until decided")
}

#[test]
fn a_clear_difference_is_decided_after_the_first_round() {
    let p = until_preset(0.0001);
    assert_eq!(p.units.len(), 6, "min 3 seeds × 2 variants to start");
    let r = finished(&p, &[&[0.10, 0.11, 0.12], &[0.30, 0.32, 0.31]]);
    match rounds::decide(&r, &until(&p)) {
        Decision::Decided(why) => assert!(why.contains("1 told apart from the best"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(rounds::grow(&r, &rounds::decide(&r, &until(&p))).is_none());
}

#[test]
fn an_undecided_pair_gets_a_round_of_paired_seeds() {
    let p = until_preset(0.0001);
    let r = finished(&p, &[&[0.10, 0.12, 0.11], &[0.11, 0.10, 0.125]]);
    let d = rounds::decide(&r, &until(&p));
    let Decision::More {
        seeds,
        variants,
        why,
    } = &d
    else {
        panic!("{d:?}")
    };
    assert_eq!(*seeds, 5, "min 3 + step 2");
    assert_eq!(variants, &["a", "b"], "the best first, then its open rival");
    assert!(why.contains("b − a"), "{why}");
    let grown = rounds::grow(&r, &d).unwrap();
    assert_eq!(grown.units.len(), 10);
    assert_eq!(grown.rounds.len(), 1);
    assert_eq!(grown.rounds[0].first_unit, 6);
    let added: Vec<(String, u64)> = grown.units[6..]
        .iter()
        .map(|v| (v.spec.name.clone(), v.spec.seed))
        .collect();
    assert_eq!(
        added,
        [("a · s3", 3), ("b · s3", 3), ("a · s4", 4), ("b · s4", 4)]
            .map(|(n, s)| (n.to_string(), s)),
        "the same new seeds for both, interleaved"
    );
    assert!(grown.units[6..]
        .iter()
        .all(|v| v.status == UnitStatus::Queued));
    grown.check().unwrap();
    assert_eq!(grown.round(), 2);
}

#[test]
fn a_narrow_enough_interval_or_max_seeds_ends_the_rounds() {
    // The same close pair, with a target its CI already meets.
    let p = until_preset(0.5);
    let r = finished(&p, &[&[0.10, 0.12, 0.11], &[0.11, 0.10, 0.125]]);
    match rounds::decide(&r, &until(&p)) {
        Decision::Decided(why) => assert!(why.contains("within ±0.5"), "{why}"),
        other => panic!("{other:?}"),
    }
    // At max (7 seeds each), however wide the CI.
    let p = until_preset(0.0001);
    let mut r = finished(&p, &[&[0.10, 0.12, 0.11], &[0.11, 0.10, 0.125]]);
    for seeds in [5, 7] {
        let d = rounds::decide(&r, &until(&p));
        r = rounds::grow(&r, &d).unwrap_or_else(|| panic!("{d:?}"));
        assert_eq!(r.rounds.last().unwrap().seeds, seeds);
        for (k, v) in r.units.iter_mut().enumerate() {
            if v.status == UnitStatus::Queued {
                v.status = UnitStatus::Finished;
                v.history.push(EpochMetrics {
                    epoch: 1,
                    test_loss: 0.11 + 0.01 * ((k * 7) % 5) as f32,
                    test_acc: 0.9,
                    ..Default::default()
                });
            }
        }
    }
    match rounds::decide(&r, &until(&p)) {
        Decision::Decided(why) => assert!(why.contains("undecided at max 7 seeds"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_the_open_rivals_and_the_best_go_on() {
    let text = r#"(name: "u", defaults: (arch: "128-64", epochs: 1, validation: Test,
        seeds: Until(min: 3, max: 9, half_width: 0.0001)),
        variants: [(name: "a", dropout: 0.2), (name: "b", dropout: 0.3), (name: "c", dropout: 0.4)])"#;
    let p = preset::parse("<test>", text).unwrap();
    let r = finished(
        &p,
        &[
            &[0.10, 0.12, 0.11],
            &[0.11, 0.10, 0.125],
            &[0.50, 0.52, 0.51],
        ],
    );
    match rounds::decide(&r, &until(&p)) {
        Decision::More {
            seeds, variants, ..
        } => {
            assert_eq!(seeds, 6, "step defaults to min");
            assert_eq!(variants, ["a", "b"], "c is told apart from the best");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn until_is_checked_where_it_is_written() {
    let bad = |defaults: &str, variant: &str| {
        preset::parse(
            "<test>",
            &format!(
                r#"(name: "u", defaults: (arch: "256", {defaults}),
                    variants: [(name: "a", {variant}), (name: "b")])"#
            ),
        )
        .unwrap_err()
        .to_string()
    };
    let e = bad("", "seeds: Until(min: 3, max: 5, half_width: 0.01)");
    assert!(e.contains("set it in defaults"), "{e}");
    let e = bad("seeds: Until(min: 1, max: 5, half_width: 0.01)", "");
    assert!(e.contains("min >= 2"), "{e}");
    let e = bad("seeds: Until(min: 4, max: 3, half_width: 0.01)", "");
    assert!(e.contains("max 3 below min 4"), "{e}");
    let e = bad("seeds: Until(min: 3, max: 5, half_width: NaN)", "");
    assert!(e.contains("positive, finite half_width"), "{e}");
    let e = bad(
        "seeds: Until(min: 3, max: 5, half_width: 0.01, step: 0)",
        "",
    );
    assert!(e.contains("step >= 1"), "{e}");
    let e = bad("seeds: Until(min: 3, max: 5000, half_width: 0.01)", "");
    assert!(e.contains("at most 5000"), "{e}");
    let e = bad("seeds: Until(min: 3, max: 5, half_width: 0.01)", "seeds: 4");
    assert!(e.contains("sets its own seeds"), "{e}");
    let e = bad("seeds: Until(min: 3, max: 5, halfwidth: 0.01)", "");
    assert!(e.contains("halfwidth"), "{e}");
    // A fixed --seeds replaces the rounds.
    let p = apply_overrides(
        until_preset(0.01),
        &Overrides {
            seeds: Some(4),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((p.until, p.units.len()), (None, 8));
}

/// Two writers that reach the end of a round at once: the manifest grows once, and the
/// second finds the new units queued.
#[test]
fn two_writers_grow_the_manifest_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let p = until_preset(0.0001);
    let r = finished(&p, &[&[0.10, 0.12, 0.11], &[0.11, 0.10, 0.125]]);
    assert!(runs::units::create_manifest(&dir, &r).unwrap());
    for (i, v) in r.units.iter().enumerate() {
        runs::units::save_unit(&dir, i, v).unwrap();
    }
    let u = until(&p);
    let barrier = std::sync::Barrier::new(2);
    let outcomes: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let g = runs::units::grow_manifest(&dir, |r| {
                        // Slow enough for the other writer to be waiting on the lock.
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        rounds::grow(r, &rounds::decide(r, &u))
                    })
                    .unwrap();
                    match g {
                        runs::units::Growth::Grown(r) => format!("grown {}", r.units.len()),
                        runs::units::Growth::Pending(r) => {
                            format!("pending {}", r.units.len())
                        }
                        runs::units::Growth::Unchanged(_) => "unchanged".into(),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = outcomes.clone();
    sorted.sort();
    assert_eq!(sorted, ["grown 10", "pending 10"], "{outcomes:?}");
    let manifest = runs::load_run_file(&dir).unwrap();
    assert_eq!(manifest.units.len(), 10);
    assert_eq!(manifest.rounds.len(), 1);
    assert!(!dir.join(".run.json.tmp").exists());
}

fn write_preset(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.ron"));
    std::fs::write(&path, body).unwrap();
    path
}

/// Clear: a learning rate that learns against one that barely moves.
const CLEAR: &str = r#"(name: "until-clear", defaults: (arch: "128-64", epochs: 1,
    train_subset: 1000, test_subset: 500, validation: Test,
    seeds: Until(min: 3, max: 9, half_width: 0.0001)),
    variants: [
        (name: "good", optimizer: Adam(lr: 0.003, beta1: 0.9, beta2: 0.999, eps: 1e-7)),
        (name: "bad", optimizer: Adam(lr: 0.000001, beta1: 0.9, beta2: 0.999, eps: 1e-7)),
    ])"#;

/// Close: dropout 0.20 against 0.21, with a target no CI of a few seeds meets.
const CLOSE: &str = r#"(name: "until-close", defaults: (arch: "128-64", epochs: 1,
    train_subset: 2000, test_subset: 500, validation: Test,
    seeds: Until(min: 3, max: 7, half_width: 0.0001, step: 2)),
    variants: [(name: "a", dropout: 0.2), (name: "b", dropout: 0.21)])"#;

fn seeds_per_variant(r: &RunRecord) -> Vec<(String, Vec<u64>)> {
    stats::variant_groups(r)
        .iter()
        .map(|g| {
            let mut seeds: Vec<u64> = g.iter().map(|&i| r.units[i].spec.seed).collect();
            seeds.sort_unstable();
            (r.units[g[0]].spec.variant_name().to_string(), seeds)
        })
        .collect()
}

fn run_into(preset: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .arg("run")
        .arg(preset)
        .arg("--run-dir")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_clear_difference_stops_at_min_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = write_preset(tmp.path(), "clear", CLEAR);
    let dir = tmp.path().join("run");
    let text = succeeded(&run_into(&preset, &dir, &[]));
    assert!(text.contains("no more rounds after round 1"), "{text}");
    let r = runs::load(&dir).unwrap();
    assert!(r.complete);
    assert!(r.rounds.is_empty());
    assert_eq!(
        seeds_per_variant(&r),
        [("good", vec![0, 1, 2]), ("bad", vec![0, 1, 2])].map(|(n, s)| (n.to_string(), s))
    );
}

#[test]
fn a_close_pair_goes_on_to_max_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = write_preset(tmp.path(), "close", CLOSE);
    let dir = tmp.path().join("run");
    let text = succeeded(&run_into(&preset, &dir, &[]));
    assert!(text.contains("round 2: 2 variants to 5 seeds"), "{text}");
    assert!(text.contains("round 3: 2 variants to 7 seeds"), "{text}");
    assert!(text.contains("undecided at max 7 seeds"), "{text}");
    let r = runs::load(&dir).unwrap();
    assert!(r.complete);
    assert_eq!(r.rounds.len(), 2);
    let all: Vec<u64> = (0..7).collect();
    assert_eq!(
        seeds_per_variant(&r),
        [("a", all.clone()), ("b", all)].map(|(n, s)| (n.to_string(), s))
    );
    assert!(r.units.iter().all(|v| v.status == UnitStatus::Finished));
    // summary.md tells the rounds and the boundary their looks were tested at.
    succeeded(&bin().arg("export").arg(&dir).output().unwrap());
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("## Seeds until decided"), "{md}");
    assert!(md.contains("* round 3: a, b to 7 seeds"), "{md}");
    assert!(md.contains("each look spends part of the 0.05"), "{md}");
    assert!(md.contains("look 3 of 3 (7 seeds)"), "{md}");
    // Joining the finished run again trains nothing and adds no round.
    let again = succeeded(&run_into(&preset, &dir, &[]));
    assert!(!again.contains("done in"), "{again}");
    assert_eq!(runs::load(&dir).unwrap().units.len(), 14);
}

/// Two processes on one folder (plain joiners, then Slurm-style shards) train the same
/// rounds as one process, each unit once.
#[test]
fn two_processes_add_the_same_rounds_once() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = write_preset(tmp.path(), "close", CLOSE);
    let alone = tmp.path().join("alone");
    succeeded(&run_into(&preset, &alone, &["--jobs", "1"]));
    let expected = runs::load(&alone).unwrap();
    let names =
        |r: &RunRecord| -> Vec<String> { r.units.iter().map(|v| v.spec.name.clone()).collect() };
    for (label, args) in [
        ("joiners", [vec![], vec![]]),
        ("shards", [vec!["--shard", "0/2"], vec!["--shard", "1/2"]]),
    ] {
        let dir = tmp.path().join(label);
        let children: Vec<_> = args
            .iter()
            .map(|a| {
                bin()
                    .arg("run")
                    .arg(&preset)
                    .arg("--run-dir")
                    .arg(&dir)
                    .args(a)
                    .args(["--jobs", "1"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<String> = children
            .into_iter()
            .map(|c| succeeded(&c.wait_with_output().unwrap()))
            .collect();
        let r = runs::load(&dir).unwrap();
        assert!(r.complete, "{label}");
        assert_eq!(names(&r), names(&expected), "{label}: the same units");
        assert_eq!(
            r.rounds.iter().map(|x| x.first_unit).collect::<Vec<_>>(),
            [6, 10],
            "{label}: two rounds, each added once"
        );
        for name in names(&r) {
            let trained = outputs
                .iter()
                .map(|o| o.matches(&format!("  {name} done in")).count())
                .sum::<usize>();
            assert_eq!(
                trained, 1,
                "{label}: {name} trained {trained} times\n{outputs:?}"
            );
        }
        assert!(!dir.join("run.json.tmp").exists());
    }
}
