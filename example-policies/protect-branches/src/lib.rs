//! protect-branches: `main` and `release/*` are never deleted or rewound.
//!
//! A deletion, or an update whose old commit is no longer reachable from the
//! new one (a force push), is vetoed for the protected branches. The check
//! asks the host for one commit removed from the ref: a fast-forward removes
//! none.
//!
//! ```toml
//! [policy.protect-branches.settings]
//! protected-branches = ["main", "release/*"]   # the default
//! ```
//!
//! A pattern is a branch name (without `refs/heads/`) in which `*` stands
//! for any characters, `/` included, as in GitLab's protected branches.

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Filter, Push, RefClass, RefKind, RefUpdate, SettingError, Verdict, Veto};

/// The admin's settings, checked.
struct Settings {
    /// Branch names or patterns; at least one.
    protected_branches: Vec<String>,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let protected_branches = s.or("protected-branches", vec!["main".to_owned(), "release/*".to_owned()]);
        if protected_branches.is_empty() {
            s.error(
                "protected-branches",
                "list at least one branch, e.g. [\"main\"]; to protect none, remove the policy",
            );
        }
        for problem in protected_branches.iter().filter_map(|p| pattern_problem(p)) {
            s.error("protected-branches", problem);
        }
        s.finish(Settings { protected_branches })
    }
}

/// What is wrong with `pattern` as a branch name or pattern, if anything.
fn pattern_problem(pattern: &str) -> Option<String> {
    let example = "write a branch name such as \"main\", or a pattern such as \"release/*\"";
    let problem = if pattern.is_empty() {
        "an empty pattern matches no branch".to_owned()
    } else if let Some(branch) = pattern.strip_prefix("refs/heads/") {
        format!("write the branch without refs/heads/: \"{branch}\"")
    } else if pattern.starts_with("refs/") {
        "only branches can be protected here, not other refs".to_owned()
    } else if let Some(c) = pattern.chars().find(|c| c.is_whitespace() || c.is_control() || "~^:?[\\".contains(*c)) {
        format!("{c:?} can't be part of a branch name")
    } else if pattern.starts_with('/') || pattern.ends_with('/') || pattern.contains("//") {
        "a branch name has no empty parts (no leading, trailing or double /)".to_owned()
    } else if pattern.contains("..") || pattern.contains("@{") || pattern.ends_with('.') || pattern.ends_with(".lock") {
        "git does not allow \"..\", \"@{\", or a trailing \".\" or \".lock\" in a branch name".to_owned()
    } else {
        return None;
    };
    Some(format!("{pattern:?}: {problem}; {example}"))
}

/// Whether `name` matches `pattern`, `*` standing for any characters.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name.strip_prefix(head).is_some_and(|rest| {
            rest.char_indices().map(|(i, _)| i).chain([rest.len()]).any(|i| matches(tail, &rest[i..]))
        }),
    }
}

fn is_protected(update: &RefUpdate, settings: &Settings) -> bool {
    update.class == RefClass::Branch && settings.protected_branches.iter().any(|p| matches(p, update.short_name()))
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| is_protected(u, settings)) {
        match update.kind {
            RefKind::Delete => vetoes.push(Veto::on_ref(
                update,
                format!("{} is protected and can't be deleted", update.short_name()),
                "Ask a repository admin if the branch really has to go.",
            )),
            RefKind::Update => {
                if let Some(lost) = update.commits(Filter::RemovedFromRef).next() {
                    vetoes.push(Veto::commit(
                        update,
                        &lost,
                        format!("{} is protected: force pushes are not allowed", update.short_name()),
                        "The push would drop this commit (and maybe others) from the branch.\n\
                         Merge or rebase onto the remote branch (git pull --rebase), then push again.",
                    ));
                }
            }
            RefKind::Create => {}
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{matches, pattern_problem};

    #[test]
    fn star_matches_any_characters() {
        assert!(matches("main", "main"));
        assert!(!matches("main", "main2"));
        assert!(matches("release/*", "release/1.0"));
        assert!(matches("release/*", "release/1.0/hotfix"));
        assert!(!matches("release/*", "release"));
        assert!(!matches("release/*", "pre-release/1.0"));
        assert!(matches("*-stable", "2-0-stable"));
        assert!(matches("team/*/main", "team/ann/main"));
        assert!(!matches("team/*/main", "team/ann/dev"));
        assert!(matches("*", "ä/x"));
    }

    #[test]
    fn patterns_are_checked() {
        for pattern in ["main", "release/*", "*-stable", "team/*/main"] {
            assert_eq!(pattern_problem(pattern), None, "{pattern}");
        }
        for pattern in ["", "refs/tags/v*", "my branch", "release/", "/main", "a//b", "a..b", "x.lock", "r[0-9]"] {
            assert!(pattern_problem(pattern).is_some(), "{pattern}");
        }
        let problem = pattern_problem("refs/heads/main").unwrap_or_default();
        assert!(problem.contains("write the branch without refs/heads/: \"main\""), "{problem}");
    }
}
