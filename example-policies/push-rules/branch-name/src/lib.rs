//! branch-name: new branches follow the naming scheme.
//!
//! GitLab's push rule "Branch name": the name of a branch must match
//! [`BRANCH_NAME`]. As in GitLab, only branches the push creates are
//! checked: existing branches keep working whatever they are called, so
//! turning the rule on breaks nobody's next push. The default branch (the
//! one `HEAD` names) is always allowed, as GitLab allows it, so that an empty
//! repository can receive its first push. Tags and other refs are not
//! branches and are left alone.

use std::sync::LazyLock;

use hookrt_guest::{Push, RefClass, RefKind, Verdict, Veto};
use regex::Regex;

// Until policies get settings (issue 6), the parameters are constants here.

/// What a new branch must be called (without `refs/heads/`): a kind, a
/// slash and a short name, e.g. `feature/login-form` or `release/2.0`.
const BRANCH_NAME: &str = r"^(?:feature|fix|hotfix|release|docs|chore)/[A-Za-z0-9._-]+$";

// Compiled on first use. An invalid constant is a bug of this policy: the unit
// test below catches it, and on a server the panic rejects the push.
static PATTERN: LazyLock<Regex> = LazyLock::new(|| Regex::new(BRANCH_NAME).expect("BRANCH_NAME is a valid regex"));

fn check(push: &Push) -> Verdict {
    let is_default = |name: &str| push.default_branch.as_deref() == Some(name);
    let created = push
        .updates()
        .iter()
        .filter(|u| u.kind == RefKind::Create && u.class == RefClass::Branch && !is_default(&u.name));
    let mut vetoes = Vec::new();
    for update in created {
        let name = update.short_name();
        if !PATTERN.is_match(name) {
            vetoes.push(Veto::on_ref(
                update,
                format!("branch name {name:?} does not match the required expression {BRANCH_NAME}"),
                format!(
                    "Push it under a name that matches instead, e.g.\n\
                     git branch -m {name} feature/{suggested} && git push origin feature/{suggested}",
                    suggested = name.rsplit('/').next().unwrap_or(name)
                ),
            ));
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::PATTERN;

    #[test]
    fn the_pattern_takes_kind_slash_name() {
        for name in ["feature/login-form", "fix/issue_12", "release/2.0"] {
            assert!(PATTERN.is_match(name), "{name}");
        }
        for name in ["login-form", "feature/", "feature/a/b", "Feature/x", "feature/a b"] {
            assert!(!PATTERN.is_match(name), "{name}");
        }
    }
}
