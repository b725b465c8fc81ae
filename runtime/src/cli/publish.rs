//! `hookrt publish`: the policy set, as clones fetch it.

use std::path::Path;
use std::process::ExitCode;

use hookrt::client::{POLICY_REF, publish};

use super::dirs::RepoDirs;

/// Publish a repository's policy set (its server-wide and own policies and
/// settings, without webhooks) as refs/hookrt/policies, which `hookrt client
/// sync` fetches. `hookrt install` does it too; run it again after changing
/// the policies.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    dirs: RepoDirs,
}

impl PublishArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let git_dir = self.dirs.git_dir()?;
        let scopes = self.dirs.scopes(&git_dir);
        let ok = publish(&git_dir, &scopes);
        Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}

/// Publishes and says what happened; `false` when it could not.
pub(crate) fn publish(git_dir: &Path, scopes: &hookrt::policy::Scopes) -> bool {
    match publish::publish(git_dir, scopes) {
        Ok(published) => {
            let state = if published.changed { "published" } else { "unchanged" };
            let short: String = published.commit.to_string().chars().take(12).collect();
            outln!(
                "  clones:   {POLICY_REF} {state} at {short} ({} files; `hookrt client sync` fetches it)",
                published.files.len()
            );
            true
        }
        Err(err) => {
            outln!("  warning:  {POLICY_REF} not published: {err}");
            false
        }
    }
}
