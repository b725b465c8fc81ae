//! `hookrt.toml`: the file format, as written. [`super::scope`] merges the
//! server's file with the repository's.
//!
//! Every key is optional; an unknown key is an error, so a typo never
//! silently weakens a policy. Errors name the file and line. The whole
//! format, key by key, is in docs/admin.md, and a unit test below loads the
//! example there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::invalid::Invalid;
use super::settings::{Origin, Setting, SettingValue};
use super::webhooks::{Webhook, WebhookConfig, WebhooksSection};
use crate::oci::{OciRef, SCHEME, Store, Trust};
use crate::push::HookKind;
use crate::verdict::Limits;

/// The name of the file, in the policy directory.
pub const CONFIG_FILE: &str = "hookrt.toml";

/// What a policy's vetoes do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Vetoes reject.
    #[default]
    Enforce,
    /// The policy runs and the pusher sees what it would have rejected, but
    /// nothing is rejected (GitHub Enterprise's "testing" mode).
    Evaluate,
    /// The policy does not run.
    Disabled,
}

impl Mode {
    /// The name as written in `hookrt.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Evaluate => "evaluate",
            Mode::Disabled => "disabled",
        }
    }
}

/// What a policy that fails (fuel, memory, deadline, trap, bad module or
/// settings) does to the push.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// Reject, as a veto would: hookrt fails closed.
    #[default]
    Reject,
    /// Let the push through and show the failure as a warning.
    Allow,
}

/// One parsed `hookrt.toml`.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub push: PushSection,
    pub audit: AuditSection,
    pub proc_receive: ProcReceiveSection,
    /// Entries in name order.
    pub policies: BTreeMap<String, Entry>,
    pub webhooks: WebhooksSection,
    /// `[webhook.NAME]` entries, checked, in name order.
    pub webhook_entries: BTreeMap<String, Webhook>,
    /// `[trust]`: the keys this file's `oci://` modules must be signed
    /// with, resolved against the file's directory.
    pub trust: Trust,
}

/// `[trust]`: who must have signed the OCI artifacts a file names
/// (checked by `hookrt pull`; docs/distribution.md).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustSection {
    /// Public keys (PEM); a signature by any one of them will do.
    pub keys: Option<Vec<PathBuf>>,
}

/// Where a policy's module comes from: `module = "…"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ModuleSource {
    /// A file, relative to the `hookrt.toml` that names it.
    File(PathBuf),
    /// An OCI artifact pinned by digest, and where the store of the
    /// directory that names it keeps it once pulled.
    Oci { reference: OciRef, path: PathBuf },
}

impl TryFrom<String> for ModuleSource {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        if !text.starts_with(SCHEME) {
            return Ok(ModuleSource::File(PathBuf::from(text)));
        }
        let reference: OciRef = text.parse()?;
        if reference.digest.is_none() {
            return Err(format!(
                "`{reference}` is not pinned to a digest, and a tag can be moved; `hookrt pull {reference}` prints the pinned reference to write here"
            ));
        }
        // The path is set once the file's directory is known.
        Ok(ModuleSource::Oci { reference, path: PathBuf::new() })
    }
}

impl ModuleSource {
    /// The file hookrt loads: the module, or the pulled artifact's copy.
    pub fn path(&self) -> &Path {
        match self {
            ModuleSource::File(path) | ModuleSource::Oci { path, .. } => path,
        }
    }

    /// The artifact, for an `oci://` module.
    pub fn artifact(&self) -> Option<&OciRef> {
        match self {
            ModuleSource::File(_) => None,
            ModuleSource::Oci { reference, .. } => Some(reference),
        }
    }

    /// Resolves a path against `dir`, the directory of the file naming it.
    pub fn resolved(self, dir: &Path) -> Self {
        match self {
            ModuleSource::File(path) => ModuleSource::File(dir.join(path)),
            ModuleSource::Oci { reference, .. } => {
                let path = Store::of(dir).module(reference.digest_hex().unwrap_or_default());
                ModuleSource::Oci { reference, path }
            }
        }
    }
}

/// One `[policy.NAME]` entry: where it starts, its keys, and its settings
/// with the line of each (taken out of `config`).
#[derive(Debug, Clone)]
pub struct Entry {
    pub origin: Origin,
    pub config: PolicyConfig,
    pub settings: BTreeMap<String, Setting>,
}

/// `[push]`: what all policies of one push share.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSection {
    /// Wall-clock time for all policies of one hook run together.
    pub budget_ms: Option<u64>,
}

/// `[audit]`: the JSON-lines decision log.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    pub enabled: Option<bool>,
    pub path: Option<PathBuf>,
    pub max_mib: Option<u64>,
    pub keep: Option<u32>,
}

/// `[proc_receive]`: where hookrt keeps what is pushed to a review namespace
/// (`receive.procReceiveRefs`, e.g. `refs/for/main`) once its policies
/// accept it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcReceiveSection {
    /// The ref written, with `{branch}` (the target branch's short name)
    /// and `{topic}` (the `topic=` push option, else the pusher's name,
    /// else `change`) filled in.
    pub target: Option<String>,
}

/// `[policy.NAME]`: one policy, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub module: Option<ModuleSource>,
    pub hook: Option<HookKind>,
    pub mode: Option<Mode>,
    pub on_failure: Option<OnFailure>,
    pub mandatory: Option<bool>,
    pub refs: Option<Vec<String>>,
    pub exclude_refs: Option<Vec<String>>,
    pub bypass: Option<Vec<String>>,
    pub fuel: Option<u64>,
    pub memory_mib: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub blob_read_kib: Option<u64>,
    pub changes_max: Option<u32>,
    /// reference-transaction: also run for the transactions of a push
    /// (which pre-receive's policies check already).
    pub pushes: Option<bool>,
    /// On a developer's clone (`hookrt client install`): the policy needs
    /// only the commit itself, so it also runs at commit-msg.
    pub commit_msg: Option<bool>,
    pub settings: Option<BTreeMap<String, Spanned<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    push: RawPush,
    #[serde(default)]
    audit: AuditSection,
    #[serde(default)]
    proc_receive: ProcReceiveSection,
    #[serde(default)]
    policy: BTreeMap<String, Spanned<PolicyConfig>>,
    #[serde(default)]
    webhooks: WebhooksSection,
    #[serde(default)]
    webhook: BTreeMap<String, Spanned<WebhookConfig>>,
    #[serde(default)]
    trust: TrustSection,
}

/// [`PushSection`] with where its values were written, for errors.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPush {
    budget_ms: Option<Spanned<u64>>,
}

/// The error returned when the configuration cannot be used. Each names the
/// file (and line) and what to write instead; at push time it rejects the
/// push (fail closed).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{origin}: {message}")]
    Invalid { origin: Origin, message: String },
}

impl From<Invalid> for ConfigError {
    fn from(Invalid { origin, message }: Invalid) -> Self {
        ConfigError::Invalid { origin, message }
    }
}

impl ConfigFile {
    /// Reads `dir/hookrt.toml`; `None` when there is no such file.
    pub fn load(dir: &Path) -> Result<Option<Self>, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text).map(Some),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Parses and checks the text of a `hookrt.toml` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|err| {
            let (line, column) = err.span().map_or((1, 1), |span| line_column(text, span.start));
            ConfigError::Parse { path: path.to_owned(), line, column, message: err.message().trim_end().to_owned() }
        })?;
        let at = |offset| Origin { file: path.to_owned(), line: line_column(text, offset).0 };
        let dir = path.parent().unwrap_or(Path::new("."));
        if let Some(budget) = raw.push.budget_ms.as_ref().filter(|budget| *budget.get_ref() == 0) {
            return Err(ConfigError::Invalid {
                origin: at(budget.span().start),
                message: "[push] `budget_ms` must be more than 0 (leave it out for the default, 30000)".into(),
            });
        }
        let push = PushSection { budget_ms: raw.push.budget_ms.map(Spanned::into_inner) };
        let mut audit = raw.audit;
        if let (Some(log), Some(dir)) = (&mut audit.path, path.parent()) {
            *log = dir.join(&*log);
        }
        let mut policies = BTreeMap::new();
        for (name, spanned) in raw.policy {
            let origin = at(spanned.span().start);
            let mut config = spanned.into_inner();
            let invalid = |message: String| ConfigError::Invalid {
                origin: origin.clone(),
                message: format!("policy `{name}`: {message}"),
            };
            config.check_limits().map_err(invalid)?;
            config.check_hook().map_err(invalid)?;
            let mut settings = BTreeMap::new();
            for (key, value) in config.settings.take().unwrap_or_default() {
                let origin = at(value.span().start);
                let value = SettingValue::from_toml(value.into_inner()).map_err(|kind| ConfigError::Invalid {
                    origin: origin.clone(),
                    message: format!(
                        "policy `{name}`: setting `{key}` is {kind}; settings are strings, numbers, booleans or lists of strings"
                    ),
                })?;
                settings.insert(key, Setting { value, origin });
            }
            // A module path is relative to the file that names it, and so
            // is the store a pulled one is kept in.
            config.module = config.module.map(|module| module.resolved(dir));
            policies.insert(name, Entry { origin, config, settings });
        }
        let mut webhook_entries = BTreeMap::new();
        for (name, spanned) in raw.webhook {
            let origin = at(spanned.span().start);
            let hook = Webhook::from_config(&name, spanned.into_inner(), path, origin)?;
            webhook_entries.insert(name, hook);
        }
        Ok(ConfigFile {
            path: path.to_owned(),
            push,
            audit,
            proc_receive: raw.proc_receive,
            policies,
            webhooks: raw.webhooks,
            webhook_entries,
            trust: Trust { keys: raw.trust.keys.unwrap_or_default().iter().map(|key| dir.join(key)).collect() },
        })
    }
}

/// The 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

impl PolicyConfig {
    /// The hook the policy runs in: pre-receive unless configured.
    pub fn hook(&self) -> HookKind {
        self.hook.unwrap_or(HookKind::PreReceive)
    }

    /// Rejects hooks a policy cannot be configured for, and keys that do
    /// not apply to its hook.
    pub fn check_hook(&self) -> Result<(), String> {
        let hook = self.hook();
        if hook.is_client() {
            return Err(format!(
                "`hook = \"{hook}\"` is a hook of developers' clones, and they run the server's policies: set `hook = \"pre-receive\"` (pre-push runs the pre-receive and update policies) and `commit_msg = true` for commit-msg"
            ));
        }
        if self.pushes.is_some() && hook != HookKind::ReferenceTransaction {
            return Err("`pushes` applies to `hook = \"reference-transaction\"` policies only; remove it".into());
        }
        if self.commit_msg.is_some() && !matches!(hook, HookKind::PreReceive | HookKind::Update) {
            return Err(format!(
                "`commit_msg` applies to pre-receive and update policies (the ones a clone runs), not to {hook}; remove it"
            ));
        }
        Ok(())
    }

    /// Rejects limits no policy can run under: a policy with zero fuel,
    /// memory or time would fail every push, which is a typo, not a policy.
    pub fn check_limits(&self) -> Result<(), String> {
        match (self.fuel, self.memory_mib, self.timeout_ms) {
            (Some(0), _, _) => Err("`fuel` must be more than 0".into()),
            (_, Some(0), _) => Err("`memory_mib` must be at least 1".into()),
            (_, Some(mib), _) if mib > 4096 => {
                Err(format!("`memory_mib = {mib}` is past the 4096 MiB a policy can address; write at most 4096"))
            }
            (_, _, Some(0)) => Err("`timeout_ms` must be more than 0".into()),
            _ if self.blob_read_kib.is_some_and(|kib| kib > 4 << 20) => {
                Err("`blob_read_kib` is past the 4 GiB a policy can address; write at most 4194304".into())
            }
            _ if self.changes_max == Some(0) => Err("`changes_max` must be more than 0".into()),
            _ => Ok(()),
        }
    }

    /// The default limits with this entry's overrides.
    pub fn limits(&self) -> Limits {
        let default = Limits::default();
        Limits {
            fuel: self.fuel.unwrap_or(default.fuel),
            memory_bytes: self.memory_mib.map_or(default.memory_bytes, |mib| (mib as usize) << 20),
            timeout: self.timeout_ms.map_or(default.timeout, Duration::from_millis),
            blob_read_bytes: self.blob_read_kib.map_or(default.blob_read_bytes, |kib| (kib as usize) << 10),
            changes_max: self.changes_max.map_or(default.changes_max, |max| max as usize),
        }
    }

    /// This entry with `over`'s keys on top (a repository's entry over the
    /// server's). Settings are merged by the caller, key by key.
    pub fn overlaid(&self, over: &PolicyConfig) -> PolicyConfig {
        PolicyConfig {
            module: over.module.clone().or_else(|| self.module.clone()),
            hook: over.hook.or(self.hook),
            mode: over.mode.or(self.mode),
            on_failure: over.on_failure.or(self.on_failure),
            mandatory: self.mandatory,
            refs: over.refs.clone().or_else(|| self.refs.clone()),
            exclude_refs: over.exclude_refs.clone().or_else(|| self.exclude_refs.clone()),
            bypass: over.bypass.clone().or_else(|| self.bypass.clone()),
            fuel: over.fuel.or(self.fuel),
            memory_mib: over.memory_mib.or(self.memory_mib),
            timeout_ms: over.timeout_ms.or(self.timeout_ms),
            blob_read_kib: over.blob_read_kib.or(self.blob_read_kib),
            changes_max: over.changes_max.or(self.changes_max),
            pushes: over.pushes.or(self.pushes),
            commit_msg: over.commit_msg.or(self.commit_msg),
            settings: None,
        }
    }

    /// The keys of this entry other than `settings`: what a repository may
    /// not set for a mandatory policy.
    pub fn keys_besides_settings(&self) -> Vec<&'static str> {
        let set = [
            ("module", self.module.is_some()),
            ("hook", self.hook.is_some()),
            ("mode", self.mode.is_some()),
            ("on_failure", self.on_failure.is_some()),
            ("mandatory", self.mandatory.is_some()),
            ("refs", self.refs.is_some()),
            ("exclude_refs", self.exclude_refs.is_some()),
            ("bypass", self.bypass.is_some()),
            ("fuel", self.fuel.is_some()),
            ("memory_mib", self.memory_mib.is_some()),
            ("timeout_ms", self.timeout_ms.is_some()),
            ("blob_read_kib", self.blob_read_kib.is_some()),
            ("changes_max", self.changes_max.is_some()),
            ("pushes", self.pushes.is_some()),
            ("commit_msg", self.commit_msg.is_some()),
        ];
        set.into_iter().filter(|(_, is_set)| *is_set).map(|(key, _)| key).collect()
    }
}
