//! Fetching a server's published policy set into a clone.

use std::path::{Path, PathBuf};

use gix::ObjectId;

use super::POLICY_REF;

/// The error returned by [`sync`].
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "cannot fetch {POLICY_REF} from {remote}: {message}\n  (the server publishes it with `hookrt install` or `hookrt publish`)"
    )]
    Fetch { remote: String, message: String },
    #[error("cannot read {POLICY_REF} in {git_dir}: {message}")]
    Read { git_dir: PathBuf, message: String },
    #[error("{POLICY_REF} holds {path:?}, which is not a policy set's file; it was not published by hookrt")]
    Unexpected { path: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// What [`sync`] fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub commit: ObjectId,
    pub files: usize,
    pub dir: PathBuf,
}

/// Fetches [`POLICY_REF`] from `remote` into the clone at `git_dir` (run
/// from `work_dir`) and unpacks it into [`super::policy_dir`], replacing
/// what an earlier sync left there.
pub fn sync(git_dir: &Path, work_dir: &Path, remote: &str) -> Result<Synced, SyncError> {
    let refspec = format!("+{POLICY_REF}:{POLICY_REF}");
    crate::server::git(work_dir, &["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, &refspec])
        .map_err(|message| SyncError::Fetch { remote: remote.to_owned(), message })?;
    let read = |e: &dyn std::fmt::Display| SyncError::Read { git_dir: git_dir.to_owned(), message: e.to_string() };
    let repo = gix::open_opts(git_dir, gix::open::Options::isolated()).map_err(|e| read(&e))?;
    let commit = repo.find_reference(POLICY_REF).map_err(|e| read(&e))?.peel_to_commit().map_err(|e| read(&e))?;
    let tree = commit.tree().map_err(|e| read(&e))?;
    let mut files = Vec::new();
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse().breadthfirst(&mut recorder).map_err(|e| read(&e))?;
    for entry in recorder.records.into_iter().filter(|e| e.mode.is_blob()) {
        let path = entry.filepath.to_string();
        // Only what `publish` writes: a scope's directory, and plain names
        // (a tree could spell `..` to write outside the clone's directory).
        let parts: Vec<&str> = path.split('/').collect();
        let scope_ok = matches!(parts.first(), Some(&super::publish::SERVER_DIR | &super::publish::REPOSITORY_DIR));
        if !scope_ok || parts.len() > 3 || parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..") {
            return Err(SyncError::Unexpected { path });
        }
        let blob = repo.find_object(entry.oid).map_err(|e| read(&e))?.detach();
        files.push((path, blob.data));
    }

    // Written beside the old set, then swapped in: a hook running meanwhile
    // sees the old set, the new one, or (for a moment) none, which warns.
    let dir = super::policy_dir(git_dir);
    let parent = dir.parent().expect("the policy directory has a parent");
    let write = |path: &Path, e: std::io::Error| SyncError::Write { path: path.to_owned(), message: e.to_string() };
    std::fs::create_dir_all(parent).map_err(|e| write(parent, e))?;
    let staging = tempfile::Builder::new().prefix("client-new-").tempdir_in(parent).map_err(|e| write(parent, e))?;
    for (path, data) in &files {
        let target = staging.path().join(path);
        let folder = target.parent().expect("a file in a scope has a folder");
        std::fs::create_dir_all(folder).map_err(|e| write(folder, e))?;
        std::fs::write(&target, data).map_err(|e| write(&target, e))?;
    }
    let old = parent.join(format!("client-old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(&dir, &old).map_err(|e| write(&dir, e))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &dir).map_err(|e| write(&dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(Synced { commit: commit.id, files: files.len(), dir })
}
