//! protect-branches: `main` and `release/*` are never deleted or rewound.
//!
//! A deletion, or an update whose old commit is no longer reachable from the
//! new one (a force push), is vetoed for the protected branches. The check
//! asks the host for one commit removed from the ref: a fast-forward removes
//! none.

use hookrt_guest::{Filter, Push, RefKind, Verdict, Veto};

fn is_protected(ref_name: &str) -> bool {
    ref_name == "refs/heads/main" || ref_name.starts_with("refs/heads/release/")
}

fn check(push: &Push) -> Verdict {
    let mut vetoes = Vec::new();
    for update in push.updates().iter().filter(|u| is_protected(&u.name)) {
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

hookrt_guest::policy!(check);
