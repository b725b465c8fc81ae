//! The `hookrt` command: arguments in, library calls out.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging();
    match args.command.run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hookrt: error: {err:#}");
            // Exit non-zero: in pre-receive and update that rejects the push,
            // which is the only safe answer when hookrt itself cannot decide.
            ExitCode::FAILURE
        }
    }
}
