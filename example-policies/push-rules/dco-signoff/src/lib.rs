//! dco-signoff: every new commit is certified under the DCO.
//!
//! GitLab's push rule "Reject commits that aren't DCO certified": each
//! commit new to the repository needs a `Signed-off-by: Name <email>`
//! trailer, the author's statement that they may contribute it under the
//! Developer Certificate of Origin (<https://developercertificate.org>).
//!
//! Choices, following GitLab:
//! * Any sign-off with a name and an address counts (GitLab's test is
//!   `Signed-off-by:.+<.+@.+>`); it need not name the commit's author. Git's
//!   DCO practice is that the author signs off (and everyone who passed the
//!   change on adds theirs), but requiring the author's address would veto
//!   legitimate commits whose author uses another address, and GitLab does
//!   not go that far.
//! * The sign-off must be a trailer (the message's last paragraph, where
//!   `git commit --signoff` puts it), not any line of the message: a
//!   "Signed-off-by:" quoted in the middle of a description certifies
//!   nothing.
//! * Merge commits need one too, as on GitLab: a merge can carry conflict
//!   resolutions, which are contributions like any other, and
//!   `git merge --signoff` adds the trailer.
//!
//! Only commits new to the repository are checked: history already on a
//! branch was accepted when it was pushed.

use hookrt_guest::{Filter, Push, RefKind, Verdict, Veto};

/// The trailer that certifies a commit. The DCO names it, so it is not a
/// setting: the rule has none.
const TRAILER: &str = "Signed-off-by";

/// Whether a sign-off names someone: `Name <local@domain>`, as GitLab's
/// `Signed-off-by:.+<.+@.+>` requires.
fn names_someone(value: &str) -> bool {
    let Some((name, rest)) = value.split_once('<') else { return false };
    let Some((address, _)) = rest.rsplit_once('>') else { return false };
    let Some((local, domain)) = address.split_once('@') else { return false };
    !name.trim().is_empty() && !local.is_empty() && !domain.is_empty()
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository) {
            if !commit.trailer_values(TRAILER).any(names_someone) {
                vetoes.push(Veto::commit(
                    update,
                    &commit,
                    format!("commit has no {TRAILER}: trailer (DCO sign-off)"),
                    "Certify that you may contribute it (https://developercertificate.org) by signing it off,\n\
                     then push again: git commit --amend --no-edit --signoff (the last commit), or\n\
                     git rebase --signoff origin/main (every commit since origin/main).",
                ));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);

#[cfg(test)]
mod tests {
    use super::names_someone;

    #[test]
    fn a_sign_off_names_a_person_and_an_address() {
        assert!(names_someone("Ann Author <ann@example.com>"));
        assert!(names_someone("ann <a@b>"));
        assert!(!names_someone("Ann Author"));
        assert!(!names_someone("<ann@example.com>"));
        assert!(!names_someone("Ann <ann>"));
        assert!(!names_someone("Ann <@example.com>"));
        assert!(!names_someone("Ann <ann@example.com"));
    }
}
