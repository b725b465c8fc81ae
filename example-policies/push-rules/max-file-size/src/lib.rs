//! max-file-size: no big files in new commits.
//!
//! GitLab's push rule "Maximum file size": a commit new to the repository
//! that adds or changes a file bigger than the limit is vetoed, naming the
//! path and its size. Big files bloat every clone forever, even after they
//! are deleted again; Git LFS is the place for them.
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
//!
//! ```toml
//! [policy.max-file-size.settings]
//! max-mib = 5   # the default: the biggest file a commit may add or change, in MiB
//!               # (GitLab's "MB" are MiB too)
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Change, ChangeKind, Filter, Push, RefKind, SettingError, Verdict, Veto};

/// The largest limit taken, in MiB (1 TiB), so that it can be counted in bytes.
const MAX_MIB: u64 = 1024 * 1024;

/// The admin's settings, checked.
struct Settings {
    /// The biggest file a commit may add or change, in MiB; 1 to [`MAX_MIB`].
    max_mib: u64,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let max_mib = s.or("max-mib", 5);
        if let Some(problem) = limit_problem(max_mib) {
            s.error("max-mib", problem);
        }
        s.finish(Settings { max_mib })
    }
}

/// What is wrong with `max_mib` as the limit, if anything.
fn limit_problem(max_mib: u64) -> Option<String> {
    match max_mib {
        0 => Some(
            "0 MiB would veto every file; write the limit in MiB, e.g. 5 (to allow any size, remove the policy)".into(),
        ),
        n if n > MAX_MIB => Some(format!("{n} MiB is too big a limit: write at most {MAX_MIB} (1 TiB)")),
        _ => None,
    }
}

/// Whether the change brings new content (not a deletion, a submodule, a
/// rename or a mode change) bigger than `max_bytes`.
fn too_big(change: &Change, max_bytes: u64) -> bool {
    let same_content = change.kind == ChangeKind::Renamed || change.old_id == change.new_id;
    change.exists_after() && change.is_blob() && !same_content && change.size > max_bytes
}

/// `bytes` in MiB with one decimal, rounded up so that a file just over the
/// limit never shows as exactly the limit.
fn mib(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10).div_ceil(1024 * 1024);
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let (max_mib, max_bytes) = (settings.max_mib, settings.max_mib * 1024 * 1024);
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
                        hookrt_guest::unreadable_detail(&err),
                    ));
                    continue;
                }
            };
            for change in changes.iter().filter(|c| too_big(c, max_bytes)) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    format!(
                        "{} is {} ({} bytes), over the limit of {max_mib} MiB",
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

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{MAX_MIB, limit_problem, mib};

    #[test]
    fn sizes_show_in_mib_rounded_up() {
        assert_eq!(mib(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(mib(5 * 1024 * 1024 + 1), "5.1 MiB");
        assert_eq!(mib(6_000_000), "5.8 MiB");
        assert_eq!(mib(0), "0.0 MiB");
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(limit_problem(1), None);
        assert_eq!(limit_problem(MAX_MIB), None);
        assert!(limit_problem(0).is_some_and(|p| p.starts_with("0 MiB would veto every file")));
        assert!(limit_problem(MAX_MIB + 1).is_some());
    }
}
