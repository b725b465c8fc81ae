//! `hookrt:policy/events`: events an observer emits for the admin's
//! webhooks, checked and capped as they come: a policy must not be able to
//! fill the queue, the disk or a receiver. The events are handed on in its
//! [`PolicyRun`](crate::verdict::PolicyRun); `webhook` queues them.

use super::HostState;
use super::bindings::events::{self, EmitError};
use crate::push::RefUpdate;
use crate::verdict::Emitted;

/// The most events one policy run may emit.
const MAX_EVENTS: usize = 100;
/// The largest payload of one event, in bytes of JSON.
const MAX_PAYLOAD: usize = 64 << 10;
/// The most payload bytes one policy run may emit in all.
const MAX_TOTAL: usize = 256 << 10;
const MAX_NAME: usize = 64;

impl events::Host for HostState {
    fn emit(
        &mut self,
        name: String,
        ref_name: Option<String>,
        payload: String,
    ) -> wasmtime::Result<Result<(), EmitError>> {
        // Only observers are handed an emitter; a component of another
        // world that imports `events` anyway has broken the contract.
        let Some(emitter) = self.events.as_mut() else {
            return Err(wasmtime::format_err!("events.emit is for observers (the `observer` world) in post-receive"));
        };
        Ok(emitter.emit(name, ref_name, &payload, &self.updates))
    }
}

/// The events of one policy run.
#[derive(Debug, Default)]
pub(crate) struct Emitter {
    events: Vec<Emitted>,
    bytes: usize,
}

impl Emitter {
    /// Checks and keeps one event; a refusal is the policy's to handle. `updates` are the ref updates the policy
    /// was handed: an event can only be tied to one of them.
    pub(crate) fn emit(
        &mut self,
        name: String,
        ref_name: Option<String>,
        payload: &str,
        updates: &[RefUpdate],
    ) -> Result<(), EmitError> {
        if let Some(problem) = name_problem(&name) {
            return Err(EmitError::InvalidName(format!("{name:?} {problem}")));
        }
        if let Some(name) = ref_name.as_ref().filter(|r| !updates.iter().any(|u| &u.name == *r)) {
            return Err(EmitError::UnknownRef(format!("{name} is not one of this push's ref updates")));
        }
        if self.events.len() >= MAX_EVENTS {
            return Err(EmitError::TooMany(format!("a policy may emit {MAX_EVENTS} events per push")));
        }
        if payload.len() > MAX_PAYLOAD {
            return Err(EmitError::TooMany(format!(
                "the payload is {} bytes, more than the {MAX_PAYLOAD} one event may carry",
                payload.len()
            )));
        }
        if self.bytes + payload.len() > MAX_TOTAL {
            return Err(EmitError::TooMany(format!("a policy may emit {MAX_TOTAL} payload bytes per push")));
        }
        let parsed = serde_json::from_str(payload).map_err(|e| EmitError::InvalidPayload(e.to_string()))?;
        self.bytes += payload.len();
        self.events.push(Emitted { name, ref_name, payload: parsed });
        Ok(())
    }

    pub(crate) fn into_events(self) -> Vec<Emitted> {
        self.events
    }
}

/// What is wrong with an event name, if anything: 1 to 64 of `a-z`, `0-9`,
/// `-`, `_`, `.`, starting with a letter or digit, so that `<policy>/<name>`
/// reads well in a webhook's `events` and in an HTTP header.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Some("must be 1 to 64 characters long");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Some("must start with a-z or 0-9");
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')) {
        return Some("may hold only a-z, 0-9, '-', '_' and '.'");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn updates() -> Vec<RefUpdate> {
        let zero = "0".repeat(40);
        vec![RefUpdate::parse("refs/heads/main", &zero, &"1".repeat(40)).expect("valid")]
    }

    #[test]
    fn events_are_checked_and_capped() {
        let mut emitter = Emitter::default();
        let updates = updates();
        let mut emit = |name: &str, r: Option<&str>, payload: &str| {
            emitter.emit(name.into(), r.map(Into::into), payload, &updates)
        };
        assert!(emit("deploy", Some("refs/heads/main"), r#"{"env":"prod"}"#).is_ok());
        assert!(matches!(emit("Deploy Now", None, "{}"), Err(EmitError::InvalidName(_))));
        assert!(matches!(emit("deploy", None, "{not json"), Err(EmitError::InvalidPayload(_))));
        assert!(matches!(emit("deploy", Some("refs/heads/nope"), "{}"), Err(EmitError::UnknownRef(_))));
        let big = format!("\"{}\"", "x".repeat(MAX_PAYLOAD));
        assert!(matches!(emit("deploy", None, &big), Err(EmitError::TooMany(_))));
        for _ in 1..MAX_EVENTS {
            assert!(emit("n", None, "1").is_ok());
        }
        assert!(matches!(emit("n", None, "1"), Err(EmitError::TooMany(_))));
        assert_eq!(emitter.into_events().len(), MAX_EVENTS);
    }
}
