//! Installing hookrt into a repository, the way GitLab's Gitaly does: a
//! directory of small hook scripts that all call one binary, made active
//! through `core.hooksPath`.
//!
//! Layout inside the git directory:
//! - `hookrt/hooks/`: the scripts, one per hook hookrt runs as (a server's
//!   pre-receive, update, post-receive, reference-transaction, post-update,
//!   push-to-checkout and proc-receive; a clone's pre-push and commit-msg),
//!   and one that hands over to each other hook that was active;
//! - `hookrt/policies/`: the default policy directory (never removed);
//! - `config`: `core.hooksPath` points at `hookrt/hooks`, and the value it
//!   had before is kept in `hookrt.previousHooksPath` for `--uninstall`.
//!
//! Hooks that were active before (the old `core.hooksPath` or `hooks/`)
//! keep running: each script passes their directory to `hookrt run
//! --chain`, which runs the old hook of the same name after the policies,
//! and each other executable hook there gets a script that runs it (a
//! pre-commit framework's hooks on a clone, `git update-server-info` in a
//! post-update). A hook added to the old directory later needs `hookrt
//! install` again.

use std::io::Write;
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

use crate::push::HookKind;

// Where `install` puts things is the policy set's rule too (`Scopes::resolve`).
pub use crate::policy::{default_policy_dir, hooks_dir};

const PREVIOUS_KEY: &str = "hookrt.previousHooksPath";
const HOOKS_PATH_KEY: &str = "core.hooksPath";
/// How long an install waits for the config lock that another install, or
/// a `git config`, holds.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What [`install`] should set up.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The repository's git directory (bare repository, or `.git`).
    pub git_dir: PathBuf,
    /// Where policies live; `<git-dir>/hookrt/policies` when `None`.
    pub policy_dir: Option<PathBuf>,
    /// The `hookrt` binary the scripts call.
    pub binary: PathBuf,
    /// A server's hooks, or a developer's clone's.
    pub side: Side,
}

/// Where hookrt is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A server's repository: every server hook, with the policy directory.
    Server,
    /// A developer's clone: pre-push and commit-msg, running the policy set
    /// synced from the server (`crate::client`).
    Client,
}

impl Side {
    /// The hooks hookrt runs as on this side.
    pub fn hooks(self) -> &'static [HookKind] {
        match self {
            Side::Server => &HookKind::SERVER,
            Side::Client => &HookKind::CLIENT,
        }
    }
}

/// What [`install`] or [`uninstall`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub hooks_dir: PathBuf,
    pub policy_dir: PathBuf,
    /// The hooks directory that was active before and is chained after
    /// hookrt.
    pub chained: PathBuf,
}

/// The error returned by [`install`] and [`uninstall`].
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{path} is not a git directory: {message}")]
    NotARepository { path: PathBuf, message: String },
    /// The cause is the source, not part of the message: `{:#}` (how the
    /// binary prints errors) shows it once.
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot update the git config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("cannot lock {path} (another `hookrt install`, or git changing the config, holds it): {message}")]
    Locked { path: PathBuf, message: String },
}

/// Makes git run hookrt as `git_dir`'s pre-receive, update and post-receive
/// hooks. Running it again rewrites the same state; installs that run at
/// once take turns (each holds `<git-dir>/hookrt.lock`, and git's
/// `config.lock` from its first read to its last write, waiting up to 10 s
/// for them), so each finds and leaves what the one before it wrote.
pub fn install(options: &InstallOptions) -> Result<Installed, InstallError> {
    let git_dir = absolute_git_dir(&options.git_dir)?;
    let _turn = take_turn(&git_dir)?;
    let mut config = GitConfig::open(&git_dir)?;
    let hooks_dir = hooks_dir(&git_dir);
    let policy_dir = match (&options.policy_dir, options.side) {
        (_, Side::Client) => crate::client::policy_dir(&git_dir),
        (Some(dir), Side::Server) => {
            std::path::absolute(dir).map_err(|source| InstallError::Write { path: dir.clone(), source })?
        }
        (None, Side::Server) => default_policy_dir(&git_dir),
    };

    // What was active before: remembered from an earlier install, or read now.
    let current = config.get(HOOKS_PATH_KEY);
    let previous = match current {
        Some(path) if Path::new(&path) == hooks_dir => config.get(PREVIOUS_KEY),
        other => other,
    };
    let chained = match &previous {
        Some(path) if Path::new(path).is_absolute() => PathBuf::from(path),
        Some(path) => git_dir.join(path),
        None => git_dir.join("hooks"),
    };

    create_dir(&hooks_dir)?;
    if options.side == Side::Server {
        create_dir(&policy_dir)?;
    }
    let named_dir = options.policy_dir.as_ref().filter(|_| options.side == Side::Server).map(|_| policy_dir.as_path());
    let mut written = Vec::new();
    for &hook in options.side.hooks() {
        let script = hook_script(&options.binary, hook, named_dir, &chained);
        write_executable(&hooks_dir.join(hook.as_str()), &script)?;
        written.push(hook.as_str().to_owned());
    }
    for name in other_hooks(&chained, &written) {
        write_executable(&hooks_dir.join(&name), &handover_script(&chained.join(&name)))?;
        written.push(name);
    }
    // Scripts of an earlier install whose hook is gone from the old
    // directory.
    if let Ok(list) = std::fs::read_dir(&hooks_dir) {
        for entry in list.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !written.contains(&name) && !name.starts_with('.') {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    // The config switch comes last: until it lands, git runs the old hooks.
    match &previous {
        Some(path) => config.set(PREVIOUS_KEY, path)?,
        None => config.unset(PREVIOUS_KEY)?,
    }
    config.set(HOOKS_PATH_KEY, &hooks_dir.to_string_lossy())?;
    config.save()?;
    Ok(Installed { hooks_dir, policy_dir, chained })
}

/// Restores the hooks that were active before [`install`] and removes the
/// scripts. Policies and the compiled-code cache stay. Returns `None` when
/// hookrt was not installed.
pub fn uninstall(git_dir: &Path) -> Result<Option<PathBuf>, InstallError> {
    let git_dir = absolute_git_dir(git_dir)?;
    let _turn = take_turn(&git_dir)?;
    let mut config = GitConfig::open(&git_dir)?;
    let hooks_dir = hooks_dir(&git_dir);
    if config.get(HOOKS_PATH_KEY).as_deref().map(Path::new) != Some(hooks_dir.as_path()) {
        return Ok(None);
    }
    match config.get(PREVIOUS_KEY) {
        Some(previous) => config.set(HOOKS_PATH_KEY, &previous)?,
        None => config.unset(HOOKS_PATH_KEY)?,
    }
    config.unset(PREVIOUS_KEY)?;
    config.save()?;
    // The config no longer points here, so a failure to tidy up is harmless.
    let _ = std::fs::remove_dir_all(&hooks_dir);
    Ok(Some(hooks_dir))
}

/// Waits until no other install or uninstall of `git_dir` is running and
/// holds `<git-dir>/hookrt.lock` until dropped. The config lock alone is
/// not enough: an uninstall removes the scripts after its config is
/// written, and must not remove those of an install that ran in between.
fn take_turn(git_dir: &Path) -> Result<gix::lock::Marker, InstallError> {
    let resource = git_dir.join("hookrt");
    let wait = gix::lock::acquire::Fail::AfterDurationWithBackoff(LOCK_WAIT);
    gix::lock::Marker::acquire_to_hold_resource(&resource, wait, None, 0)
        .map_err(|e| InstallError::Locked { path: resource, message: e.to_string() })
}

fn absolute_git_dir(git_dir: &Path) -> Result<PathBuf, InstallError> {
    let not_a_repo = |message: String| InstallError::NotARepository { path: git_dir.to_owned(), message };
    let repo = gix::open_opts(git_dir, gix::open::Options::isolated()).map_err(|e| not_a_repo(e.to_string()))?;
    repo.git_dir().canonicalize().map_err(|e| not_a_repo(e.to_string()))
}

/// The script git runs for `hook`. Paths are quoted for `sh`.
fn hook_script(binary: &Path, hook: HookKind, policy_dir: Option<&Path>, chained: &Path) -> String {
    let mut command = format!("exec {} run {}", shell_quote(binary), hook.as_str());
    if let Some(dir) = policy_dir {
        command.push_str(&format!(" --policy-dir {}", shell_quote(dir)));
    }
    command.push_str(&format!(" --chain {} \"$@\"", shell_quote(chained)));
    format!(
        "#!/bin/sh\n# Installed by `hookrt install`; `hookrt install --uninstall` restores the previous hooks.\n{command}\n"
    )
}

/// The executable hooks in `dir` that hookrt does not run as itself, by
/// name (git's `*.sample` files are not hooks).
fn other_hooks(dir: &Path, handled: &[String]) -> Vec<String> {
    let Ok(list) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = list
        .flatten()
        .filter(|e| is_executable_file(&e.path()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".sample") && !name.starts_with('.') && !handled.contains(name))
        .collect();
    names.sort();
    names
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The script that hands a hook hookrt does not run as over to the one that
/// was active before (and does nothing once that one is gone).
fn handover_script(hook: &Path) -> String {
    let hook = shell_quote(hook);
    format!(
        "#!/bin/sh\n# Installed by `hookrt install`: runs the hook that was active before.\n[ -x {hook} ] || exit 0\nexec {hook} \"$@\"\n"
    )
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

fn create_dir(dir: &Path) -> Result<(), InstallError> {
    std::fs::create_dir_all(dir).map_err(|source| InstallError::Write { path: dir.to_owned(), source })
}

/// Writes `text` to `path` with mode 0755, atomically (a push running during
/// the install sees the old script or the new one, never half of one).
fn write_executable(path: &Path, text: &str) -> Result<(), InstallError> {
    let error = |source| InstallError::Write { path: path.to_owned(), source };
    let dir = path.parent().expect("a hook script path has a parent");
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    file.write_all(text.as_bytes()).map_err(error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o755)).map_err(error)?;
    }
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

/// The repository's own config file, locked the way git locks it
/// (`config.lock`) from the moment it is read until it is written back, so
/// that concurrent installs and `git config`s cannot overwrite each other's
/// changes. Dropping it unsaved releases the lock and changes nothing.
struct GitConfig {
    path: PathBuf,
    file: gix::config::File,
    lock: gix::lock::File,
}

impl GitConfig {
    fn open(git_dir: &Path) -> Result<Self, InstallError> {
        let path = git_dir.join("config");
        let wait = gix::lock::acquire::Fail::AfterDurationWithBackoff(LOCK_WAIT);
        let lock = gix::lock::File::acquire_to_update_resource(&path, wait, None, 0)
            .map_err(|e| InstallError::Locked { path: path.clone(), message: e.to_string() })?;
        let file = gix::config::File::from_path_no_includes(path.clone(), gix::config::Source::Local)
            .map_err(|e| InstallError::Config { path: path.clone(), message: e.to_string() })?;
        Ok(GitConfig { path, file, lock })
    }

    fn get(&self, key: &str) -> Option<String> {
        self.file.string(key).map(|v| v.to_str_lossy().into_owned())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), InstallError> {
        self.file.set_raw_value(key, value).map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Removes `key`, and its section when nothing else is left in it, so
    /// an install followed by an uninstall leaves the file as it was.
    fn unset(&mut self, key: &str) -> Result<(), InstallError> {
        let (section, name) = key.split_once('.').expect("keys are section.name");
        let now_empty = match self.file.section_mut(section, None) {
            Ok(mut body) => {
                body.remove(name);
                body.num_values() == 0
            }
            Err(_) => false,
        };
        if now_empty {
            self.file.remove_section(section, None);
        }
        Ok(())
    }

    /// Writes the config back through its lock file, which then replaces it
    /// atomically, as git does.
    fn save(self) -> Result<(), InstallError> {
        let mut text = Vec::new();
        self.file.write_to(&mut text).map_err(|e| self.error(e))?;
        let mut lock = self.lock;
        let error = |e: std::io::Error| InstallError::Config { path: self.path.clone(), message: e.to_string() };
        // Keep the file's mode (git writes its config 0644).
        if let Ok(meta) = std::fs::metadata(&self.path) {
            lock.with_mut(|f| f.set_permissions(meta.permissions())).map_err(error)?;
        }
        lock.write_all(&text).map_err(error)?;
        lock.commit().map_err(|e| error(e.error))?;
        Ok(())
    }

    fn error(&self, e: impl std::fmt::Display) -> InstallError {
        InstallError::Config { path: self.path.clone(), message: e.to_string() }
    }
}
