//! The policy set of one repository: the server-wide directory's policies,
//! then the repository's own, merged.
//!
//! * A policy is a `[policy.NAME]` entry or a `NAME.wasm` in the directory
//!   (an entry-less module runs with the defaults).
//! * A repository's `NAME` overrides the server's `NAME` key by key, and its
//!   settings key by key. Its own `NAME.wasm` replaces the module.
//! * A server entry with `mandatory = true` keeps everything but its
//!   settings: a repository's other keys and module are ignored, and the
//!   pusher and `hookrt check` are told.
//! * Order: the server's policies by name, then the repository's own by
//!   name. Policies run in that order; with a shared budget, earlier ones
//!   get the time first.
//! * `[push]` and `[audit]`: the server's keys win and the repository fills
//!   in what the server leaves unset, except that the budget is the smaller
//!   of the two.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::config::{
    AuditSection, ConfigError, ConfigFile, Entry, Mode, ModuleSource, OnFailure, PolicyConfig, PushSection,
};
use super::invalid::Invalid;
use super::paths::{DirState, dir_state, module_problem, not_a_regular_file};
use super::refs::RefFilter;
use super::settings::{Origin, Settings};
use super::webhooks::{self, Webhooks};
use crate::oci::{OciRef, Store, Trust};
use crate::push::HookKind;
use crate::verdict::Limits;

/// The server-wide directory when neither `--global-dir` nor
/// `HOOKRT_GLOBAL_DIR` names one.
pub const DEFAULT_GLOBAL_DIR: &str = "/etc/hookrt";
/// All policies of one hook run together, unless `[push] budget_ms` says.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);
/// Where an accepted `refs/for/<branch>` push goes unless
/// `[proc_receive] target` says.
pub const DEFAULT_PROC_RECEIVE_TARGET: &str = "refs/reviews/{branch}/{topic}";
const DEFAULT_AUDIT_MAX_MIB: u64 = 16;
const DEFAULT_AUDIT_KEEP: u32 = 3;

/// The error of reading the policy set from its [`Scopes`] (loading it,
/// its pins, its store): a `hookrt.toml` that cannot be read, or a
/// directory that is missing or broken.
#[derive(Debug, thiserror::Error)]
pub enum PolicySetError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{origin}: {message}")]
    Invalid { origin: Origin, message: String },
    #[error(
        "the policy directory {dir} does not exist; create it (an empty one accepts every push) or run `hookrt install` again"
    )]
    MissingDir { dir: PathBuf },
    #[error(
        "the server-wide directory {dir} does not exist; create it or point --global-dir / HOOKRT_GLOBAL_DIR elsewhere"
    )]
    MissingGlobalDir { dir: PathBuf },
    #[error(
        "no policies to run: neither the server-wide directory {global} nor the repository's {repository} exists; create one of them (an empty one accepts every push)"
    )]
    NoPolicyDir { global: String, repository: PathBuf },
    #[error("cannot list {dir}: {source}")]
    List {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<Invalid> for PolicySetError {
    fn from(Invalid { origin, message }: Invalid) -> Self {
        PolicySetError::Invalid { origin, message }
    }
}

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub struct Scopes {
    /// The server-wide directory, if any.
    pub global: Option<PathBuf>,
    /// Whether a missing server-wide directory is an error (it was named on
    /// purpose) or means there are no server-wide policies (the default).
    pub global_required: bool,
    /// The repository's policy directory.
    pub repository: PathBuf,
    /// Whether a missing repository directory is an error (it was named on
    /// purpose, or `hookrt install` created it) or means the repository has
    /// no policies of its own (a drop-in hook, docs/hosting.md). Even then
    /// one of the two directories must exist.
    pub repository_required: bool,
}

/// The directory of hook scripts `hookrt install` writes into `git_dir`.
pub fn hooks_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("hookrt").join("hooks")
}

/// The default policy directory of `git_dir`.
pub fn default_policy_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("hookrt").join("policies")
}

impl Scopes {
    /// The scopes of the repository at `git_dir`: the command line's, and
    /// an embedding server's, rule. `global` is a server-wide directory
    /// named on purpose (`--global-dir`, `HOOKRT_GLOBAL_DIR`), `policy_dir`
    /// a repository directory named on purpose (`--policy-dir`); a
    /// directory named must exist, and so must the repository's once
    /// `hookrt install` put it there (with its scripts). Otherwise the
    /// defaults, [`DEFAULT_GLOBAL_DIR`] and `<GIT_DIR>/hookrt/policies`, are
    /// used if they exist, but one of the two must ([`PolicySet::load`]).
    pub fn resolve(global: Option<PathBuf>, policy_dir: Option<PathBuf>, git_dir: &Path) -> Scopes {
        Scopes {
            global_required: global.is_some(),
            global: Some(global.unwrap_or_else(|| PathBuf::from(DEFAULT_GLOBAL_DIR))),
            repository_required: policy_dir.is_some() || hooks_dir(git_dir).is_dir(),
            repository: policy_dir.unwrap_or_else(|| default_policy_dir(git_dir)),
        }
    }
}

/// Which file a policy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Global,
    Repository,
}

/// One policy to run, with everything the configuration says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySpec {
    pub name: String,
    /// The module (`NAME.wasm` unless `module` says otherwise; a pulled
    /// artifact's copy in the store).
    pub path: PathBuf,
    /// The artifact the module was pulled from, for an `oci://` module.
    pub artifact: Option<OciRef>,
    pub hook: HookKind,
    pub limits: Limits,
    pub mode: Mode,
    pub on_failure: OnFailure,
    pub refs: RefFilter,
    /// Pushers (by login) the policy does not run for.
    pub bypass: Vec<String>,
    /// reference-transaction: also for a push's transactions.
    pub pushes: bool,
    /// Also at a clone's commit-msg.
    pub commit_msg: bool,
    pub settings: Arc<Settings>,
    pub scope: Scope,
    pub mandatory: bool,
    /// Where the entry is (or the module, for one without an entry).
    pub origin: Origin,
}

/// The audit log's configuration; see `crate::audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    pub enabled: bool,
    /// `None`: `<GIT_DIR>/hookrt/audit.log`.
    pub path: Option<PathBuf>,
    pub max_bytes: u64,
    pub keep: u32,
}

impl Default for AuditConfig {
    /// On, at `<GIT_DIR>/hookrt/audit.log`, 16 MiB per file, 3 old files.
    fn default() -> Self {
        audit(std::iter::empty())
    }
}

/// Every policy of one repository and what they share.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub policies: Vec<PolicySpec>,
    pub budget: Duration,
    pub audit: AuditConfig,
    /// Where events go after a push (post-receive).
    pub webhooks: Webhooks,
    /// Where accepted pushes to a review namespace go (proc-receive).
    pub proc_receive_target: String,
    /// Overrides that were refused (a repository changing a mandatory
    /// policy), for the pusher and `hookrt check`.
    pub notices: Vec<String>,
}

/// One directory: its file, if any, and its entry-less modules.
struct Layer {
    dir: PathBuf,
    file: Option<ConfigFile>,
    modules: Vec<String>,
}

impl Layer {
    /// The layer of a directory that does not exist: no policies, no file.
    fn empty(dir: &Path) -> Self {
        Layer { dir: dir.to_owned(), file: None, modules: Vec::new() }
    }

    fn load(dir: &Path) -> Result<Self, PolicySetError> {
        // Listing first: a directory that cannot be read is reported as
        // such, not as its hookrt.toml.
        let list_error = |source| PolicySetError::List { dir: dir.to_owned(), source };
        let mut modules = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(list_error)? {
            let path = entry.map_err(list_error)?.path();
            if let (Some(stem), Some("wasm")) =
                (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|e| e.to_str()))
            {
                modules.push(stem.to_owned());
            }
        }
        modules.sort();
        // `ConfigFile::load` reads whatever is there: a FIFO would block the
        // push forever, a link to /dev/zero would eat the memory, and a
        // dangling link would read as "no file" and drop the configuration.
        let config = dir.join(super::CONFIG_FILE);
        if std::fs::symlink_metadata(&config).is_ok()
            && let Some(problem) = not_a_regular_file(&config)
        {
            return Err(PolicySetError::Invalid {
                origin: Origin { file: config, line: 0 },
                message: format!("hookrt.toml {problem}; make it a regular file (or a symbolic link to one)"),
            });
        }
        let file = ConfigFile::load(dir)?;
        Ok(Layer { dir: dir.to_owned(), file, modules })
    }

    fn entry(&self, name: &str) -> Option<&Entry> {
        self.file.as_ref()?.policies.get(name)
    }

    /// Entry names and module names, in name order, once each. A module
    /// another entry names through `module` is that entry's, not a policy
    /// of its own as well.
    fn names(&self) -> Vec<String> {
        let entries = || self.file.iter().flat_map(|f| f.policies.iter());
        let named: Vec<&Path> = entries().filter_map(|(_, e)| e.config.module.as_ref().map(|m| m.path())).collect();
        let mut names: Vec<String> = entries().map(|(name, _)| name.clone()).collect();
        names.extend(
            self.modules.iter().filter(|m| !named.contains(&self.dir.join(format!("{m}.wasm")).as_path())).cloned(),
        );
        names.sort();
        names.dedup();
        names
    }

    fn module_file(&self, name: &str) -> Option<PathBuf> {
        self.modules.iter().any(|m| m == name).then(|| self.dir.join(format!("{name}.wasm")))
    }

    fn module(&self, name: &str) -> Option<ModuleSource> {
        self.module_file(name).map(ModuleSource::File)
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join(super::CONFIG_FILE)
    }
}

/// What a policy is before it is checked: merged config and settings.
struct Draft {
    config: PolicyConfig,
    module: Option<ModuleSource>,
    settings: Settings,
    scope: Scope,
    origin: Origin,
}

impl Draft {
    fn new(layer: &Layer, name: &str, scope: Scope) -> Self {
        let entry = layer.entry(name);
        let origin = entry.map(|e| e.origin.clone()).unwrap_or_else(|| Origin {
            file: layer.module_file(name).unwrap_or_else(|| layer.config_path()),
            line: 0,
        });
        let config = entry.map(|e| e.config.clone()).unwrap_or_default();
        let module = config.module.clone().or_else(|| layer.module(name));
        let values = entry.map(|e| e.settings.clone()).unwrap_or_default();
        Draft { config, module, settings: Settings { values, origin: origin.clone() }, scope, origin }
    }

    fn finish(self, name: String) -> Result<PolicySpec, PolicySetError> {
        let invalid = |message: String| PolicySetError::Invalid {
            origin: self.origin.clone(),
            message: format!("policy `{name}`: {message}"),
        };
        let Some(module) = self.module else {
            return Err(invalid(format!(
                "there is no {name}.wasm beside the file; drop the module in, set `module = \"path/to/{name}.wasm\"`, or remove the entry"
            )));
        };
        match &module {
            // A push never reaches a registry: what is not pulled fails it
            // closed, with what to run.
            ModuleSource::Oci { reference, path } if !path.is_file() => {
                return Err(invalid(format!(
                    "module {reference} is not pulled (it is not at {}); run `hookrt pull` on this server, which fetches what hookrt.toml pins",
                    path.display()
                )));
            }
            ModuleSource::Oci { .. } => {}
            ModuleSource::File(path) => {
                if let Some(problem) = module_problem(path) {
                    return Err(invalid(format!("module {} {problem}", path.display())));
                }
            }
        }
        let config = &self.config;
        let refs =
            RefFilter::new(config.refs.clone().unwrap_or_default(), config.exclude_refs.clone().unwrap_or_default())
                .map_err(invalid)?;
        Ok(PolicySpec {
            hook: config.hook(),
            limits: config.limits(),
            mode: config.mode.unwrap_or_default(),
            on_failure: config.on_failure.unwrap_or_default(),
            refs,
            bypass: config.bypass.clone().unwrap_or_default(),
            pushes: config.pushes.unwrap_or(false),
            commit_msg: config.commit_msg.unwrap_or(false),
            mandatory: config.mandatory.unwrap_or(false),
            settings: Arc::new(self.settings),
            scope: self.scope,
            origin: self.origin,
            path: module.path().to_owned(),
            artifact: module.artifact().cloned(),
            name,
        })
    }
}

impl PolicySet {
    /// Loads both scopes and merges them. Any problem is an error that names
    /// the file and line: at push time it rejects the push.
    pub fn load(scopes: &Scopes) -> Result<Self, PolicySetError> {
        let global = match scopes.global.as_deref().map(|dir| (dir, dir_state(dir))) {
            Some((dir, DirState::Dir)) => Some(Layer::load(dir)?),
            Some((dir, DirState::Missing)) if scopes.global_required => {
                return Err(PolicySetError::MissingGlobalDir { dir: dir.to_owned() });
            }
            // Something is there but it is not a directory: the admin meant
            // to have server-wide policies, so going on without them would
            // fail open, even for the optional /etc/hookrt.
            Some((dir, DirState::Broken(problem))) => return Err(broken_dir(dir, "server-wide", &problem)),
            _ => None,
        };
        let repo = match dir_state(&scopes.repository) {
            DirState::Dir => Layer::load(&scopes.repository)?,
            DirState::Missing if scopes.repository_required => {
                return Err(PolicySetError::MissingDir { dir: scopes.repository.clone() });
            }
            DirState::Missing if global.is_some() => Layer::empty(&scopes.repository),
            // A hook with no directory at all to read is a server whose
            // policies were never put in place: accepting every push would
            // fail open.
            DirState::Missing => {
                let global = scopes.global.as_ref().map_or_else(|| "(none given)".into(), |d| d.display().to_string());
                return Err(PolicySetError::NoPolicyDir { global, repository: scopes.repository.clone() });
            }
            DirState::Broken(problem) => return Err(broken_dir(&scopes.repository, "repository's", &problem)),
        };
        if let Some(entry) = repo.file.iter().flat_map(|f| f.policies.values()).find(|e| e.config.mandatory.is_some()) {
            return Err(PolicySetError::Invalid {
                origin: entry.origin.clone(),
                message: "`mandatory` belongs in the server-wide hookrt.toml only; remove it here".into(),
            });
        }

        let mut drafts: BTreeMap<String, Draft> = BTreeMap::new();
        let mut order = Vec::new();
        let mut notices = Vec::new();
        if let Some(layer) = &global {
            for name in layer.names() {
                drafts.insert(name.clone(), Draft::new(layer, &name, Scope::Global));
                order.push(name);
            }
        }
        for name in repo.names() {
            let mine = Draft::new(&repo, &name, Scope::Repository);
            let Some(base) = drafts.get_mut(&name) else {
                drafts.insert(name.clone(), mine);
                order.push(name);
                continue;
            };
            let mut settings = std::mem::take(&mut base.settings.values);
            settings.extend(mine.settings.values);
            base.settings.values = settings;
            if base.config.mandatory == Some(true) {
                let mut refused: Vec<String> = repo
                    .entry(&name)
                    .map(|e| e.config.keys_besides_settings())
                    .unwrap_or_default()
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect();
                if repo.module_file(&name).is_some() {
                    refused.push(format!("its own {name}.wasm"));
                }
                if !refused.is_empty() {
                    notices.push(format!(
                        "{}: policy `{name}` is mandatory (set in {}); the repository cannot change {}, so that is ignored and the server's entry applies",
                        mine.origin,
                        base.origin,
                        refused.join(", ")
                    ));
                }
            } else {
                base.config = base.config.overlaid(&mine.config);
                base.module = mine.module.or(base.module.take());
                base.scope = Scope::Repository;
                // Problems are reported where the keys were written: the
                // repository's entry if it has one.
                if repo.entry(&name).is_some() {
                    base.origin = mine.origin;
                }
            }
        }

        let mut policies = Vec::new();
        for name in order {
            if let Some(draft) = drafts.remove(&name) {
                policies.push(draft.finish(name)?);
            }
        }
        let files = || global.iter().chain([&repo]).filter_map(|layer| layer.file.as_ref());
        Ok(PolicySet {
            policies,
            budget: budget(files().map(|f| &f.push)),
            audit: audit(files().map(|f| &f.audit)),
            webhooks: webhooks::merge(files().map(|f| (&f.webhooks, &f.webhook_entries)))?,
            // The server's word first, as for `[audit]`.
            proc_receive_target: files()
                .find_map(|f| f.proc_receive.target.clone())
                .unwrap_or_else(|| DEFAULT_PROC_RECEIVE_TARGET.to_owned()),
            notices,
        })
    }
}

/// The smallest budget any file sets.
fn budget<'a>(sections: impl Iterator<Item = &'a PushSection>) -> Duration {
    sections.filter_map(|s| s.budget_ms).min().map_or(DEFAULT_BUDGET, Duration::from_millis)
}

/// Each key from the first file (the server's) that sets it.
fn audit<'a>(sections: impl Iterator<Item = &'a AuditSection>) -> AuditConfig {
    let (mut enabled, mut path, mut max_mib, mut keep) = (None, None, None, None);
    for section in sections {
        enabled = enabled.or(section.enabled);
        path = path.or_else(|| section.path.clone());
        max_mib = max_mib.or(section.max_mib);
        keep = keep.or(section.keep);
    }
    AuditConfig {
        enabled: enabled.unwrap_or(true),
        path,
        max_bytes: max_mib.unwrap_or(DEFAULT_AUDIT_MAX_MIB).max(1) << 20,
        keep: keep.unwrap_or(DEFAULT_AUDIT_KEEP),
    }
}

fn broken_dir(dir: &Path, scope: &str, problem: &str) -> PolicySetError {
    PolicySetError::Invalid {
        origin: Origin { file: dir.to_owned(), line: 0 },
        message: format!(
            "the {scope} policy directory {problem}; make it a directory of *.wasm policies (or a symbolic link to one)"
        ),
    }
}

/// An `oci://` module that a `hookrt.toml` of some scopes names: what
/// `hookrt pull` fetches, where to, and whose signature it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub policy: String,
    pub reference: OciRef,
    /// The store of the directory whose file names it.
    pub store: Store,
    /// The server's `[trust]` keys, and for a repository's module the
    /// repository's too.
    pub trust: Trust,
}

impl Scopes {
    /// The directories that exist, the server's first, each with its file.
    fn files(&self) -> Result<Vec<(PathBuf, Option<ConfigFile>)>, PolicySetError> {
        let mut files = Vec::new();
        for dir in self.global.iter().chain([&self.repository]) {
            if matches!(dir_state(dir), DirState::Dir) {
                files.push((dir.clone(), ConfigFile::load(dir)?));
            }
        }
        Ok(files)
    }

    /// Every `oci://` module the scopes' files name, once per store.
    pub fn pins(&self) -> Result<Vec<Pin>, PolicySetError> {
        let mut pins: Vec<Pin> = Vec::new();
        let mut server_keys = Vec::new();
        for (index, (dir, file)) in self.files()?.into_iter().enumerate() {
            let Some(file) = file else { continue };
            let mut keys = server_keys.clone();
            keys.extend(file.trust.keys.iter().cloned());
            if index == 0 && self.global.as_deref() == Some(dir.as_path()) {
                server_keys = file.trust.keys.clone();
            }
            for (name, entry) in &file.policies {
                let Some(reference) = entry.config.module.as_ref().and_then(|m| m.artifact()) else { continue };
                let store = Store::of(&dir);
                if pins.iter().any(|p| p.reference.digest == reference.digest && p.store == store) {
                    continue;
                }
                pins.push(Pin {
                    policy: name.clone(),
                    reference: reference.clone(),
                    store,
                    trust: Trust { keys: keys.clone() },
                });
            }
        }
        Ok(pins)
    }

    /// Where `hookrt pull REFERENCE` stores an artifact no file names yet,
    /// and the keys it must be signed with: the server-wide directory if it
    /// exists, else the repository's.
    pub fn store(&self) -> Result<(Store, Trust), PolicySetError> {
        let files = self.files()?;
        let Some((dir, file)) = files.into_iter().next() else {
            let global = self.global.as_ref().map_or_else(|| "(none given)".into(), |d| d.display().to_string());
            return Err(PolicySetError::NoPolicyDir { global, repository: self.repository.clone() });
        };
        Ok((Store::of(&dir), file.map(|f| f.trust).unwrap_or_default()))
    }
}
