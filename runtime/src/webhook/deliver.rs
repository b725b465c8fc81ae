//! The deliverer: sends what the outbox holds, retrying with backoff, and
//! records every step in the audit log. It runs apart from git (the
//! `hookrt` binary starts it detached after post-receive), so a slow or
//! absent receiver never holds up a push.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::outbox::{Delivery, Outbox, OutboxError};
use super::send::{SendError, send};
use crate::audit::AuditLog;
use crate::policy::PolicySet;

/// How often a waiting deliverer looks for newly queued events.
const POLL: Duration = Duration::from_millis(250);

/// One step of one delivery, as the audit log keeps it.
#[derive(Debug, Serialize)]
pub struct DeliveryRecord<'a> {
    /// RFC 3339, UTC.
    pub time: String,
    pub repository: &'a Path,
    pub webhook: &'a str,
    pub event: &'a str,
    #[serde(rename = "ref")]
    pub ref_name: Option<&'a str>,
    pub delivery: &'a str,
    /// `queued`, `delivered`, `retrying`, `gave-up`, `dropped` (the queue
    /// was full, or the webhook is no longer configured) or `unreadable`.
    pub outcome: &'static str,
    /// Attempts made so far.
    pub attempt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_in_ms: Option<u64>,
}

impl<'a> DeliveryRecord<'a> {
    pub fn new(git_dir: &'a Path, delivery: &'a Delivery, outcome: &'static str) -> Self {
        DeliveryRecord {
            time: jiff::Timestamp::now().to_string(),
            repository: git_dir,
            webhook: &delivery.webhook,
            event: &delivery.event,
            ref_name: delivery.ref_name.as_deref(),
            delivery: &delivery.id,
            outcome,
            attempt: delivery.attempts,
            status: None,
            error: None,
            next_attempt_in_ms: None,
        }
    }

    /// A file in the outbox that is not a delivery (renamed `*.json.bad`).
    fn unreadable(git_dir: &'a Path, id: &'a str) -> Self {
        DeliveryRecord {
            time: jiff::Timestamp::now().to_string(),
            repository: git_dir,
            webhook: "",
            event: "",
            ref_name: None,
            delivery: id,
            outcome: "unreadable",
            attempt: 0,
            status: None,
            error: Some(format!("{id}.json is not a delivery; it was renamed {id}.json.bad and will not be sent")),
            next_attempt_in_ms: None,
        }
    }

    /// Appends the record; a log that cannot be written is logged, since a
    /// detached deliverer has no one to tell.
    pub fn write(&self, log: Option<&AuditLog>) {
        if let Some(Err(err)) = log.map(|log| log.append(self)) {
            tracing::warn!("{err}");
        }
    }
}

/// What one [`deliver`] call did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub delivered: usize,
    pub given_up: usize,
    /// Another deliverer held the outbox: this one did nothing.
    pub busy: bool,
}

/// Sends every delivery queued for the repository at `git_dir` to the
/// webhooks of `set`, waiting out backoffs, until the outbox is empty (each
/// delivery sent or given up). With `now`, the first attempt at each is
/// made at once, whatever its backoff says (an admin's "send them now").
/// If another deliverer is at work, returns at once with `busy`.
pub fn deliver(git_dir: &Path, set: &PolicySet, now: bool) -> Result<Summary, OutboxError> {
    let outbox = Outbox::for_repository(git_dir);
    let audit = AuditLog::for_repository(git_dir, &set.audit);
    let mut summary = Summary::default();
    loop {
        let Some(lock) = outbox.deliverer_lock()? else {
            summary.busy = summary.delivered + summary.given_up == 0;
            return Ok(summary);
        };
        drain(git_dir, &outbox, set, audit.as_ref(), now, &mut summary)?;
        drop(lock);
        // A hook that queued after the last look, while this deliverer held
        // the lock, found it taken and left its events to this one.
        if outbox.is_empty() {
            return Ok(summary);
        }
    }
}

fn drain(
    git_dir: &Path,
    outbox: &Outbox,
    set: &PolicySet,
    audit: Option<&AuditLog>,
    mut now: bool,
    summary: &mut Summary,
) -> Result<(), OutboxError> {
    loop {
        let (pending, unreadable) = outbox.pending()?;
        for id in unreadable {
            DeliveryRecord::unreadable(git_dir, &id).write(audit);
        }
        if pending.is_empty() {
            return Ok(());
        }
        let mut wait = POLL;
        for mut delivery in pending {
            let due_in = delivery.next_attempt_ms.saturating_sub(now_ms());
            if due_in > 0 && !now {
                wait = wait.min(Duration::from_millis(due_in));
                continue;
            }
            let Some(hook) = set.webhooks.hooks.iter().find(|h| h.name == delivery.webhook) else {
                outbox.remove(&delivery.id)?;
                let mut record = DeliveryRecord::new(git_dir, &delivery, "dropped");
                record.error = Some(format!("webhook `{}` is no longer configured", delivery.webhook));
                record.write(audit);
                continue;
            };
            delivery.attempts += 1;
            match send(hook, &delivery) {
                Ok(status) => {
                    outbox.remove(&delivery.id)?;
                    summary.delivered += 1;
                    let mut record = DeliveryRecord::new(git_dir, &delivery, "delivered");
                    record.status = Some(status);
                    record.write(audit);
                }
                Err(err) => {
                    let gave_up = delivery.attempts > hook.retries;
                    let backoff = hook.backoff_after(delivery.attempts);
                    delivery.last_error = Some(err.to_string());
                    if gave_up {
                        outbox.remove(&delivery.id)?;
                        summary.given_up += 1;
                    } else {
                        delivery.next_attempt_ms = now_ms().saturating_add(backoff.as_millis() as u64);
                        outbox.update(&delivery)?;
                        wait = wait.min(backoff);
                    }
                    failed(git_dir, &delivery, &err, (!gave_up).then_some(backoff)).write(audit);
                }
            }
        }
        now = false;
        std::thread::sleep(wait);
    }
}

/// The record of a failed attempt: `retrying` with the wait, or `gave-up`.
fn failed<'a>(
    git_dir: &'a Path,
    delivery: &'a Delivery,
    err: &SendError,
    retry_in: Option<Duration>,
) -> DeliveryRecord<'a> {
    let mut record = DeliveryRecord::new(git_dir, delivery, if retry_in.is_some() { "retrying" } else { "gave-up" });
    record.status = err.status();
    record.error = Some(err.to_string());
    record.next_attempt_in_ms = retry_in.map(|d| d.as_millis() as u64);
    record
}

fn now_ms() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0)
}
