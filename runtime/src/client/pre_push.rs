//! pre-push: what `git push` is about to send, as the server will see it.
//!
//! git hands the hook the remote's name and one line per ref:
//! `<local ref> <local id> <remote ref> <remote id>`. The server will see
//! `<remote id> <local id> <remote ref>`; and it knows its own refs, which
//! the clone knows as `refs/remotes/<remote>/*`. So the policies get the
//! remote's refs as the refs before the push, and the commits they walk as
//! new are the local commits the remote does not have, as far as the clone
//! knows.

use std::path::Path;

use gix::ObjectId;

use crate::push::{LineProblem, RefUpdate, StdinError};

/// The ref updates of pre-push's standard input and the refs the remote
/// had, as the clone at `git_dir` last saw them (by their names on the
/// remote). `remote` is the hook's first argument: a remote's name, or a
/// URL when the push named one (then every remote's refs count).
pub fn updates(input: &[u8], git_dir: &Path, remote: &str) -> Result<Outgoing, PrePushError> {
    let repo =
        gix::open_opts(git_dir, gix::open::Options::isolated()).map_err(|e| PrePushError::Repository(e.to_string()))?;
    let named = repo.remote_names().iter().any(|name| name.as_ref() as &[u8] == remote.as_bytes());
    let prefix = if named { format!("refs/remotes/{remote}/") } else { "refs/remotes/".to_owned() };
    let mut known: Vec<(String, ObjectId)> = Vec::new();
    let refs = repo.references().map_err(|e| PrePushError::Repository(e.to_string()))?;
    for mut reference in refs.prefixed(prefix.as_str()).map_err(|e| PrePushError::Repository(e.to_string()))?.flatten()
    {
        let name = reference.name().as_bstr().to_string();
        let Some(rest) = name.strip_prefix(&prefix) else { continue };
        // Without a remote's name, `origin/main` is `main` on the server.
        let branch = if named { rest } else { rest.split_once('/').map_or(rest, |(_, b)| b) };
        if branch == "HEAD" {
            continue;
        }
        if let Ok(id) = reference.peel_to_id() {
            known.push((format!("refs/heads/{branch}"), id.detach()));
        }
    }
    let mut updates = Vec::new();
    for (index, raw) in input.split(|b| *b == b'\n').enumerate() {
        let at = |problem: LineProblem| PrePushError::Stdin(StdinError { line: index + 1, problem });
        let text = std::str::from_utf8(raw).map_err(|_| at(LineProblem::NotUtf8))?;
        if text.is_empty() {
            continue;
        }
        let fields: Vec<&str> = text.split(' ').collect();
        let [_, local, remote_ref, remote_id] = fields[..] else {
            return Err(at(LineProblem::Fields { text: text.to_owned() }));
        };
        let id = |hex: &str| ObjectId::from_hex(hex.as_bytes()).ok();
        // A remote id the clone does not have (someone else pushed since
        // the last fetch) cannot be walked from; the remote-tracking ref is
        // the last the clone saw of it.
        let remote_id = id(remote_id).filter(|id| id.is_null() || repo.has_object(id));
        let old = remote_id
            .filter(|id| !id.is_null())
            .or_else(|| known.iter().find(|(name, _)| name == remote_ref).map(|(_, id)| *id));
        let null = ObjectId::null(repo.object_hash()).to_string();
        let old = old.map_or(null, |id| id.to_string());
        match RefUpdate::parse(remote_ref, &old, local) {
            Ok(update) => {
                if !update.old.is_null() && !known.iter().any(|(name, _)| name == remote_ref) {
                    known.push((remote_ref.to_owned(), update.old));
                }
                updates.push(update);
            }
            // Deleting a ref the clone never saw: nothing to check.
            Err(crate::push::ParseError::BothNull(_)) => {}
            Err(err) => return Err(at(err.into())),
        }
    }
    Ok((updates, known))
}

/// What [`updates`] read: the ref updates, and the remote's refs by name.
pub type Outgoing = (Vec<RefUpdate>, Vec<(String, ObjectId)>);

/// The error returned by [`updates`].
#[derive(Debug, thiserror::Error)]
pub enum PrePushError {
    #[error("cannot read the clone: {0}")]
    Repository(String),
    #[error(transparent)]
    Stdin(StdinError),
}
