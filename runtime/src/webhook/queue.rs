//! Turning a post-receive run into queued deliveries.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::{Value, json};

use super::deliver::DeliveryRecord;
use super::gitlab;
use super::outbox::{Delivery, Outbox};
use crate::audit::AuditLog;
use crate::git::Repo;
use crate::policy::{Mode, PolicySet};
use crate::push::{HookKind, Push};
use crate::verdict::PolicyRun;

/// What [`queue_events`] did: how many deliveries it queued, and what the
/// pusher should hear about those it could not.
#[derive(Debug, Default)]
pub(crate) struct Queued {
    pub(crate) deliveries: usize,
    pub(crate) notices: Vec<String>,
}

/// An event ready to go: its full name, its ref, its body.
struct Event {
    name: String,
    ref_name: Option<String>,
    body: Value,
}

/// Queues, for every webhook that wants it, the built-in event of each ref
/// update and each event an observer emitted, from the `runs` of this
/// hook (each with its policy's name and mode). Only observers that
/// finished count, and not those in evaluate mode (the pusher sees what
/// they would have sent). `repo` is the one the policies read, if they
/// did. Problems become notices: the refs have moved, and nothing here may
/// change that.
pub(crate) fn queue_events<'a>(
    push: &Push,
    repo: Option<Repo>,
    object_dirs: &[PathBuf],
    set: &PolicySet,
    runs: impl Iterator<Item = (&'a str, Mode, &'a PolicyRun)>,
    deadline: Instant,
) -> Queued {
    let mut queued = Queued::default();
    let hooks = &set.webhooks.hooks;
    if hooks.is_empty() {
        return queued;
    }
    let runs: Vec<_> = runs.collect();
    // Push events come from post-receive alone, once a push, as on GitLab
    // and Gitea: post-update and a committed reference transaction of the
    // same push would send them twice, and a ref changed outside a push
    // (`git update-ref`) is no push. Observers' own events go out from
    // whichever hook they ran in; without any, those hooks open nothing.
    let push_events = push.hook == HookKind::PostReceive;
    let emitted = runs.iter().any(|(_, _, run)| !run.events.is_empty());
    if !push_events && !emitted {
        return queued;
    }
    let wants = |name: &str, ref_name: Option<&str>| hooks.iter().any(|h| h.wants(name, ref_name));
    let mut events = Vec::new();
    let repo = match repo {
        Some(repo) => Ok(repo),
        None => Repo::open(&push.git_dir, object_dirs, push.when(), &push.updates),
    };
    // Who pushed, and the project: the same in every payload of the push.
    let common = repo.as_ref().ok().map(|repo| gitlab::common(repo, push));
    match &repo {
        Err(err) => queued.notices.push(format!("no webhook events for this push: {err}")),
        Ok(_) if !push_events => {}
        // A payload is built (its commits walked) only for a webhook that
        // wants it.
        Ok(repo) => {
            for update in &push.updates {
                let Some(name) = gitlab::event_name(update).filter(|name| wants(name, Some(&update.name))) else {
                    continue;
                };
                match gitlab::push_event(repo, update, name, deadline) {
                    Ok(mut body) => {
                        gitlab::extend(&mut body, common.clone().unwrap_or_default());
                        events.push(Event { name: name.to_owned(), ref_name: Some(update.name.clone()), body });
                    }
                    Err(err) => queued.notices.push(format!("no push event for {}: {err}", update.name)),
                }
            }
        }
    }
    for (policy, mode, run) in runs {
        if run.outcome.is_err() || run.events.is_empty() {
            continue;
        }
        if mode == Mode::Evaluate {
            queued.notices.push(format!(
                "evaluate: policy {} emitted {} event(s); none is delivered in evaluate mode",
                policy,
                run.events.len()
            ));
            continue;
        }
        for emitted in &run.events {
            let name = format!("{policy}/{}", emitted.name);
            if !wants(&name, emitted.ref_name.as_deref()) {
                continue;
            }
            let update = emitted.ref_name.as_ref().and_then(|r| push.updates.iter().find(|u| &u.name == r));
            let mut body = json!({
                "object_kind": "hookrt_event",
                "event_name": name,
                "policy": policy,
                "name": emitted.name,
                "ref": emitted.ref_name,
                "before": update.map(|u| u.old.to_string()),
                "after": update.map(|u| u.new.to_string()),
                "payload": emitted.payload,
            });
            gitlab::extend(&mut body, common.clone().unwrap_or_default());
            events.push(Event { name, ref_name: emitted.ref_name.clone(), body });
        }
    }

    let deliveries: Vec<Delivery> = events
        .iter()
        .flat_map(|event| {
            hooks.iter().filter(|h| h.wants(&event.name, event.ref_name.as_deref())).map(|hook| {
                Outbox::delivery(&hook.name, &event.name, event.ref_name.as_deref(), event.body.to_string())
            })
        })
        .collect();
    if deliveries.is_empty() {
        return queued;
    }
    let outbox = Outbox::for_repository(&push.git_dir);
    let audit = AuditLog::for_repository(&push.git_dir, &set.audit);
    match outbox.enqueue(&deliveries, set.webhooks.queue_max) {
        Ok(dropped) => {
            for delivery in &deliveries {
                DeliveryRecord::new(&push.git_dir, delivery, "queued").write(audit.as_ref());
            }
            queued.deliveries = deliveries.len();
            if !dropped.is_empty() {
                queued.notices.push(format!(
                    "the webhook queue is full ({} undelivered); the {} oldest were dropped (see the audit log)",
                    set.webhooks.queue_max,
                    dropped.len()
                ));
            }
            for delivery in &dropped {
                let mut record = DeliveryRecord::new(&push.git_dir, delivery, "dropped");
                record.error = Some(format!(
                    "the queue holds at most {} undelivered events ([webhooks] queue_max); this was the oldest",
                    set.webhooks.queue_max
                ));
                record.write(audit.as_ref());
            }
        }
        Err(err) => queued.notices.push(format!("{} webhook deliveries are lost: {err}", deliveries.len())),
    }
    queued
}
