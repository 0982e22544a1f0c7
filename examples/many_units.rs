//! Writes a run folder of synthetic units, for measuring the bookkeeping at scale (export
//! time and memory, `watch` when idle): `cargo run --release --example many_units -- DIR
//! [VARIANTS] [SEEDS] [EPOCHS] [one-factor]` (default 1000 variants × 5 seeds × 20 epochs: the documented
//! maximum of 5,000 units). No training: numbers are made up, deterministic.

use anyhow::{Context, Result};
use mnist_lab::runs::{record::Environment, units, RunRecord, UnitStatus};
use mnist_lab::spec::EpochMetrics;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(args.first().context("give a folder to write")?);
    let num = |i: usize, d: usize| -> Result<usize> {
        args.get(i)
            .map(|s| s.parse().context("a count"))
            .unwrap_or(Ok(d))
    };
    let (variants, seeds, epochs) = (num(1, 1000)?, num(2, 5)?, num(3, 20)?);
    // `one-factor`: variants differ in dropout only, so every pair is a one-factor comparison
    // (the worst case for the summary: 499,500 pairs at 1,000 variants).
    let one_factor = args.get(4).is_some_and(|a| a == "one-factor");
    let placements = ["Every", "First", "Last", "None"];
    let archs = [
        "256",
        "128-64",
        "512-128",
        "512-256-128",
        "512-256-128-64-32",
    ];
    let entries: Vec<String> = (0..variants)
        .map(|i| {
            if one_factor {
                return format!(
                    "(name: \"v{i:04}\", arch: \"256\", dropout: {})",
                    0.5 * i as f32 / variants as f32
                );
            }
            format!(
                "(name: \"v{i:04}\", arch: \"{}\", placement: {}, dropout: {})",
                archs[i % archs.len()],
                placements[(i / archs.len()) % placements.len()],
                0.05 + 0.9 * (i / (archs.len() * placements.len())) as f32 / variants as f32
            )
        })
        .collect();
    let text = format!(
        "(name: \"many\", defaults: (epochs: {epochs}, seeds: {seeds}), variants: [{}])",
        entries.join(", ")
    );
    let preset = mnist_lab::preset::parse("many.ron", &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let record = RunRecord::new(&preset, Environment::detect("synthetic"));
    units::create_manifest(&dir, &record)?;
    for (i, v) in record.units.iter().enumerate() {
        let mut v = v.clone();
        v.status = UnitStatus::Finished;
        let wobble = ((i * 7919) % 101) as f32 / 1000.0;
        for e in 1..=epochs {
            let f = e as f32;
            v.history.push(EpochMetrics {
                epoch: e,
                train_loss: 0.5 / f + wobble,
                train_acc: 0.9 - wobble / 10.0,
                test_loss: 0.4 / f + wobble,
                test_acc: 0.95 - wobble / 10.0,
                seconds: 1.0,
                samples_per_sec: 1e4,
                ..Default::default()
            });
        }
        v.seconds = Some(epochs as f32);
        units::save_unit(&dir, i, &v)?;
    }
    println!("{} units in {}", record.units.len(), dir.display());
    Ok(())
}
