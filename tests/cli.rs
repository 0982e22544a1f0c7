//! The binary on good and bad input: exit codes, messages, run.json.

mod common;

use common::bin;

#[test]
fn help_is_available_on_every_command() {
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["list", "--help"],
        vec!["tui", "--help"],
        vec!["runs", "--help"],
        vec!["export", "--help"],
        vec!["eval", "--help"],
        vec!["bench", "--help"],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn list_shows_presets_and_architectures() {
    let out = bin().arg("list").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "paper-2019",
        "quick",
        "activations",
        "optimizers",
        "512-256-128-64-32",
    ] {
        assert!(text.contains(needle), "missing {needle}: {text}");
    }
}

#[test]
fn bad_preset_exits_non_zero_with_file_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.ron");
    std::fs::write(
        &path,
        "(name: \"x\", variants: [(name: \"a\", arch: \"7-x\")])",
    )
    .unwrap();
    let out = bin().arg("run").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.ron") && err.contains("\"x\" is not a whole number of units"),
        "{err}"
    );
}

#[test]
fn missing_data_folder_is_a_clear_error() {
    let out = bin()
        .args(["run", "quick", "--data", "/nonexistent/mnist"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/mnist") && err.contains("not found"),
        "{err}"
    );
}

#[test]
fn headless_run_prints_epochs_table_and_writes_run_json() {
    let runs = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "run",
            "paper-2019",
            "--epochs",
            "1",
            "--train-subset",
            "2000",
        ])
        .args([
            "--test-subset",
            "500",
            "--only",
            "2L adam every,5L adam last",
        ])
        .arg("--runs-dir")
        .arg(runs.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("epoch   1/1"), "{text}");
    assert!(
        text.contains("study loss") && text.contains("0.057"),
        "{text}"
    );
    assert!(text.contains("2 of 2 units finished"), "{text}");
    let dirs: Vec<_> = std::fs::read_dir(runs.path()).unwrap().collect();
    assert_eq!(dirs.len(), 1);
    let dir = dirs[0].as_ref().unwrap().path();
    assert!(dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with("-paper-2019"));
    let record = mnist_lab::runs::load(&dir).unwrap();
    assert_eq!(record.units.len(), 2);
    assert!(record.complete);
    assert_eq!(record.units[1].history.len(), 1);
    // The manifest names the vector kernels the run trained with (.ci/isa-bits relies on it).
    assert_eq!(
        record.environment.kernels,
        mnist_lab::fast::wide::kernels_in_use()
    );
    assert!(!record.environment.kernels.is_empty());
}

#[test]
fn jsonl_prints_one_json_event_per_line() {
    let runs = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "run",
            "quick",
            "--jsonl",
            "--epochs",
            "1",
            "--train-subset",
            "1000",
        ])
        .args(["--test-subset", "200", "--only", "128-64 none"])
        .arg("--runs-dir")
        .arg(runs.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let events: Vec<mnist_lab::engine::Event> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(matches!(
        events[0],
        mnist_lab::engine::Event::RunStarted { variants: 1, .. }
    ));
    assert!(events
        .iter()
        .any(|e| matches!(e, mnist_lab::engine::Event::EpochEnd { .. })));
}

#[test]
fn unknown_variant_in_only_is_rejected() {
    let out = bin()
        .args(["run", "quick", "--only", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no variant named \"nope\""));
}

#[test]
fn a_holdout_larger_than_the_data_is_refused_before_a_run_folder_exists() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("big.ron");
    std::fs::write(
        &preset,
        r#"(name: "big", defaults: (arch: "256", validation: Holdout(60000)), variants: [(name: "a")])"#,
    )
    .unwrap();
    let runs = dir.path().join("runs");
    let out = bin()
        .arg("run")
        .arg(&preset)
        .arg("--runs-dir")
        .arg(&runs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("big.ron") && err.contains("Holdout(60000)"),
        "{err}"
    );
    assert!(!runs.exists(), "no run folder for a run that cannot start");
}

#[test]
fn a_headless_run_with_seeds_prints_means_cis_and_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("s.ron");
    std::fs::write(
        &preset,
        r#"(name: "s", defaults: (arch: "128-64", epochs: 1, train_subset: 2400, test_subset: 500, seeds: 2),
            variants: [(name: "a"), (name: "b", placement: None)])"#,
    )
    .unwrap();
    let out = bin()
        .arg("run")
        .arg(&preset)
        .arg("--runs-dir")
        .arg(dir.path().join("runs"))
        .arg("--export")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("val loss"),
        "validation reported per epoch: {text}"
    );
    assert!(text.contains("4 of 4 units finished"), "{text}");
    assert!(
        text.contains("(n finished/units; mean ± sd [95% CI: Student's t over seeds"),
        "{text}"
    );
    assert!(text.contains("2/2"), "{text}");
    assert!(
        text.contains("best on validation loss") || text.contains("could be best on validation"),
        "{text}"
    );
    let run = std::fs::read_dir(dir.path().join("runs"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let units = std::fs::read_to_string(run.join("units.csv")).unwrap();
    assert_eq!(units.lines().count(), 1 + 4);
    let summary = std::fs::read_to_string(run.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 2, "one row per variant");
}

/// `bench` says how many threads it trained on: the pool's (RAYON_NUM_THREADS), not the cores;
/// and which kernels.
#[test]
fn bench_says_how_many_threads_it_trained_on() {
    let out = bin()
        .args(["bench", "--kernel", "fast", "--arch", "32", "--epochs", "1"])
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    let text = common::succeeded(&out);
    assert!(text.contains(" (1 thread, "), "{text}");
    // ... and which vector kernels ran (AVX-512 where the CPU has it and the build allows).
    let kernels = mnist_lab::fast::wide::kernels_in_use();
    assert!(text.contains(&format!(", {kernels} kernels)\n")), "{text}");
}

/// `bench --profile` times one epoch phase by phase: every layer's GEMMs and element-wise
/// passes, the loss, the optimiser and packing, in milliseconds per step and shares.
#[test]
fn bench_profile_shows_where_an_epoch_goes() {
    let out = bin()
        .args(["bench", "--profile", "--arch", "64-32"])
        .output()
        .unwrap();
    let text = common::succeeded(&out);
    assert!(
        text.contains("profile of 64-32 (fast path, one epoch: 469 steps"),
        "{text}"
    );
    for phase in [
        "pack batch",
        "L1 forward GEMM",
        "L1 act/BN/dropout",
        "L3 forward GEMM",
        "softmax + loss",
        "L2 act/BN/dropout back",
        "L1 backward GEMM",
        "optimizer",
    ] {
        assert!(text.contains(phase), "{phase}: {text}");
    }
    assert!(
        text.contains("first layer on its non-zero pixels: forward ")
            && text.contains("GFLOP/s; dense GEMM "),
        "{text}"
    );
    let shares: f64 = text
        .lines()
        .filter_map(|l| l.trim_end().strip_suffix('%'))
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum();
    assert!(
        (shares - 100.0).abs() < 1.0,
        "shares add up to 100%: {shares} in {text}"
    );
}
