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

use hookrt_guest::{Push, RefClass, RefKind, RefUpdate, Verdict, Veto};

// Until policies get settings (issue 6), the parameters are constants here.
/// What separates the login from the rest of the branch name.
const SEPARATOR: &str = "/";

/// Whether `branch` is `<login>/<something>`, the login in any case.
fn is_owned_by(branch: &str, login: &str) -> bool {
    let owner = branch.get(..login.len()).is_some_and(|start| start.eq_ignore_ascii_case(login));
    owner && branch[login.len()..].strip_prefix(SEPARATOR).is_some_and(|rest| !rest.is_empty())
}

fn is_checked(push: &Push, update: &RefUpdate) -> bool {
    update.kind == RefKind::Create
        && update.class == RefClass::Branch
        && push.default_branch.as_deref() != Some(update.name.as_str())
}

fn check(push: &Push) -> Verdict {
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
            Some(pusher) if !is_owned_by(branch, &pusher.name) => {
                let login = &pusher.name;
                vetoes.push(Veto::on_ref(
                    update,
                    format!("new branch {branch} must be named {login}{SEPARATOR}<name>"),
                    format!(
                        "Branches you create must start with your login. Push it under your name instead:\n\
                         git push origin {branch}:{login}{SEPARATOR}{branch}"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::is_owned_by;

    #[test]
    fn the_login_then_a_slash_then_a_name() {
        assert!(is_owned_by("ann/fix-parser", "ann"));
        assert!(is_owned_by("Ann/fix-parser", "ann"));
        assert!(is_owned_by("ann/a/b", "ann"));
        assert!(!is_owned_by("ann/", "ann"));
        assert!(!is_owned_by("ann", "ann"));
        assert!(!is_owned_by("anna/fix", "ann"));
        assert!(!is_owned_by("fix/ann", "ann"));
        assert!(!is_owned_by("än/x", "ä"));
        assert!(!is_owned_by("äx/y", "a"), "a login ending inside a character");
        assert!(is_owned_by("ä/x", "ä"));
    }
}
