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

use hookrt_guest::branches;
use hookrt_guest::settings::{FromSettings, Reader};
use hookrt_guest::{Filter, Push, RefClass, RefKind, RefUpdate, SettingError, Verdict, Veto};

/// What a refused pattern's message suggests instead.
const EXAMPLE: &str = "write a branch name such as \"main\", or a pattern such as \"release/*\"";

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
        for problem in protected_branches.iter().filter_map(|p| branches::pattern_problem(p, "protected here", EXAMPLE))
        {
            s.error("protected-branches", problem);
        }
        s.finish(Settings { protected_branches })
    }
}

fn is_protected(update: &RefUpdate, settings: &Settings) -> bool {
    update.class == RefClass::Branch
        && settings.protected_branches.iter().any(|p| branches::matches(p, update.short_name()))
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
