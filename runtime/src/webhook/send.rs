//! One HTTP attempt: the delivery's body posted to its webhook, signed when
//! the webhook has a secret.

use std::io::Read;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::outbox::Delivery;
use crate::policy::Webhook;

/// The signature header: `sha256=` and the hex HMAC-SHA256 of the body
/// under the webhook's secret (the scheme of GitHub's
/// `X-Hub-Signature-256`, which receivers have libraries for).
pub const SIGNATURE_HEADER: &str = "X-Hookrt-Signature-256";
/// How much of a failed response's body is kept for the audit log.
const ERROR_BODY: u64 = 512;

/// The error returned by [`send`]: the attempt failed and may be retried.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the receiver answered {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status { status: u16, body: String },
    #[error("{0}")]
    Transport(String),
    #[error("{0}")]
    Secret(String),
}

impl SendError {
    /// The HTTP status, if the receiver answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            SendError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `sha256=<hex>` for `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Posts `delivery` to `hook`; the status on success (2xx). Redirects are
/// not followed: a webhook's URL is the admin's, and a redirect to
/// elsewhere is a failure to look at, not to obey.
pub fn send(hook: &Webhook, delivery: &Delivery) -> Result<u16, SendError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(hook.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("hookrt/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut request = agent
        .post(&hook.url)
        .header("Content-Type", "application/json")
        .header("X-Hookrt-Event", &delivery.event)
        .header("X-Hookrt-Delivery", &delivery.id)
        .header("X-Hookrt-Webhook", &delivery.webhook);
    // What GitLab sends, for receivers that dispatch on it.
    if let Some(gitlab) = match delivery.event.as_str() {
        "push" => Some("Push Hook"),
        "tag_push" => Some("Tag Push Hook"),
        _ => None,
    } {
        request = request.header("X-Gitlab-Event", gitlab);
    }
    if let Some(secret) = &hook.secret {
        let key = secret.read().map_err(SendError::Secret)?;
        request = request.header(SIGNATURE_HEADER, &signature(&key, delivery.body.as_bytes()));
    }
    let mut response = request.send(delivery.body.as_bytes()).map_err(|e| SendError::Transport(e.to_string()))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(status);
    }
    let mut body = Vec::new();
    let _ = response.body_mut().as_reader().take(ERROR_BODY).read_to_end(&mut body);
    let body = String::from_utf8_lossy(&body).trim().chars().filter(|c| !c.is_control()).collect();
    Err(SendError::Status { status, body })
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_rfc_4231_case_2() {
        // RFC 4231, test case 2: key "Jefe".
        assert_eq!(
            super::signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
