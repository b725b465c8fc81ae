//! no-wip: work-in-progress commits don't get pushed.
//!
//! Bitbucket's `WorkInProgressHook`: a commit new to the repository whose
//! message starts with "WIP" or "work in progress" (any case) is vetoed. The
//! walk stops at the first such commit on each ref: one is enough to reject
//! the push, and the author fixes them all in one rebase anyway.

use hookrt_guest::{Filter, Push, Verdict, Veto};

fn is_wip(message: &str) -> bool {
    let start = message.trim_start();
    let lower = |n: usize| start.get(..n).map(str::to_ascii_lowercase);
    lower(3).as_deref() == Some("wip") || lower(16).as_deref() == Some("work in progress")
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates() {
        if let Some(commit) = update.commits(Filter::AddedToRepository).find(|c| is_wip(&c.message)) {
            vetoes.push(Veto::commit(
                update,
                &commit,
                "work-in-progress commits can't be pushed",
                "Finish the work, or reword the commit (git rebase -i), then push again.",
            ));
        }
    }
    Verdict::from_vetoes(vetoes)
}

hookrt_guest::policy!(check);
