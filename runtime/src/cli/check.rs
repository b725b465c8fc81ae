//! `hookrt check`: is what is installed able to run?

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use hookrt::policy::{PolicySet, PolicySpec, Scope, Settings, observer_refused};
use hookrt::sandbox::PolicyModule;
use hookrt::{HookKind, Sandbox};
use sha2::{Digest, Sha256};

use super::dirs::RepoDirs;

/// Load the configuration (the server's and the repository's), compile
/// every policy into the compiled-code cache (run it as the account that
/// runs git, so that pushes find the code there) and ask each policy's
/// validator about its settings, reporting what is wrong with each, with
/// file and line. Exits non-zero if anything is; warnings (settings given
/// to a policy that cannot check them) do not change the exit status.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The repository (the same as --git-dir).
    #[arg(value_name = "GIT_DIR", conflicts_with = "git_dir")]
    repository: Option<PathBuf>,
    #[command(flatten)]
    dirs: RepoDirs,
}

impl CheckArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let mut dirs = self.dirs;
        dirs.git_dir = self.repository.or(dirs.git_dir);
        let git_dir = dirs.git_dir()?;
        let scopes = dirs.scopes(&git_dir);
        let dir = scopes.repository.clone();
        // What hookrt.toml pins and this server lacks is fetched first, as
        // `hookrt pull` would (a push would fail closed without it).
        let mut broken = match super::oci::pull_pinned(&scopes, false) {
            Ok(failed) => failed,
            Err(err) => {
                outln!("error  {err:#}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let set = match PolicySet::load(&scopes) {
            Ok(set) => set,
            Err(err) => {
                outln!("error  {err}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let (mut warned, mut compiled) = (0, 0);
        for notice in &set.notices {
            broken += 1;
            outln!("error  {notice}");
        }
        let cache = super::dirs::default_cache_dir();
        let sandbox = Sandbox::new(cache.as_deref())?;
        if let Some(warning) = sandbox.cache_warning() {
            broken += 1;
            outln!("error  {warning}");
        }
        for spec in &set.policies {
            let module = match sandbox.load(&spec.name, &spec.path) {
                Ok(module) => {
                    compiled += usize::from(module.was_compiled());
                    module
                }
                Err(err) => {
                    broken += 1;
                    outln!("error  {}: {}: {err}", spec.name, spec.path.display());
                    continue;
                }
            };
            if let Some(refused) = observer_refused(spec.hook, &spec.name).filter(|_| module.is_observer()) {
                broken += 1;
                outln!("error  {}: {refused}", spec.name);
                continue;
            }
            match sandbox.validate(&module, spec.limits, &spec.settings) {
                Ok(problems) if problems.is_empty() => {
                    let scope = match spec.scope {
                        Scope::Global => "server",
                        Scope::Repository => "repository",
                    };
                    let validated = match (module.has_validator(), spec.settings.values.is_empty()) {
                        (true, _) => ", settings valid",
                        (false, true) => "",
                        (false, false) => ", settings unchecked",
                    };
                    let code = if module.was_compiled() { ", compiled now" } else { ", compiled" };
                    let observer = if module.is_observer() { "observer, " } else { "" };
                    outln!(
                        "ok     {} ({observer}{scope}, {}, {}, fuel {}, {} MiB, {} ms{validated}{code})",
                        spec.name,
                        spec.hook,
                        spec.mode.as_str(),
                        spec.limits.fuel,
                        spec.limits.memory_bytes >> 20,
                        spec.limits.timeout.as_millis()
                    );
                    match provenance(spec) {
                        Ok(line) => outln!("       {line}"),
                        Err(err) => {
                            broken += 1;
                            outln!("error  {}: {err}", spec.name);
                        }
                    }
                    let rules = hook_rules(spec.hook, &module, &git_dir);
                    for line in unchecked_settings(&module, &spec.name, &spec.settings).into_iter().chain(rules) {
                        warned += 1;
                        outln!("warn   {line}");
                    }
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
        outln!("{}", cache_line(&sandbox, compiled));
        let policies = if set.policies.len() == 1 { "policy" } else { "policies" };
        let warnings = if warned == 0 { String::new() } else { format!(", {warned} warning(s)") };
        outln!("{} {policies} for {}, {broken} problem(s){warnings}", set.policies.len(), dir.display());
        Ok(if broken == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}

/// Where the module came from: the artifact, its digest and signer, after
/// checking that the store still holds what was pulled; for a file, its
/// digest.
fn provenance(spec: &PolicySpec) -> anyhow::Result<String> {
    let Some(reference) = &spec.artifact else {
        let bytes = std::fs::read(&spec.path).with_context(|| format!("cannot read {}", spec.path.display()))?;
        return Ok(format!("file sha256:{:x}, unsigned", Sha256::digest(&bytes)));
    };
    let record = hookrt::oci::verify(&spec.path)?;
    Ok(format!("{reference}{}", super::oci::signed(&record.signer)))
}

/// A warning for each setting given to a policy without a settings
/// validator: nothing checks its keys, so a misspelled one would be ignored
/// without a word and the policy would run on its defaults. Not an error:
/// such a policy may well read its settings correctly (a C policy built for
/// the plain `policy` world, say), and an admin who cannot make `check`
/// pass would stop running it.
fn unchecked_settings(module: &PolicyModule, name: &str, settings: &Settings) -> Vec<String> {
    if module.has_validator() {
        return Vec::new();
    }
    settings
        .values
        .iter()
        .map(|(key, setting)| {
            format!(
                "{name}: {}: setting `{key}`: {name} has no settings validator, so nothing checks this key and a \
                 misspelled one is ignored; check it against the policy's documentation (or rebuild the policy for \
                 the `validated-policy` world, which checks its settings)",
                setting.origin
            )
        })
        .collect()
}

/// Warnings for a policy whose hook git will not run as configured, or
/// that cannot do there what policies usually do.
fn hook_rules(hook: HookKind, module: &PolicyModule, git_dir: &Path) -> Vec<String> {
    let name = module.name();
    let config = |key: &str| hookrt::server::git(git_dir, &["config", "--get-all", key]).unwrap_or_default();
    let mut rules = Vec::new();
    match hook {
        HookKind::ProcReceive if config("receive.procReceiveRefs").is_empty() => rules.push(format!(
            "{name}: git runs proc-receive only for the refs of receive.procReceiveRefs, which is not set; set it, e.g. `git config receive.procReceiveRefs refs/for`"
        )),
        HookKind::PushToCheckout if config("receive.denyCurrentBranch") != "updateInstead" => rules.push(format!(
            "{name}: git runs push-to-checkout only for a non-bare repository with `git config receive.denyCurrentBranch updateInstead`"
        )),
        HookKind::PostUpdate if !module.is_observer() => rules.push(format!(
            "{name}: post-update cannot reject, and sees only the refs' names (nothing counts as new); post-receive sees what a push changed"
        )),
        _ => {}
    }
    rules
}

/// Where the compiled code went, and for whom: a push finds it only when
/// git runs hooks as the same account with the same cache directory.
pub(super) fn cache_line(sandbox: &Sandbox, compiled: usize) -> String {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let user = account_name(uid).map(|name| format!("{name}, ")).unwrap_or_default();
    match sandbox.cache_dir() {
        Some(dir) => format!(
            "cache  {} ({compiled} compiled now): pushes use it when git runs hooks as {user}uid {uid}, with the same \
             HOOKRT_CACHE_DIR (or XDG_CACHE_HOME, or HOME)",
            dir.display()
        ),
        None => "cache  none: every push compiles its policies (set HOOKRT_CACHE_DIR, or HOME)".to_owned(),
    }
}

/// The name of the account `uid`, from the password database.
fn account_name(uid: libc::uid_t) -> Option<String> {
    let mut entry = std::mem::MaybeUninit::<libc::passwd>::uninit();
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut found = std::ptr::null_mut();
    // SAFETY: every pointer is to memory of the size given, which outlives
    // the call; on success `found` points at `entry`, whose strings are in
    // `buf`, read before either is dropped.
    unsafe {
        let status = libc::getpwuid_r(uid, entry.as_mut_ptr(), buf.as_mut_ptr(), buf.len(), &mut found);
        if status != 0 || found.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr((*found).pw_name);
        Some(name.to_string_lossy().into_owned())
    }
}
