//! The commands: what each subcommand does, from parsed arguments to an exit status. `main`
//! parses the arguments and maps errors to exit statuses; everything else is here.

use std::process::ExitCode;

use std::path::PathBuf;

use crate::cli::{BenchKernel, Cli, Cmd, Common, OverrideArgs, Shard};
use crate::session::{self, Overrides, Session};
use crate::tui::runtime::{self, TuiOptions};
use crate::{headless, preset};

/// Runs the command `cli` names (the TUI when it names none).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let common = cli.common;
    match cli.command {
        Some(Cmd::Run {
            preset,
            jsonl,
            export,
            resume,
            run_dir,
            shard,
            jobs,
            one_by_one,
            overrides,
        }) => train(
            common,
            preset,
            jsonl,
            export,
            resume,
            run_dir,
            shard,
            (jobs, !one_by_one),
            overrides,
        ),
        Some(Cmd::Runs) => {
            headless::list_runs(&common.runs_dir, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Export {
            run_dir,
            to,
            tensorboard,
        }) => export(common, run_dir, to, tensorboard),
        Some(Cmd::Plan {
            run_dir,
            delta,
            accuracy,
        }) => plan(run_dir, delta, accuracy),
        Some(Cmd::Eval { run_dir, variant }) => {
            let data = session::load_data(common.data.as_deref())?;
            headless::eval(&run_dir, &variant, &data, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Bench {
            arch,
            profile: true,
            ..
        }) => bench_profile(common, arch),
        Some(Cmd::Bench {
            epochs,
            kernel,
            arch,
            json,
            ..
        }) => bench(common, epochs, kernel, arch, json),
        Some(Cmd::List) => {
            headless::list(&common.runs_dir, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Tui {
            preset,
            overrides,
            no_mouse,
        }) => {
            let (picker, start) = runtime::picker_entries(preset.as_deref());
            tui(TuiOptions {
                picker,
                start,
                data: common.data,
                runs_dir: common.runs_dir,
                overrides: overrides.into(),
                mouse: !no_mouse,
                watch: None,
                light: common.theme.light(colorfgbg().as_deref()),
            })
        }
        None => {
            let (picker, _) = runtime::picker_entries(None);
            tui(TuiOptions {
                picker,
                start: None,
                data: common.data,
                runs_dir: common.runs_dir,
                overrides: Overrides::default(),
                mouse: !cli.no_mouse,
                watch: None,
                light: common.theme.light(colorfgbg().as_deref()),
            })
        }
        Some(Cmd::Merge { dirs, to }) => merge(dirs, to),
        Some(Cmd::Watch { run_dir, no_mouse }) => watch(common, run_dir, no_mouse),
    }
}

fn tui(options: TuiOptions) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    anyhow::ensure!(
        std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
        "the TUI needs a terminal (standard input and output are not one); \
         `mnist-lab run PRESET` is the headless mode"
    );
    runtime::run(options)?;
    Ok(ExitCode::SUCCESS)
}

/// `run`: trains a preset (or the rest of a run) headlessly.
#[allow(clippy::too_many_arguments)]
fn train(
    common: Common,
    preset: Option<String>,
    jsonl: bool,
    export: bool,
    resume: Option<PathBuf>,
    run_dir: Option<PathBuf>,
    shard: Option<Shard>,
    (jobs, lockstep): (u16, bool),
    overrides: OverrideArgs,
) -> anyhow::Result<ExitCode> {
    let engine_flag = overrides.engine;
    let setup_preset = match (&resume, preset) {
        (Some(dir), _) => {
            let o = &overrides;
            anyhow::ensure!(
                o.epochs.is_none()
                    && o.train_subset.is_none()
                    && o.test_subset.is_none()
                    && o.only.is_empty()
                    && o.seeds.is_none()
                    && o.arch.is_none(),
                "{}: --resume trains the rest of the run with its recorded settings; \
                 --epochs, --seeds, --arch, --train-subset, --test-subset and --only do not \
                 apply",
                dir.display()
            );
            None
        }
        (None, Some(p)) => Some(session::apply_overrides(
            preset::load(&p)?,
            &overrides.into(),
        )?),
        (None, None) => anyhow::bail!("give a PRESET or --resume RUN_DIR"),
    };
    let data = session::load_data(common.data.as_deref())?;
    let mut session = match (resume, setup_preset) {
        (Some(dir), _) => {
            let session = Session::resume(&dir, &data)?;
            // --engine on a resume may only say what the run already trains on.
            if let Some(asked) = engine_flag.filter(|&e| e != session.engine()) {
                anyhow::bail!(
                    "{}: this run trains on the {} engine; --engine {asked} would mix engines in \
                     one run (resume without --engine)",
                    dir.display(),
                    session.engine()
                );
            }
            session
        }
        (None, Some(p)) => {
            session::check_fits(&p, &data)?;
            match &run_dir {
                Some(dir) => Session::join(p, &data, dir)?,
                None => Session::create(p, &data, &common.runs_dir)?,
            }
        }
        (None, None) => anyhow::bail!("give a PRESET or --resume RUN_DIR"),
    };
    if let Some(s) = shard {
        session.restrict_to_shard(s.k, s.n);
    }
    let mut out = std::io::stdout().lock();
    let options = headless::Options {
        jsonl,
        export,
        jobs: jobs as usize,
        lockstep,
    };
    let (saved, _) = headless::run(session, data, options, &mut out)?;
    // Results kept but some weights lost: not a clean success for a script.
    Ok(match saved {
        session::Saved::RecordsOnly { .. } => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// `plan`: the seeds a run's questions need.
fn plan(run_dir: PathBuf, delta: Option<f64>, accuracy: bool) -> anyhow::Result<ExitCode> {
    if let Some(d) = delta {
        anyhow::ensure!(
            d.is_finite() && d > 0.0,
            "--delta {d}: give a positive, finite difference"
        );
    }
    let record = crate::runs::load(&run_dir)?;
    let metric = if accuracy {
        crate::spec::Metric::TestAcc
    } else {
        crate::spec::Metric::TestLoss
    };
    let mut comparisons = crate::insight::stats::one_factor_comparisons(
        &crate::insight::factors::Layout::new(&record),
        &crate::insight::stats::per_variant(&record),
        metric,
        crate::insight::stats::Adjustment::Holm,
    );
    crate::insight::stats::decide_by(&mut comparisons, record.test);
    let plan = crate::insight::plan::plan(&record, metric, delta, &comparisons)
        .map_err(|e| anyhow::anyhow!("{}: {e}", run_dir.display()))?;
    print!("{}", plan.text());
    Ok(ExitCode::SUCCESS)
}

/// `bench`: seconds per epoch of each kernel and architecture.
fn bench(
    common: Common,
    epochs: usize,
    kernel: BenchKernel,
    arch: Vec<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(epochs > 0, "--epochs must be at least 1");
    let arch = parse_archs(&arch)?;
    use crate::cli::BenchKernel;
    use crate::engine::Kernel;
    let kernels = match kernel {
        BenchKernel::Fast => vec![Kernel::Fast],
        BenchKernel::Dfdx => vec![Kernel::Dfdx],
        BenchKernel::Dense => vec![Kernel::Dense],
        BenchKernel::Both => vec![Kernel::Dfdx, Kernel::Fast],
        BenchKernel::All => vec![Kernel::Dfdx, Kernel::Dense, Kernel::Fast],
    };
    let data = session::load_data(common.data.as_deref())?;
    if kernels.contains(&Kernel::Dfdx) {
        for a in &arch {
            if let Some(why) = crate::engine::train::dfdx_refusal(a, data.io()) {
                anyhow::bail!("cannot bench {a} with dfdx: {why}");
            }
        }
    }
    let report = crate::bench::run(data, epochs, &kernels, &arch, |m| eprintln!("{m}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::bench::text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--arch A,B`'s architectures, each checked.
fn parse_archs(names: &[String]) -> anyhow::Result<Vec<crate::spec::Arch>> {
    Ok(names
        .iter()
        .map(|a| crate::spec::Arch::parse(a))
        .collect::<Result<Vec<_>, _>>()?)
}

/// `bench --profile`: where an epoch's time goes, per architecture.
fn bench_profile(common: Common, arch: Vec<String>) -> anyhow::Result<ExitCode> {
    let arch = parse_archs(&arch)?;
    let data = session::load_data(common.data.as_deref())?;
    eprintln!("measuring GEMM rate ...");
    let gemm = crate::bench::gemm_rates(false)[0].gflops;
    for a in &arch {
        eprintln!("profiling {a} ...");
        let p = crate::bench::profile(&data, a)?;
        print!("{}", crate::bench::profile_text(a, &p, gemm));
    }
    Ok(ExitCode::SUCCESS)
}

/// `merge`: combines folders of one run.
fn merge(dirs: Vec<PathBuf>, to: PathBuf) -> anyhow::Result<ExitCode> {
    let report = crate::runs::merge::merge(&dirs, &to)?;
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    writeln!(
        out,
        "merged into {}: {} units taken, {} already there, {} finished nowhere, {} \
         conflicts",
        to.display(),
        report.taken,
        report.already,
        report.missing,
        report.conflicts.len()
    )?;
    for c in &report.conflicts {
        writeln!(out, "conflict: {}", crate::text::escape(c))?;
    }
    for w in &report.no_weights {
        writeln!(out, "no weights: {}", crate::text::escape(w))?;
    }
    if report.conflicts.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        headless::say(
            "error: some units ended differently in two folders; they were left out \
             of the merge (pick one folder's copy by merging without the other)",
        );
        Ok(ExitCode::from(1))
    }
}

/// The terminal's colours as it states them (`COLORFGBG`, "fg;bg"), for `--theme auto`.
fn colorfgbg() -> Option<String> {
    std::env::var("COLORFGBG").ok()
}

/// `watch`: follows a run folder other processes write, in the TUI.
fn watch(common: Common, run_dir: PathBuf, no_mouse: bool) -> anyhow::Result<ExitCode> {
    crate::runs::check_folder(&run_dir, "run folder")?;
    anyhow::ensure!(
        run_dir.join(crate::runs::RUN_FILE).is_file(),
        "{}: not a run folder (no run.json)",
        run_dir.display()
    );
    let (picker, _) = runtime::picker_entries(None);
    let options = TuiOptions {
        picker,
        start: None,
        data: common.data,
        runs_dir: common.runs_dir,
        overrides: Overrides::default(),
        mouse: !no_mouse,
        watch: Some(run_dir),
        light: common.theme.light(colorfgbg().as_deref()),
    };
    tui(options)
}

/// `export`: the run's files (or TensorBoard event files) through the one export entry point.
fn export(
    common: Common,
    run_dir: PathBuf,
    to: Option<PathBuf>,
    tensorboard: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use crate::export::Format;
    let record = crate::runs::load(&run_dir)?;
    let (format, target) = match tensorboard {
        Some(tb) => (Format::TensorBoard, tb),
        None => (Format::Files, to.unwrap_or_else(|| run_dir.clone())),
    };
    // With the data set, confusion matrices are exported too; without it, the rest. Loaded
    // only when some unit has weights to evaluate.
    let data = (format == Format::Files && record.units.iter().any(|v| v.weights.is_some()))
        .then(|| session::load_data(common.data.as_deref()).ok())
        .flatten();
    let written =
        crate::export::export(format.clone(), &run_dir, &target, &record, data.as_deref())?;
    if format == Format::TensorBoard {
        println!(
            "wrote {} to {} (tensorboard --logdir {})",
            written.summary(),
            target.display(),
            target.display()
        );
    } else {
        println!("exported {} to {}", written.summary(), target.display());
    }
    for line in &written.skipped {
        println!("skipped: {}", crate::text::escape(line));
    }
    Ok(ExitCode::SUCCESS)
}
