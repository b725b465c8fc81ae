//! The `hookrt` command: arguments in, library calls out.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// What a panic prints. hookrt is meant never to panic: the test suite
/// fails on any output containing this, and a panic still exits non-zero,
/// so pre-receive and update fail closed.
const PANIC_MARKER: &str = "hookrt: internal error (a bug in hookrt; please report it)";

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{PANIC_MARKER}: {info}");
        eprintln!("hookrt: nothing was changed: git rejects the push when a pre-receive or update hook fails");
    }));
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
