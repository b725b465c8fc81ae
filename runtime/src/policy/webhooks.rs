//! `[webhook.NAME]` and `[webhooks]`: where events go after a push, as the
//! admin writes them in `hookrt.toml`. Policies never name a URL: they have
//! no network, and a webhook is the admin's decision.
//!
//! The server's webhooks and the repository's both apply; one name in both
//! files is an error, since a repository must not silently replace (or
//! drop) a server-wide webhook.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gix::bstr::ByteSlice;
use gix::glob::wildmatch;
use serde::Deserialize;

use super::invalid::Invalid;
use super::refs::RefFilter;
use super::settings::Origin;

/// The built-in events: one per accepted branch update (`push`) or tag
/// update (`tag_push`), with GitLab's payloads.
pub const BUILT_IN_EVENTS: [&str; 2] = ["push", "tag_push"];
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_RETRIES: u32 = 8;
const DEFAULT_BACKOFF: Duration = Duration::from_secs(2);
/// Backoff doubles after each failure up to this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// Undelivered deliveries (an event for one webhook) kept per repository
/// unless `[webhooks] queue_max` says otherwise.
pub const DEFAULT_QUEUE_MAX: usize = 1000;

/// `[webhook.NAME]`, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub refs: Option<Vec<String>>,
    pub exclude_refs: Option<Vec<String>>,
    pub secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub timeout_ms: Option<u64>,
    pub retries: Option<u32>,
    pub backoff_ms: Option<u64>,
}

/// `[webhooks]`: what all webhooks of a repository share.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksSection {
    pub queue_max: Option<usize>,
}

/// Where a webhook's signing secret comes from. It is read when an event is
/// sent, not when the configuration is loaded: a pre-receive hook never
/// needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    Inline(String),
    File(PathBuf),
}

impl Secret {
    /// The key's bytes (a file's trailing newline is not part of it).
    pub fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Secret::Inline(text) => Ok(text.as_bytes().to_vec()),
            Secret::File(path) => match std::fs::read(path) {
                Ok(mut bytes) => {
                    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        bytes.pop();
                    }
                    Ok(bytes)
                }
                Err(err) => Err(format!("cannot read the secret file {}: {err}", path.display())),
            },
        }
    }
}

/// One webhook, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub name: String,
    pub url: String,
    /// Event patterns (`push`, `tag_push`, `<policy>/<event>`, globs).
    pub events: Vec<String>,
    pub refs: RefFilter,
    pub secret: Option<Secret>,
    pub timeout: Duration,
    /// Attempts after the first.
    pub retries: u32,
    /// The wait before the first retry; it doubles up to [`MAX_BACKOFF`].
    pub backoff: Duration,
    pub origin: Origin,
}

/// Every webhook of one repository and the queue they share.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhooks {
    pub hooks: Vec<Webhook>,
    pub queue_max: usize,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks { hooks: Vec::new(), queue_max: DEFAULT_QUEUE_MAX }
    }
}

impl Webhook {
    /// Whether this webhook wants the event `name` (about `ref_name`, if it
    /// is about one). An event tied to no ref goes only to webhooks that do
    /// not filter by ref.
    pub fn wants(&self, name: &str, ref_name: Option<&str>) -> bool {
        let named = self.events.iter().any(|pattern| {
            wildmatch(pattern.as_bytes().as_bstr(), name.as_bytes().as_bstr(), wildmatch::Mode::empty())
        });
        named && ref_name.map_or(self.refs.is_everything(), |r| self.refs.matches(r))
    }

    /// The wait before attempt `attempt + 1`, after `attempt` failures.
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(MAX_BACKOFF)
    }

    /// Checks one `[webhook.NAME]` entry of the file at `path`.
    pub fn from_config(name: &str, config: WebhookConfig, path: &Path, origin: Origin) -> Result<Self, Invalid> {
        let invalid =
            |message: String| Invalid { origin: origin.clone(), message: format!("webhook `{name}`: {message}") };
        let url = config
            .url
            .ok_or_else(|| invalid("`url` is missing; write e.g. url = \"https://ci.example.com/hooks/git\"".into()))?;
        let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) || url.parse::<ureq::http::Uri>().is_err() {
            return Err(invalid(format!("`url = {url:?}` is not an http:// or https:// URL")));
        }
        let events = config.events.unwrap_or_else(|| vec!["push".to_owned()]);
        if events.is_empty() {
            return Err(invalid(
                "`events` is empty, so nothing would be sent; list e.g. [\"push\"] or remove the webhook".into(),
            ));
        }
        if let Some(bad) = events.iter().find(|e| !BUILT_IN_EVENTS.contains(&e.as_str()) && !e.contains(['/', '*'])) {
            return Err(invalid(format!(
                "unknown event {bad:?}: the built-in events are \"push\" and \"tag_push\", and a policy's are \"<policy>/<event>\" (globs allowed, e.g. \"deploy-notify/*\")"
            )));
        }
        let refs = RefFilter::new(config.refs.unwrap_or_default(), config.exclude_refs.unwrap_or_default())
            .map_err(invalid)?;
        let secret = match (config.secret, config.secret_file) {
            (Some(_), Some(_)) => return Err(invalid("set `secret` or `secret_file`, not both".into())),
            (Some(text), None) if text.is_empty() => {
                return Err(invalid("`secret` is empty; leave it out to send unsigned".into()));
            }
            (Some(text), None) => Some(Secret::Inline(text)),
            // Relative to the file that names it, like a policy's module.
            (None, Some(file)) => Some(Secret::File(path.parent().map_or_else(|| file.clone(), |dir| dir.join(&file)))),
            (None, None) => None,
        };
        if config.timeout_ms == Some(0) {
            return Err(invalid("`timeout_ms` must be more than 0".into()));
        }
        Ok(Webhook {
            name: name.to_owned(),
            url,
            events,
            refs,
            secret,
            timeout: config.timeout_ms.map_or(DEFAULT_TIMEOUT, Duration::from_millis),
            retries: config.retries.unwrap_or(DEFAULT_RETRIES),
            backoff: config.backoff_ms.map_or(DEFAULT_BACKOFF, Duration::from_millis),
            origin,
        })
    }
}

/// The server's webhooks and then the repository's; `[webhooks]` keys from
/// the first file that sets them (the server's).
pub(crate) fn merge<'a>(
    files: impl Iterator<Item = (&'a WebhooksSection, &'a BTreeMap<String, Webhook>)>,
) -> Result<Webhooks, Invalid> {
    let mut merged = Webhooks::default();
    let mut queue_max = None;
    for (section, hooks) in files {
        queue_max = queue_max.or(section.queue_max);
        for hook in hooks.values() {
            if let Some(first) = merged.hooks.iter().find(|h| h.name == hook.name) {
                return Err(Invalid {
                    origin: hook.origin.clone(),
                    message: format!(
                        "webhook `{}` is already set in {}; a repository cannot replace a server-wide webhook, so give this one another name",
                        hook.name, first.origin
                    ),
                });
            }
            merged.hooks.push(hook.clone());
        }
    }
    merged.queue_max = queue_max.unwrap_or(DEFAULT_QUEUE_MAX).max(1);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(config: WebhookConfig) -> Result<Webhook, Invalid> {
        let origin = Origin { file: "/srv/hookrt.toml".into(), line: 3 };
        Webhook::from_config("deploy", config, Path::new("/srv/hookrt.toml"), origin)
    }

    #[test]
    fn events_and_refs_decide_what_is_sent() {
        let config = WebhookConfig {
            url: Some("http://127.0.0.1:5000/".into()),
            events: Some(vec!["push".into(), "deploy-notify/*".into()]),
            refs: Some(vec!["refs/heads/main".into()]),
            ..Default::default()
        };
        let hook = hook(config).expect("valid");
        assert!(hook.wants("push", Some("refs/heads/main")));
        assert!(!hook.wants("push", Some("refs/heads/topic")));
        assert!(!hook.wants("tag_push", Some("refs/heads/main")));
        assert!(hook.wants("deploy-notify/deploy", Some("refs/heads/main")));
        assert!(!hook.wants("deploy-notify/deploy", None), "an event tied to no ref skips a ref filter");
        assert!(!hook.wants("other/deploy", Some("refs/heads/main")));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let hook = hook(WebhookConfig { url: Some("https://x.example/".into()), ..Default::default() }).expect("valid");
        assert_eq!(hook.backoff_after(1), Duration::from_secs(2));
        assert_eq!(hook.backoff_after(3), Duration::from_secs(8));
        assert_eq!(hook.backoff_after(40), MAX_BACKOFF);
        assert_eq!(hook.secret, None);
    }

    #[test]
    fn mistakes_are_named() {
        let message = |config| hook(config).expect_err("invalid").to_string();
        assert!(message(WebhookConfig::default()).contains("`url` is missing"));
        let url = |u: &str| WebhookConfig { url: Some(u.into()), ..Default::default() };
        assert!(message(url("ftp://x/")).contains("not an http:// or https:// URL"));
        let events = WebhookConfig { events: Some(vec!["pushes".into()]), ..url("http://x/") };
        assert!(message(events).contains("unknown event \"pushes\""));
        let both = WebhookConfig { secret: Some("a".into()), secret_file: Some("b".into()), ..url("http://x/") };
        assert!(message(both).contains("not both"));
        let file = WebhookConfig { secret_file: Some("deploy.secret".into()), ..url("http://x/") };
        assert_eq!(hook(file).expect("valid").secret, Some(Secret::File("/srv/deploy.secret".into())));
    }
}
