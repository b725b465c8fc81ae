//! push-to-checkout: git runs it for a push to the branch a non-bare
//! repository has checked out (`receive.denyCurrentBranch = updateInstead`),
//! with the new commit as its one argument, in that work tree. Once the hook
//! exists, updating the work tree is its job: after the policies accept,
//! hookrt does what git does without one (`push_to_deploy` in receive-pack):
//! refuse a work tree with changes of its own, else move it to the commit.

use std::path::Path;

use gix::ObjectId;

use super::git;

/// The error returned by [`checked_out`] and [`update_work_tree`]; the
/// message is what the pusher sees as the reason.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("cannot read HEAD of {path}: {message}")]
    Head { path: std::path::PathBuf, message: String },
    #[error("HEAD of {0} is detached: git only runs push-to-checkout for a checked-out branch")]
    Detached(std::path::PathBuf),
    #[error("{0}")]
    Refused(String),
}

/// The branch `git_dir`'s HEAD names and its commit (the null id while it
/// has none).
pub fn checked_out(git_dir: &Path) -> Result<(String, ObjectId), CheckoutError> {
    let head = |e: &dyn std::fmt::Display| CheckoutError::Head { path: git_dir.to_owned(), message: e.to_string() };
    let repo = gix::open_opts(git_dir, gix::open::Options::isolated()).map_err(|e| head(&e))?;
    let name = repo.head_name().map_err(|e| head(&e))?.ok_or_else(|| CheckoutError::Detached(git_dir.to_owned()))?;
    let id = repo.head_id().map(|id| id.detach()).unwrap_or_else(|_| ObjectId::null(repo.object_hash()));
    Ok((name.as_bstr().to_string(), id))
}

/// Moves the work tree at `work_tree` (and its index) from `old` to `new`,
/// as git does for `updateInstead`: refused, with git's own words, when the
/// work tree or the index has changes of their own.
pub fn update_work_tree(work_tree: &Path, old: ObjectId, new: ObjectId) -> Result<(), CheckoutError> {
    let refused = |why: &'static str| move |err: String| CheckoutError::Refused(format!("{why} ({err})"));
    // An unborn branch has no HEAD to compare with: the empty tree stands in.
    let base = if old.is_null() {
        git(work_tree, &["hash-object", "-t", "tree", "/dev/null"]).map_err(CheckoutError::Refused)?
    } else {
        old.to_string()
    };
    git(work_tree, &["update-index", "-q", "--ignore-submodules", "--refresh"])
        .map_err(refused("Up-to-date check failed"))?;
    git(work_tree, &["diff-files", "--quiet", "--ignore-submodules", "--"])
        .map_err(|_| CheckoutError::Refused("Working directory has unstaged changes".into()))?;
    git(work_tree, &["diff-index", "--quiet", "--cached", "--ignore-submodules", &base, "--"])
        .map_err(|_| CheckoutError::Refused("Working directory has staged changes".into()))?;
    git(work_tree, &["read-tree", "-u", "-m", &base, &new.to_string()])
        .map_err(refused("Could not update working tree to new HEAD"))?;
    Ok(())
}
