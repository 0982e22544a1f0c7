//! Command-line interface: no arguments opens the TUI; subcommands run headless.

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
}

impl From<OverrideArgs> for crate::session::Overrides {
    fn from(a: OverrideArgs) -> Self {
        crate::session::Overrides {
            epochs: a.epochs,
            train_subset: a.train_subset,
            test_subset: a.test_subset,
            only: a.only,
            seeds: a.seeds,
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
        #[arg(long, value_name = "RUN_DIR", conflicts_with = "preset")]
        resume: Option<PathBuf>,
        #[command(flatten)]
        overrides: OverrideArgs,
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
    /// List presets and supported architectures
    List,
    /// Measure GEMM rate and training speed (seconds/epoch, efficiency) per architecture
    Bench {
        /// Epochs per architecture (the median epoch is reported)
        #[arg(long, default_value_t = 3)]
        epochs: usize,
        /// Which training path(s) to measure
        #[arg(long, value_enum, default_value = "both")]
        kernel: BenchKernel,
        /// Architectures to measure (comma-separated)
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "512-128,512-256-128,512-256-128-64-32"
        )]
        arch: Vec<String>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
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
