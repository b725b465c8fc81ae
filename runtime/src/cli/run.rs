//! `hookrt run <hook>`: what git executes (through the installed scripts).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use hookrt::policy::{DEFAULT_GLOBAL_DIR, Scopes};
use hookrt::push::{self, Push};
use hookrt::webhook::Outbox;
use hookrt::{HookKind, HookRequest, PushContext, Pusher, git, install};

/// Run the policies of one git hook (git calls this through the scripts
/// `hookrt install` writes).
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// pre-receive, update or post-receive.
    hook: HookKind,
    /// For update: <REF> <OLD> <NEW>, as git passes them.
    args: Vec<String>,
    #[command(flatten)]
    dirs: RepoDirs,
    /// Where compiled policies are cached [default: $HOOKRT_CACHE_DIR,
    /// $XDG_CACHE_HOME/hookrt or ~/.cache/hookrt].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// A hooks directory whose hook of the same name runs after hookrt's
    /// policies accept (the hooks that were active before `hookrt install`).
    #[arg(long, value_name = "DIR")]
    chain: Option<PathBuf>,
}

/// Which repository, and where its policies and `hookrt.toml`s are (`run`
/// and `deliver` take the same).
#[derive(Debug, Clone, clap::Args)]
pub struct RepoDirs {
    /// The repository [default: $GIT_DIR, else the current directory].
    #[arg(long, value_name = "DIR")]
    pub git_dir: Option<PathBuf>,
    /// Where the policies live [default: <GIT_DIR>/hookrt/policies].
    #[arg(long, value_name = "DIR")]
    pub policy_dir: Option<PathBuf>,
    /// The server-wide policies and hookrt.toml [default: $HOOKRT_GLOBAL_DIR,
    /// else /etc/hookrt if it exists].
    #[arg(long, value_name = "DIR")]
    pub global_dir: Option<PathBuf>,
}

impl RepoDirs {
    /// The repository: `--git-dir`, else `$GIT_DIR` (git sets it for
    /// hooks), else the current directory; absolute.
    pub fn git_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = match &self.git_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("GIT_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from),
        };
        std::path::absolute(&dir).context("cannot resolve the git directory")
    }

    /// The scopes of the repository at `git_dir`.
    pub fn scopes(&self, git_dir: &Path) -> Scopes {
        scopes(self.global_dir.clone(), self.policy_dir.clone(), git_dir)
    }
}

impl RunArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        // Read all of stdin first: a chained hook gets the same bytes, even
        // when hookrt's own policies cannot run.
        let mut stdin = Vec::new();
        let read = match self.hook {
            HookKind::Update => Ok(()),
            HookKind::PreReceive | HookKind::PostReceive => {
                std::io::stdin().read_to_end(&mut stdin).map(drop).context("cannot read the hook's standard input")
            }
        };
        let checked = read.and_then(|()| self.check(&stdin));
        match self.hook {
            HookKind::PreReceive | HookKind::Update => match checked {
                Ok(true) => {}
                Ok(false) => return Ok(ExitCode::FAILURE),
                Err(err) => {
                    tell_pusher(&format!(
                        "hookrt: error: the push is rejected because hookrt cannot check it: {err:#}\n"
                    ));
                    return Ok(ExitCode::FAILURE);
                }
            },
            // The refs have moved; git ignores this hook's status. What
            // hookrt could not do is a warning, and the hooks chained after
            // it (deploys, notifications) still run.
            HookKind::PostReceive => {
                let mut stderr = std::io::stderr().lock();
                if let Err(err) = checked {
                    let _ = writeln!(stderr, "hookrt: warning: the post-receive policies could not run: {err:#}");
                }
                // Events this push queued, or earlier ones a crash or a
                // reboot left behind, are sent from the background.
                if let Ok(git_dir) = self.dirs.git_dir()
                    && !Outbox::for_repository(&git_dir).is_empty()
                    && let Err(err) = super::deliver::start(&git_dir, &self.dirs)
                {
                    let _ = writeln!(stderr, "hookrt: warning: {err:#}");
                }
            }
        }
        match &self.chain {
            Some(dir) => run_chained(dir, self.hook, &self.args, &stdin),
            None => Ok(ExitCode::SUCCESS),
        }
    }

    /// Runs the policies; `false` when they reject the push.
    fn check(&self, stdin: &[u8]) -> anyhow::Result<bool> {
        let git_dir = self.dirs.git_dir()?;

        // Git ends every line with a newline; a last line without one is
        // still read (see `parse_ref_updates`).
        let updates = match self.hook {
            HookKind::Update => match self.args.as_slice() {
                [name, old, new] => vec![push::RefUpdate::parse(name, old, new)?],
                _ => bail!(
                    "the update hook takes <REF> <OLD> <NEW>, as git passes them, but got {} argument(s); run hookrt through the scripts `hookrt install` writes",
                    self.args.len()
                ),
            },
            HookKind::PreReceive | HookKind::PostReceive => push::parse_ref_updates(stdin)?,
        };

        let request = HookRequest {
            scopes: self.dirs.scopes(&git_dir),
            cache_dir: self.cache_dir.clone().or_else(default_cache_dir),
            object_dirs: git::object_dirs(&git_dir, |k| std::env::var_os(k)),
            push: Push {
                hook: self.hook,
                git_dir,
                updates,
                push_options: push::push_options_from_env(|k| std::env::var(k).ok()),
                pusher: Pusher::from_env(|k| std::env::var(k).ok()),
                context: PushContext::from_env(|k| std::env::var(k).ok()),
            },
        };
        let report = hookrt::run_hook(&request)?;
        tell_pusher(&report.render());
        Ok(report.accepted())
    }
}

/// Writes `text` to standard error, which git passes to the pusher. GitLab's
/// web interface (a merge, an edit in the browser: `GL_PROTOCOL=web`) shows
/// only the lines that start with `GL-HOOK-ERR:` and hides the rest, so there
/// every line gets that prefix; a `git push` shows the lines as they are.
fn tell_pusher(text: &str) {
    if text.is_empty() {
        return;
    }
    let web = std::env::var("GL_PROTOCOL").is_ok_and(|p| p == "web");
    let text = if web { text.lines().map(|l| format!("GL-HOOK-ERR: {l}\n")).collect() } else { text.to_owned() };
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The scopes of the repository at `git_dir`. A directory named by a flag
/// (or `HOOKRT_GLOBAL_DIR`) must exist, and so must the repository's once
/// `hookrt install` put it there (with its scripts). Otherwise the
/// defaults, `/etc/hookrt` and `<GIT_DIR>/hookrt/policies`, are used if
/// they exist, but one of the two must (see `Scopes`).
pub(crate) fn scopes(global_dir: Option<PathBuf>, policy_dir: Option<PathBuf>, git_dir: &Path) -> Scopes {
    let named =
        global_dir.or_else(|| std::env::var_os("HOOKRT_GLOBAL_DIR").filter(|v| !v.is_empty()).map(PathBuf::from));
    Scopes {
        global_required: named.is_some(),
        global: Some(named.unwrap_or_else(|| PathBuf::from(DEFAULT_GLOBAL_DIR))),
        repository_required: policy_dir.is_some() || install::hooks_dir(git_dir).is_dir(),
        repository: policy_dir.unwrap_or_else(|| install::default_policy_dir(git_dir)),
    }
}

pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let var = |k| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("HOOKRT_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("hookrt")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("hookrt")))
}

/// Runs `dir/<hook>` if it is an executable file, with the same arguments
/// and standard input, and passes on its exit status.
fn run_chained(dir: &Path, hook: HookKind, args: &[String], stdin: &[u8]) -> anyhow::Result<ExitCode> {
    let path = dir.join(hook.as_str());
    if !is_executable(&path) {
        return Ok(ExitCode::SUCCESS);
    }
    let mut child = Command::new(&path)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run the chained hook {}", path.display()))?;
    if let Some(mut input) = child.stdin.take() {
        // A hook that exits without reading its input closes the pipe; that
        // is its business, not an error.
        let _ = input.write_all(stdin);
    }
    let status = child.wait().with_context(|| format!("the chained hook {} did not finish", path.display()))?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
