//! The policy set: which modules in the policy directory run, in which
//! hook, with which limits.

mod config;

use std::path::{Path, PathBuf};

pub use config::{CONFIG_FILE, Config, ConfigError, PolicyConfig};

use crate::push::HookKind;
use crate::sandbox::Limits;

/// One policy to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySpec {
    /// The module's file name without `.wasm`.
    pub name: String,
    pub path: PathBuf,
    pub hook: HookKind,
    pub limits: Limits,
}

/// The error returned by [`discover`].
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error(
        "the policy directory {dir} does not exist; create it (an empty one accepts every push) or run `hookrt install` again"
    )]
    MissingDir { dir: PathBuf },
    #[error("cannot list the policy directory {dir}: {source}")]
    List {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{CONFIG_FILE} in {dir} configures policy `{name}`, but there is no {name}.wasm beside it")]
    ConfiguredButMissing { dir: PathBuf, name: String },
    #[error("{CONFIG_FILE} in {dir}: policy `{name}`: {problem}")]
    BadLimits { dir: PathBuf, name: String, problem: String },
}

/// Every `*.wasm` in `dir`, in name order, with the settings `hookrt.toml`
/// gives it (defaults otherwise).
pub fn discover(dir: &Path) -> Result<Vec<PolicySpec>, DiscoverError> {
    if !dir.is_dir() {
        return Err(DiscoverError::MissingDir { dir: dir.to_owned() });
    }
    let config = Config::load(dir)?;
    let list_error = |source| DiscoverError::List { dir: dir.to_owned(), source };
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let path = entry.map_err(list_error)?.path();
        let (Some(stem), Some("wasm")) =
            (path.file_stem().and_then(|s| s.to_str()), path.extension().and_then(|e| e.to_str()))
        else {
            continue;
        };
        let entry = config.policy.get(stem).cloned().unwrap_or_default();
        entry.check_limits().map_err(|problem| DiscoverError::BadLimits {
            dir: dir.to_owned(),
            name: stem.to_owned(),
            problem,
        })?;
        specs.push(PolicySpec {
            name: stem.to_owned(),
            path: path.clone(),
            hook: entry.hook(),
            limits: entry.limits(),
        });
    }
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(name) = config.policy.keys().find(|name| !specs.iter().any(|s| &s.name == *name)) {
        return Err(DiscoverError::ConfiguredButMissing { dir: dir.to_owned(), name: name.clone() });
    }
    Ok(specs)
}
