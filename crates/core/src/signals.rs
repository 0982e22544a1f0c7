//! SIGINT, SIGTERM and SIGHUP as a channel, so the headless loop and the TUI can select on
//! them like any other event, save what they have, restore the terminal and exit with
//! 128 + the signal number (130, 143, 129).

use crossbeam_channel::Receiver;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Starts listening; each signal received is sent as its number.
pub fn listen() -> std::io::Result<Receiver<i32>> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("mnist-lab-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if tx.send(sig).is_err() {
                    break;
                }
            }
        })?;
    Ok(rx)
}

/// The conventional exit status for a signal.
pub fn exit_code(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "signal",
    }
}

/// Ignores SIGXFSZ, so a write past a file-size limit fails with EFBIG (handled: the run is
/// rescued) instead of killing the process.
pub fn ignore_file_size_limit_signal() {
    // SAFETY: installing SIG_IGN for one signal has no preconditions; no handler code runs.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
