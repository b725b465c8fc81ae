//! `hookrt install`: wire a repository's hooks to this binary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hookrt::Sandbox;
use hookrt::install::{self, InstallOptions, Side};
use hookrt::policy::{PolicySet, Scopes};

/// Make git run hookrt as a repository's server hooks (pre-receive, update,
/// post-receive, reference-transaction, post-update, push-to-checkout,
/// proc-receive, through core.hooksPath), compile the policies already
/// there into the compiled-code cache, and publish them for clones (run it
/// as the account that runs git).
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
        let options =
            InstallOptions { git_dir: self.git_dir.clone(), policy_dir: self.policy_dir, binary, side: Side::Server };
        let installed = install::install(&options)?;
        outln!("hookrt installed in {}", self.git_dir.display());
        outln!("  hooks:    {}", installed.hooks_dir.display());
        outln!("  policies: {} (drop *.wasm here)", installed.policy_dir.display());
        outln!("  chained:  {} (hooks there still run after hookrt's)", installed.chained.display());
        let scopes = super::dirs::scopes(None, Some(installed.policy_dir.clone()), &self.git_dir);
        compile(&scopes)?;
        super::publish::publish(&self.git_dir, &scopes);
        Ok(ExitCode::SUCCESS)
    }
}

/// Compiles the policies the installed hooks will run into the cache
/// pushes read, so that no push has to. What cannot be compiled is a
/// warning here (the hooks are installed; pushes will name the problem, and
/// `hookrt check` lists it).
pub(crate) fn compile(scopes: &Scopes) -> anyhow::Result<()> {
    let set = match PolicySet::load(scopes) {
        Ok(set) if set.policies.is_empty() => {
            outln!("  compiled: no policies yet; `hookrt check` compiles them once they are in");
            return Ok(());
        }
        Ok(set) => set,
        Err(err) => {
            outln!("  warning:  nothing compiled: {err}");
            return Ok(());
        }
    };
    let sandbox = Sandbox::new(super::dirs::default_cache_dir().as_deref())?;
    if let Some(warning) = sandbox.cache_warning() {
        outln!("  warning:  {warning}");
    }
    let mut compiled = 0;
    for spec in &set.policies {
        match sandbox.load(&spec.name, &spec.path) {
            Ok(module) => compiled += usize::from(module.was_compiled()),
            Err(err) => outln!("  warning:  {}: {}: {err}", spec.name, spec.path.display()),
        }
    }
    outln!("  {}", super::check::cache_line(&sandbox, compiled));
    Ok(())
}
