use std::process::ExitCode;

use clap::Parser;
use mnist_lab::cli::{Cli, Cmd};
use mnist_lab::cli::{Common, Overrides};
use mnist_lab::tui::app::PickerEntry;
use mnist_lab::tui::runtime::{self, TuiOptions};
use mnist_lab::{headless, preset};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let common = cli.common;
    match cli.command {
        Some(Cmd::Run {
            preset,
            jsonl,
            overrides,
        }) => {
            let preset = preset::load(&preset)?;
            let preset = headless::apply_overrides(preset, &overrides)?;
            let data = headless::load_data(common.data.as_deref())?;
            let mut out = std::io::stdout().lock();
            headless::run(preset, data, &common.runs_dir, jsonl, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::List) => {
            headless::list(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Tui { preset, overrides }) => {
            let (picker, start) = runtime::picker_entries(preset.as_deref());
            tui(picker, start, common, overrides)
        }
        None => {
            let (picker, _) = runtime::picker_entries(None);
            tui(picker, None, common, Overrides::default())
        }
    }
}

fn tui(
    picker: Vec<PickerEntry>,
    start: Option<usize>,
    common: Common,
    overrides: Overrides,
) -> anyhow::Result<ExitCode> {
    runtime::run(TuiOptions {
        picker,
        start,
        data: common.data,
        runs_dir: common.runs_dir,
        overrides,
    })?;
    Ok(ExitCode::SUCCESS)
}
