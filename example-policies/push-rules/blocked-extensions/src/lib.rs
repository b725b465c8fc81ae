//! blocked-extensions: archives (`.zip`, `.gz`, `.tgz`) don't get committed.
//!
//! A port of GitHub Enterprise's pre-receive sample `block_file_extensions.sh`
//! (github/platform-samples): every commit new to the repository that adds,
//! modifies or renames a file whose name ends in a blocked extension is
//! vetoed. Only commits new to the repository are looked at, as the sample's
//! `--not --all` does, so files committed before the policy was installed do
//! not block a new branch. Deleting such a file is always fine.
//!
//! A merge is compared with its first parent, so its changes are mostly the
//! merged branch's: a path whose content is the same as in another parent
//! came from that parent and was checked there (or was in the repository
//! already), so only what the merge itself introduces counts. The sample
//! skipped merges entirely; this still catches an archive added while
//! resolving a merge.

use hookrt_guest::{Commit, Filter, LookupError, Push, RefKind, RefUpdate, Verdict, Veto};

// Until policies get settings (issue 6), the parameters are constants here.
/// Blocked endings of a file name, compared without regard to case.
const BLOCKED_EXTENSIONS: &[&str] = &[".zip", ".gz", ".tgz"];
/// How many offending paths one veto lists before "and N more".
const MAX_LISTED: usize = 5;

fn is_blocked(file_name: &str) -> bool {
    let name = file_name.to_ascii_lowercase();
    BLOCKED_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// The blocked paths `commit` adds, modifies or renames.
fn blocked_paths(commit: &Commit) -> Result<Vec<String>, LookupError> {
    let mut paths = Vec::new();
    for change in commit.changes()? {
        if change.exists_after() && change.is_blob() && is_blocked(change.file_name()) {
            if commit.is_merge && change.from_other_parent(commit)? {
                continue;
            }
            paths.push(change.path);
        }
    }
    Ok(paths)
}

fn veto(update: &RefUpdate, commit: &Commit, paths: &[String]) -> Veto {
    let mut summary = format!("archive files can't be committed: {}", paths[..paths.len().min(MAX_LISTED)].join(", "));
    if paths.len() > MAX_LISTED {
        summary.push_str(&format!(" and {} more", paths.len() - MAX_LISTED));
    }
    Veto::commit(
        update,
        commit,
        summary,
        format!(
            "Files ending in {} are not allowed in this repository: publish archives as release\n\
             assets or in an artifact store instead. Take them out of the commit\n\
             (git rm --cached <file>, then git commit --amend, or git rebase -i for older commits)\n\
             and push again.",
            BLOCKED_EXTENSIONS.join(", ")
        ),
    )
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            match blocked_paths(&commit) {
                Ok(paths) if paths.is_empty() => {}
                Ok(paths) => vetoes.push(veto(update, &commit, &paths)),
                // Fail closed: a commit that can't be read can't be cleared.
                Err(err) => vetoes.push(Veto::commit(
                    update,
                    &commit,
                    "the repository could not be read to check the commit's files",
                    format!("{err:?}\nTry the push again; if it keeps failing, tell the server's admin."),
                )),
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);
