use std::process::ExitCode;

use clap::Parser;
use mnist_lab::cli::Cli;
use mnist_lab::headless;
use mnist_lab::session::Interrupted;

/// Exit status after standard output was closed under us (as if killed by SIGPIPE).
const EXIT_OUTPUT_CLOSED: u8 = 141;

fn main() -> ExitCode {
    // A file-size limit (ulimit -f) must fail the write, which is handled and rescued, not
    // kill the process with SIGXFSZ.
    mnist_lab::signals::ignore_file_size_limit_signal();
    let cli = Cli::parse();
    match mnist_lab::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(i) = e.downcast_ref::<Interrupted>() {
                return ExitCode::from(mnist_lab::signals::exit_code(i.0));
            }
            if let Some(o) = e.downcast_ref::<headless::OutputClosed>() {
                if o.is_closed_pipe() {
                    return ExitCode::from(EXIT_OUTPUT_CLOSED);
                }
            }
            // Any command's output piped into `head`: the reader has what it wanted, so no
            // message (as `ls | head` prints none), only the status SIGPIPE would give.
            let closed = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if closed {
                return ExitCode::from(EXIT_OUTPUT_CLOSED);
            }
            headless::say(&format!(
                "error: {}",
                mnist_lab::text::escape(&format!("{e:#}"))
            ));
            ExitCode::from(2)
        }
    }
}
