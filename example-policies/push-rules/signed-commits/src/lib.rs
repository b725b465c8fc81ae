//! signed-commits: every new commit carries a signature.
//!
//! GitLab's push rule "Reject unsigned commits": a commit new to the
//! repository without a signature (a `gpgsig` header: OpenPGP, SSH or X.509)
//! is vetoed. Like GitLab's push rule this checks that a signature is there,
//! not whose it is: hookrt has no keyring, and verifying against the
//! project's keys is a job for the hosting layer. Merge commits need one
//! too (`git merge -S`). Commits already in the repository are not checked
//! again, so history from before the rule does not block new branches.
//! The rule has no parameters.

use hookrt_guest::{Filter, Push, RefKind, Verdict, Veto};

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| u.kind != RefKind::Delete) {
        for commit in update.commits(Filter::AddedToRepository).filter(|c| !c.is_signed()) {
            vetoes.push(Veto::commit(
                update,
                &commit,
                "commit is not signed",
                "Sign your commits (git config user.signingkey <key>; git config commit.gpgSign true),\n\
                 then re-sign these and push again: git commit --amend --no-edit -S (the last commit),\n\
                 or git rebase --exec 'git commit --amend --no-edit -S' origin/main.",
            ));
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);
