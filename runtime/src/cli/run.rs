//! `hookrt run <hook>`: what git executes (through the installed scripts).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use hookrt::push::{self, Push};
use hookrt::webhook::Outbox;
use hookrt::{HookKind, HookRequest, PushContext, Pusher, git};

use super::dirs::{CacheDir, RepoDirs};

/// Run the policies of one git hook (git calls this through the scripts
/// `hookrt install` and `hookrt client install` write).
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// pre-receive, update, post-receive, reference-transaction,
    /// post-update, push-to-checkout or proc-receive; pre-push or
    /// commit-msg on a clone.
    pub(crate) hook: HookKind,
    /// The hook's arguments, as git passes them (update: <REF> <OLD> <NEW>).
    pub(crate) args: Vec<String>,
    #[command(flatten)]
    pub(crate) dirs: RepoDirs,
    #[command(flatten)]
    pub(crate) cache: CacheDir,
    /// A hooks directory whose hook of the same name runs after hookrt's
    /// policies accept (the hooks that were active before `hookrt install`).
    #[arg(long, value_name = "DIR")]
    pub(crate) chain: Option<PathBuf>,
}

impl RunArgs {
    /// pre-receive, update and post-receive (the other hooks are
    /// `hooks.rs`'s and, on a clone, `client.rs`'s: `cli::Command::run`
    /// picks).
    pub(crate) fn run_receive(&self) -> anyhow::Result<ExitCode> {
        // Read all of stdin first: a chained hook gets the same bytes, even
        // when hookrt's own policies cannot run.
        let mut stdin = Vec::new();
        let read = match self.hook {
            HookKind::Update => Ok(()),
            _ => std::io::stdin().read_to_end(&mut stdin).map(drop).context("cannot read the hook's standard input"),
        };
        if self.hook.can_reject() {
            let checked = read.and_then(|()| self.updates(&stdin)).and_then(|updates| self.request(self.hook, updates));
            if !decide(self.hook, checked) {
                return Ok(ExitCode::FAILURE);
            }
        } else {
            // The refs have moved; git ignores this hook's status. What
            // hookrt could not do is a warning, and the hooks chained after
            // it (deploys, notifications) still run.
            let checked = read.and_then(|()| self.updates(&stdin)).and_then(|updates| self.request(self.hook, updates));
            self.observe(checked);
        }
        self.chain(&self.args, &stdin)
    }

    /// pre-receive's and post-receive's lines, or update's arguments.
    fn updates(&self, stdin: &[u8]) -> anyhow::Result<Vec<push::RefUpdate>> {
        // Git ends every line with a newline; a last line without one is
        // still read (see `parse_ref_updates`).
        Ok(match self.hook {
            HookKind::Update => match self.args.as_slice() {
                [name, old, new] => vec![push::RefUpdate::parse(name, old, new)?],
                _ => bail!(
                    "the update hook takes <REF> <OLD> <NEW>, as git passes them, but got {} argument(s); run hookrt through the scripts `hookrt install` writes",
                    self.args.len()
                ),
            },
            _ => push::parse_ref_updates(stdin)?,
        })
    }

    /// The request for a run of `hook` over `updates` in this repository,
    /// with what git's environment says about the push.
    pub(crate) fn request(&self, hook: HookKind, updates: Vec<push::RefUpdate>) -> anyhow::Result<HookRequest> {
        let git_dir = self.dirs.git_dir()?;
        Ok(HookRequest {
            scopes: self.dirs.scopes(&git_dir),
            cache_dir: self.cache.dir(),
            object_dirs: git::object_dirs(&git_dir, |k| std::env::var_os(k)),
            refs: None,
            push: Push {
                hook,
                git_dir,
                updates,
                push_options: push::push_options_from_env(|k| std::env::var(k).ok()),
                pusher: Pusher::from_env(|k| std::env::var(k).ok()),
                context: PushContext::from_env(|k| std::env::var(k).ok()),
                transaction: None,
            },
        })
    }

    /// Runs an observer point's policies: what they say, and what hookrt
    /// could not do, are warnings; queued webhook events are sent from the
    /// background.
    pub(crate) fn observe(&self, request: anyhow::Result<HookRequest>) {
        let mut stderr = std::io::stderr().lock();
        match request.and_then(|r| hookrt::run_hook(&r).map_err(Into::into)) {
            Ok(report) => tell_pusher(&report.render()),
            Err(err) => {
                let _ = writeln!(stderr, "hookrt: warning: the {} policies could not run: {err:#}", self.hook);
            }
        }
        // Events this push queued, or earlier ones a crash or a reboot left
        // behind.
        if let Ok(git_dir) = self.dirs.git_dir()
            && !Outbox::for_repository(&git_dir).is_empty()
            && let Err(err) = super::deliver::start(&git_dir, &self.dirs)
        {
            let _ = writeln!(stderr, "hookrt: warning: {err:#}");
        }
    }

    /// Runs the hook of the same name in `--chain`'s directory, if any.
    pub(crate) fn chain(&self, args: &[String], stdin: &[u8]) -> anyhow::Result<ExitCode> {
        match &self.chain {
            Some(dir) => run_chained(dir, self.hook, args, stdin),
            None => Ok(ExitCode::SUCCESS),
        }
    }
}

/// Runs a hook that can reject and tells the pusher; `true` when the
/// policies accept. Anything that keeps them from running rejects (fail
/// closed), saying why.
pub(crate) fn decide(hook: HookKind, request: anyhow::Result<HookRequest>) -> bool {
    match request.and_then(|r| hookrt::run_hook(&r).map_err(Into::into)) {
        Ok(report) => {
            tell_pusher(&report.render());
            report.accepted()
        }
        Err(err) => {
            match err.downcast_ref::<hookrt::HookError>() {
                Some(reserved @ hookrt::HookError::Reserved(_)) => tell_pusher(&format!("hookrt: error: {reserved}\n")),
                _ => tell_pusher(&format!(
                    "hookrt: error: the {} is rejected because hookrt cannot check it: {err:#}\n",
                    if hook == HookKind::ReferenceTransaction { "ref change" } else { "push" }
                )),
            }
            false
        }
    }
}

/// Writes `text` to standard error, which git passes to the pusher, as
/// GitLab's web interface shows it when the push comes from there
/// (`GL_PROTOCOL=web`; see `report::for_gitlab_web`).
pub(crate) fn tell_pusher(text: &str) {
    if text.is_empty() {
        return;
    }
    let web = std::env::var("GL_PROTOCOL").is_ok_and(|p| p == "web");
    let text = if web { hookrt::report::for_gitlab_web(text) } else { text.to_owned() };
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Runs `dir/<hook>` if it is an executable file, with the same arguments
/// and standard input, and passes on its exit status.
pub(crate) fn run_chained(dir: &Path, hook: HookKind, args: &[String], stdin: &[u8]) -> anyhow::Result<ExitCode> {
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

pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
