//! A value in a `hookrt.toml` that is wrong: where it is, and what to do.
//! Each part of the configuration (a policy entry, a webhook) checks its
//! own values and says so with this; the operation that read the file
//! (`ConfigError`, `PolicySetError`) carries it.

use super::settings::Origin;

/// A value in a `hookrt.toml` that is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct Invalid {
    pub origin: Origin,
    pub message: String,
}
