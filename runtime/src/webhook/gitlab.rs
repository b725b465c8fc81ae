//! The built-in events' payloads, shaped like GitLab's push and tag push
//! events, so that receivers written for GitLab (the seed-003 deploy
//! service reads `ref` and nothing else) work unchanged. The fields GitLab
//! fills from its database (numeric ids, avatars, web URLs) are left out;
//! `project` is what the hosting layer says (`GL_PROJECT_PATH` and its
//! peers) or else the repository directory's name.

use std::time::Instant;

use serde_json::{Value, json};

use crate::git::{ChangeKind, Filter, Repo, WalkError};
use crate::push::{Push, RefClass, RefKind, RefUpdate};

/// GitLab sends the newest 20 commits of a push and counts the rest.
pub const MAX_COMMITS: usize = 20;

/// The error returned by [`push_event`]: the payload could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot list the commits of {ref_name} for its push event: {source}")]
pub struct PayloadError {
    pub ref_name: String,
    #[source]
    pub source: WalkError,
}

/// The built-in event of `update`, if it has one: `push` for a branch,
/// `tag_push` for a tag; other refs have none.
pub fn event_name(update: &RefUpdate) -> Option<&'static str> {
    match update.class() {
        RefClass::Branch => Some("push"),
        RefClass::Tag => Some("tag_push"),
        RefClass::Other => None,
    }
}

/// The payload of `update`'s built-in event `kind` (see [`event_name`]),
/// less the fields of [`common`]. Commits are those `new ^old` reaches for
/// an update, and those new to the repository for a created ref, oldest
/// first.
pub fn push_event(repo: &Repo, update: &RefUpdate, kind: &str, deadline: Instant) -> Result<Value, PayloadError> {
    let error = |source| PayloadError { ref_name: update.name.clone(), source };
    let (commits, total) = match update.kind() {
        RefKind::Delete => (Vec::new(), 0),
        RefKind::Create => newest(repo, update, Filter::AddedToRepository, deadline).map_err(error)?,
        RefKind::Update => newest(repo, update, Filter::AddedToRef, deadline).map_err(error)?,
    };
    let commits: Vec<Value> = commits.iter().rev().map(|c| commit(repo, c, deadline)).collect();
    let after = (!update.new.is_null()).then(|| update.new.to_string());
    Ok(json!({
        "object_kind": kind,
        "event_name": kind,
        "before": update.old.to_string(),
        "after": update.new.to_string(),
        "ref": update.name,
        "checkout_sha": after,
        "total_commits_count": total,
        "commits": commits,
    }))
}

/// The fields every payload carries: who pushed, and the project.
pub fn common(repo: &Repo, push: &Push) -> Value {
    let pusher = push.pusher.as_ref();
    let dir_name = push.git_dir.file_name().map(|n| n.to_string_lossy().trim_end_matches(".git").to_owned());
    let path = push.context.project.clone().or(dir_name).unwrap_or_default();
    let (namespace, name) = path.rsplit_once('/').unwrap_or(("", &path));
    let default_branch = repo.default_branch().map(|b| b.trim_start_matches("refs/heads/").to_owned());
    json!({
        "user_name": pusher.map(|p| &p.name),
        "user_username": pusher.map(|p| &p.name),
        "user_email": pusher.and_then(|p| p.email.as_ref()),
        "project": {
            "name": name,
            "namespace": namespace,
            "path_with_namespace": path,
            "default_branch": default_branch,
        },
        "repository": { "name": name },
    })
}

/// Adds `extra`'s fields to `body` (both objects).
pub fn extend(body: &mut Value, extra: Value) {
    if let (Value::Object(body), Value::Object(extra)) = (body, extra) {
        body.extend(extra);
    }
}

/// The newest [`MAX_COMMITS`] commits of the walk, newest first, and how
/// many it has in all.
fn newest(
    repo: &Repo,
    update: &RefUpdate,
    filter: Filter,
    deadline: Instant,
) -> Result<(Vec<crate::git::Commit>, usize), WalkError> {
    let mut walk = repo.walk(update, filter)?;
    let mut kept = Vec::new();
    let mut total = 0;
    while let Some(commit) = walk.next(Some(deadline))? {
        total += 1;
        if kept.len() < MAX_COMMITS {
            kept.push(commit);
        }
    }
    Ok((kept, total))
}

/// One commit as GitLab shows it: the paths are those it changed against
/// its first parent, a rename counting as removed and added.
fn commit(repo: &Repo, commit: &crate::git::Commit, deadline: Instant) -> Value {
    let (mut added, mut modified, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    // As many paths as a policy may be given; a commit with more is sent
    // without them.
    match repo.changes(commit.id, crate::verdict::Limits::default().changes_max, Some(deadline)) {
        Ok(changes) => {
            for change in changes {
                let path = change.path.to_string();
                match change.kind {
                    ChangeKind::Added => added.push(path),
                    ChangeKind::Modified => modified.push(path),
                    ChangeKind::Deleted => removed.push(path),
                    ChangeKind::Renamed => {
                        removed.extend(change.old_path.map(|p| p.to_string()));
                        added.push(path);
                    }
                }
            }
        }
        // The commit is still worth sending without its paths.
        Err(err) => tracing::warn!(commit = %commit.id, %err, "paths left out of the push event"),
    }
    let author = &commit.author;
    json!({
        "id": commit.id.to_string(),
        "message": commit.message,
        "title": commit.subject(),
        "timestamp": timestamp(author.time, author.tz_offset_minutes),
        "author": { "name": author.name, "email": author.email },
        "added": added,
        "modified": modified,
        "removed": removed,
    })
}

/// ISO 8601 with the author's offset, as GitLab writes it
/// (`2011-12-12T14:27:31+02:00`).
fn timestamp(seconds: i64, offset_minutes: i32) -> Option<String> {
    let offset = jiff::tz::Offset::from_seconds(offset_minutes.saturating_mul(60)).ok()?;
    let time = jiff::Timestamp::from_second(seconds).ok()?;
    Some(time.to_zoned(jiff::tz::TimeZone::fixed(offset)).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_keep_the_authors_offset() {
        assert_eq!(super::timestamp(1_323_692_851, 120).as_deref(), Some("2011-12-12T14:27:31+02:00"));
        assert_eq!(super::timestamp(0, 0).as_deref(), Some("1970-01-01T00:00:00+00:00"));
    }
}
