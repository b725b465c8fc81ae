//! `hookrt client`: the server's policies on a developer's clone, and
//! `hookrt run pre-push|commit-msg`, which the clone's hooks call.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use hookrt::client::{self, commit, pre_push};
use hookrt::install::{self, InstallOptions, Side};
use hookrt::push::Push;
use hookrt::{HookKind, HookRequest, git};

use super::run::{RunArgs, tell_pusher};

/// Run the server's policies in this clone before pushing (pre-push) and
/// committing (commit-msg).
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    #[command(subcommand)]
    command: ClientCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ClientCommand {
    /// Make git run the server's policies at this clone's pre-push and
    /// commit-msg (through core.hooksPath, the hooks there before still
    /// running), after syncing them.
    Install {
        /// The remote whose policies to fetch.
        #[arg(long, default_value = "origin")]
        remote: String,
        /// Restore the hooks that were active before.
        #[arg(long)]
        uninstall: bool,
    },
    /// Fetch the server's policy set (refs/hookrt/policies) again.
    Sync {
        /// The remote to fetch it from.
        #[arg(long, default_value = "origin")]
        remote: String,
    },
}

impl ClientArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let work_dir = std::env::current_dir().context("cannot tell the current directory")?;
        let common = git_path(&work_dir, "--git-common-dir")?;
        match self.command {
            ClientCommand::Install { uninstall: true, .. } => {
                match install::uninstall(&common)? {
                    Some(_) => outln!("hookrt's client hooks removed from {}", common.display()),
                    None => outln!("hookrt's client hooks are not installed in {}; nothing to do", common.display()),
                }
                Ok(ExitCode::SUCCESS)
            }
            ClientCommand::Install { remote, .. } => {
                let binary = std::env::current_exe().context("cannot tell where the hookrt binary is")?;
                let options = InstallOptions { git_dir: common.clone(), policy_dir: None, binary, side: Side::Client };
                let installed = install::install(&options)?;
                outln!("hookrt client hooks installed in {}", common.display());
                outln!("  hooks:    {} (pre-push, commit-msg)", installed.hooks_dir.display());
                outln!("  chained:  {} (hooks there still run)", installed.chained.display());
                sync(&common, &work_dir, &remote);
                Ok(ExitCode::SUCCESS)
            }
            ClientCommand::Sync { remote } => {
                Ok(if sync(&common, &work_dir, &remote) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
            }
        }
    }
}

/// Syncs and compiles, saying what happened; `false` when it could not.
fn sync(common: &Path, work_dir: &Path, remote: &str) -> bool {
    match client::sync::sync(common, work_dir, remote) {
        Ok(synced) => {
            let short: String = synced.commit.to_string().chars().take(12).collect();
            outln!("  policies: {} ({} files from {remote}, {short})", synced.dir.display(), synced.files);
            if let Err(err) = super::install::compile(&client::scopes(common)) {
                outln!("  warning:  nothing compiled: {err:#}");
            }
            true
        }
        Err(err) => {
            outln!("  warning:  {err}");
            false
        }
    }
}

/// The clone's `git rev-parse` path (`--absolute-git-dir`,
/// `--git-common-dir`), absolute: a linked worktree has its own git
/// directory (HEAD) and shares the common one (objects, policies).
fn git_path(work_dir: &Path, which: &str) -> anyhow::Result<PathBuf> {
    let path = hookrt::server::git(work_dir, &["rev-parse", "--path-format=absolute", which])
        .map_err(anyhow::Error::msg)
        .context("not inside a git clone")?;
    Ok(PathBuf::from(path))
}

/// `hookrt run pre-push|commit-msg`: the policies' vetoes stop the push or
/// the commit; nothing else does (the server decides).
pub fn run_hook(run: &RunArgs) -> anyhow::Result<ExitCode> {
    let mut stdin = Vec::new();
    if run.hook == HookKind::PrePush {
        std::io::stdin().read_to_end(&mut stdin).context("cannot read the hook's standard input")?;
    }
    match check(run, &stdin) {
        Ok(false) => return Ok(ExitCode::FAILURE),
        Ok(true) => {}
        Err(err) => tell_pusher(&format!(
            "hookrt: warning: the server's policies could not run here: {err:#}\n  It goes on: the server decides.\n"
        )),
    }
    run.chain(&run.args, &stdin)
}

/// `false` when a policy vetoes.
fn check(run: &RunArgs, stdin: &[u8]) -> anyhow::Result<bool> {
    let work_dir = std::env::current_dir().context("cannot tell the current directory")?;
    let git_dir = git_path(&work_dir, "--absolute-git-dir")?;
    let scopes = client::scopes(&git_path(&work_dir, "--git-common-dir")?);
    if !scopes.repository.is_dir() && !scopes.global.as_deref().is_some_and(Path::is_dir) {
        anyhow::bail!("this clone has no policy set yet; run `hookrt client sync`");
    }
    // Kept until the run ends: the commit being made lives in it.
    let mut pending = None;
    let (updates, refs, object_dirs) = match run.hook {
        HookKind::PrePush => {
            let remote = run.args.first().map_or("origin", String::as_str);
            let (updates, known) = pre_push::updates(stdin, &git_dir, remote)?;
            (updates, Some(known), git::object_dirs(&git_dir, |_| None))
        }
        _ => {
            let file = run.args.first().context("commit-msg takes the message file, as git passes it")?;
            let Some(made) = commit::pending(&git_dir, &work_dir, &work_dir.join(file))? else { return Ok(true) };
            let found = (vec![made.update.clone()], None, made.object_dirs.clone());
            pending = Some(made);
            found
        }
    };
    if updates.is_empty() {
        return Ok(true);
    }
    let request = HookRequest {
        scopes,
        cache_dir: run.cache.dir(),
        object_dirs,
        refs,
        push: Push {
            hook: run.hook,
            git_dir,
            updates,
            push_options: Vec::new(),
            pusher: client::local_user(&work_dir),
            context: Default::default(),
            transaction: None,
        },
    };
    let report = hookrt::run_hook(&request)?;
    // The report reads vetoed commits' subjects, the pending one's too.
    tell_pusher(&report.render());
    drop(pending);
    Ok(report.accepted())
}
