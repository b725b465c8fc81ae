//! max-file-size: no big files in new commits.
//!
//! GitLab's push rule "Maximum file size": a commit new to the repository
//! that adds or changes a file bigger than [`MAX_FILE_SIZE_MIB`] is vetoed,
//! naming the path and its size. Big files bloat every clone forever, even
//! after they are deleted again; Git LFS is the place for them.
//!
//! The size comes with the list of changes (`change.size`), so no file is
//! read. Not checked: deletions; submodules (they hold no content here);
//! changes that keep the content (an exact rename, a mode change), since
//! that blob is already in the repository or was vetoed in the commit that
//! added it. Files already in the repository are not affected.
//!
//! Merge commits are skipped. GitLab looks for new *blobs*, and a merge
//! brings none of its own: its diff against the first parent repeats what
//! the merged commits added, which are checked themselves when they are new
//! and were accepted before when they are not. Checking merges would veto
//! merging an old branch that holds a big file from before the rule. (What
//! this misses: a big file written by a conflict resolution.)

use hookrt_guest::{Change, ChangeKind, Filter, Push, RefKind, Verdict, Veto};

// Until policies get settings (issue 6), the parameters are constants here.

/// The biggest file a commit may add or change, in MiB (GitLab's "MB" are
/// MiB too).
const MAX_FILE_SIZE_MIB: u64 = 5;
const MAX_FILE_SIZE: u64 = MAX_FILE_SIZE_MIB * 1024 * 1024;

/// Whether the change brings new content (not a deletion, a submodule, a
/// rename or a mode change) bigger than the limit.
fn too_big(change: &Change) -> bool {
    let same_content = change.kind == ChangeKind::Renamed || change.old_id == change.new_id;
    change.exists_after() && change.is_blob() && !same_content && change.size > MAX_FILE_SIZE
}

/// `bytes` in MiB with one decimal, rounded up so that a file just over the
/// limit never shows as exactly the limit.
fn mib(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10).div_ceil(1024 * 1024);
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository).filter(|c| !c.is_merge) {
            let changes = match commit.changes() {
                Ok(changes) => changes,
                // Fail closed: a commit whose files can't be listed can't be cleared.
                Err(err) => {
                    vetoes.push(Veto::commit(
                        update,
                        &commit,
                        "the repository could not be read to check the commit's files",
                        format!("Try the push again; if it keeps failing, tell a repository admin ({err:?})."),
                    ));
                    continue;
                }
            };
            for change in changes.iter().filter(|c| too_big(c)) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    format!(
                        "{} is {} ({} bytes), over the limit of {MAX_FILE_SIZE_MIB} MiB",
                        change.path,
                        mib(change.size),
                        change.size
                    ),
                    format!(
                        "Keep big files out of git: store it with Git LFS (git lfs track '{path}'),\n\
                         or leave it out: git rm --cached '{path}', then git commit --amend\n\
                         (git rebase -i for an older commit), and push again.",
                        path = change.path
                    ),
                ));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::mib;

    #[test]
    fn sizes_show_in_mib_rounded_up() {
        assert_eq!(mib(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(mib(5 * 1024 * 1024 + 1), "5.1 MiB");
        assert_eq!(mib(6_000_000), "5.8 MiB");
        assert_eq!(mib(0), "0.0 MiB");
    }
}
