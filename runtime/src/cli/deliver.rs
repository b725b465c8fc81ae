//! `hookrt deliver`: send a repository's queued webhook events.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context;
use hookrt::policy::PolicySet;
use hookrt::{install, webhook};

/// Send the webhook events queued in a repository's outbox, retrying with
/// backoff until each is delivered or given up (every step is in the audit
/// log). `hookrt run post-receive` starts it in the background after each
/// push; run it by hand or from a timer to send what a crash or reboot left
/// queued. Returns at once if another deliverer is at work.
#[derive(Debug, clap::Args)]
pub struct DeliverArgs {
    /// The repository [default: $GIT_DIR, else the current directory].
    #[arg(long, value_name = "DIR")]
    git_dir: Option<PathBuf>,
    /// Where the policies and hookrt.toml live [default: <GIT_DIR>/hookrt/policies].
    #[arg(long, value_name = "DIR")]
    policy_dir: Option<PathBuf>,
    /// The server-wide policies and hookrt.toml [default: $HOOKRT_GLOBAL_DIR,
    /// else /etc/hookrt if it exists].
    #[arg(long, value_name = "DIR")]
    global_dir: Option<PathBuf>,
    /// Attempt every queued delivery now, instead of when its backoff ends.
    #[arg(long)]
    now: bool,
}

impl DeliverArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let git_dir = super::run::git_dir(self.git_dir.as_deref())?;
        let dir = self.policy_dir.unwrap_or_else(|| install::default_policy_dir(&git_dir));
        let set = PolicySet::load(&super::run::scopes(self.global_dir, dir))?;
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
pub(crate) fn start(git_dir: &Path, policy_dir: Option<&Path>, global_dir: Option<&Path>) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let binary = std::env::current_exe().context("cannot find the hookrt binary to start the webhook deliverer")?;
    let mut command = Command::new(binary);
    command.arg("deliver").arg("--git-dir").arg(git_dir);
    if let Some(dir) = policy_dir {
        command.arg("--policy-dir").arg(dir);
    }
    if let Some(dir) = global_dir {
        command.arg("--global-dir").arg(dir);
    }
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).process_group(0);
    command.spawn().context("cannot start the webhook deliverer (`hookrt deliver` sends the queued events later)")?;
    Ok(())
}
