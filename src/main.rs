//! `rtmpscope`: parse the command line, run, map the outcome to an exit code (see
//! [`rtmpscope::cli`] for the codes).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match rtmpscope::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { rtmpscope::cli::EXIT_USAGE } else { rtmpscope::cli::EXIT_OK });
        }
    };
    match rtmpscope::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("rtmpscope: {e:#}");
            ExitCode::from(rtmpscope::cli::EXIT_USAGE)
        }
    }
}
