//! blocked-extensions: files of blocked types (by default archives: `.zip`,
//! `.gz`, `.tgz`) don't get committed.
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
//!
//! ```toml
//! [policy.blocked-extensions.settings]
//! extensions = [".zip", ".gz", ".tgz"]   # the default; compared in any case
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Commit, Filter, LookupError, Push, RefKind, RefUpdate, SettingError, Verdict, Veto};

/// How many offending paths one veto lists before "and N more".
const MAX_LISTED: usize = 5;

/// The admin's settings, checked.
struct Settings {
    /// Blocked endings of a file name, each a dot and more, in lower case.
    extensions: Vec<String>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let extensions: Vec<String> = s.or("extensions", vec![".zip".into(), ".gz".into(), ".tgz".into()]);
        if extensions.is_empty() {
            s.error("extensions", "list at least one extension, e.g. [\".zip\"]; to block none, remove the policy");
        }
        for problem in extensions.iter().filter_map(|ext| extension_problem(ext)) {
            s.error("extensions", problem);
        }
        let extensions = extensions.iter().map(|ext| ext.to_ascii_lowercase()).collect();
        s.finish(Settings { extensions })
    }
}

/// What is wrong with `ext` as an extension to block, if anything.
fn extension_problem(ext: &str) -> Option<String> {
    if ext.len() < 2 || ext.contains('/') || ext.contains(char::is_whitespace) {
        Some(format!("{ext:?} is not the end of a file name: write e.g. \".zip\" or \".tar.gz\""))
    } else if !ext.starts_with('.') {
        // Without the dot, "zip" would block "gzip" too.
        Some(format!("{ext:?}: write the extension with its dot, e.g. \".{ext}\""))
    } else {
        None
    }
}

fn is_blocked(file_name: &str, extensions: &[String]) -> bool {
    let name = file_name.to_ascii_lowercase();
    extensions.iter().any(|ext| name.ends_with(ext.as_str()))
}

/// The blocked paths `commit` adds, modifies or renames.
fn blocked_paths(commit: &Commit, extensions: &[String]) -> Result<Vec<String>, LookupError> {
    let mut paths = Vec::new();
    for change in commit.changes()? {
        if change.exists_after() && change.is_blob() && is_blocked(change.file_name(), extensions) {
            if commit.is_merge && change.from_other_parent(commit)? {
                continue;
            }
            paths.push(change.path);
        }
    }
    Ok(paths)
}

fn veto(update: &RefUpdate, commit: &Commit, paths: &[String], extensions: &[String]) -> Veto {
    let listed = paths[..paths.len().min(MAX_LISTED)].join(", ");
    let mut summary = format!("files of a blocked type can't be committed: {listed}");
    if paths.len() > MAX_LISTED {
        summary.push_str(&format!(" and {} more", paths.len() - MAX_LISTED));
    }
    Veto::commit(
        update,
        commit,
        summary,
        format!(
            "Files ending in {} are not allowed in this repository: publish them as release\n\
             assets or in an artifact store instead. Take them out of the commit\n\
             (git rm --cached <file>, then git commit --amend, or git rebase -i for older commits)\n\
             and push again.",
            extensions.join(", ")
        ),
    )
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            match blocked_paths(&commit, &settings.extensions) {
                Ok(paths) if paths.is_empty() => {}
                Ok(paths) => vetoes.push(veto(update, &commit, &paths, &settings.extensions)),
                // Fail closed: a commit that can't be read can't be cleared.
                Err(err) => vetoes.push(Veto::commit(
                    update,
                    &commit,
                    "the repository could not be read to check the commit's files",
                    hookrt_guest::unreadable_detail(&err),
                )),
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{extension_problem, is_blocked};

    #[test]
    fn endings_in_any_case() {
        let extensions = [".zip".to_owned(), ".tar.gz".to_owned()];
        assert!(is_blocked("app.zip", &extensions));
        assert!(is_blocked("APP.ZIP", &extensions));
        assert!(is_blocked("src.tar.gz", &extensions));
        assert!(!is_blocked("app.gz", &extensions));
        assert!(!is_blocked("zip.md", &extensions));
        assert!(!is_blocked("gzip", &[".gz".to_owned()]));
    }

    #[test]
    fn extensions_are_checked() {
        for ext in [".zip", ".tar.gz", ".Z"] {
            assert_eq!(extension_problem(ext), None, "{ext}");
        }
        assert_eq!(
            extension_problem("zip").as_deref(),
            Some("\"zip\": write the extension with its dot, e.g. \".zip\"")
        );
        for ext in ["", ".", "./x", ". zip"] {
            assert!(extension_problem(ext).is_some(), "{ext:?}");
        }
    }
}
