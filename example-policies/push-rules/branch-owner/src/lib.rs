//! branch-owner: a new branch is named after the person who creates it.
//!
//! A port of GitHub Enterprise's pre-receive sample
//! `block_branch_names_not_starting_with_userID.sh` (github/platform-samples):
//! a branch created by the push must be called `<login>/<something>`, where
//! `<login>` is the pusher's (GitHub Enterprise sets `GITHUB_USER_LOGIN`;
//! hookrt also takes GitLab's, Gitea's and the ssh login). Only creations are
//! checked: updating or deleting someone else's branch is a different rule.
//! Tags are exempt, as in the sample, and so is the default branch, which a
//! first push into an empty repository creates.
//!
//! The login is compared without regard to case, as GitHub treats logins
//! (the sample compared exactly). When nothing tells hookrt who pushes,
//! the rule cannot be checked and new branches are vetoed (fail closed).
//! No commits are read.
//!
//! ```toml
//! [policy.branch-owner.settings]
//! separator = "/"   # the default: ann/fix-parser; "-" would ask for ann-fix-parser
//! ```

use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Push, RefClass, RefKind, RefUpdate, SettingError, Verdict, Veto};

/// The admin's settings, checked.
struct Settings {
    /// What separates the login from the rest of the branch name.
    separator: String,
}

impl FromSettings for Settings {
    fn from_settings() -> Result<Self, Vec<SettingError>> {
        let mut s = Reader::new();
        let separator = s.or("separator", "/".to_owned());
        if let Some(problem) = separator_problem(&separator) {
            s.error("separator", problem);
        }
        s.finish(Settings { separator })
    }
}

/// What is wrong with `separator` between a login and a name, if anything.
fn separator_problem(separator: &str) -> Option<String> {
    let problem = if separator.is_empty() {
        "an empty separator would let \"annfix\" pass for ann's branch"
    } else if separator.chars().any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c)) {
        "branch names can't hold blanks or any of ~ ^ : ? * [ \\"
    } else if separator.contains("//") || separator.contains("..") || separator.contains("@{") {
        "branch names can't hold \"//\", \"..\" or \"@{\""
    } else {
        return None;
    };
    Some(format!("{separator:?}: {problem}; write e.g. \"/\" (ann/fix-parser) or \"-\" (ann-fix-parser)"))
}

/// Whether `branch` is `<login><separator><something>`, the login in any
/// case.
fn is_owned_by(branch: &str, login: &str, separator: &str) -> bool {
    let owner = branch.get(..login.len()).is_some_and(|start| start.eq_ignore_ascii_case(login));
    owner && branch[login.len()..].strip_prefix(separator).is_some_and(|rest| !rest.is_empty())
}

fn is_checked(push: &Push, update: &RefUpdate) -> bool {
    update.kind == RefKind::Create
        && update.class == RefClass::Branch
        && push.default_branch.as_deref() != Some(update.name.as_str())
}

fn check(push: &Push, settings: &Settings) -> Verdict {
    let separator = &settings.separator;
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| is_checked(push, u)) {
        let branch = update.short_name();
        match &push.pusher {
            None => vetoes.push(Veto::on_ref(
                update,
                format!("can't tell who creates {branch}: the server does not name the pusher"),
                "New branches must start with the creator's login, and this server gives hookrt no login\n\
                 (GITHUB_USER_LOGIN, GL_USERNAME or GITEA_PUSHER_NAME is not set). Ask the server's admin.",
            )),
            Some(pusher) if !is_owned_by(branch, &pusher.name, separator) => {
                let login = &pusher.name;
                vetoes.push(Veto::on_ref(
                    update,
                    format!("new branch {branch} must be named {login}{separator}<name>"),
                    format!(
                        "Branches you create must start with your login. Push it under your name instead:\n\
                         git push origin {branch}:{login}{separator}{branch}"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check, Settings);

#[cfg(test)]
mod tests {
    use super::{is_owned_by, separator_problem};

    #[test]
    fn the_login_then_a_slash_then_a_name() {
        let owned = |branch: &str, login: &str| is_owned_by(branch, login, "/");
        assert!(owned("ann/fix-parser", "ann"));
        assert!(owned("Ann/fix-parser", "ann"));
        assert!(owned("ann/a/b", "ann"));
        assert!(!owned("ann/", "ann"));
        assert!(!owned("ann", "ann"));
        assert!(!owned("anna/fix", "ann"));
        assert!(!owned("fix/ann", "ann"));
        assert!(!owned("än/x", "ä"));
        assert!(!owned("äx/y", "a"), "a login ending inside a character");
        assert!(owned("ä/x", "ä"));
    }

    #[test]
    fn another_separator() {
        assert!(is_owned_by("ann-fix", "ann", "-"));
        assert!(!is_owned_by("ann/fix", "ann", "-"));
        assert!(!is_owned_by("ann-", "ann", "-"));
        assert!(is_owned_by("ann--fix", "ann", "--"));
    }

    #[test]
    fn separators_are_checked() {
        for separator in ["/", "-", "_", "--", "."] {
            assert_eq!(separator_problem(separator), None, "{separator}");
        }
        for separator in ["", " ", "*", "//", "..", ":"] {
            assert!(separator_problem(separator).is_some(), "{separator:?}");
        }
    }
}
