//! verify-committer: you push only commits you committed yourself.
//!
//! A port of Bitbucket Server's built-in hook "Verify Committer": every
//! commit new to the repository must have the pusher's e-mail as its
//! committer e-mail (compared without regard to case), so nobody pushes
//! someone else's work under their own account unnoticed. Authors may differ:
//! a cherry-pick or a rebase keeps the author and makes you the committer.
//! Commits already in the repository are not checked: publishing a branch
//! that contains others' merged work is fine.
//!
//! The pusher's e-mail comes from the hosting layer (Gitea and Forgejo give
//! `GITEA_PUSHER_EMAIL`). Where none gives one (GitHub Enterprise, GitLab
//! and the ssh login name only an account), the check cannot be made: the
//! push is accepted and the pusher is told the check was skipped, rather
//! than rejecting every push on such a server. The rule has no settings.

use hookrt_guest::{Commit, Filter, Push, RefKind, RefUpdate, Verdict, Veto, write_line};

/// The line the pusher sees when the check cannot be made.
const SKIPPED: &str = "the server gives no e-mail for the pusher, so committers were not checked";

fn veto(update: &RefUpdate, commit: &Commit, pusher_email: &str) -> Veto {
    Veto::commit(
        update,
        commit,
        format!("committed by <{}>, but <{pusher_email}> is pushing", commit.committer.email),
        format!(
            "Only push commits you committed yourself. If they are yours, set your e-mail and recommit\n\
             them, which keeps their authors: git config user.email {pusher_email}, then\n\
             git rebase --force-rebase <base>   (or git commit --amend --no-edit for the last one).\n\
             If they are someone else's, let them push."
        ),
    )
}

fn check(push: &Push) -> Verdict {
    let updates = push.updates().iter().filter(|u| u.kind != RefKind::Delete);
    let Some(email) = push.pusher.as_ref().and_then(|p| p.email.as_deref()).map(str::trim).filter(|e| !e.is_empty())
    else {
        if updates.count() > 0 {
            write_line(SKIPPED);
        }
        return Verdict::Accept;
    };
    let mut vetoes = Vec::new();
    for update in updates {
        for commit in update.commits(Filter::AddedToRepository) {
            if !commit.committer.email.trim().eq_ignore_ascii_case(email) {
                vetoes.push(veto(update, &commit, email));
            }
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);
