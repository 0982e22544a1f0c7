//! Command-line interface: no arguments opens the TUI; subcommands run headless.
// The doc comments of this file are the commands' `--help` text, printed as written: a
// `<placeholder>` there is meant literally, not as HTML.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mnist-lab",
    version,
    about = "Train and compare small feed-forward networks on MNIST, live in the terminal",
    long_about = "Train and compare small feed-forward networks on MNIST, live in the terminal.\n\n\
        With no command, opens the TUI on a preset picker. Presets are RON files in presets/ \
        (built-in copies are embedded, so it works from any folder, offline)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Cmd>,

    /// Leave the mouse to the terminal (text selection) instead of clicks and the wheel
    #[arg(long)]
    pub no_mouse: bool,

    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Folder of IDX files (raw or .gz), e.g. Fashion-MNIST [env: MNIST_LAB_DATA]
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Where runs are stored
    #[arg(long, global = true, value_name = "DIR", default_value = "runs")]
    pub runs_dir: PathBuf,

    /// The TUI's colours: for a dark or a light terminal background; auto reads COLORFGBG
    /// (set by many terminals), else dark
    #[arg(long, global = true, value_enum, default_value_t = ThemeChoice::Auto)]
    pub theme: ThemeChoice,
}

/// Which background the TUI's colours are chosen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThemeChoice {
    Auto,
    Dark,
    Light,
}

impl ThemeChoice {
    /// Light or not: `auto` asks COLORFGBG ("15;0" is light on dark; a background of 7 or
    /// 15, white, is a light terminal).
    pub fn light(self, colorfgbg: Option<&str>) -> bool {
        match self {
            ThemeChoice::Dark => false,
            ThemeChoice::Light => true,
            ThemeChoice::Auto => colorfgbg
                .and_then(|v| v.rsplit(';').next())
                .is_some_and(|bg| matches!(bg.trim(), "7" | "15")),
        }
    }
}

#[derive(Debug, Clone, Default, Args)]
pub struct OverrideArgs {
    /// Train every variant for this many epochs instead of the preset's
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Use only the first N training images
    #[arg(long, value_name = "N")]
    pub train_subset: Option<usize>,
    /// Use only the first N test images
    #[arg(long, value_name = "N")]
    pub test_subset: Option<usize>,
    /// Run only these variants (comma-separated names)
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub only: Vec<String>,
    /// Train every variant with N seeds (its own seed and the N-1 after it)
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,
    /// Train every variant with these hidden widths instead of the preset's (e.g. 1024-512;
    /// the study's reference numbers are then not shown)
    #[arg(long, value_name = "WIDTHS")]
    pub arch: Option<String>,
    /// What trains the run: fast (the fused CPU path, any widths, the default) or dfdx (its
    /// compile-time-shaped networks: 256, 128-64, 512-128, 512-256-128, 512-256-128-64-32 on
    /// MNIST-shaped data). Overrides the preset's `engine`
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<crate::spec::Engine>,
}

impl From<OverrideArgs> for crate::session::Overrides {
    fn from(a: OverrideArgs) -> Self {
        crate::session::Overrides {
            epochs: a.epochs,
            train_subset: a.train_subset,
            test_subset: a.test_subset,
            only: a.only,
            seeds: a.seeds,
            arch: a.arch,
            engine: a.engine,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Train a preset headlessly: one line per epoch, then the study's table
    Run {
        /// Preset file, or the name of a built-in preset (quick, paper-2019, ...)
        #[arg(required_unless_present = "resume")]
        preset: Option<String>,
        /// Print JSON lines (one event per line) instead of text
        #[arg(long)]
        jsonl: bool,
        /// Export CSV, Markdown, plots and weights into the run folder at the end
        #[arg(long)]
        export: bool,
        /// Finish an interrupted run: skip its finished variants, train the rest into it
        /// (the same as joining it; other processes may be training it too)
        #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["preset", "run_dir"])]
        resume: Option<PathBuf>,
        /// Write the run into DIR: created if it does not exist, joined if it holds the same
        /// run (refused if it holds another), so many processes can share one run
        #[arg(long, value_name = "DIR")]
        run_dir: Option<PathBuf>,
        /// Train only units K, K+N, K+2N, ... (e.g. --shard $SLURM_ARRAY_TASK_ID/N)
        #[arg(long, value_name = "K/N", value_parser = parse_shard)]
        shard: Option<Shard>,
        /// Train J units at once in this process, the cores split between them
        #[arg(long, value_name = "J", default_value_t = DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: u16,
        /// Train every unit on its own, even units that share their batches (the same
        /// architecture, batch size, seed and split), which otherwise train in lockstep:
        /// each batch packed once for all of them, their steps side by side (same results)
        #[arg(long)]
        one_by_one: bool,
        #[command(flatten)]
        overrides: OverrideArgs,
    },
    /// Combine run folders of the same preset (e.g. from machines without a shared file
    /// system) into one; a unit finished differently in two folders is reported, not chosen
    Merge {
        /// The run folders to combine
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The folder to write (created; or joined if it holds the same run)
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Follow a run folder live in the TUI while other processes write it
    Watch {
        /// The run folder
        run_dir: PathBuf,
        /// Leave the mouse to the terminal (text selection) instead of clicks and the wheel
        #[arg(long)]
        no_mouse: bool,
    },
    /// Open the TUI and start a preset at once
    Tui {
        /// Preset file or built-in name; without it, the picker opens
        preset: Option<String>,
        /// Leave the mouse to the terminal (text selection) instead of clicks and the wheel
        #[arg(long)]
        no_mouse: bool,
        #[command(flatten)]
        overrides: OverrideArgs,
    },
    /// List presets, and the architectures with a dfdx type (any widths train)
    List,
    /// Measure GEMM rate and training speed (seconds/epoch, efficiency) per architecture
    Bench {
        /// Epochs per architecture (the median epoch is reported)
        #[arg(long, default_value_t = 3)]
        epochs: usize,
        /// Which training path(s) to measure
        #[arg(long, value_enum, default_value = "both")]
        kernel: BenchKernel,
        /// Architectures to measure (comma-separated hidden widths; any, on the fast path)
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "512-128,512-256-128,512-256-128-64-32"
        )]
        arch: Vec<String>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// Instead of timing epochs, time one epoch of each architecture phase by phase
        /// (per layer: forward GEMM, activation/BN/dropout, backward; loss, optimiser, packing)
        #[arg(long)]
        profile: bool,
    },
    /// List past runs: preset, date, variants done/total, best test accuracy
    Runs,
    /// Export a run: epochs.csv, summary.csv/.md, curves.png/.svg, weights/ (or TensorBoard
    /// event files with --tensorboard)
    Export {
        /// The run folder (runs/<timestamp>-<preset>)
        run_dir: PathBuf,
        /// Write the exports here instead of into the run folder
        #[arg(long, value_name = "DIR", conflicts_with = "tensorboard")]
        to: Option<PathBuf>,
        /// Write TensorBoard event files instead: DIR/<unit>/events.out.tfevents.*, scalars
        /// per epoch and the unit's settings as text (`tensorboard --logdir DIR`)
        #[arg(long, value_name = "DIR")]
        tensorboard: Option<PathBuf>,
    },
    /// How many seeds a question needs: the differences a run's seeds can see (80% power,
    /// paired t-test) and the seeds a difference you name would need
    Plan {
        /// The run folder
        run_dir: PathBuf,
        /// A difference you want to be able to see, in the metric's units (e.g. 0.002)
        #[arg(long, value_name = "D")]
        delta: Option<f64>,
        /// Plan for test accuracy instead of test loss
        #[arg(long)]
        accuracy: bool,
    },
    /// Recompute a trained variant's test accuracy from its saved weights
    Eval {
        /// The run folder
        run_dir: PathBuf,
        /// The variant's name
        variant: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchKernel {
    /// The fused kernels, sparse first layer when the batch is sparse enough
    Fast,
    /// The fused kernels on dense input only (the path before sparse input)
    Dense,
    /// dfdx's modules
    Dfdx,
    /// dfdx and fast
    Both,
    /// dfdx, dense and fast
    All,
}

/// `--jobs` when not given: on paper-2019 --epochs 3 on a 2-core machine, two units at once
/// (one thread each) trained 898 units/hour against 721 for one at a time (README).
pub const DEFAULT_JOBS: u16 = crate::estimate::JOBS as u16;

/// A `--shard K/N`: this process trains units K, K+N, K+2N, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?}: give the shard as K/N, e.g. 0/4"))?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: K must be a whole number"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: N must be a whole number"))?;
    if n == 0 || k >= n {
        return Err(format!("{s:?}: need 0 <= K < N"));
    }
    Ok(Shard { k, n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_bad_ones_say_why() {
        assert_eq!(parse_shard("1/4"), Ok(Shard { k: 1, n: 4 }));
        assert!(parse_shard("4/4").unwrap_err().contains("0 <= K < N"));
        assert!(parse_shard("0/0").is_err());
        assert!(parse_shard("a/2").unwrap_err().contains("whole number"));
        assert!(parse_shard("3").unwrap_err().contains("K/N"));
    }
}
