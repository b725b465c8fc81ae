//! Conversions between the generated contract types and hookrt's model: the
//! one place both are named.

use gix::bstr::ByteSlice;

use super::DeadlineInHostCall;
use super::bindings::{commits, types};
use crate::git::{self, Repo};
use crate::policy::Settings;
use crate::push::{HookKind, Push, RefClass, RefKind, RefUpdate};
use crate::pusher::{PullRequest, PushCertificate, PushContext, Pusher};
use crate::verdict::{SettingProblem, Verdict, Veto};

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
            is_merge: c.parents.len() > 1,
            message: c.message,
            message_raw: c.message_raw,
            trailers: c.trailers.into_iter().map(|(key, value)| types::Trailer { key, value }).collect(),
            gpgsig: c.gpgsig,
            headers: c.headers,
            damage: c.damage.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<git::Damage> for types::Damage {
    fn from(d: git::Damage) -> Self {
        types::Damage { header: d.header.to_owned(), problem: d.problem.fsck_id().to_owned(), raw: d.raw }
    }
}

impl From<git::Change> for types::Change {
    fn from(c: git::Change) -> Self {
        let path_raw = std::str::from_utf8(&c.path).is_err().then(|| c.path.to_vec());
        types::Change {
            path: c.path.to_str_lossy().into_owned(),
            path_raw,
            old_path: c.old_path.map(|p| p.to_str_lossy().into_owned()),
            kind: match c.kind {
                git::ChangeKind::Added => types::ChangeKind::Added,
                git::ChangeKind::Modified => types::ChangeKind::Modified,
                git::ChangeKind::Deleted => types::ChangeKind::Deleted,
                git::ChangeKind::Renamed => types::ChangeKind::Renamed,
            },
            old_mode: c.old_mode,
            new_mode: c.new_mode,
            old_id: c.old_id.map(|id| id.to_string()),
            new_id: c.new_id.map(|id| id.to_string()),
            size: c.size,
            new_to_repository: c.new_to_repository,
        }
    }
}

impl From<git::Blob> for types::Blob {
    fn from(b: git::Blob) -> Self {
        types::Blob {
            id: b.id.to_string(),
            size: b.size,
            data: b.data,
            truncated: b.truncated,
            looks_binary: b.looks_binary,
        }
    }
}

impl From<git::Added> for types::Additions {
    fn from(a: git::Added) -> Self {
        types::Additions {
            text: String::from_utf8(a.text).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            numbers: a.numbers,
            truncated: a.truncated,
            binary: a.binary,
            read: a.read,
        }
    }
}

impl From<&Pusher> for types::Pusher {
    fn from(p: &Pusher) -> Self {
        types::Pusher { name: p.name.clone(), email: p.email.clone(), id: p.id.clone(), source: p.source.clone() }
    }
}

impl From<&PullRequest> for types::PullRequest {
    fn from(p: &PullRequest) -> Self {
        types::PullRequest { author: p.author.clone(), head: p.head.clone(), base: p.base.clone() }
    }
}

impl From<&PushCertificate> for types::PushCertificate {
    fn from(c: &PushCertificate) -> Self {
        types::PushCertificate {
            id: c.id.clone(),
            signer: c.signer.clone(),
            key: c.key.clone(),
            status: c.status.clone(),
            nonce: c.nonce.clone(),
            nonce_status: c.nonce_status.clone(),
        }
    }
}

impl From<&PushContext> for types::PushContext {
    fn from(c: &PushContext) -> Self {
        types::PushContext {
            project: c.project.clone(),
            protocol: c.protocol.clone(),
            remote_address: c.remote_address.clone(),
            pull_request: c.pull_request.as_ref().map(Into::into),
            certificate: c.certificate.as_ref().map(Into::into),
            variables: c.variables.clone(),
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

/// The push as a policy sees it, with the facts `repo` knows about itself.
pub(crate) fn push_for_guest(push: &Push, repo: &Repo) -> types::Push {
    types::Push {
        hook: match push.hook {
            HookKind::PreReceive => types::Hook::PreReceive,
            HookKind::Update => types::Hook::Update,
            HookKind::PostReceive => types::Hook::PostReceive,
            HookKind::ReferenceTransaction => types::Hook::ReferenceTransaction,
            HookKind::PostUpdate => types::Hook::PostUpdate,
            HookKind::PushToCheckout => types::Hook::PushToCheckout,
            HookKind::ProcReceive => types::Hook::ProcReceive,
            HookKind::PrePush => types::Hook::PrePush,
            HookKind::CommitMsg => types::Hook::CommitMsg,
        },
        repository: push.git_dir.display().to_string(),
        ref_updates: push.updates.iter().map(Into::into).collect(),
        push_options: push.push_options.clone(),
        pusher: push.pusher.as_ref().map(Into::into),
        context: (&push.context).into(),
        default_branch: repo.default_branch().map(str::to_owned),
        object_format: match repo.object_format() {
            git::ObjectFormat::Sha1 => types::ObjectFormat::Sha1,
            git::ObjectFormat::Sha256 => types::ObjectFormat::Sha256,
        },
    }
}

impl From<types::Veto> for Veto {
    fn from(v: types::Veto) -> Self {
        Veto { summary: v.summary, detail: v.detail, ref_name: v.ref_name, commit: v.commit_id }.bounded()
    }
}

impl From<types::Verdict> for Verdict {
    fn from(v: types::Verdict) -> Self {
        match v {
            types::Verdict::Accept => Verdict::Accept,
            types::Verdict::Reject(vetoes) => Verdict::Reject(vetoes.into_iter().map(Into::into).collect()),
        }
    }
}

/// Parses an object id a policy passed.
pub(crate) fn object_id(hex: &str) -> Result<gix::ObjectId, git::LookupError> {
    gix::ObjectId::from_hex(hex.as_bytes())
        .map_err(|_| git::LookupError::Invalid(format!("{hex:?} is not a full hex object id")))
}

/// A lookup's outcome for the guest: a deadline traps (as in a walk), the
/// rest is data the policy handles.
pub(crate) fn lookup_result<T>(result: Result<T, git::LookupError>) -> wasmtime::Result<Result<T, types::LookupError>> {
    use types::LookupError as L;
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(git::LookupError::Deadline) => Err(DeadlineInHostCall.into()),
        Err(git::LookupError::NotFound(what)) => Ok(Err(L::NotFound(what))),
        Err(git::LookupError::Invalid(what)) => Ok(Err(L::Invalid(what))),
        Err(git::LookupError::Read(err)) => Ok(Err(L::Repository(err.to_string()))),
    }
}

/// A validator's complaints, placed in the configuration.
pub(crate) fn setting_problems(settings: &Settings, errors: Vec<types::SettingError>) -> Vec<SettingProblem> {
    errors.into_iter().map(|e| settings.problem(e.key, e.message)).collect()
}
