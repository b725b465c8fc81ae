//! `hookrt install`: wire a repository's hooks to this binary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hookrt::install::{self, InstallOptions};

/// Make git run hookrt as a repository's pre-receive, update and
/// post-receive hooks (through core.hooksPath).
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The repository's git directory (a bare repository or a .git).
    git_dir: PathBuf,
    /// Where the policies live [default: <GIT_DIR>/hookrt/policies].
    #[arg(long, value_name = "DIR")]
    policy_dir: Option<PathBuf>,
    /// Restore the hooks that were active before and remove hookrt's.
    #[arg(long, conflicts_with = "policy_dir")]
    uninstall: bool,
}

impl InstallArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if self.uninstall {
            match install::uninstall(&self.git_dir)? {
                Some(dir) => outln!("hookrt uninstalled from {} (removed {})", self.git_dir.display(), dir.display()),
                None => outln!("hookrt is not installed in {}; nothing to do", self.git_dir.display()),
            }
            return Ok(ExitCode::SUCCESS);
        }
        let binary = std::env::current_exe().context("cannot tell where the hookrt binary is")?;
        let installed =
            install::install(&InstallOptions { git_dir: self.git_dir.clone(), policy_dir: self.policy_dir, binary })?;
        outln!("hookrt installed in {}", self.git_dir.display());
        outln!("  hooks:    {}", installed.hooks_dir.display());
        outln!("  policies: {} (drop *.wasm here)", installed.policy_dir.display());
        outln!("  chained:  {} (hooks there still run after hookrt's)", installed.chained.display());
        Ok(ExitCode::SUCCESS)
    }
}
