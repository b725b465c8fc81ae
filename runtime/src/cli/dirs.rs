//! The directory flags the commands over one repository share, and what
//! they default to from the environment: the one seam between the command
//! line and the library's `Scopes::resolve`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use hookrt::policy::Scopes;

/// Which repository, and where its policies and `hookrt.toml`s are (`run`, `deliver`,
/// `check` and the other commands over one repository take the same).
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

/// The scopes of the repository at `git_dir`: `global_dir`, else
/// `$HOOKRT_GLOBAL_DIR`, counts as named on purpose (see `Scopes::resolve`).
pub fn scopes(global_dir: Option<PathBuf>, policy_dir: Option<PathBuf>, git_dir: &Path) -> Scopes {
    let named =
        global_dir.or_else(|| std::env::var_os("HOOKRT_GLOBAL_DIR").filter(|v| !v.is_empty()).map(PathBuf::from));
    Scopes::resolve(named, policy_dir, git_dir)
}

/// Where compiled policies are cached (`run`, `test`).
#[derive(Debug, Clone, clap::Args)]
pub struct CacheDir {
    /// Where compiled policies are cached [default: $HOOKRT_CACHE_DIR,
    /// $XDG_CACHE_HOME/hookrt or ~/.cache/hookrt].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

impl CacheDir {
    /// The directory given, else the default.
    pub fn dir(&self) -> Option<PathBuf> {
        self.cache_dir.clone().or_else(default_cache_dir)
    }
}

/// `$HOOKRT_CACHE_DIR`, else `$XDG_CACHE_HOME/hookrt`, else
/// `~/.cache/hookrt`: the cache of the account that runs the command.
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |k| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("HOOKRT_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("hookrt")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("hookrt")))
}
