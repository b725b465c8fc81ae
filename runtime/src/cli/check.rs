//! `hookrt check`: is what is installed able to run?

use std::path::PathBuf;
use std::process::ExitCode;

use hookrt::policy::{PolicySet, Scope};
use hookrt::{HookKind, Sandbox};

/// Load the configuration (the server's and the repository's), compile
/// every policy and ask each policy's validator about its settings,
/// reporting what is wrong with each, with file and line. Exits non-zero if
/// anything is.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The repository [default: the current directory].
    git_dir: Option<PathBuf>,
    /// The policy directory [default: <GIT_DIR>/hookrt/policies].
    #[arg(long, value_name = "DIR")]
    policy_dir: Option<PathBuf>,
    /// The server-wide policies and hookrt.toml [default: $HOOKRT_GLOBAL_DIR,
    /// else /etc/hookrt if it exists].
    #[arg(long, value_name = "DIR")]
    global_dir: Option<PathBuf>,
}

impl CheckArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let git_dir = self.git_dir.unwrap_or_else(|| PathBuf::from("."));
        let scopes = super::run::scopes(self.global_dir, self.policy_dir, &git_dir);
        let dir = scopes.repository.clone();
        let set = match PolicySet::load(&scopes) {
            Ok(set) => set,
            Err(err) => {
                outln!("error  {err}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let mut broken = 0;
        for notice in &set.notices {
            broken += 1;
            outln!("error  {notice}");
        }
        let cache = super::run::default_cache_dir();
        let sandbox = Sandbox::new(cache.as_deref())?;
        if let Some(warning) = sandbox.cache_warning() {
            broken += 1;
            outln!("error  {warning}");
        }
        for spec in &set.policies {
            let module = match sandbox.load(&spec.name, &spec.path) {
                Ok(module) => module,
                Err(err) => {
                    broken += 1;
                    outln!("error  {}: {}: {err}", spec.name, spec.path.display());
                    continue;
                }
            };
            if module.is_observer() && spec.hook != HookKind::PostReceive {
                broken += 1;
                outln!(
                    "error  {}: it is an observer, which runs after the refs moved; set `hook = \"post-receive\"` in its [policy.{}] entry",
                    spec.name,
                    spec.name
                );
                continue;
            }
            match sandbox.validate(&module, spec.limits, &spec.settings) {
                Ok(problems) if problems.is_empty() => {
                    let scope = match spec.scope {
                        Scope::Global => "server",
                        Scope::Repository => "repository",
                    };
                    let validated = if module.has_validator() { ", settings valid" } else { "" };
                    let observer = if module.is_observer() { "observer, " } else { "" };
                    outln!(
                        "ok     {} ({observer}{scope}, {}, {}, fuel {}, {} MiB, {} ms{validated})",
                        spec.name,
                        spec.hook,
                        spec.mode.as_str(),
                        spec.limits.fuel,
                        spec.limits.memory_bytes >> 20,
                        spec.limits.timeout.as_millis()
                    );
                }
                Ok(problems) => {
                    broken += 1;
                    for problem in problems {
                        outln!("error  {}: {problem}", spec.name);
                    }
                }
                Err(failure) => {
                    broken += 1;
                    outln!("error  {}: its settings validator {failure}", spec.name);
                }
            }
        }
        for hook in &set.webhooks.hooks {
            // The secret is read only when an event is sent: say now if
            // that will fail.
            match hook.secret.as_ref().map(|s| s.read()) {
                Some(Err(err)) => {
                    broken += 1;
                    outln!("error  webhook {}: {err}", hook.name);
                }
                signed => outln!(
                    "ok     webhook {} -> {} ({}{})",
                    hook.name,
                    hook.url,
                    hook.events.join(", "),
                    if signed.is_some() { ", signed" } else { "" }
                ),
            }
        }
        let policies = if set.policies.len() == 1 { "policy" } else { "policies" };
        outln!("{} {policies} for {}, {broken} problem(s)", set.policies.len(), dir.display());
        Ok(if broken == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}
