//! The tree of a case's merge commit, made by git's own merge machinery
//! (`git merge-tree --write-tree`, git 2.38 or later), so a merge in a case
//! brings in what the merged branches changed, as a real `git merge` does:
//! a policy's `changes()` of the merge then lists the side branch's files,
//! and the policy's merge handling is what decides whether they count.

use std::collections::BTreeMap;
use std::path::Path;

use gix::ObjectId;

use super::{ScratchError, git_output, run_git};
use crate::testing::case::FileSpec;

/// The tree a merge of `others` (each the revision as the case names it,
/// and its commit) into `first` gets, before the merge commit's `files`
/// are written on top. Several are merged one after another, each against
/// the merge so far, as git's octopus strategy does; like it, an octopus
/// refuses any conflict. A two-parent merge may conflict in paths `files`
/// gives, which resolves them: the conflict markers are overwritten.
/// `label` names the merge commit in errors.
pub(super) fn merged_tree(
    git_dir: &Path,
    label: &str,
    first: ObjectId,
    others: &[(String, ObjectId)],
    files: &BTreeMap<String, FileSpec>,
) -> Result<ObjectId, ScratchError> {
    let mut ours = first;
    let mut tree = None;
    for (index, (rev, theirs)) in others.iter().enumerate() {
        let (merged, conflicts) = merge_two(git_dir, ours, *theirs)?;
        if !conflicts.is_empty() {
            let paths = conflicts.join(", ");
            if others.len() > 1 {
                return Err(ScratchError::Case(format!(
                    "commit {label:?}: merging `{rev}` conflicts in {paths}; git merges several branches at once \
                     only when they merge cleanly: merge them one at a time (a merge commit each), giving the \
                     resolved content in that merge's `files`"
                )));
            }
            let unresolved: Vec<&str> =
                conflicts.iter().map(String::as_str).filter(|path| !files.contains_key(*path)).collect();
            if !unresolved.is_empty() {
                return Err(ScratchError::Case(format!(
                    "commit {label:?}: merging `{rev}` into the commit before it conflicts in {}: give the \
                     resolved content of each in the merge commit's `files` (`false` to delete it)",
                    unresolved.join(", ")
                )));
            }
        }
        tree = Some(merged);
        if index + 1 < others.len() {
            // The merge so far, as a commit, so that the next merge finds
            // its merge base against everything merged already (what the
            // octopus strategy computes). Nothing refers to it afterwards.
            ours = commit_tree(git_dir, merged, &[ours, *theirs])?;
        }
    }
    tree.ok_or_else(|| ScratchError::Case(format!("commit {label:?}: `merge` names no revision")))
}

/// The tree of merging `theirs` into `ours`, and the paths that conflict
/// (whose content in the tree has conflict markers).
fn merge_two(git_dir: &Path, ours: ObjectId, theirs: ObjectId) -> Result<(ObjectId, Vec<String>), ScratchError> {
    let args = [
        "merge-tree",
        "--write-tree",
        "-z",
        "--name-only",
        "--no-messages",
        // A case may merge histories that share no commit; building the
        // case is no place to ask whether it should.
        "--allow-unrelated-histories",
        &ours.to_string(),
        &theirs.to_string(),
    ];
    let out = git_output(Some(git_dir), &args, None)?;
    // 0 is a clean merge, 1 a conflicted one; either prints the tree first.
    // 1 is also what an error exits with, which prints no tree.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut fields = stdout.split('\0');
    let tree = fields.next().and_then(|id| ObjectId::from_hex(id.as_bytes()).ok());
    match (tree, out.status.code()) {
        (Some(tree), Some(0 | 1)) => {
            let mut conflicts: Vec<String> = fields.take_while(|f| !f.is_empty()).map(str::to_owned).collect();
            conflicts.dedup();
            Ok((tree, conflicts))
        }
        _ => Err(ScratchError::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }),
    }
}

/// A commit of `tree` with `parents`, by a fixed identity.
fn commit_tree(git_dir: &Path, tree: ObjectId, parents: &[ObjectId]) -> Result<ObjectId, ScratchError> {
    let (tree, parents) = (tree.to_string(), parents.iter().map(ObjectId::to_string).collect::<Vec<_>>());
    let mut args = vec!["-c", "user.name=hookrt", "-c", "user.email=hookrt@localhost", "commit-tree", &tree];
    for parent in &parents {
        args.extend(["-p", parent]);
    }
    args.extend(["-m", "octopus step"]);
    let id = run_git(Some(git_dir), &args, None)?;
    ObjectId::from_hex(id.trim().as_bytes()).map_err(|e| ScratchError::Case(e.to_string()))
}
