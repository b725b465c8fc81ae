//! `hookrt deliver`: send a repository's queued webhook events.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context;
use hookrt::policy::PolicySet;
use hookrt::webhook;

use super::dirs::RepoDirs;

/// Send the webhook events queued in a repository's outbox, retrying with
/// backoff until each is delivered or given up (every step is in the audit
/// log). `hookrt run post-receive` starts it in the background after each
/// push; run it by hand or from a timer to send what a crash or reboot left
/// queued. Returns at once if another deliverer is at work.
#[derive(Debug, clap::Args)]
pub struct DeliverArgs {
    #[command(flatten)]
    dirs: RepoDirs,
    /// Attempt every queued delivery now, instead of when its backoff ends.
    #[arg(long)]
    now: bool,
}

impl DeliverArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let git_dir = self.dirs.git_dir()?;
        let set = PolicySet::load(&self.dirs.scopes(&git_dir))?;
        let summary = webhook::deliver(&git_dir, &set, self.now)?;
        if summary.busy {
            outln!("another deliverer is sending {}'s events", git_dir.display());
        } else {
            outln!("{} delivered, {} given up (see the audit log)", summary.delivered, summary.given_up);
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Starts `hookrt deliver` for `git_dir` in the background and does not
/// wait: git waits for its post-receive hook, and for the hook's standard
/// error to close, so the deliverer gets no standard streams and a process
/// group of its own (a pusher's Ctrl-C does not reach it).
pub(crate) fn start(git_dir: &Path, dirs: &RepoDirs) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let binary = std::env::current_exe().context("cannot find the hookrt binary to start the webhook deliverer")?;
    let mut command = Command::new(binary);
    command.arg("deliver").arg("--git-dir").arg(git_dir);
    if let Some(dir) = &dirs.policy_dir {
        command.arg("--policy-dir").arg(dir);
    }
    if let Some(dir) = &dirs.global_dir {
        command.arg("--global-dir").arg(dir);
    }
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0);
    command.spawn().context("cannot start the webhook deliverer (`hookrt deliver` sends the queued events later)")?;
    Ok(())
}
