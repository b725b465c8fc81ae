//! Conversions between the generated contract types and hookrt's model: the
//! one place both are named.

use super::bindings::{commits, types};
use crate::git;
use crate::push::{HookKind, Push, RefClass, RefKind, RefUpdate};
use crate::verdict::{Verdict, Veto};

impl From<commits::Filter> for git::Filter {
    fn from(filter: commits::Filter) -> Self {
        match filter {
            commits::Filter::AddedToRef => git::Filter::AddedToRef,
            commits::Filter::AddedToRepository => git::Filter::AddedToRepository,
            commits::Filter::RemovedFromRef => git::Filter::RemovedFromRef,
            commits::Filter::RemovedFromRepository => git::Filter::RemovedFromRepository,
        }
    }
}

impl From<git::Signature> for types::Signature {
    fn from(s: git::Signature) -> Self {
        types::Signature { name: s.name, email: s.email, time: s.time, tz_offset_minutes: s.tz_offset_minutes }
    }
}

impl From<git::Commit> for types::Commit {
    fn from(c: git::Commit) -> Self {
        types::Commit {
            id: c.id.to_string(),
            parent_ids: c.parents.iter().map(ToString::to_string).collect(),
            author: c.author.into(),
            committer: c.committer.into(),
            message: c.message,
            message_raw: c.message_raw,
        }
    }
}

impl From<&RefUpdate> for types::RefUpdate {
    fn from(u: &RefUpdate) -> Self {
        types::RefUpdate {
            name: u.name.clone(),
            old_id: u.old.to_string(),
            new_id: u.new.to_string(),
            kind: match u.kind() {
                RefKind::Create => types::RefKind::Create,
                RefKind::Update => types::RefKind::Update,
                RefKind::Delete => types::RefKind::Delete,
            },
            class: match u.class() {
                RefClass::Branch => types::RefClass::Branch,
                RefClass::Tag => types::RefClass::Tag,
                RefClass::Other => types::RefClass::Other,
            },
        }
    }
}

/// The push as a policy sees it.
pub(crate) fn push_for_guest(push: &Push) -> types::Push {
    types::Push {
        hook: match push.hook {
            HookKind::PreReceive => types::Hook::PreReceive,
            HookKind::Update => types::Hook::Update,
            HookKind::PostReceive => types::Hook::PostReceive,
        },
        repository: push.git_dir.display().to_string(),
        ref_updates: push.updates.iter().map(Into::into).collect(),
        push_options: push.push_options.clone(),
        pusher: push.pusher.as_ref().map(|p| types::Pusher {
            name: p.name.clone(),
            email: p.email.clone(),
            source: p.source.clone(),
        }),
    }
}

impl From<types::Verdict> for Verdict {
    fn from(v: types::Verdict) -> Self {
        match v {
            types::Verdict::Accept => Verdict::Accept,
            types::Verdict::Reject(vetoes) => Verdict::Reject(
                vetoes
                    .into_iter()
                    .map(|v| Veto { summary: v.summary, detail: v.detail, ref_name: v.ref_name, commit: v.commit_id })
                    .collect(),
            ),
        }
    }
}
