//! Argument parsing; each subcommand lives in a file of its own.

/// `print!` that never panics. `std`'s panics when the reader has gone
/// (`hookrt test | head`); hookrt carries on instead and its exit status
/// still tells the result.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` that never panics, like `out!`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod audit;
mod check;
mod client;
mod deliver;
mod dirs;
mod hooks;
mod install;
mod oci;
mod publish;
pub(crate) mod run;
mod test;
mod test_report;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hookrt::HookKind;

/// A WebAssembly-sandboxed runtime for git server hooks.
#[derive(Debug, Parser)]
#[command(name = "hookrt", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Install(install::InstallArgs),
    Run(run::RunArgs),
    Test(test::TestArgs),
    Check(check::CheckArgs),
    Deliver(deliver::DeliverArgs),
    Publish(publish::PublishArgs),
    Client(client::ClientArgs),
    Push(oci::PushArgs),
    Pull(oci::PullArgs),
    Verify(oci::VerifyArgs),
    // Boxed: its query flags make it several times larger than the others.
    Audit(Box<audit::AuditArgs>),
}

impl Command {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Command::Install(args) => args.run(),
            Command::Run(args) => match args.hook {
                HookKind::PreReceive | HookKind::Update | HookKind::PostReceive => args.run_receive(),
                HookKind::ReferenceTransaction => hooks::reference_transaction(&args),
                HookKind::PostUpdate => hooks::post_update(&args),
                HookKind::PushToCheckout => hooks::push_to_checkout(&args),
                HookKind::ProcReceive => hooks::proc_receive(&args),
                HookKind::PrePush | HookKind::CommitMsg => client::run_hook(&args),
            },
            Command::Test(args) => args.run(),
            Command::Check(args) => args.run(),
            Command::Deliver(args) => args.run(),
            Command::Publish(args) => args.run(),
            Command::Client(args) => args.run(),
            Command::Push(args) => args.run(),
            Command::Pull(args) => args.run(),
            Command::Verify(args) => args.run(),
            Command::Audit(args) => args.run(),
        }
    }
}

/// Logs go to standard error (which git shows the pusher), filtered by
/// `HOOKRT_LOG` (e.g. `HOOKRT_LOG=debug`); warnings only by default.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOOKRT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}
