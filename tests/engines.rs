//! The engine choice (issue "The engine the mission names"): dfdx's compile-time-shaped
//! networks train from a preset, `run`, `tui` and the picker; the run records which engine
//! trained it; what dfdx cannot train is refused before training; a run never mixes engines;
//! and the two engines agree within the documented band (docs/GUIDE.md, "Which engine").

mod common;

use std::path::{Path, PathBuf};

use common::bin;
use mnist_lab::runs;
use mnist_lab::spec::Engine;

/// `run ARGS... --runs-dir ROOT`, to the end; the output and the one run folder made.
fn run(root: &Path, args: &[&str]) -> (std::process::Output, Option<PathBuf>) {
    let out = bin()
        .arg("run")
        .args(args)
        .arg("--runs-dir")
        .arg(root)
        .output()
        .unwrap();
    let dir = std::fs::read_dir(root)
        .ok()
        .and_then(|mut d| d.next())
        .map(|e| e.unwrap().path());
    (out, dir)
}

/// `mnist-lab ARGS...`, to the end.
fn lab(args: &[&str], dir: &Path, more: &[&str]) -> std::process::Output {
    bin().args(args).arg(dir).args(more).output().unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Per unit and epoch: (test loss, test accuracy).
fn curves(dir: &Path) -> Vec<(String, Vec<(f32, f32)>)> {
    runs::load(dir)
        .unwrap()
        .units
        .iter()
        .map(|u| {
            (
                u.spec.name.clone(),
                u.history
                    .iter()
                    .map(|m| (m.test_loss, m.test_acc))
                    .collect(),
            )
        })
        .collect()
}

/// The documented band: every epoch's test loss within 5% of the other engine's, its test
/// accuracy within 0.01 (dropout masks are drawn differently by the two engines, and 1e-5
/// differences of a step grow over an epoch).
#[test]
fn quick_trains_on_dfdx_within_the_parity_band_of_the_fast_path() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, fast) = run(&tmp.path().join("fast"), &["quick"]);
    assert!(out.status.success(), "{}", text(&out));
    let (out, dfdx) = run(&tmp.path().join("dfdx"), &["quick", "--engine", "dfdx"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("on the dfdx engine"), "{}", text(&out));
    let (fast, dfdx) = (fast.unwrap(), dfdx.unwrap());
    assert_eq!(runs::load(&dfdx).unwrap().engine, Engine::Dfdx);
    assert_eq!(runs::load(&fast).unwrap().engine, Engine::Fast);
    let json = std::fs::read_to_string(dfdx.join("run.json")).unwrap();
    assert!(json.contains("\"engine\": \"Dfdx\""), "{json}");
    let (a, b) = (curves(&fast), curves(&dfdx));
    assert_eq!(a.len(), 3);
    let mut worst = 0.0f32;
    for ((name, fa), (_, fb)) in a.iter().zip(&b) {
        assert_eq!(fa.len(), 3, "{name}");
        assert_eq!(fa.len(), fb.len(), "{name}");
        for (e, (x, y)) in fa.iter().zip(fb).enumerate() {
            let rel = (x.0 - y.0).abs() / y.0;
            worst = worst.max(rel);
            assert!(
                rel <= 0.05,
                "{name} epoch {}: test loss {} vs {}",
                e + 1,
                x.0,
                y.0
            );
            assert!(
                (x.1 - y.1).abs() <= 0.01,
                "{name} epoch {}: {} vs {}",
                e + 1,
                x.1,
                y.1
            );
        }
    }
    eprintln!("largest relative difference of a test loss: {worst:.4}");
    // The exports carry the engine.
    let out = bin().arg("export").arg(&dfdx).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let units = std::fs::read_to_string(dfdx.join("units.csv")).unwrap();
    assert!(
        units.lines().next().unwrap().ends_with(",engine"),
        "{units}"
    );
    assert!(units.lines().nth(1).unwrap().ends_with(",dfdx"), "{units}");
    assert!(std::fs::read_to_string(dfdx.join("summary.md"))
        .unwrap()
        .contains("Trained on the dfdx engine"));
    // The runs table shows it.
    let out = bin()
        .arg("runs")
        .arg("--runs-dir")
        .arg(tmp.path().join("dfdx"))
        .output()
        .unwrap();
    assert!(text(&out).contains(" dfdx "), "{}", text(&out));
}

#[test]
fn every_paper_unit_trains_on_dfdx_and_lockstep_says_it_is_off() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, dir) = run(
        tmp.path(),
        &[
            "paper-2019",
            "--engine",
            "dfdx",
            "--epochs",
            "1",
            "--train-subset",
            "1000",
            "--test-subset",
            "300",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("lockstep is off on dfdx"),
        "{}",
        text(&out)
    );
    let r = runs::load(&dir.unwrap()).unwrap();
    assert_eq!(r.units.len(), 15);
    assert_eq!(r.count(runs::UnitStatus::Finished), 15);
    assert_eq!(r.engine, Engine::Dfdx);
}

#[test]
fn what_dfdx_cannot_train_is_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, dir) = run(
        tmp.path(),
        &["quick", "--engine", "dfdx", "--arch", "1000-300"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("cannot train on dfdx") && said.contains("1000-300"),
        "{said}"
    );
    assert!(dir.is_none(), "a run folder was made for a refused run");
    // The same in a preset's defaults; and an engine set per variant is refused.
    let p = tmp.path().join("wide.ron");
    std::fs::write(
        &p,
        "(name: \"wide\", defaults: (arch: \"1000-300\", engine: Dfdx, epochs: 1), \
         variants: [(name: \"a\")])",
    )
    .unwrap();
    let (out, _) = run(&tmp.path().join("w"), &[p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("cannot train on dfdx"),
        "{}",
        text(&out)
    );
    let e = mnist_lab::preset::parse(
        "<t>",
        "(name: \"t\", defaults: (arch: \"256\"), variants: [(name: \"a\", engine: Dfdx)])",
    )
    .unwrap_err();
    assert!(e.to_string().contains("set it in defaults"), "{e}");
    // A preset's engine is read.
    let p = mnist_lab::preset::parse(
        "<t>",
        "(name: \"t\", defaults: (arch: \"256\", engine: Dfdx), variants: [(name: \"a\")])",
    )
    .unwrap();
    assert_eq!(p.engine, Engine::Dfdx);
}

#[test]
fn a_run_never_mixes_engines_on_resume_or_join() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("tiny.ron");
    std::fs::write(
        &p,
        "(name: \"tiny\", defaults: (arch: \"128-64\", engine: Dfdx, epochs: 1, \
         train_subset: 500, test_subset: 100, seed: 3), variants: [(name: \"a\"), (name: \"b\")])",
    )
    .unwrap();
    let dir = tmp.path().join("run");
    let p = p.to_str().unwrap();
    let out = lab(&["run", p, "--run-dir"], &dir, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = lab(&["run", "--resume"], &dir, &["--engine", "fast"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("trains on the dfdx engine; --engine fast would mix"),
        "{}",
        text(&out)
    );
    // Naming the run's own engine is fine.
    let out = lab(&["run", "--resume"], &dir, &["--engine", "dfdx"]);
    assert!(out.status.success(), "{}", text(&out));
    // A writer joining with the other engine is refused with both names.
    let out = lab(&["run", p, "--run-dir"], &dir, &["--engine", "fast"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("it trains on the dfdx engine, and this writer would train on fast"),
        "{}",
        text(&out)
    );
}

#[test]
fn runs_recorded_before_the_choice_read_as_the_fast_path() {
    let old = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/old-weights/run");
    let json = std::fs::read_to_string(old.join("run.json")).unwrap();
    assert!(!json.contains("\"engine\""));
    assert_eq!(runs::load_run_file(&old).unwrap().engine, Engine::Fast);
}

#[test]
fn the_tui_trains_quick_on_dfdx_and_its_header_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tui = common::pty::PtyApp::spawn(
        &[
            "tui".as_ref(),
            "quick".as_ref(),
            "--engine".as_ref(),
            "dfdx".as_ref(),
            "--runs-dir".as_ref(),
            tmp.path().as_os_str(),
        ],
        40,
        120,
    );
    let screen = tui.wait_for("DONE", std::time::Duration::from_secs(120));
    assert!(screen.contains("quick · dfdx · 3/3 done"), "{screen}");
    tui.press("q");
    let dir = common::only_run_dir(tmp.path());
    let r = runs::load(&dir).unwrap();
    assert_eq!(r.engine, Engine::Dfdx);
    assert_eq!(r.count(runs::UnitStatus::Finished), 3);
}
