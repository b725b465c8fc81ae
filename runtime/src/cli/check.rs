//! `hookrt check`: is what is installed able to run?

use std::path::PathBuf;
use std::process::ExitCode;

use hookrt::{Sandbox, install, policy};

/// Load the installed configuration and compile every policy, reporting
/// what is wrong with each. Exits non-zero if anything is.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The repository [default: the current directory].
    git_dir: Option<PathBuf>,
    /// The policy directory [default: <GIT_DIR>/hookrt/policies].
    #[arg(long, value_name = "DIR")]
    policy_dir: Option<PathBuf>,
}

impl CheckArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let git_dir = self.git_dir.unwrap_or_else(|| PathBuf::from("."));
        let dir = self.policy_dir.unwrap_or_else(|| install::default_policy_dir(&git_dir));
        let specs = match policy::discover(&dir) {
            Ok(specs) => specs,
            Err(err) => {
                outln!("error  {err}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let cache = super::run::default_cache_dir();
        let sandbox = Sandbox::new(cache.as_deref())?;
        let mut broken = 0;
        for spec in &specs {
            match sandbox.load(&spec.name, &spec.path) {
                Ok(_) => outln!(
                    "ok     {} ({}, fuel {}, {} MiB, {} ms)",
                    spec.name,
                    spec.hook,
                    spec.limits.fuel,
                    spec.limits.memory_bytes >> 20,
                    spec.limits.timeout.as_millis()
                ),
                Err(err) => {
                    broken += 1;
                    outln!("error  {}: {err}", spec.name);
                }
            }
        }
        let policies = if specs.len() == 1 { "policy" } else { "policies" };
        outln!("{} {policies} in {}, {broken} broken", specs.len(), dir.display());
        Ok(if broken == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}
