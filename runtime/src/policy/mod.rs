//! The policy set: which modules run, where they come from (the server's
//! directory, the repository's), in which hook, over which refs, with which
//! limits, mode and settings; and the webhooks events go to after a push.

mod config;
mod invalid;
mod paths;
mod plan;
mod refs;
mod scope;
mod settings;
mod webhooks;

pub use config::{
    AuditSection, CONFIG_FILE, ConfigError, ConfigFile, Entry, Mode, ModuleSource, OnFailure, PolicyConfig,
    PushSection, TrustSection,
};
pub use invalid::Invalid;
pub use plan::{Planned, in_this_phase, observer_refused};
pub use refs::RefFilter;
pub use scope::{
    AuditConfig, DEFAULT_BUDGET, DEFAULT_GLOBAL_DIR, Pin, PolicySet, PolicySetError, PolicySpec, Scope, Scopes,
    default_policy_dir, hooks_dir,
};
pub use settings::{Origin, Setting, SettingProblem, SettingValue, Settings};
pub use webhooks::{
    BUILT_IN_EVENTS, DEFAULT_QUEUE_MAX, MAX_BACKOFF, Secret, Webhook, WebhookConfig, Webhooks, WebhooksSection,
};

#[cfg(test)]
mod tests;
