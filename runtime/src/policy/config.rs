//! `hookrt.toml`, the optional file beside the policies that tunes them.
//!
//! ```toml
//! [policy.no-wip]          # the policy in no-wip.wasm
//! hook = "update"          # pre-receive (default), update or post-receive
//! fuel = 50_000_000        # wasm fuel, about one unit per instruction
//! memory_mib = 64          # linear memory, all memories together
//! timeout_ms = 2000        # wall-clock time, host calls included
//! blob_read_kib = 1024     # the most one blob read returns
//! ```
//!
//! Every key is optional; an unknown key is an error, so a typo never goes
//! unnoticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::push::HookKind;
use crate::sandbox::Limits;

/// The name of the file, in the policy directory.
pub const CONFIG_FILE: &str = "hookrt.toml";

/// The parsed file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub policy: BTreeMap<String, PolicyConfig>,
}

/// Settings of one policy.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub hook: Option<HookKind>,
    pub fuel: Option<u64>,
    pub memory_mib: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub blob_read_kib: Option<u64>,
}

impl PolicyConfig {
    /// The hook the policy runs in: pre-receive unless configured.
    pub fn hook(&self) -> HookKind {
        self.hook.unwrap_or(HookKind::PreReceive)
    }

    /// Rejects limits no policy can run under: a policy with zero fuel,
    /// memory or time would fail every push, which is a typo, not a policy.
    pub fn check_limits(&self) -> Result<(), String> {
        match (self.fuel, self.memory_mib, self.timeout_ms) {
            (Some(0), _, _) => Err("`fuel` must be more than 0".into()),
            (_, Some(0), _) => Err("`memory_mib` must be at least 1".into()),
            (_, Some(mib), _) if mib > 4096 => {
                Err(format!("`memory_mib = {mib}` is past the 4096 MiB a policy can address"))
            }
            (_, _, Some(0)) => Err("`timeout_ms` must be more than 0".into()),
            _ if self.blob_read_kib.is_some_and(|kib| kib > 4 << 20) => {
                Err("`blob_read_kib` is past the 4 GiB a policy can address".into())
            }
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
        }
    }
}

/// The error returned by [`Config::load`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid hookrt configuration: {message}")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    /// Reads `dir/hookrt.toml`; no file means no overrides.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        Self::parse(&text).map_err(|message| ConfigError::Parse { path, message })
    }

    /// Parses the text of a `hookrt.toml`.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let config = Config::parse(
            "[policy.no-wip]\nhook = \"update\"\nfuel = 50_000_000\nmemory_mib = 64\ntimeout_ms = 2000\n",
        )
        .expect("valid");
        let entry = &config.policy["no-wip"];
        assert_eq!(entry.hook(), HookKind::Update);
        assert_eq!(
            entry.limits(),
            Limits { fuel: 50_000_000, memory_bytes: 64 << 20, timeout: Duration::from_secs(2), ..Limits::default() }
        );
    }

    /// The example in docs/admin.md is what admins copy: it must parse and
    /// mean what the text says.
    #[test]
    fn admin_guide_example_parses() {
        let guide = include_str!("../../../docs/admin.md");
        let block = guide.split("```toml\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a toml block");
        let config = Config::parse(block).expect("the documented example parses");
        assert_eq!(
            config.policy["no-wip"].limits(),
            Limits {
                fuel: 50_000_000,
                memory_bytes: 64 << 20,
                timeout: Duration::from_secs(2),
                blob_read_bytes: 256 << 10
            }
        );
        assert_eq!(config.policy["protect-branches"].hook(), HookKind::Update);
    }

    #[test]
    fn names_unknown_keys() {
        let err = Config::parse("[policy.x]\nfule = 1\n").expect_err("must be rejected");
        assert!(err.contains("fule"), "{err}");
        let err = Config::parse("[policy.x]\nhook = \"pre-commit\"\n").expect_err("must be rejected");
        assert!(err.contains("pre-commit"), "{err}");
    }
}
